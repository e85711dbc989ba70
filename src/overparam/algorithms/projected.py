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

import torch

from .._types import PosFloat
from ..backend import replica_count
from ..params import Direct
from ..registry import register
from .base import Algorithm, RunContext, StepOut, per_replica_tensor, scale_like

PROJECTIONS = ("psd", "none")


def psd_projection(Y: torch.Tensor) -> torch.Tensor:
    """Π_PSD(Y) = V diag(max(λ, 0)) Vᵀ for sym(Y) = V diag(λ) Vᵀ, batched over leading axes.

    This is the nearest PSD matrix to Y in Frobenius norm (for any square Y: the skew part is
    orthogonal to every symmetric matrix, so it is dropped first)."""
    if Y.ndim < 2 or Y.shape[-1] != Y.shape[-2]:
        raise ValueError(f"psd_projection: needs square matrices (…, d, d); got shape {tuple(Y.shape)}")
    S = 0.5 * (Y + Y.mT)
    lam, V = torch.linalg.eigh(S)
    return (V * lam.clamp_min(0.0).unsqueeze(-2)) @ V.mT


@register("algorithm", "projected_gd")
class ProjectedGD(Algorithm):
    """X ← Π_PSD(X − η s ∇f(X)) on θ = X (param ``direct``); see the module docstring."""

    name = "projected_gd"

    def __init__(self, eta: PosFloat | Sequence[PosFloat], grad_scale: PosFloat = 1.0,
                 projection: Literal["psd", "none"] = "psd"):
        if projection not in PROJECTIONS:
            raise ValueError(f"algorithm.projection: got {projection!r}; accepted: {', '.join(PROJECTIONS)}")
        self.eta = eta
        self.grad_scale = grad_scale
        self.projection = projection

    @property
    def replicas(self) -> int:
        return replica_count(eta=self.eta)

    def init_state(self, objective, theta, ctx: RunContext):
        if not isinstance(objective.param, Direct):
            raise ValueError(f"algorithm 'projected_gd' works in X-space: param must be 'direct' (θ = X); "
                             f"got {objective.param.name!r}")
        shape = objective.problem.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"algorithm 'projected_gd' needs a square matrix problem; got variable shape {shape}")
        step = per_replica_tensor(self.eta, ctx.R, device=ctx.device, dtype=ctx.dtype) * self.grad_scale
        return {"step": step}

    def step(self, objective, theta, state, t):
        ev = objective.evaluate(theta)
        (X,) = theta
        (g,) = ev.grad
        Y = X - scale_like(state["step"], X) * g
        new = psd_projection(Y) if self.projection == "psd" else Y
        return StepOut((new,), ev), state

    def describe(self):
        return f"projected_gd(eta={self.eta}, grad_scale={self.grad_scale}, projection={self.projection})"
