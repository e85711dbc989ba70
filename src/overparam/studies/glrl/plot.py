"""The study's two figures.

* :func:`follow_figure` — GD from tiny α against GLRL's rank-k iterates: one panel per α, the
  relative distance ‖X_GD(t) − X_k‖_F/‖X⋆‖_F to each phase-end iterate X_k (k = 1, 2, …) over the
  step t, the minimum over k (black, dashed) with its closest approach to each X_k marked.
* :func:`min_trace_figure` — GD against the minimum-trace solution: one panel per m/(dr) (below and
  above the trace-minimization threshold), ‖X_GD(α) − X_nuc‖_F/‖X_nuc‖_F and ‖X_GD(α) − X⋆‖_F/‖X⋆‖_F
  against α (α → 0 to the right; geometric mean over data seeds, band min–max, and each seed's error to
  X⋆ as a thin line), with the distance of
  X_nuc itself from X⋆ and the 1e-2 recovery line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def follow_figure(result: dict[str, Any], setting: str, out_dir: Path, name: str = "glrl_follow") -> list[Path]:
    """Draw one ``glrl_study.follow`` result (module docstring)."""
    from ... import figstyle

    with figstyle.rc_context():
        runs = result["runs"]
        fig, axes = figstyle.figure(len(runs), columns="two", height=2.4, sharey=True)
        for j, (ax, run) in enumerate(zip(axes[0], runs, strict=True)):
            t = np.maximum(np.asarray(run["steps"], dtype=float), 1.0)
            D = np.asarray(run["distance"], dtype=float)  # (records, K)
            for k in range(D.shape[1]):
                ax.plot(t, D[:, k], color=figstyle.color(k), label=f"to $X_{{{k + 1}}}$ (GLRL rank {k + 1})")
                i = int(np.argmin(D[:, k]))
                ax.plot(t[i], D[i, k], "o", color=figstyle.color(k), ms=3.5)
            ax.plot(t, D.min(1), color="black", ls="--", lw=1.0, label="min over $k$" if j == 0 else None)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.axhline(1e-2, color="0.5", lw=0.7, ls=":")
            ax.set_title(rf"GD from $\alpha = 10^{{{round(np.log10(run['alpha']))}}}$")
            ax.set_xlabel("step $t$")
        axes[0][0].set_ylabel(r"$\|X_{GD}(t) - X_k\|_F / \|X_\star\|_F$")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), frameon=False)
        fig.suptitle(figstyle.wrap(f"Does small-init GD pass GLRL's rank-k iterates in turn? {setting}", 110))
        return figstyle.save(fig, out_dir, name)


def min_trace_figure(rows: list[dict[str, Any]], ratios: tuple[float, float], setting: str, out_dir: Path,
                     name: str = "glrl_min_trace") -> list[Path]:
    """Draw the rows of :func:`.claim.measure` (module docstring)."""
    from ... import figstyle

    with figstyle.rc_context():
        fig, axes = figstyle.figure(2, columns="two", height=2.5, sharey=True)
        mid = sum(ratios) / 2
        for ax, x, where in zip(axes[0], ratios, ("below", "above"), strict=True):
            group = [r for r in rows if (r["ratio"] < mid) == (where == "below")]
            if not group:
                continue
            alphas = np.asarray(group[0]["alphas"], dtype=float)
            gap = np.array([r["gap"] for r in group])
            err = np.array([r["err"] for r in group])
            nuc = np.array([r["nuc"] for r in group])
            figstyle.seed_band(ax, alphas, gap, color=figstyle.color(0),
                               label=r"$\|X_{GD}(\alpha) - X_{nuc}\|_F / \|X_{nuc}\|_F$")
            figstyle.seed_band(ax, alphas, err, color=figstyle.color(1), ls="--",
                               label=r"$\|X_{GD}(\alpha) - X_\star\|_F / \|X_\star\|_F$")
            for i, e in enumerate(err):  # each seed's error, thin: the band alone hides a seed that fails
                ax.plot(alphas, e, color=figstyle.color(1), lw=0.5, alpha=0.5,
                        label=r"each seed's $\|X_{GD} - X_\star\|_F$" if i == 0 and where == "below" else None)
            c = float(np.exp(np.mean(np.log(np.maximum(nuc, 1e-300)))))
            ax.axhline(c, color=figstyle.color(2), ls="-.", lw=1.0,
                       label=r"$\|X_{nuc} - X_\star\|_F / \|X_\star\|_F$")
            ax.axhline(1e-2, color="0.5", lw=0.7, ls=":", label="recovery line $10^{-2}$")
            ax.set_xscale("log")
            decades = np.arange(np.floor(np.log10(alphas.min())), np.ceil(np.log10(alphas.max())) + 1)
            ax.set_xticks(10.0 ** decades[::-2] if len(decades) > 6 else 10.0 ** decades)
            ax.minorticks_off()
            ax.set_xlim(alphas.max() * 2, alphas.min() / 2)  # α → 0 to the right
            ax.set_xlabel(r"initialization scale $\alpha$ ($\to 0$ to the right)")
            ax.set_title(f"m/(dr) = {x:g}: {where} the trace-minimization\nthreshold ({len(group)} data seeds)")
        axes[0][0].set_ylabel("relative distance at GD's stop")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
        fig.suptitle(figstyle.wrap(f"Small-init GD against the minimum-trace solution: {setting}; "
                                   f"{figstyle.SEED_BAND_LABEL}", 110))
        return figstyle.save(fig, out_dir, name)


__all__ = ["follow_figure", "min_trace_figure"]
