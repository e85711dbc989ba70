"""Heatmaps of the init-scale study: one panel per rank r, x = m/(dr), y = the initialization scale
α (one row of equal height per α, largest at the top), colour = GD's probability of recovery. Each panel marks GD's 50%
boundary per α (white dots), trace minimization's 50% boundary (solid black), the symmetric-PSD
degrees of freedom m = dr − r(r−1)/2 (dashed) and the information-theoretic line m = r(2d − r) (solid red)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..phase_transition.grid import information_line, psd_dof_line
from ..phase_transition.plot import cell_edges
from .grid import ScaleGrid


def heatmaps(table, bounds, grid: ScaleGrid, out_dir: Path, name: str = "init_scale") -> list[Path]:
    """Draw ``table`` (:func:`.table.recovery_table`) with ``bounds`` (:func:`.table.boundaries`,
    with ``trace_min_ratio`` when trace minimization ran); saves ``<name>.png`` and ``<name>.pdf``."""
    import matplotlib.pyplot as plt

    from ... import figstyle

    with figstyle.rc_context():
        return _heatmaps(plt, figstyle, table, bounds, grid, out_dir, name)


def _finite(v) -> bool:
    return isinstance(v, float) and math.isfinite(v)


def _alpha_label(a: float) -> str:
    e = math.log10(a)
    return f"$10^{{{round(e)}}}$" if abs(e - round(e)) < 1e-9 else f"{a:g}"


def _heatmaps(plt, figstyle, table, bounds, grid: ScaleGrid, out_dir: Path, name: str) -> list[Path]:
    ranks = list(grid.ranks)
    fig, axes = figstyle.figure(len(ranks), columns="two", height=2.6, sharey=True)
    xs = np.array(grid.ratios)
    alphas = sorted(grid.alphas)  # row i (from the bottom) is the i-th smallest α
    row_of = {a: i for i, a in enumerate(alphas)}
    ys = np.arange(len(alphas), dtype=float)
    xe, ye = cell_edges(xs), cell_edges(ys)
    mesh = None
    for ax, r in zip(axes[0], ranks, strict=False):
        sub = table[table["r"] == r]
        P = np.full((len(ys), len(xs)), np.nan)
        for row in sub.itertuples(index=False):
            P[row_of[float(row.alpha)], list(xs).index(row.ratio)] = row.probability
        mesh = ax.pcolormesh(xe, ye, P, cmap="viridis", vmin=0.0, vmax=1.0, shading="flat")
        ax.axvline(information_line(grid.d, r), color=figstyle.PALETTE[1], lw=1.6, label="$m = r(2d - r)$")
        ax.axvline(psd_dof_line(grid.d, r), color=figstyle.PALETTE[4], lw=1.4, ls="--",
                   label="$m = dr - r(r-1)/2$ (PSD)")
        b = bounds[bounds["r"] == r]
        if "trace_min_ratio" in b and len(b) and _finite(float(b["trace_min_ratio"].iloc[0])):
            ax.axvline(float(b["trace_min_ratio"].iloc[0]), color="black", lw=1.4, ls="-.",
                       label="trace minimization, 50%")
        ok = b[b["boundary_ratio"].map(lambda v: _finite(float(v)))]
        if len(ok):
            ax.plot(ok["boundary_ratio"], [row_of[float(a)] for a in ok["alpha"]], "o", color="white", mec="black", ms=5,
                    label="GD, 50% recovery")
        ax.set_title(f"$r = {r}$")
        ax.set_xlabel("$m / (dr)$")
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
    axes[0][0].set_yticks(list(ys))
    axes[0][0].set_yticklabels([_alpha_label(a) for a in alphas])
    axes[0][0].set_ylabel(r"init scale $\alpha$ ($U_0 = \alpha I$)")
    handles, labels = [], []
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=4, frameon=False)
    if mesh is not None:
        fig.colorbar(mesh, ax=axes[0].tolist(), label="P(recovery)", fraction=0.03, pad=0.02)
    lo, hi = (int(table["trials"].min()), int(table["trials"].max())) if len(table) else (0, 0)
    fig.suptitle(f"Recovery by small-init GD over init scale and samples: PSD Gaussian sensing, $d = {grid.d}$, "
                 f"≤ {grid.steps} steps\n"
                 rf"recovered: $\|\hat X - X_\star\|_F / \|X_\star\|_F < {grid.threshold:g}$; "
                 f"{lo if lo == hi else f'{lo}–{hi}'} trials per cell")
    return figstyle.save(fig, out_dir, name)


__all__ = ["heatmaps"]
