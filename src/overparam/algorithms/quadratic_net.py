"""Algorithm 1 of 000 (App. A): truncated GD with norm rescaling for the quadratic-activation network.

The network ŷ = ‖Uᵀx‖² = ⟨x xᵀ, U Uᵀ⟩ is rank-one sensing (problem ``quadratic_network``), whose
measurement operator is not RIP: E[⟨xxᵀ, X⟩ xxᵀ] = 2X + tr(X)·I (Lemma A.1). Algorithm 1 removes
the identity bias by rescaling. With the truncation mask w_i = 1{ŷ_i ≤ R}, computed at U_t and held
constant within the step (the indicator is not differentiable; notes-000 pitfall 12),

    M_t = (1/m) Σ_i (ŷ_i − y_i) w_i A_i                        (A_i = x_i x_iᵀ; Eq. 4 with truncation)
    Ũ_t = U_t − η s M_t U_t                                    (the gradient step on the truncated loss)
    U_{t+1} = Ũ_t / (1 − η s c_t),   c_t = ‖U_t‖_F² − τ          (Algorithm 1's rescaling)

**One consistent scale s** (``grad_scale``, notes-000 §3.3 "scaling caveat"): the step uses
∇f̃(U) := s·M_t U and the rescaling uses the same s, which is what makes the rescaled update equal
to bias-corrected sensing GD (Eq. 25):

    U_{t+1} = (I − η s/(1 − η s c_t) · M'_t) U_t,   M'_t = M_t − c_t I,

and E M'_t = 2(UUᵀ − X⋆) (up to truncation). Conventions: s = 1 is the paper's Algorithm 1 as
printed (∇f̃ = M_t U, the convention of Eq. 5); s = 4 is the literal gradient of the printed
truncated loss f̃(U) = (1/m) Σ_i (ŷ_i − y_i)² 1{ŷ_i ≤ R}; s = 2 the literal gradient of the same
loss with 1/(2m). M_t always carries 1/m (it is the paper's matrix), whatever normalization the
problem's (untruncated) loss uses; that loss is only reported (``loss`` metric, train error).

**τ = ‖U⋆‖_F²** is an input of Algorithm 1 (known), or estimated as the mean label
(1/m) Σ_i y_i, since E[y] = tr(X⋆) = ‖U⋆‖_F² (``tau="mean_label"``, the default). For 000's
generator (unit-norm columns of U⋆) ‖U⋆‖_F² = r exactly, so "known τ" is ``tau = r``.

**Truncation threshold R** on the scale of ŷ (notes-000 pitfall 12): the paper's R = Θ(log(1/δ))
is asymptotic and stated for ‖X‖ ≤ 1; ŷ at the truth has mean τ and, for x ~ N(0, I), tails like a
χ² variable, so R = ``R_factor`` · τ · log d keeps essentially every sample near the truth (at
``R_factor = 2`` and d ≥ 40 the truncated fraction at U = U⋆ is below 10⁻³) while cutting the
heavy-tailed ⟨xxᵀ, X⟩ outliers that make rank-one measurements non-RIP. ``R`` overrides it.

**Denominator guard**: the rescaling is only defined when 1 − η s c_t > 0 (large η or a large
‖U_t‖_F² − τ, e.g. U₀ = I with d > τ + 1/(η s), break it); the step raises a ``ValueError``
naming ``algorithm.eta`` with the offending value and the largest admissible η instead of
dividing by a non-positive number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch

from .._types import PosFloat
from ..backend import replica_count
from ..objective import Evaluation
from ..params import Symmetric
from ..registry import register
from .base import Algorithm, RunContext, StepOut, per_replica_tensor, scale_like

R_FACTOR = 2.0


def truncated_M(U: torch.Tensor, objective, R: float) -> tuple[torch.Tensor, object, torch.Tensor, torch.Tensor]:
    """(ŷ, M_t as a GradOperator, the mask 1{ŷ_i ≤ R}, ŷ − y) at U ``(R, d, k)``.

    M_t = (1/m) Σ_i (ŷ_i − y_i) 1{ŷ_i ≤ R} A_i with ŷ_i = ⟨A_i, UUᵀ⟩ (``M_t.mm(B)`` = M_t B)."""
    prob = objective.problem
    z = objective.measure((U,))
    res = z - prob.y
    mask = z <= R
    w = torch.where(mask, res, torch.zeros_like(res)) / prob.m
    return z, prob.operator.gradient(w), mask, res


def truncated_loss(U: torch.Tensor, objective, R: float, *, c: float | None = None) -> torch.Tensor:
    """f̃(U) = c Σ_i (ŷ_i − y_i)² 1{ŷ_i ≤ R}, c = 1/m by default (000 App. A, as printed)."""
    prob = objective.problem
    z = objective.measure((U,))
    res = z - prob.y
    c = 1.0 / prob.m if c is None else c
    return c * torch.where(z <= R, res * res, torch.zeros_like(res)).sum(-1)


@register("algorithm", "truncated_rescaled_gd")
class TruncatedRescaledGD(Algorithm):
    """000 Algorithm 1: Ũ = U − η s M_t U (truncated), U ← Ũ / (1 − η s (‖U‖_F² − τ)); see the module
    docstring for M_t, s, τ and R."""

    name = "truncated_rescaled_gd"

    def __init__(self, eta: PosFloat | Sequence[PosFloat], grad_scale: PosFloat = 1.0,
                 tau: PosFloat | Literal["mean_label"] = "mean_label", R: PosFloat | None = None,
                 R_factor: PosFloat = R_FACTOR):
        if isinstance(tau, str) and tau != "mean_label":
            raise ValueError(f"algorithm.tau: got {tau!r}; accepted: a positive number (known ‖U⋆‖_F²) or 'mean_label'")
        self.eta = eta
        self.grad_scale = grad_scale
        self.tau = tau
        self.R = R
        self.R_factor = R_factor

    @property
    def replicas(self) -> int:
        return replica_count(eta=self.eta)

    def resolve(self, problem) -> tuple[float, float]:
        """(τ, R) used on ``problem``: τ given or the mean label; R given or R_factor·τ·log d."""
        tau = float(problem.y.mean()) if self.tau == "mean_label" else float(self.tau)
        if tau <= 0:
            raise ValueError(f"algorithm.tau: the mean label is {tau:.3g} <= 0; give tau explicitly (tau > 0)")
        d = problem.shape[0]
        R = float(self.R) if self.R is not None else self.R_factor * tau * math.log(max(d, 2))
        return tau, R

    def init_state(self, objective, theta, ctx: RunContext):
        if not isinstance(objective.param, Symmetric):
            raise ValueError(f"algorithm 'truncated_rescaled_gd' updates the factor U of X = UUᵀ: param must be "
                             f"'symmetric'; got {objective.param.name!r}")
        tau, R = self.resolve(objective.problem)
        step = per_replica_tensor(self.eta, ctx.R, device=ctx.device, dtype=ctx.dtype) * self.grad_scale
        return {"step": step, "tau": tau, "R": R}

    def step(self, objective, theta, state, t):
        (U,) = theta
        z, M, mask, res = truncated_M(U, objective, state["R"])
        step = state["step"]  # η s, per replica
        c = (U * U).sum((-2, -1)) - state["tau"]
        denom = 1.0 - step * c
        if bool((denom <= 0).any()):
            i = int(torch.nonzero(denom <= 0).flatten()[0])
            eta_i = float(step[i]) / self.grad_scale
            raise ValueError(
                f"algorithm.eta: the rescaling denominator 1 − η·s·(‖U_t‖_F² − τ) = {float(denom[i]):.4g} <= 0 at "
                f"step {t} (replica {i}: η = {eta_i:.4g}, s = {self.grad_scale}, "
                f"‖U_t‖_F² = {float(c[i]) + state['tau']:.4g}, τ = {state['tau']:.4g}); accepted: eta < 1/(s·(‖U_t‖_F² − τ)) = "
                f"{1.0 / (self.grad_scale * float(c[i])):.4g}; use a smaller eta or a smaller initialization")
        MU = M.mm(U) if M.symmetric else 0.5 * M.sym_mm(U)
        new = (U - scale_like(step, U) * MU) / scale_like(denom, U)
        sq = (res * res).sum(-1)
        ev = Evaluation(loss=objective.problem.loss.c * sq, z=z, residual_sq=sq)
        extras = {"truncated_fraction": 1.0 - mask.to(U.dtype).mean(-1), "trace_gap": c}
        return StepOut((new,), ev, extras=extras), state

    def extras_at(self, objective, theta, state):
        """``truncated_fraction`` and ``trace_gap`` at θ_T."""
        (U,) = theta
        z = objective.measure(theta)
        return {"truncated_fraction": 1.0 - (z <= state["R"]).to(U.dtype).mean(-1),
                "trace_gap": (U * U).sum((-2, -1)) - state["tau"]}

    def describe(self):
        return (f"truncated_rescaled_gd(eta={self.eta}, grad_scale={self.grad_scale}, tau={self.tau}, R={self.R}, "
                f"R_factor={self.R_factor})")
