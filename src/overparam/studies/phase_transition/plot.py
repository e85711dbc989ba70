"""Heatmaps of the phase-transition study: one panel per method, x = m/(dr), y = r, colour = the
probability of recovery; the information-theoretic line m = r(2d − r) (solid), the symmetric-PSD degrees of
freedom m = dr − r(r−1)/2 (dashed), and each row's 50% boundary (white dots)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .grid import Grid, information_line, psd_dof_line
from .methods import METHODS


def cell_edges(centers: np.ndarray) -> np.ndarray:
    """Cell edges halfway between sorted centers (the outer ones mirrored)."""
    if len(centers) == 1:
        return np.array([centers[0] - 0.5, centers[0] + 0.5])
    mid = (centers[1:] + centers[:-1]) / 2
    return np.concatenate([[2 * centers[0] - mid[0]], mid, [2 * centers[-1] - mid[-1]]])


def heatmaps(table, bounds, grid: Grid, out_dir: Path, name: str = "phase_transition") -> list[Path]:
    """Draw the heatmaps of ``table`` (:func:`.table.recovery_table`) with ``bounds``
    (:func:`.table.boundaries`); saves ``<name>.png`` and ``<name>.pdf`` in ``out_dir``."""
    import matplotlib.pyplot as plt

    from ... import figstyle

    with figstyle.rc_context():
        return _heatmaps(plt, figstyle, table, bounds, grid, out_dir, name)


def _heatmaps(plt, figstyle, table, bounds, grid: Grid, out_dir: Path, name: str) -> list[Path]:
    methods = [m for m in grid.methods if m in set(table["method"])]
    n = max(1, len(methods))
    fig, axes = figstyle.figure(n, columns="two", height=2.3, sharey=True)
    xs = np.array(grid.ratios)
    ys = np.array(grid.ranks, dtype=float)
    xe, ye = cell_edges(xs), cell_edges(ys)
    mesh = None
    for ax, method in zip(axes[0], methods, strict=False):
        sub = table[table["method"] == method]
        P = np.full((len(ys), len(xs)), np.nan)
        for row in sub.itertuples(index=False):
            P[list(ys).index(row.r), list(xs).index(row.ratio)] = row.probability
        mesh = ax.pcolormesh(xe, ye, P, cmap="viridis", vmin=0.0, vmax=1.0, shading="flat")
        for i, r in enumerate(grid.ranks):
            lo, hi = ye[i], ye[i + 1]
            ax.plot([information_line(grid.d, r)] * 2, [lo, hi], color=figstyle.PALETTE[1], lw=1.6,
                    label="$m = r(2d - r)$" if i == 0 else None)
            ax.plot([psd_dof_line(grid.d, r)] * 2, [lo, hi], color=figstyle.PALETTE[4], lw=1.4, ls="--",
                    label="$m = dr - r(r-1)/2$ (PSD)" if i == 0 else None)
        b = bounds[(bounds["method"] == method) & bounds["boundary_ratio"].map(
            lambda v: isinstance(v, float) and math.isfinite(v))]
        if len(b):
            ax.plot(b["boundary_ratio"], b["r"], "o", color="white", mec="black", ms=5, label="50% recovery")
        ax.set_title(figstyle.wrap(METHODS[method].label, 18 if n <= 5 else 14))
        ax.set_xlabel("$m / (dr)$")
        ax.set_yticks(list(grid.ranks))
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
    axes[0][0].set_ylabel("true rank $r$")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
    if mesh is not None:
        fig.colorbar(mesh, ax=axes[0].tolist(), label="P(recovery)", fraction=0.03, pad=0.02)
    lo, hi = (int(table["trials"].min()), int(table["trials"].max())) if len(table) else (0, 0)
    fig.suptitle(f"Phase transition of exact recovery: symmetric PSD Gaussian sensing, $d = {grid.d}$\n"
                 rf"recovered: $\|\hat X - X_\star\|_F / \|X_\star\|_F < {grid.threshold:g}$; "
                 f"{lo if lo == hi else f'{lo}–{hi}'} outcomes per cell")
    return figstyle.save(fig, out_dir, name)


__all__ = ["cell_edges", "heatmaps"]
