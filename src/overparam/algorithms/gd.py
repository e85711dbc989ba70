"""Gradient descent with an explicit step-size convention.

θ_{t+1} = θ_t − η · s · ∇f(θ_t), where ∇f is the exact gradient of the problem's loss (whose
normalization c the problem states) and s = ``grad_scale`` converts to a paper's convention:

* 000 Eq. (5), U_{t+1} = (I − η M_t) U_t with M_t = (1/m) Σ_i ⟨A_i, U_tU_tᵀ − X⋆⟩ A_i, is
  s = ½ on the loss 1/(2m) Σ(⟨A_i, UUᵀ⟩ − y_i)² (exact gradient 2 M_t U_t); η_paper = 2 η_exact.
* 001's analysis uses (UUᵀ − X⋆)U for ∇‖UUᵀ − X⋆‖_F² = 4(UUᵀ − X⋆)U: s = ¼.
* 003's update U − η ∇‖𝒜(UUᵀ) − b‖² on G(U) = ⅛‖𝒜(UUᵀ) − b‖²: s = 8.

``eta`` may be a per-replica sequence; the update is simultaneous in all factors (002's
Jacobi update, not alternating).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._types import PosFloat
from ..backend import replica_count
from ..registry import register
from .base import Algorithm, RunContext, StepOut, per_replica_tensor, scale_like


@register("algorithm", "gd")
class GD(Algorithm):
    """θ ← θ − η s ∇f(θ) (see the module docstring for ``grad_scale`` conventions)."""

    name = "gd"

    def __init__(self, eta: PosFloat | Sequence[PosFloat], grad_scale: PosFloat = 1.0):
        self.eta = eta
        self.grad_scale = grad_scale

    @property
    def replicas(self) -> int:
        return replica_count(eta=self.eta)

    def init_state(self, objective, theta, ctx: RunContext):
        step = per_replica_tensor(self.eta, ctx.R, device=ctx.device, dtype=ctx.dtype) * self.grad_scale
        return {"step": step}

    def step(self, objective, theta, state, t):
        ev = objective.evaluate(theta)
        step = state["step"]
        new = tuple(p - scale_like(step, p) * g for p, g in zip(theta, ev.grad, strict=True))
        return StepOut(new, ev), state

    def describe(self):
        return f"gd(eta={self.eta}, grad_scale={self.grad_scale})"
