"""Every registered figure, drawn as a reader sees it: no warning while drawing or saving, no
overlapping text, no empty legend, no unlabelled axis, no literal ``_``/``^`` where mathtext was meant,
no text the report site shows below 7 pt (:mod:`overparam.figcheck`).

The figures are drawn from their quick-mode runs. The runs of the figures in :data:`CHEAP` are
computed into one module-scoped store (a few seconds each); the others need minutes and run with
``-m slow``, or in the default suite from an existing quick store named by
``$OVERPARAM_FIGURE_STORE`` (e.g. the store of ``overparam reproduce --quick``). The phase-transition
heatmaps and the depth study's curves are drawn from synthetic tables. Two planted defects (an overlap, an empty legend) show that
the check can fail.
"""

from __future__ import annotations

import logging
import os
import warnings

import numpy as np
import pytest

from overparam import figcheck, figstyle
from overparam.experiments.computations import run_computations
from overparam.experiments.executors import run_sweep
from overparam.experiments.store import Store
from overparam.papers import papers
from overparam.papers.base import Context

FIGURES = {f.id: f for p in papers().values() for f in p.figures}
#: Figures whose quick runs take seconds (measured on 2 busy cores: ≤ 16 s each, ~65 s together); the
#: rest (li2018 Figs. 1–5, rajaraman2023 Fig. 2, …: 25–65 s each) are ``slow`` unless a ready store is given.
CHEAP = {"rajaraman2023-fig1", "jiang2023-fig2a", "jiang2023-fig2b", "eftekhari2021-fig1", "eftekhari2021-fig2",
         "eftekhari2021-fig3", "eftekhari2021-fig4", "eftekhari2021-capture", "ma2025-fig2", "ma2025-radius"}
READY = os.environ.get("OVERPARAM_FIGURE_STORE")


def _params():
    out = []
    for fid in FIGURES:
        marks = [] if (fid in CHEAP or READY) else [pytest.mark.slow]
        out.append(pytest.param(fid, marks=marks, id=fid))
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(READY) if READY else Store(tmp_path_factory.mktemp("figure-store"))


class _Logged(logging.Handler):
    """Collects what matplotlib logs at WARNING or above (mathtext's missing glyphs are logged, not warned)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(record.getMessage())


def draw(plot, *args) -> list[tuple[object, tuple[int, int]]]:
    """Run a plot function with warnings (and matplotlib's logged warnings) as errors, keeping its figures
    open: ``[(figure, PNG size)]``."""
    import matplotlib.pyplot as plt
    from PIL import Image

    kept = []
    real_close = plt.close

    def keep(fig=None):
        kept.append(fig)

    logged = _Logged()
    logger = logging.getLogger("matplotlib")
    logger.addHandler(logged)
    plt.close = keep
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            paths = plot(*args)
    finally:
        plt.close = real_close
        logger.removeHandler(logged)
    assert not logged.records, "matplotlib logged: " + "; ".join(sorted(set(logged.records)))
    pngs = [p for p in paths if str(p).endswith(".png")]
    figs = [f for f in kept if f is not None and not isinstance(f, str)]
    assert len(figs) == len(pngs), f"{len(figs)} figures closed, {len(pngs)} PNGs saved"
    out = []
    for fig, png in zip(figs, pngs, strict=True):
        with Image.open(png) as im:
            out.append((fig, im.size))
    return out


def check(plot, *args) -> list[str]:
    """Every defect of the figures a plot function draws (warnings raise inside :func:`draw`)."""
    import matplotlib.pyplot as plt

    problems = []
    for fig, size in draw(plot, *args):
        with figstyle.rc_context():
            problems += figcheck.defects(fig, size)
        plt.close(fig)
    return problems


@pytest.mark.parametrize("fid", _params())
def test_figure_reads_as_printed(fid, store, tmp_path):
    fig = FIGURES[fid]
    ctx = Context(store=store, quick=True)
    sweep = run_sweep(ctx.specs(fig.specs), store, workers=1)  # stored runs are skipped
    assert not sweep.failed, sweep.failed
    rep = run_computations(ctx.computations(fig.computations), store, workers=1)
    assert not rep.failed, rep.failed
    problems = check(fig.plot, ctx, tmp_path)
    assert not problems, f"{fid}: {len(problems)} defects:\n" + "\n".join(problems)


def test_phase_transition_heatmaps_read_as_printed(tmp_path):
    import pandas as pd

    from overparam.studies.phase_transition.grid import grid_for
    from overparam.studies.phase_transition.plot import heatmaps

    grid = grid_for(True)
    rng = np.random.default_rng(0)
    rows = [{"method": m, "r": r, "ratio": x, "m": int(x * grid.d * r), "trials": 4,
             "probability": float(rng.uniform())}
            for m in grid.methods for r in grid.ranks for x in grid.ratios]
    table = pd.DataFrame(rows)
    bounds = pd.DataFrame([{"method": m, "r": r, "boundary_ratio": float(np.median(grid.ratios))}
                           for m in grid.methods for r in grid.ranks])
    problems = check(heatmaps, table, bounds, grid, tmp_path)
    assert not problems, "\n".join(problems)


def test_depth_study_curves_read_as_printed(tmp_path):
    import pandas as pd

    from overparam.studies.depth.grid import grid_for
    from overparam.studies.depth.plot import curves
    from overparam.studies.depth.table import MEASURES

    grid = grid_for(True)
    rng = np.random.default_rng(0)
    rows = []
    for method, depth in [("depth 1", 1), ("depth 2", 2), ("depth 3", 3), ("nuclear norm", 0)]:
        for m in grid.entries:
            row = {"method": method, "depth": depth, "m": m, "trials": 3}
            for k in MEASURES:
                v = np.sort(rng.uniform(1e-3, 10.0, 3))
                row.update({f"min_{k}": v[0], f"median_{k}": v[1], f"max_{k}": v[2]})
            rows.append(row)
    problems = check(curves, pd.DataFrame(rows), grid, tmp_path)
    assert not problems, "\n".join(problems)


# -- the check can fail -----------------------------------------------------------------------------------


def _planted(tmp_path, plant: str):
    from overparam.papers._shared import new_figure, save

    @figstyle.styled
    def plot(ctx, out_dir):
        fig, axes = new_figure(ncols=2)
        for ax in axes:
            ax.plot([1, 2, 3], [1e-3, 1e-2, 1e-1], label="error")
            ax.set_yscale("log")
            ax.set_xlabel("iteration t")
            ax.set_ylabel(r"$\|UU^\top - X_\star\|_F$")
            ax.legend()
        if plant == "overlap":
            axes[1].set_ylabel("a y-label long enough to run into the left-hand panel", labelpad=-170)
        elif plant == "empty legend":
            axes[0].legend(handles=[], title="nothing here")
        return save(fig, out_dir, "planted")

    return plot


def test_a_clean_figure_passes(tmp_path):
    assert check(_planted(tmp_path, "none"), None, tmp_path) == []


def test_a_planted_overlap_fails(tmp_path):
    problems = check(_planted(tmp_path, "overlap"), None, tmp_path)
    assert any(p.startswith("overlap:") and "left-hand panel" in p for p in problems), problems


def test_a_planted_empty_legend_fails(tmp_path):
    problems = check(_planted(tmp_path, "empty legend"), None, tmp_path)
    assert "empty legend: axes 0" in problems, problems


def test_literal_markup_unlabelled_axes_and_small_text_are_found(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(20, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_ylabel("‖X‖_F")
    problems = figcheck.defects(fig, (3000, 450))  # 20 in shown at 11.6 in: 10 pt → 5.8 pt
    plt.close(fig)
    assert any(p.startswith("literal markup:") for p in problems), problems
    assert "unlabelled axis: axes 0 x" in problems
    assert any(p.startswith("small text:") for p in problems), problems


def test_a_missing_glyph_in_mathtext_is_caught(tmp_path):
    """Mathtext logs a missing glyph instead of warning; :func:`draw` fails on it too."""
    from overparam.papers._shared import new_figure, save

    @figstyle.styled
    def plot(ctx, out_dir):
        fig, (ax,) = new_figure()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(r"$x$ and 𝒜")
        return save(fig, out_dir, "glyph")

    with pytest.raises(AssertionError, match="matplotlib logged"):
        draw(plot, None, tmp_path)


def test_a_missing_glyph_warns():
    """The 𝒳 of the old Fig. 4 legends: a warning on save, which :func:`draw` turns into a failure."""
    import io

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("dist(x, 𝒳)")
    with pytest.warns(UserWarning, match="missing from"):
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def test_log_center_is_the_geometric_mean():
    v = np.array([[1e-26], [1e-26], [1e-20]])
    c, lo, hi = figstyle.log_center(v)
    assert c[0] == pytest.approx(1e-24, rel=1e-9) and lo[0] == 1e-26 and hi[0] == 1e-20
    assert figstyle.log_center(v, how="median")[0][0] == 1e-26


@pytest.mark.slow  # ≈ 17 s on the loaded 2-core machine (mathtext labels, three renders per figure)
def test_glrl_study_figures_read_as_printed(tmp_path):
    """The GLRL study's two figures, drawn from synthetic results of the shapes the study stores."""
    from overparam.studies.glrl.plot import follow_figure, min_trace_figure

    steps = list(range(0, 2001, 10))
    t = np.maximum(np.array(steps, dtype=float), 1.0)
    runs = []
    for a in (1e-6, 1e-9, 1e-12):
        dist = [[abs(np.log(x / c)) / 10 + 1e-3 for c in (100.0, 300.0, 700.0)] for x in t]
        runs.append({"alpha": a, "steps": steps, "distance": dist, "test_error": [d[-1] for d in dist],
                     "train_error": 1e-9})
    assert not check(follow_figure, {"alphas": [1e-6, 1e-9, 1e-12], "runs": runs}, "d = 30, r = 3, m = 360",
                     tmp_path)
    alphas = [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]
    rows = [{"ratio": x, "seed": s, "alphas": alphas, "gap": [0.3 + 0.01 * s] * 6 if x < 2 else [a ** 0.5 for a in alphas],
             "err": [a ** 0.5 for a in alphas], "nuc": 0.4 if x < 2 else 1e-7} for x in (1.5, 3.0) for s in range(3)]
    assert not check(min_trace_figure, rows, (1.5, 3.0), "d = 30, r = 1", tmp_path)
