"""The phase-transition study as one call: plan the work (runs and stored computations), compute what
the store lacks on any executor, read the outcomes back, and write the table, boundaries and heatmaps.

``run(quick=True)`` → :class:`StudyResult` with ``table`` (pandas: method, r, m/(dr), m, trials,
recovered, probability, median error), ``boundaries`` (per method and r), ``threshold_boundaries``
(the boundaries at the recovery thresholds 1e-2, 1e-3 and 1e-5, read from the same runs) and the
written files.
Calling it again with the same store computes nothing (every run and computation is keyed by its
settings); a stopped study resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...experiments.computations import Computation, run_computations
from ...experiments.errors import SpecError
from ...experiments.executors import run_sweep
from ...experiments.spec import RunSpec
from ...experiments.store import Store
from ..work import StudyWork, counts_from
from .grid import Grid, grid_for
from .methods import METHODS, convex_available
from .plot import heatmaps
from .table import THRESHOLDS, boundaries, outcomes, recovery_table, threshold_boundaries

Work = tuple[str, int, float, int, int, RunSpec | Computation]


def plan(grid: Grid) -> list[Work]:
    """``(method, r, ratio, m, data_seed, spec or computation)`` for every trial of every cell."""
    out: list[Work] = []
    for method in grid.methods:
        build = METHODS[method].build
        for r, x, m in grid.cells():
            for seed in range(grid.trials):
                out.append((method, r, x, m, seed, build(grid, r, m, seed)))
    return out


@dataclass
class StudyResult(StudyWork):
    table: Any  # pandas DataFrame (recovery_table)
    boundaries: Any  # pandas DataFrame (boundaries)
    outcomes: Any  # pandas DataFrame, one row per trial and replica
    grid: Grid | None = None
    threshold_boundaries: Any = None  # pandas DataFrame (table.threshold_boundaries)
    skipped_methods: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.work_dict(), "skipped_methods": self.skipped_methods}


def json_records(df) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                        v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out


def write_tables(table, bounds, grid: Grid, out_dir: Path, extra: dict[str, Any] | None = None,
                 by_threshold=None) -> dict[str, Path]:
    """``phase_transition.csv`` (the recovery table), ``phase_transition_boundaries.csv``,
    ``phase_transition_thresholds.csv`` (the boundaries at each threshold, when given) and
    ``phase_transition.json`` (grid, threshold, the tables) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"table_csv": out_dir / "phase_transition.csv",
             "boundaries_csv": out_dir / "phase_transition_boundaries.csv",
             "json": out_dir / "phase_transition.json"}
    table.to_csv(files["table_csv"], index=False)
    bounds.to_csv(files["boundaries_csv"], index=False)
    if by_threshold is not None:
        files["thresholds_csv"] = out_dir / "phase_transition_thresholds.csv"
        by_threshold.to_csv(files["thresholds_csv"], index=False)
        extra = {**(extra or {}), "boundaries_by_threshold": json_records(by_threshold)}
    payload = {"grid": {"label": grid.label, "d": grid.d, "ranks": list(grid.ranks), "ratios": list(grid.ratios),
                        "trials": grid.trials, "replicas": grid.replicas, "methods": list(grid.methods),
                        "budget": grid.budget.__dict__},
               "threshold": grid.threshold,
               "recovered_if": "||X_hat - X_star||_F / ||X_star||_F < threshold",
               "table": json_records(table), "boundaries": json_records(bounds), **(extra or {})}
    files["json"].write_text(json.dumps(payload, indent=1, allow_nan=False))
    return files


def run(*, quick: bool = False, grid: Grid | None = None, methods: list[str] | None = None,
        store: Store | str | Path | None = None, out: str | Path = "overparam-output/phase_transition",
        workers: int = 1, dask: str | None = None, threads: int = 1, progress=None,
        threshold: float | None = None) -> StudyResult:
    """Run the phase-transition study (module docstring).

    Args:
        quick: the quick grid (:data:`.grid.QUICK`, minutes) instead of the full one (:data:`.grid.FULL`).
        grid: a grid of your own (overrides ``quick``).
        methods: a subset of :data:`.grid.METHOD_NAMES` (default: the grid's). Without cvxpy the
            convex method is left out when not asked for by name (``StudyResult.skipped_methods``
            says why) and an error when asked for.
        store: the results store (default ``$OVERPARAM_STORE`` or ``./overparam-results``).
        out: where the tables and heatmaps go.
        workers, dask, threads: the executor, as for :func:`overparam.experiments.run_sweep`
            (runs and computations use the same one).
        threshold: the recovery threshold (default the grid's, 1e-2); it changes no stored run.
    """
    t0 = time.perf_counter()
    g = grid or grid_for(quick)
    if methods is not None:
        g = g.with_(methods=tuple(methods))
    if threshold is not None:
        g = g.with_(threshold=threshold)
    skipped: dict[str, str] = {}
    if "nuclear_norm" in g.methods:
        why = convex_available()
        if why is not None:
            if methods is not None:
                raise SpecError(f"methods: nuclear_norm asked for, but {why}")
            skipped["nuclear_norm"] = why
            g = g.with_(methods=tuple(m for m in g.methods if m != "nuclear_norm"))
    st = store if isinstance(store, Store) else Store(store)
    work = plan(g)
    specs = [w[-1] for w in work if isinstance(w[-1], RunSpec)]
    comps = [w[-1] for w in work if isinstance(w[-1], Computation)]
    sweep = run_sweep(specs, st, workers=workers, dask=dask, threads=threads, progress=progress)
    creport = run_computations(comps, st, workers=workers, dask=dask, threads=threads)
    df = outcomes(st, work)
    table = recovery_table(df, g.threshold)
    bounds = boundaries(table, g.d)
    by_threshold = threshold_boundaries(df, g.d, tuple(sorted({*THRESHOLDS, g.threshold}, reverse=True)))
    out_dir = Path(out)
    files = write_tables(table, bounds, g, out_dir, {"skipped_methods": skipped}, by_threshold)
    fig = heatmaps(table, bounds, g, out_dir)
    files.update({"png": fig[0], "pdf": fig[1]})
    return StudyResult(table=table, boundaries=bounds, outcomes=df, files=files, grid=g,
                       threshold_boundaries=by_threshold, **counts_from([sweep], [creport]), skipped_methods=skipped,
                       wall_time=time.perf_counter() - t0)


__all__ = ["StudyResult", "json_records", "plan", "run", "write_tables"]
