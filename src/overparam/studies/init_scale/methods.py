"""The work of the init-scale study, per trial: one GD run with one replica per α, and the
trace-minimization solve (the phase-transition study's stored computation, same key).

GD is the phase-transition study's small-init GD (:func:`overparam.studies.phase_transition.methods.
small_init_gd_spec`): X = UUᵀ with k = d, U₀ = αI (the scaled identity, not a random init),
U ← U − η M_t U with M_t = (1/m) Σ_i (⟨A_i, UUᵀ⟩ − y_i) A_i (000 Eq. 5; ``grad_scale = ½`` on the
1/(2m) loss), η = 0.2, stopped once ‖𝒜(X) − y‖/‖y‖ < 1e-6 or after the budget. The replicas of a
run share the trial's operator and X⋆ and differ only in α (``replicas.init.alpha``); each stops on
its own. A replica whose loss blows up (at α = 1 the step η = 0.2 can be unstable: X₀ = I is far
from X⋆'s scale) is marked diverged and counts as not recovered.
"""

from __future__ import annotations

from ...experiments.computations import Computation
from ...experiments.spec import RunSpec
from ..phase_transition.methods import nuclear_norm_spec, small_init_gd_spec
from .grid import ScaleGrid

STUDY = "init_scale"


def gd_alphas_spec(grid: ScaleGrid, r: int, m: int, seed: int, steps: int | None = None) -> RunSpec:
    """GD on trial ``seed`` of cell (r, m), one replica per α of the grid (largest first), ``steps``
    steps (default the grid's budget)."""
    return small_init_gd_spec(grid.base(), r, m, seed, alpha=list(grid.alphas),
                              steps=grid.steps if steps is None else steps, method="gd_alphas", study=STUDY)


def trace_min_spec(grid: ScaleGrid, r: int, m: int, seed: int) -> Computation:
    """min tr X s.t. X ⪰ 0, 𝒜(X) = y on the trial: the phase-transition study's computation."""
    return nuclear_norm_spec(grid.base(), r, m, seed)


__all__ = ["STUDY", "gd_alphas_spec", "trace_min_spec"]
