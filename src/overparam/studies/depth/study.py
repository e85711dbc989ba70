"""The depth study as one call: plan the runs (and the convex reference as stored computations),
compute what the store lacks on any executor, read the outcomes back, and write the tables and the
figure.

``run(quick=True)`` → :class:`StudyResult` with ``outcomes`` (one row per method, m and trial),
``summary`` (per method and m), ``budget`` (the 2×-steps check) and the written files. Calling it
again with the same store computes nothing (runs and computations are keyed by their settings); a
stopped study resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...experiments.computations import Computation, run_computations
from ...experiments.executors import run_sweep
from ...experiments.spec import RunSpec
from ...experiments.store import Store
from ..work import StudyWork, counts_from
from .grid import Grid, grid_for
from .plot import curves
from .specs import convex_available, nuclear_norm_spec, run_spec
from .table import NUCLEAR, budget_changes, method_name, outcomes, summary

Work = tuple[str, int, int, int, RunSpec | Computation]


def plan(grid: Grid, *, nuclear: bool | None = None, further: bool = False) -> list[Work]:
    """``(method, depth, m, seed, spec or computation)`` for every trial: every depth's GD run and,
    when ``nuclear``, the convex reference (depth 0); with ``further``, the budget check's runs
    instead (the first ``grid.check_seeds`` trials trained further, :func:`.specs.run_spec`)."""
    out: list[Work] = []
    seeds = grid.seeds if not further or grid.check_seeds is None else grid.check_seeds
    for depth, m in grid.cells():
        for seed in range(seeds):
            out.append((method_name(depth), depth, m, seed, run_spec(grid, depth, m, seed, further=further)))
    if grid.nuclear if nuclear is None else nuclear:
        for m in grid.entries:
            for seed in range(grid.seeds):
                out.append((NUCLEAR, 0, m, seed, nuclear_norm_spec(grid, m, seed)))
    return out


@dataclass
class StudyResult(StudyWork):
    outcomes: Any  # pandas DataFrame (table.outcomes)
    summary: Any  # pandas DataFrame (table.summary)
    budget: Any  # pandas DataFrame (table.budget_changes) or None
    grid: Grid | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.work_dict(), "skipped": self.skipped}


def _records(df) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                        v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out


def budget_verdict(budget) -> dict[str, Any]:
    """The budget check in a few numbers: runs compared, runs that stopped at the target at both
    budgets, and the largest changes of the read-out numbers."""
    if budget is None or budget.empty:
        return {"compared": 0}
    fin = budget.fillna(0.0)
    return {"compared": int(len(budget)), "both_converged": int(budget["both_converged"].sum()),
            "max_change_unobserved_error": float(fin["change_unobserved_error"].max()),
            "max_relative_change_unobserved_error": float(fin["relative_change_unobserved_error"].max()),
            "max_change_effective_rank": float(fin["change_effective_rank"].max()),
            "max_change_numerical_rank": float(fin["change_numerical_rank"].max())}


def write_tables(df, summ, budget, grid: Grid, out_dir: Path, extra: dict[str, Any] | None = None) -> dict[str, Path]:
    """``depth_outcomes.csv``, ``depth_summary.csv``, ``depth_budget.csv`` (when checked) and
    ``depth.json`` (grid, summary, budget verdict) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"outcomes_csv": out_dir / "depth_outcomes.csv", "summary_csv": out_dir / "depth_summary.csv",
             "json": out_dir / "depth.json"}
    df.to_csv(files["outcomes_csv"], index=False)
    summ.to_csv(files["summary_csv"], index=False)
    if budget is not None:
        files["budget_csv"] = out_dir / "depth_budget.csv"
        budget.to_csv(files["budget_csv"], index=False)
    payload = {"grid": {"label": grid.label, "d": grid.d, "r": grid.r, "entries": list(grid.entries),
                        "depths": list(grid.depths), "seeds": grid.seeds, "scale": grid.scale, "eta": grid.eta,
                        "budget": grid.budget.__dict__, "rank_fraction": grid.rank_fraction, "dof": grid.dof},
               "summary": _records(summ), "budget_check": budget_verdict(budget), **(extra or {})}
    files["json"].write_text(json.dumps(payload, indent=1, allow_nan=False))
    return files


def run(*, quick: bool = False, grid: Grid | None = None, store: Store | str | Path | None = None,
        out: str | Path = "overparam-output/depth", workers: int = 1, dask: str | None = None, threads: int = 1,
        progress=None, budget_check: bool | None = None, nuclear: bool | None = None,
        figure: bool = True) -> StudyResult:
    """Run the depth study (module docstring and :mod:`overparam.studies.depth`).

    Args:
        quick: the quick grid (:data:`.grid.QUICK`, about a minute) instead of :data:`.grid.FULL`.
        grid: a grid of your own (overrides ``quick``).
        store: the results store (default ``$OVERPARAM_STORE`` or ``./overparam-results``).
        out: where the tables and the figure go.
        workers, dask, threads: the executor, as for :func:`overparam.experiments.run_sweep`.
        budget_check: also run every trial with 2× the steps and compare (default: the grid's).
        nuclear: add the nuclear-norm minimizer (default: the grid's; left out with a reason in
            ``StudyResult.skipped`` when cvxpy is missing).
        figure: draw the figure (PNG + PDF) beside the tables.
    """
    t0 = time.perf_counter()
    g = grid or grid_for(quick)
    check = g.budget_check if budget_check is None else budget_check
    want_nuclear = g.nuclear if nuclear is None else nuclear
    skipped: dict[str, str] = {}
    if want_nuclear:
        why = convex_available()
        if why is not None:
            skipped[NUCLEAR] = why
            want_nuclear = False
    st = store if isinstance(store, Store) else Store(store)
    work = plan(g, nuclear=want_nuclear)
    doubled = plan(g, nuclear=False, further=True) if check else []
    specs = [w[-1] for w in work + doubled if isinstance(w[-1], RunSpec)]
    comps = [w[-1] for w in work if isinstance(w[-1], Computation)]
    sweep = run_sweep(specs, st, workers=workers, dask=dask, threads=threads, progress=progress)
    creport = run_computations(comps, st, workers=workers, dask=dask, threads=threads)
    df = outcomes(st, work, g.rank_fraction)
    summ = summary(df)
    budget = budget_changes(df, outcomes(st, doubled, g.rank_fraction)) if check else None
    out_dir = Path(out)
    files = write_tables(df, summ, budget, g, out_dir, {"skipped": skipped})
    if figure:
        fig = curves(summ, g, out_dir)
        files.update({"png": fig[0], "pdf": fig[1]})
    return StudyResult(outcomes=df, summary=summ, budget=budget, files=files, grid=g,
                       **counts_from([sweep], [creport]), skipped=skipped, wall_time=time.perf_counter() - t0)


__all__ = ["StudyResult", "budget_verdict", "plan", "run", "write_tables"]
