"""Projected gradient descent in X-space onto the PSD cone (000 App. B, Fig. 4 baseline).

With θ = X itself (param ``direct``) and the problem's loss f(X) = c Σ_i (⟨A_i, X⟩ − y_i)²
(000's Fig. 4 uses c = 1/m: f(X) = (1/m) Σ_i (⟨A_i, X⟩ − b_i)², exact gradient
∇f(X) = (2/m) Σ_i (⟨A_i, X⟩ − b_i) A_i), one step is

    X_{t+1} = Π_PSD( X_t − η s ∇f(X_t) ),

where s = ``grad_scale`` (s = 1: the exact gradient, which is what App. B's "step size 0.0025" on
f(X) means) and Π_PSD is the Euclidean (Frobenius) projection onto the PSD cone:
eigendecompose sym(Y) = (Y + Yᵀ)/2 = V diag(λ) Vᵀ and clip the negative eigenvalues,
Π_PSD(Y) = V diag(max(λ, 0)) Vᵀ (notes-000 §3.4 and pitfall 9).

Plain GD on X (no projection, the intro's "GD in the space of X" that does not generalize) is
:class:`~overparam.algorithms.GD` with param ``direct``; ``projection="none"`` here is the same
update, kept so that one spec field switches between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from .._types import PosFloat
from ..registry import register
from .base import Composed
from .pieces import Descend, Gradient, ProjectPSD, psd_projection

PROJECTIONS = ("psd", "none")


@register("algorithm", "projected_gd")
def projected_gd(eta: PosFloat | Sequence[PosFloat], grad_scale: PosFloat = 1.0,
                 projection: Literal["psd", "none"] = "psd") -> Composed:
    """X ← Π_PSD(X − η s ∇f(X)) on θ = X (param ``direct``); see the module docstring."""
    if projection not in PROJECTIONS:
        raise ValueError(f"algorithm.projection: got {projection!r}; accepted: {', '.join(PROJECTIONS)}")
    pieces = [Gradient(), Descend(eta, grad_scale), ProjectPSD()]
    if projection == "none":
        pieces[-1] = _DirectOnly()
    return Composed("projected_gd", pieces,
                    describe=f"projected_gd(eta={eta}, grad_scale={grad_scale}, projection={projection})")


class _DirectOnly(ProjectPSD):
    """The checks of :class:`ProjectPSD` (θ = X, square) without the projection (``projection="none"``)."""

    def update(self, step, state):
        return state


__all__ = ["projected_gd", "psd_projection"]
