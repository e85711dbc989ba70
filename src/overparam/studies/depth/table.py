"""Outcomes and summaries of the depth study, read back from the store.

* :func:`outcomes`: one row per (method, m, trial) — method ``depth N`` or ``nuclear norm`` — with the
  status, the steps taken, the final training error and, from the end-to-end matrix X, the
  unobserved-entry error, the all-entry error ‖X − X⋆‖_F/‖X⋆‖_F, the effective rank and the
  numerical rank (:mod:`.measures`). A diverged run or a failed solve has NaN errors and ranks.
* :func:`summary`: per (method, m), the median and min/max over trials of each measure.
* :func:`budget_changes`: per (depth, m, trial), how much the read-out numbers move when the run
  is trained further (2× the steps, a 10× lower training-error target; :mod:`.grid`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...experiments.computations import Computation
from ...experiments.errors import SpecError
from ...experiments.spec import RunSpec, validate_component
from ...experiments.store import Store
from .measures import effective_rank, end_to_end, numerical_rank, unobserved_error

NUCLEAR = "nuclear norm"
COLUMNS = ["method", "depth", "m", "trial", "status", "steps", "train_error", "unobserved_error", "test_error",
           "effective_rank", "numerical_rank"]
MEASURES = ("unobserved_error", "test_error", "effective_rank", "numerical_rank")
FAILED_STATUSES = ("diverged",)


def method_name(depth: int) -> str:
    return f"depth {depth}"


def _instance(spec_problem: dict[str, Any], seed: int):
    prob = validate_component("problem", spec_problem).build("problem", data_seed=seed, dtype="float64", device="cpu")
    op = prob.operator
    return prob.truth().to("cpu"), op.rows.cpu(), op.cols.cpu()


def read_run(store: Store, spec: RunSpec, rank_fraction: float, instance=None) -> dict[str, Any]:
    """The measures of one stored run (replica 0): see the module docstring."""
    run = store.load(spec.key())
    rep = run.summary[0]
    status = str(rep.get("status", ""))
    X_star, rows, cols = instance or _instance(spec.problem.model_dump(), spec.data_seed)
    X = end_to_end(run.arrays())[0]
    train = rep.get("train_error")
    row = {"status": status, "steps": int(rep.get("stop_step", -1)),
           "train_error": math.nan if train is None else float(train)}
    if status in FAILED_STATUSES or not np.isfinite(X).all():
        return {**row, "unobserved_error": math.nan, "test_error": math.nan, "effective_rank": math.nan,
                "numerical_rank": math.nan}
    s = np.linalg.svd(X, compute_uv=False)
    Xt = np.asarray(X_star, dtype=np.float64)
    return {**row, "unobserved_error": unobserved_error(X, Xt, rows, cols),
            "test_error": float(np.linalg.norm(X - Xt) / np.linalg.norm(Xt)),
            "effective_rank": effective_rank(s), "numerical_rank": numerical_rank(s, rank_fraction)}


def read_computation(store: Store, comp: Computation, rank_fraction: float) -> dict[str, Any]:
    res = comp.load(store)
    s = res.get("singular_values")
    nan = math.nan
    return {"status": str(res.get("status", "")), "steps": -1, "train_error": nan,
            "unobserved_error": nan if res.get("unobserved_error") is None else float(res["unobserved_error"]),
            "test_error": nan if res.get("test_error") is None else float(res["test_error"]),
            "effective_rank": nan if s is None else effective_rank(s),
            "numerical_rank": nan if s is None else numerical_rank(s, rank_fraction)}


def outcomes(store: Store, work: list[tuple[str, int, int, int, RunSpec | Computation]], rank_fraction: float):
    """One row per item of ``work`` = ``(method, depth, m, seed, spec or computation)`` in the store
    (depth 0 for the convex reference); items not in the store are left out."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    cache: dict[tuple[int, int], Any] = {}
    missing = 0
    for method, depth, m, seed, item in work:
        base = {"method": method, "depth": depth, "m": m, "trial": seed}
        if isinstance(item, Computation):
            if not item.has(store):
                missing += 1
                continue
            rows.append({**base, **read_computation(store, item, rank_fraction)})
            continue
        if not store.has(item.key()):
            missing += 1
            continue
        if (m, seed) not in cache:
            cache[(m, seed)] = _instance(item.problem.model_dump(), seed)
        rows.append({**base, **read_run(store, item, rank_fraction, cache[(m, seed)])})
    if missing and not rows:
        raise SpecError(f"depth study: none of the {missing} runs is in the store; run the study first")
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(df):
    """Per (method, m): trials, and the median, min and max over trials of every measure."""
    import pandas as pd

    cols = ["method", "depth", "m", "trials"] + [f"{q}_{k}" for k in MEASURES for q in ("median", "min", "max")]
    if df.empty:
        return pd.DataFrame(columns=cols)
    g = df.groupby(["method", "depth", "m"], sort=False)
    agg: dict[str, tuple[str, str]] = {"trials": ("trial", "size")}
    for k in MEASURES:
        agg[f"median_{k}"] = (k, "median")
        agg[f"min_{k}"] = (k, "min")
        agg[f"max_{k}"] = (k, "max")
    out = g.agg(**agg).reset_index()
    return out[cols]


def budget_changes(base, further):
    """Per (depth, m, trial) in both frames (``further``: the same trials trained further): the final
    training error and steps of both, whether both stopped at their target, and |Δ| of the
    unobserved-entry error, the effective rank and the numerical rank."""
    import pandas as pd

    keys = ["method", "depth", "m", "trial"]
    j = base.merge(further, on=keys, suffixes=("", "_further"))
    out = pd.DataFrame({k: j[k] for k in keys})
    out["train_error"], out["train_error_further"] = j["train_error"], j["train_error_further"]
    out["steps"], out["steps_further"] = j["steps"], j["steps_further"]
    out["both_converged"] = (j["status"] == "converged") & (j["status_further"] == "converged")
    out["unobserved_error"], out["unobserved_error_further"] = j["unobserved_error"], j["unobserved_error_further"]
    for k in ("unobserved_error", "effective_rank", "numerical_rank"):
        out[f"change_{k}"] = (j[f"{k}_further"] - j[k]).abs()
    out["relative_change_unobserved_error"] = out["change_unobserved_error"] / j["unobserved_error"]
    return out


__all__ = ["COLUMNS", "MEASURES", "NUCLEAR", "budget_changes", "method_name", "outcomes", "read_run", "summary"]
