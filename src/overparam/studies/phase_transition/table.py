"""Outcomes, recovery probabilities and the 50% boundary of the phase-transition study.

* :func:`outcomes` reads every trial of every method back from the store: one row per
  (method, r, m/(dr), trial, replica) with the final relative error ‖X̂ − X⋆‖_F/‖X⋆‖_F and status.
* :func:`recovery_table` counts, per (method, r, m/(dr)), the outcomes with error below the
  threshold: ``recovered / trials = probability``. A diverged run or a failed solve counts as not
  recovered (its error is NaN here).
* :func:`boundaries` estimates, per (method, r), the ratio m/(dr) where the probability crosses
  ½: after the last grid point whose probability is below ½, linearly interpolated between that
  point and the next (so a non-monotone tail is read conservatively). When the first point is
  already at or above ½ the boundary is *below the grid* (``bound = "below"``, value = the first
  ratio, an upper bound); when the last point is below ½ it is *above the grid* (``bound =
  "above"``, value = NaN).
* :func:`threshold_boundaries` repeats the boundary at several recovery thresholds (default
  :data:`THRESHOLDS` = 1e-2, 1e-3, 1e-5), read from the same stored outcomes (no new runs).

``recovery_table`` and ``boundaries`` group by (method, r, ratio) and (method, r) by default; ``by``
names other grouping columns (the init-scale study groups by α instead of method).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...experiments.computations import Computation
from ...experiments.errors import SpecError
from ...experiments.spec import RunSpec
from ...experiments.store import Store

FAILED_STATUSES = ("diverged",)
#: The recovery thresholds at which :func:`threshold_boundaries` reports the boundary.
THRESHOLDS = (1e-2, 1e-3, 1e-5)


def outcomes(store: Store, work: list[tuple[str, int, float, int, int, RunSpec | Computation]]):
    """One row per (method, r, ratio, trial, replica) from the store; ``work`` is
    ``(method, r, ratio, m, data_seed, spec or computation)`` as :func:`.study.plan` builds it."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    missing = 0
    for method, r, ratio, m, seed, item in work:
        base = {"method": method, "r": r, "ratio": ratio, "m": m, "trial": seed}
        if isinstance(item, Computation):
            if not item.has(store):
                missing += 1
                continue
            res = item.load(store)
            err = res.get("test_error")
            rows.append({**base, "replica": 0, "status": res.get("status", ""),
                         "error": math.nan if err is None else float(err)})
            continue
        key = item.key()
        if not store.has(key):
            missing += 1
            continue
        for rep in store.load(key).summary:
            err = rep.get("test_error")
            status = str(rep.get("status", ""))
            if err is None or status in FAILED_STATUSES:
                err = math.nan
            rows.append({**base, "replica": int(rep.get("replica", 0)), "status": status, "error": float(err)})
    if missing and not rows:
        raise SpecError(f"phase transition: none of the {missing} runs is in the store; run the study first")
    cols = ["method", "r", "ratio", "m", "trial", "replica", "status", "error"]
    return pd.DataFrame(rows, columns=cols)


def recovery_table(df, threshold: float, by: tuple[str, ...] = ("method", "r", "ratio")):
    """Per ``by`` (default (method, r, ratio)): m, trials (outcomes), recovered, probability, median error."""
    import pandas as pd

    cols = [*by, "m", "trials", "recovered", "probability", "median_error"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    ok = df["error"].lt(threshold)  # NaN compares False: not recovered
    g = df.assign(ok=ok).groupby(list(by), sort=False, dropna=False)
    out = g.agg(m=("m", "first"), trials=("ok", "size"), recovered=("ok", "sum"),
                median_error=("error", "median")).reset_index()
    out["recovered"] = out["recovered"].astype(int)
    out["probability"] = out["recovered"] / out["trials"]
    return out[cols]


def crossing(ratios, probs, level: float = 0.5) -> tuple[float, str]:
    """The ratio where ``probs`` (over sorted ``ratios``) crosses ``level`` for good (module
    docstring): ``(value, "interpolated" | "below" | "above")``."""
    x = np.asarray(ratios, dtype=float)
    p = np.asarray(probs, dtype=float)
    order = np.argsort(x)
    x, p = x[order], p[order]
    below = np.flatnonzero(p < level)
    if below.size == 0:
        return float(x[0]), "below"
    i = int(below[-1])
    if i == len(x) - 1:
        return math.nan, "above"
    x0, x1, p0, p1 = x[i], x[i + 1], p[i], p[i + 1]
    return float(x0 + (level - p0) * (x1 - x0) / (p1 - p0)), "interpolated"


def boundaries(table, d: int, by: tuple[str, ...] = ("method", "r")):
    """Per ``by`` (default (method, r); it must contain ``r``): the 50% boundary m/(dr)
    (:func:`crossing`), its m, and the two reference lines (:mod:`.grid`) in the same units."""
    import pandas as pd

    from .grid import information_line, psd_dof_line

    rows = []
    for keys, sub in table.groupby(list(by), sort=False, dropna=False):
        row = dict(zip(by, keys, strict=True))
        r = int(row["r"])
        value, bound = crossing(sub["ratio"], sub["probability"])
        rows.append({**row, "r": r, "boundary_ratio": value, "bound": bound,
                     "boundary_m": value * d * r if math.isfinite(value) else math.nan,
                     "information_ratio": information_line(d, r), "psd_dof_ratio": psd_dof_line(d, r)})
    return pd.DataFrame(rows, columns=[*by, "boundary_ratio", "bound", "boundary_m", "information_ratio",
                                       "psd_dof_ratio"])


def threshold_boundaries(df, d: int, thresholds: tuple[float, ...] = THRESHOLDS,
                         by: tuple[str, ...] = ("method", "r")):
    """The 50% boundary per ``by`` at each recovery threshold, from the outcomes ``df``
    (:func:`outcomes`): one row per (threshold, *by) with ``boundary_ratio``, ``bound`` and
    ``boundary_m``. A stricter threshold recovers no more outcomes, so its boundary is never
    further left (given the conservative reading of :func:`crossing`)."""
    import pandas as pd

    parts = []
    for t in thresholds:
        b = boundaries(recovery_table(df, t, by=(*by, "ratio")), d, by=by)
        parts.append(b.assign(threshold=float(t))[["threshold", *by, "boundary_ratio", "bound", "boundary_m"]])
    if not parts:
        return pd.DataFrame(columns=["threshold", *by, "boundary_ratio", "bound", "boundary_m"])
    return pd.concat(parts, ignore_index=True)


__all__ = ["THRESHOLDS", "boundaries", "crossing", "outcomes", "recovery_table", "threshold_boundaries"]
