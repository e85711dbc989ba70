"""The init-scale study as one call: plan the work (one batched GD run per trial, the
trace-minimization solves, and with the budget check the same GD runs at ``check_factor`` × the
steps), compute what the store lacks on any executor, read the outcomes back, and write the
tables and heatmaps.

``run(quick=True)`` → :class:`InitScaleResult` with ``table`` (α, r, m/(dr), m, trials, recovered,
probability, median error), ``boundaries`` (per α and r, beside trace minimization's boundary of the
same r and the counting lines), ``trace_min`` (trace minimization's recovery table) and, with
``budget_check=True``, ``budget_check`` (per α and r: the boundary at both budgets, the shift in grid
cells, the trials whose verdict changed); ``threshold_boundaries``: GD's (per α) and trace
minimization's boundaries at the recovery thresholds 1e-2, 1e-3 and 1e-5, read from the same runs.
Calling it again with the same store computes nothing.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...experiments.computations import run_computations
from ...experiments.errors import SpecError
from ...experiments.executors import run_sweep
from ...experiments.store import Store
from ..phase_transition import table as pt_table
from ..phase_transition.methods import convex_available
from ..phase_transition.study import json_records
from ..work import StudyWork, counts_from
from .grid import ScaleGrid, grid_for
from .methods import gd_alphas_spec, trace_min_spec
from .plot import heatmaps
from .table import boundaries, budget_shift, changed_outcomes, outcomes, recovery_table

NAME = "init_scale"


def plan(grid: ScaleGrid, steps: int | None = None, convex: bool = True) -> list[tuple]:
    """``(method, r, ratio, m, data_seed, spec or computation)`` for every trial: the GD run
    (``"gd_alphas"``, ``steps`` steps, default the grid's) and, with ``convex``, the solve."""
    out: list[tuple] = []
    for r, x, m in grid.cells():
        for seed in range(grid.trials):
            out.append(("gd_alphas", r, x, m, seed, gd_alphas_spec(grid, r, m, seed, steps)))
            if convex:
                out.append(("nuclear_norm", r, x, m, seed, trace_min_spec(grid, r, m, seed)))
    return out


@dataclass
class InitScaleResult(StudyWork):
    table: Any
    boundaries: Any
    outcomes: Any
    trace_min: Any = None
    budget_check: Any = None
    threshold_boundaries: Any = None  # per threshold (1e-2, 1e-3, 1e-5), α (NaN: trace minimization) and r
    grid: ScaleGrid | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def budget_ok(self) -> bool | None:
        """Whether no boundary moved more than one grid cell at the larger budget (None: not checked)."""
        return None if self.budget_check is None else bool(self.budget_check["ok"].all())

    def as_dict(self) -> dict[str, Any]:
        return {**self.work_dict(), "skipped": self.skipped, "budget_ok": self.budget_ok}


def boundary_matrix(bounds, grid: ScaleGrid):
    """The boundaries as a table for reading: one row per α (then trace minimization and the two
    counting lines), one column per r; "> x" above the grid (x its last ratio), "≤ x" below it."""
    import pandas as pd

    from ..phase_transition.grid import information_line, psd_dof_line

    def fmt(v: float, bound: str) -> str:
        if bound == "above":
            return f"> {grid.ratios[-1]:g}"
        if bound == "below":
            return f"≤ {v:.2f}"
        return f"{v:.2f}"

    rows = []
    for a in grid.alphas:
        sub = bounds[bounds["alpha"] == a].set_index("r")
        rows.append({"": f"GD, α = {a:g}",
                     **{f"r = {r}": fmt(float(sub.loc[r, "boundary_ratio"]), str(sub.loc[r, "bound"]))
                        if r in sub.index else "-" for r in grid.ranks}})
    if "trace_min_ratio" in bounds:
        first = bounds.drop_duplicates("r").set_index("r")
        rows.append({"": "trace minimization", **{f"r = {r}": fmt(float(first.loc[r, "trace_min_ratio"]),
                                                                  str(first.loc[r, "trace_min_bound"]))
                                                  for r in grid.ranks if r in first.index}})
    rows.append({"": "PSD count dr − r(r−1)/2", **{f"r = {r}": f"{psd_dof_line(grid.d, r):.2f}" for r in grid.ranks}})
    rows.append({"": "m = r(2d − r)", **{f"r = {r}": f"{information_line(grid.d, r):.2f}" for r in grid.ranks}})
    return pd.DataFrame(rows)


def write_tables(res: InitScaleResult, grid: ScaleGrid, out_dir: Path) -> dict[str, Path]:
    """``init_scale.csv`` (recovery table), ``init_scale_boundaries.csv``, ``init_scale_trace_min.csv``
    (when solved), ``init_scale_budget_check.csv`` (when checked) and ``init_scale.json`` (grid,
    threshold, every table) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"table_csv": out_dir / f"{NAME}.csv", "boundaries_csv": out_dir / f"{NAME}_boundaries.csv",
             "json": out_dir / f"{NAME}.json"}
    res.table.to_csv(files["table_csv"], index=False)
    res.boundaries.to_csv(files["boundaries_csv"], index=False)
    payload: dict[str, Any] = {
        "grid": {"label": grid.label, "d": grid.d, "ranks": list(grid.ranks), "ratios": list(grid.ratios),
                 "alphas": list(grid.alphas), "trials": grid.trials, "steps": grid.steps,
                 "check_factor": grid.check_factor},
        "threshold": grid.threshold, "recovered_if": "||X_hat - X_star||_F / ||X_star||_F < threshold",
        "gd": "X = U U^T, k = d, U_0 = alpha I, eta = 0.2, one replica per alpha on each trial's operator",
        "table": json_records(res.table), "boundaries": json_records(res.boundaries), "skipped": res.skipped}
    if res.trace_min is not None:
        files["trace_min_csv"] = out_dir / f"{NAME}_trace_min.csv"
        res.trace_min.to_csv(files["trace_min_csv"], index=False)
        payload["trace_min"] = json_records(res.trace_min)
    if res.threshold_boundaries is not None:
        files["thresholds_csv"] = out_dir / f"{NAME}_thresholds.csv"
        res.threshold_boundaries.to_csv(files["thresholds_csv"], index=False)
        payload["boundaries_by_threshold"] = json_records(res.threshold_boundaries)
    if res.budget_check is not None:
        files["budget_check_csv"] = out_dir / f"{NAME}_budget_check.csv"
        res.budget_check.to_csv(files["budget_check_csv"], index=False)
        payload["budget_check"] = {"factor": grid.check_factor, "ok": res.budget_ok,
                                   "max_shift_cells": 1, "rows": json_records(res.budget_check)}
    files["json"].write_text(json.dumps(payload, indent=1, allow_nan=False))
    return files


def run(*, quick: bool = False, grid: ScaleGrid | None = None, store: Store | str | Path | None = None,
        out: str | Path = "overparam-output/init_scale", workers: int = 1, dask: str | None = None, threads: int = 1,
        progress=None, threshold: float | None = None, budget_check: bool = False,
        convex: bool | None = None) -> InitScaleResult:
    """Run the init-scale study (module docstring).

    Args:
        quick: the quick grid (:data:`.grid.QUICK`, minutes) instead of :data:`.grid.FULL`.
        grid: a grid of your own (overrides ``quick``).
        store: the results store (default ``$OVERPARAM_STORE`` or ``./overparam-results``).
        out: where the tables and heatmaps go.
        workers, dask, threads: the executor (:func:`overparam.experiments.run_sweep`).
        threshold: the recovery threshold (default the grid's, 1e-2); it changes no stored run.
        budget_check: also run every trial with ``grid.check_factor`` × the steps and report how far
            each boundary moves (``InitScaleResult.budget_check``).
        convex: solve trace minimization for its boundary (default the grid's ``convex``; without
            cvxpy it is left out and ``skipped`` says why, unless asked for by ``convex=True``).
    """
    t0 = time.perf_counter()
    g = grid or grid_for(quick)
    if threshold is not None:
        g = g.with_(threshold=threshold)
    skipped: dict[str, str] = {}
    use_convex = g.convex if convex is None else convex
    if use_convex:
        why = convex_available()
        if why is not None:
            if convex:
                raise SpecError(f"convex: trace minimization asked for, but {why}")
            skipped["nuclear_norm"] = why
            use_convex = False
    st = store if isinstance(store, Store) else Store(store)
    work = plan(g, convex=use_convex)
    gd_work = [w for w in work if w[0] == "gd_alphas"]
    tm_work = [w for w in work if w[0] == "nuclear_norm"]
    check_work = []
    if budget_check:
        check_work = plan(g, steps=g.check_factor * g.steps, convex=False)
    # the study's own runs and solves first, the budget check's runs last (a stopped check keeps them)
    sweep = run_sweep([w[-1] for w in gd_work], st, workers=workers, dask=dask, threads=threads, progress=progress)
    creport = run_computations([w[-1] for w in tm_work], st, workers=workers, dask=dask, threads=threads)
    checked = run_sweep([w[-1] for w in check_work], st, workers=workers, dask=dask, threads=threads,
                        progress=progress) if check_work else None
    df = outcomes(st, gd_work, g.alphas)
    table = recovery_table(df, g.threshold)
    tm_table = tm_bounds = None
    thresholds = tuple(sorted({*pt_table.THRESHOLDS, g.threshold}, reverse=True))
    by_threshold = [pt_table.threshold_boundaries(df.assign(method="gd"), g.d, thresholds, by=("method", "alpha", "r"))]
    if tm_work:
        tm_df = pt_table.outcomes(st, tm_work)
        tm_table = pt_table.recovery_table(tm_df, g.threshold)
        tm_bounds = pt_table.boundaries(tm_table, g.d)
        by_threshold.append(pt_table.threshold_boundaries(tm_df.assign(alpha=math.nan), g.d, thresholds,
                                                          by=("method", "alpha", "r")))
    bounds = boundaries(table, g.d, tm_bounds)
    check = None
    if check_work:
        df2 = outcomes(st, check_work, g.alphas)
        bounds2 = boundaries(recovery_table(df2, g.threshold), g.d)
        check = budget_shift(bounds, bounds2, g.ratios, g.check_factor)
        check = check.merge(changed_outcomes(df, df2, g.threshold), on=["alpha", "r"], how="left")
    import pandas as pd

    res = InitScaleResult(table=table, boundaries=bounds, outcomes=df, trace_min=tm_table, budget_check=check,
                          threshold_boundaries=pd.concat(by_threshold, ignore_index=True),
                          grid=g, **counts_from([sweep, checked], [creport]), skipped=skipped)
    out_dir = Path(out)
    res.files = write_tables(res, g, out_dir)
    png, pdf = heatmaps(table, bounds, g, out_dir)
    res.files.update({"png": png, "pdf": pdf})
    res.wall_time = time.perf_counter() - t0
    return res


__all__ = ["InitScaleResult", "boundary_matrix", "plan", "run", "write_tables"]
