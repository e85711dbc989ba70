"""The GLRL study as one call: plan the stored work, compute what the store lacks on any executor,
read it back, judge the claim, and write the figures, the tables and claims.json/claims.md.

``run(quick=True)`` → :class:`StudyResult`. Calling it again with the same store computes nothing
(every run and computation is keyed by its settings); a stopped study resumes where it stopped.
Order: (1) the GD runs of the min-trace part and the GLRL runs (one sweep), (2) the minimum-trace
solutions (stored computations; skipped without cvxpy, the claim is then inconclusive), (3) GD
against GLRL's iterates (stored computations whose settings hold the iterates read from step 1).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...experiments.claimcheck import Context
from ...experiments.claims import Claim, write_claims
from ...experiments.computations import run_computations
from ...experiments.executors import run_sweep
from ...experiments.store import Store
from ...recipes.glrl import phase_iterates
from ..work import StudyWork, counts_from
from .claim import claim1, claim_computations, measure
from .plot import follow_figure, min_trace_figure
from .settings import Settings, settings_for
from .work import follow_computation, gd_specs, glrl_specs


@dataclass
class StudyResult(StudyWork):
    claim: Claim
    closest: list[dict[str, Any]]  # per seed and α: the closest approach to each GLRL iterate
    glrl: list[dict[str, Any]]  # per seed: GLRL's phases
    rows: list[dict[str, Any]]  # the min-trace part, one row per (ratio, seed) (claim.measure)
    settings: Settings | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.claim.verdict, "stable": self.claim.stability.get("stable"), **self.work_dict(),
                "closest": self.closest}


def closest_approach(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per α of one ``glrl_study.follow`` result: for each GLRL iterate X_k the smallest
    ‖X_GD(t) − X_k‖_F/‖X⋆‖_F over the recorded t and the step where it occurs, in the order GD meets
    them (``in_turn``: the steps increase with k)."""
    out = []
    for run in result["runs"]:
        D = np.asarray(run["distance"], dtype=float)
        steps = np.asarray(run["steps"])
        best = [float(D[:, k].min()) for k in range(D.shape[1])]
        at = [int(steps[int(np.argmin(D[:, k]))]) for k in range(D.shape[1])]
        out.append({"alpha": run["alpha"], "closest": best, "at_step": at,
                    "in_turn": bool(all(a < b for a, b in zip(at, at[1:], strict=False))),
                    "final_test_error": float(run["test_error"][-1])})
    return out


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def run(*, quick: bool = False, store: Store | str | Path | None = None, out: str | Path = "overparam-output/glrl",
        workers: int = 1, dask: str | None = None, threads: int = 1, progress=None,
        figures: bool = True) -> StudyResult:
    """Run the GLRL study (module docstring; settings :mod:`.settings`).

    Args:
        quick: the quick settings (seconds) instead of the full ones.
        store: the results store (default ``$OVERPARAM_STORE`` or ``./overparam-results``).
        out: where the figures, ``glrl.json`` and ``claims.json``/``claims.md`` go.
        workers, dask, threads: the executor, as for :func:`overparam.experiments.run_sweep`.
        figures: draw the two figures (PNG + PDF); ``False`` writes only the tables and claims.
    """
    t0 = time.perf_counter()
    s = settings_for(quick)
    st = store if isinstance(store, Store) else Store(store)
    gd = [spec for _, _, spec in gd_specs(s.min_trace, s.label)]
    gl = glrl_specs(s.follow, s.label)
    sweep = run_sweep([*gd, *(spec for _, spec in gl)], st, workers=workers, dask=dask, threads=threads,
                      progress=progress)
    nuc = claim_computations(quick)
    c1 = run_computations(nuc, st, workers=workers, dask=dask, threads=threads)
    glrl_info, follows = [], []
    for seed, spec in gl:
        if not st.has(spec.key()):
            continue
        events = st.load(spec.key()).meta.get("events", [])
        iterates = phase_iterates(events)
        phases = [ev for ev in events if ev.get("kind") == "glrl_phase"]
        U = [np.asarray(ev["U"], dtype=float) for ev in sorted(phases, key=lambda e: e["rank"])]
        stop = next((ev for ev in events if ev.get("kind") == "glrl_stop"), {})
        prob_truth = _truth(spec)
        glrl_info.append({"seed": seed, "ranks": [int(ev["rank"]) for ev in phases],
                          "eigenvalues": [float(ev["eigenvalue"]) for ev in phases],
                          "end_steps": [int(ev["end"]) for ev in phases],
                          "train_error": [float(ev["train_error"]) for ev in phases],
                          "test_error": [float(np.linalg.norm(X - prob_truth) / np.linalg.norm(prob_truth))
                                         for X in iterates],
                          "stop": stop.get("reason")})
        follows.append((seed, follow_computation(s.follow, seed, U)))
    c2 = run_computations([c for _, c in follows], st, workers=workers, dask=dask, threads=threads)
    out_dir = Path(out)
    files: dict[str, Path] = {}
    closest = []
    f = s.follow
    setting = (f"sensing d = {f.d}, r = {f.r}, m = {f.m}, eigenvalues of X⋆ from 1 to 1/κ = {1 / f.kappa:g}; "
               f"GLRL with ε = {f.eps:g}")
    for i, (seed, comp) in enumerate(follows):
        if not comp.has(st):
            continue
        res = comp.load(st)
        closest += [{"seed": seed, **c} for c in closest_approach(res)]
        if i == 0 and figures:
            png, pdf = follow_figure(res, f"{setting}, data seed {seed}", out_dir)
            files.update(follow_png=png, follow_pdf=pdf)
    ctx = Context(store=st, quick=quick)
    claim = claim1.check(ctx)
    rows = measure(ctx) if nuc else []
    if rows and figures:
        m = s.min_trace
        png, pdf = min_trace_figure(rows, m.ratios, f"d = {m.d}, r = 1, X⋆ orthonormal", out_dir)
        files.update(min_trace_png=png, min_trace_pdf=pdf)
    cj, cm = write_claims([claim], out_dir, quick=quick)
    files.update(claims_json=cj, claims_md=cm)
    payload = {"mode": s.label, "settings": {"min_trace": s.min_trace.__dict__, "follow": s.follow.__dict__},
               "glrl": glrl_info, "closest_approach": closest, "min_trace": rows,
               "verdict": claim.verdict, "stability": claim.stability}
    files["json"] = out_dir / "glrl.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    files["json"].write_text(json.dumps(_clean(payload), indent=1, allow_nan=False, default=float))
    return StudyResult(claim=claim, closest=closest, glrl=glrl_info, rows=rows, files=files, settings=s,
                       **counts_from([sweep], [c1, c2]), wall_time=time.perf_counter() - t0)


def _truth(spec) -> np.ndarray:
    from ... import registry

    prob = registry.get("problem", spec.problem.name)(**spec.problem.params, data_seed=spec.data_seed)
    return prob.truth().numpy()


__all__ = ["StudyResult", "closest_approach", "run"]
