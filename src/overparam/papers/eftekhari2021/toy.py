"""003 Fig. 4 — the zero-training-error set ℳ_b of the toy example d = p = m = 2, rank X♮ = 1,
𝒜(UUᵀ) = [‖U[1,:]‖², ⟨A, UUᵀ⟩] with a random A, drawn in the coordinates (U[1,1], U[2,1], U[2,2]).

The paper meshes a scattered point cloud (MATLAB File Exchange #63731); we draw ℳ_b from its exact
parametrization, a 2-torus (:func:`overparam.papers.eftekhari2021.theory.toy_manifold`), and mark the
orbit {U♮R : R ∈ 𝒪₂} of the planted factor U♮ = [x, 0], a circle on it. The ‖U‖ ≤ ξ cut of
(manifold) is not drawn: the paper does not give ξ. No runs: the figure is computed at plot time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import figstyle
from .._shared import save, suptitle
from ..base import Context, Figure
from .settings import PAPER
from .theory import toy_manifold, toy_problem, toy_violation

#: The seed of the toy instance (X♮ = xxᵀ and A).
TOY_SEED = 0


def fig4_plot(ctx: Context, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    toy = toy_problem(TOY_SEED)
    pts = toy_manifold(toy, 90, 90)
    viol = toy_violation(toy, pts)
    fig = plt.figure(figsize=(figstyle.ONE_COLUMN * 1.5, figstyle.ONE_COLUMN * 1.45), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(pts[..., 0, 0], pts[..., 1, 0], pts[..., 1, 1], cmap="viridis", alpha=0.3, lw=0,
                    rstride=2, cstride=2)
    a = np.linspace(0, 2 * np.pi, 200)
    x = toy.x
    # U♮R = [[x1 cos a, x1 sin a], [x2 cos a, x2 sin a]] (first column of R^T running over the circle)
    ax.plot(x[0] * np.cos(a), x[1] * np.cos(a), x[1] * np.sin(a), color=figstyle.PALETTE[1], lw=2.5, zorder=10,
            label="orbit {U♮R : R orthogonal} (UUᵀ = X♮)")
    ax.set_xlabel("U[1,1]")
    ax.set_ylabel("U[2,1]")
    ax.set_zlabel("U[2,2]")
    ax.legend(loc="upper left")
    suptitle(fig, f"Eftekhari–Zygalakis Fig. 4: " r"$\mathcal{M}_b$" f" for d = p = m = 2, rank X♮ = 1 "
                  f"(seed {TOY_SEED}), " r"$\mathcal{A}(UU^\top) = [\|U[1,:]\|^2, \langle A, UU^\top\rangle]$"
                  f"; exact torus parametrization, max " r"$|\mathcal{A}(UU^\top) - b|$" f" = {viol:.1e}; "
                  r"the $\|U\| \leq \xi$ cut not drawn")
    # mplot3d pads each face to a common vertex count with NaN and projects the padded array with
    # np.dot; depending on the BLAS kernel path that raises a spurious "overflow encountered in dot"
    # (seen once in the test suite, in a process whose torch ran on one thread). The drawn figure is
    # the same either way.
    with np.errstate(over="ignore", invalid="ignore"):
        return save(fig, out_dir, f"{PAPER}-fig4")


def no_specs(quick: bool) -> list:
    return []


FIGURES = [Figure(f"{PAPER}-fig4", PAPER, "The toy zero-training-error set ℳ_b (d = p = m = 2)", no_specs, fig4_plot,
                  setting=("The toy case d = p = m = 2, rank X♮ = 1, 𝒜(UUᵀ) = [‖U[1,:]‖², ⟨A, UUᵀ⟩] with a random A, in the "
                           "coordinates (U[1,1], U[2,1], U[2,2]). The paper meshes a point cloud; we draw ℳ_b from its "
                           "exact parametrization (a 2-torus) and mark the orbit of the planted factor. No runs."),
                  paper_reports=("A 3-D picture of the zero-training-error set ℳ_b: a large set (a manifold), so the region "
                                 "from which GD is captured is a tube around ℳ_b, not a ball around U♮."))]
