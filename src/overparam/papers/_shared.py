"""Generic helpers shared by the paper packages: store views, the truth of a spec, error bars,
plotting and fitting. Nothing here is specific to one paper."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import figstyle
from ..experiments.errors import SpecError
from ..experiments.spec import RunSpec
from ..experiments.store import Store
from .base import Context

#: What each error-bar kind shows, for legends and captions.
ERROR_BAR_LABELS = {"std": "mean ± 1 std over trials", "minmax": "mean, min–max over trials"}


def mode(quick: bool) -> str:
    return "quick" if quick else "full"


# -- store views ---------------------------------------------------------------------------------------


def _missing(spec: RunSpec) -> SpecError:
    return SpecError(f"run {spec.key()} ({spec.tags.get('figure', spec.problem.name)}) is not in the store; "
                     "run `overparam reproduce` for this target first")


def summaries(source: Context | Store, specs: list[RunSpec]):
    """One row per (spec, replica): flattened spec fields + per-replica settings + final metrics.

    ``specs`` should come from ``ctx.specs(...)`` so that the device override matches the runs and a
    context restricted to one data seed (``ctx.for_seed``) reads that seed's runs alone. ``source``:
    a :class:`Context` (the table is built once per set of runs for the context and its views, and
    each call gets its own copy) or a bare :class:`Store`."""
    if isinstance(source, Context):
        for spec in specs:
            if not source.has(spec):
                raise _missing(spec)
        return source.memo(("summaries", tuple(s.key() for s in specs)), lambda: _summaries(source.store, specs))
    return _summaries(source, specs)


def _summaries(store: Store, specs: list[RunSpec]):
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for spec in specs:
        key = spec.key()
        if not store.has(key):
            raise _missing(spec)
        flat = spec.flat()
        for rep in store.load(key).summary:
            rows.append({**flat, **rep, "key": key})
    return pd.DataFrame(rows)


def replica_traces(ctx: Context, spec: RunSpec) -> list[tuple[dict[str, Any], Any]]:
    """``[(replica settings + summary, trace rows of that replica sorted by step)]`` for one stored spec;
    empty when ``ctx`` is restricted to another data seed (``ctx.for_seed``: a claim's check evaluated
    on one seed alone). Read once per context and its views (:meth:`Context.memo`); each call gets its
    own copy."""
    if ctx.seed is not None and spec.data_seed != ctx.seed:
        return []
    key = spec.key()
    if not ctx.has(key):
        raise _missing(spec)
    return ctx.memo(("replica_traces", key), lambda: _replica_traces(ctx.store, key))


def _replica_traces(store: Store, key: str) -> list[tuple[dict[str, Any], Any]]:
    run = store.load(key)
    tr = run.trace()
    out = []
    for rep in run.summary:
        rows = tr[tr["replica"] == rep["replica"]].sort_values("step").reset_index(drop=True)
        out.append((rep, rows))
    return out


def value_at(rows, name: str, step: float) -> float:
    """The recorded ``name`` at the last logged step ≤ ``step`` (NaN when none)."""
    sel = rows[rows["step"] <= step]
    return float(sel[name].iloc[-1]) if len(sel) else math.nan


# -- the truth of a spec ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TruthStats:
    """Spectral facts of a spec's X⋆ (symmetric truths)."""

    eigenvalues: np.ndarray  # the r largest eigenvalues, decreasing
    frobenius: float
    trace: float
    X_star: torch.Tensor

    @property
    def spectral(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def kappa(self) -> float:
        return float(self.eigenvalues[0] / self.eigenvalues[-1])


def truth_of(spec: RunSpec) -> torch.Tensor:
    """X⋆ of a spec, rebuilt through the problem's own factory (with one measurement, since the truth
    depends only on its settings and seeds, never on m): always the truth the run saw."""
    from .. import registry

    params = dict(spec.problem.params)
    if "m" in params:
        params["m"] = 1
    prob = registry.get("problem", spec.problem.name)(**params, data_seed=spec.data_seed, dtype="float64")
    X = prob.truth()
    if X is None:
        raise SpecError(f"problem {spec.problem.name!r} has no ground truth")
    return X.cpu()


def truth_stats(spec: RunSpec, ctx: Context | None = None) -> TruthStats:
    """The spectral facts of ``spec``'s X⋆; with ``ctx``, computed once per context and its views
    (:meth:`Context.memo`)."""
    if ctx is not None:
        return ctx.memo(("truth_stats", spec.key()), lambda: truth_stats(spec))
    X = truth_of(spec)
    r = int(spec.problem.params.get("r", X.shape[-1]))
    ev = torch.linalg.eigvalsh(0.5 * (X + X.T)).flip(0)[:r].numpy()
    return TruthStats(ev, float(X.norm()), float(torch.trace(X)), X)


# -- statistics ----------------------------------------------------------------------------------------


def error_bar(values: np.ndarray, kind: str = "std") -> tuple[float, float, float]:
    """(center, lower error, upper error) over trials: mean ± std, or mean with min/max."""
    v = np.asarray(values, dtype=float)
    mean = float(np.mean(v))
    if kind == "minmax":
        return mean, mean - float(np.min(v)), float(np.max(v)) - mean
    s = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return mean, s, s


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's τ (no ties correction): +1 when y increases with x, −1 when it decreases."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = len(x)
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += np.sign(x[j] - x[i]) * np.sign(y[j] - y[i])
    return float(s) / (n * (n - 1) / 2) if n > 1 else 0.0


def fit_line(x, y) -> tuple[float, float, float]:
    """Least-squares y ≈ a·x + b: returns (slope a, intercept b, R²)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 2 or x.size != y.size:
        raise ValueError(f"fit_line: needs two or more (x, y) pairs of equal length; got {x.size}, {y.size}")
    a, b = np.polyfit(x, y, 1)
    resid = y - (a * x + b)
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / ss if ss > 0 else 1.0
    return float(a), float(b), r2


def first_crossing(steps, values, threshold: float) -> float | None:
    """The first step at which ``values`` ≤ ``threshold``, linearly interpolated between the two
    recorded steps around the crossing (in log value); None if it never crosses."""
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    below = np.flatnonzero(v <= threshold)
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return float(s[0])
    v0, v1 = math.log(v[i - 1]), math.log(max(v[i], 1e-300))
    lt = math.log(threshold)
    frac = (v0 - lt) / (v0 - v1) if v0 != v1 else 1.0
    return float(s[i - 1] + frac * (s[i] - s[i - 1]))


def carried_forward(runs: list, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, V)``: the union of the trials' logged steps and ``V[trial, j]``, the trial's value of
    ``name`` at its last logged step ≤ ``steps[j]`` (each trial carries its last value forward)."""
    steps = np.unique(np.concatenate([r["step"].to_numpy() for r in runs]))
    vals = []
    for r in runs:
        s, v = r["step"].to_numpy(), r[name].to_numpy()
        idx = np.clip(np.searchsorted(s, steps, side="right") - 1, 0, len(s) - 1)
        vals.append(v[idx])
    return steps, np.stack(vals)


def bands(runs: list, name: str, kind: str = "std"):
    """Mean and error bars across trials on the union of logged steps (each trial carries its last
    value forward): ``(steps, mean, lower error, upper error)``."""
    steps, V = carried_forward(runs, name)
    bars = [error_bar(V[:, j], kind) for j in range(V.shape[1])]
    mean, lo, hi = (np.array(x) for x in zip(*bars, strict=True))
    return steps, mean, lo, hi


# -- plotting --------------------------------------------------------------------------------------------


def new_figure(ncols: int = 1, nrows: int = 1, *, columns: int | float | str | None = None,
               height: float | None = None, **kwargs):
    """A figure in the library's style (:func:`overparam.figstyle.figure`): ``(fig, axes)`` with
    ``axes`` flat (row by row). One panel is one column wide, more panels two columns."""
    fig, axes = figstyle.figure(ncols, nrows, columns=columns, height=height, **kwargs)
    return fig, axes.ravel()


def colors(n: int) -> list:
    """``n`` colours of the colour-blind-safe palette (train and test of one setting share one)."""
    return figstyle.colors(n)


def band(ax, x, mean, lo, hi, *, color, label: str, ls: str = "-", floor: float = 0.1):
    """A line with a shaded error band (clipped above ``floor × mean`` on log axes)."""
    ax.plot(x, mean, ls=ls, color=color, label=label)
    ax.fill_between(x, np.maximum(mean - lo, floor * mean), mean + hi, color=color, alpha=0.18, lw=0)


def log_bands(runs: list, name: str, *, how: str = "geomean", floor: float = 1e-300):
    """Like :func:`bands` for a log axis: ``(steps, centre, low, high)`` with the geometric mean (or
    median) over trials and the min–max band (:func:`overparam.figstyle.log_center`); each trial
    carries its last value forward."""
    steps, V = carried_forward(runs, name)
    c, lo, hi = figstyle.log_center(V, axis=0, floor=floor, how=how)
    return steps, c, lo, hi


def save(fig, out_dir: Path, fig_id: str) -> list[Path]:
    """Save a matplotlib figure as PNG and PDF; returns both paths."""
    with figstyle.rc_context():
        return figstyle.save(fig, out_dir, fig_id)


def _chars(width_in: float, pt: float) -> int:
    """About how many characters of a ``pt`` font fit in ``width_in`` inches (0.55 em per character)."""
    return max(12, int(width_in * 72 / (0.55 * pt)))


#: Code words in the papers' setting labels (shared with claims and the report) and how a figure prints them.
FIGURE_WORDS = {"grad_scale": "gradient scale", "∇R_β": r"$\nabla R_\beta$"}


def figure_text(text: str) -> str:
    """``text`` with :data:`FIGURE_WORDS` replaced (no literal ``_`` in a figure)."""
    for code, words in FIGURE_WORDS.items():
        text = text.replace(code, words)
    return text


def suptitle(fig, text: str):
    """A figure title wrapped to the figure's width (each line of ``text`` wrapped on its own)."""
    pt = figstyle.FONT_PT + 1
    n = _chars(fig.get_figwidth(), pt)
    return fig.suptitle("\n".join(figstyle.wrap(line, n) for line in figure_text(text).split("\n")), fontsize=pt)


def title(ax, text: str):
    """A panel title wrapped to the panel's width."""
    n = _chars(ax.get_position().width * ax.figure.get_figwidth(), figstyle.FONT_PT)
    return ax.set_title("\n".join(figstyle.wrap(line, n) for line in figure_text(text).split("\n")))
