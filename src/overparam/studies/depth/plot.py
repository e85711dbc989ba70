"""The depth study's figure (Arora, Cohen, Hu, Luo 2019, Fig. 2 style): against the number of observed
entries m, (a) the unobserved-entry error, (b) the effective rank and (c) the numerical rank of the
end-to-end matrix, one curve per depth N (median over trials, band min–max) and the nuclear-norm
minimizer (dashed, black); the counting line m = r(2d − r) (dotted) and the true rank r (grey). The
rank panels are logarithmic: depth 1 keeps the init's noise on every unobserved entry and sits near
full rank, an order of magnitude above the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .grid import Grid
from .table import NUCLEAR


def curves(summ, grid: Grid, out_dir: Path, name: str = "depth") -> list[Path]:
    """Draw ``summ`` (:func:`.table.summary`); saves ``<name>.png`` and ``<name>.pdf`` in ``out_dir``."""
    import matplotlib.pyplot as plt

    from ... import figstyle

    with figstyle.rc_context():
        return _curves(plt, figstyle, summ, grid, out_dir, name)


def _method_order(summ) -> list[str]:
    deep = sorted({(int(d), m) for d, m in zip(summ["depth"], summ["method"], strict=True) if m != NUCLEAR})
    return [m for _, m in deep] + ([NUCLEAR] if NUCLEAR in set(summ["method"]) else [])


def _curves(plt, figstyle, summ, grid: Grid, out_dir: Path, name: str) -> list[Path]:
    from matplotlib.ticker import NullLocator

    fig, axes = figstyle.figure(3, columns="two", height=2.5)
    panels = [("unobserved_error", "unobserved-entry error\n" + r"$\|P_{\Omega^c}(X - X_\star)\|_F / \|P_{\Omega^c} X_\star\|_F$",
               True),
              ("effective_rank", "effective rank (Roy & Vetterli)", False),
              ("numerical_rank", rf"#$\{{\sigma_i > {grid.rank_fraction:g}\,\sigma_1\}}$", False)]
    methods = _method_order(summ)
    for ax, (key, ylabel, logy) in zip(axes[0], panels, strict=True):
        for i, method in enumerate(methods):
            sub = summ[summ["method"] == method].sort_values("m")
            if sub.empty:
                continue
            x = sub["m"].to_numpy(dtype=float)
            med = sub[f"median_{key}"].to_numpy(dtype=float)
            lo, hi = sub[f"min_{key}"].to_numpy(dtype=float), sub[f"max_{key}"].to_numpy(dtype=float)
            if logy:
                floor = 1e-12
                med, lo, hi = (np.maximum(v, floor) for v in (med, lo, hi))
            if method == NUCLEAR:
                color, ls, marker = "black", "--", "x"
            else:
                color, ls, marker = figstyle.color(i), "-", figstyle.MARKERS[i % len(figstyle.MARKERS)]
            ax.plot(x, med, color=color, ls=ls, marker=marker, ms=3.5, label=method)
            ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
        ax.axvline(grid.dof, color="grey", ls=":", lw=1.0, label=r"$m = r(2d - r)$")
        ax.set_yscale("log")
        if key != "unobserved_error":
            ax.axhline(grid.r, color="grey", lw=0.8, alpha=0.7, label=rf"true rank $r = {grid.r}$")
            ticks = [t for t in (1, 2, 3, 5, 10, 20, 50, 100, 200) if t <= grid.d]
            ax.set_yticks(ticks, [str(t) for t in ticks])
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_ylim(0.8, grid.d * 1.25)
        ax.set_xlabel("observed entries $m$")
        ax.set_ylabel(ylabel)
    handles, labels = axes[0][0].get_legend_handles_labels()
    h2, l2 = axes[0][1].get_legend_handles_labels()
    for h, lab in zip(h2, l2, strict=True):
        if lab not in labels:
            handles.append(h)
            labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6), frameon=False)
    n = int(summ["trials"].max()) if len(summ) else 0
    fig.suptitle(f"Deep matrix factorization on completion, $d = {grid.d}$, $r = {grid.r}$, "
                 rf"$\|X_0\|_F = {grid.scale:g}$, plain GD: median of {n} trials, band min–max")
    return figstyle.save(fig, out_dir, name)


__all__ = ["curves"]
