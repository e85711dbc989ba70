"""Algorithm 1 of 000 (App. A): truncated GD with norm rescaling for the quadratic-activation network.

(Its two metrics, ``li2018.truncated_fraction`` and ``li2018.trace_gap``, are paper 000's and live
in :mod:`overparam.papers.li2018.metrics`.)

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
from ..objective import Evaluation
from ..registry import register
from .base import Composed, Piece, Step, scale_like
from .pieces import Descend

R_FACTOR = 2.0


def truncated_M(U: torch.Tensor, objective, R: float) -> tuple[torch.Tensor, object, torch.Tensor, torch.Tensor]:
    """(ŷ, M_t as a GradOperator, the mask 1{ŷ_i ≤ R}, ŷ − y) at U ``(R, d, k)``.

    M_t = (1/m) Σ_i (ŷ_i − y_i) 1{ŷ_i ≤ R} A_i with ŷ_i = ⟨A_i, UUᵀ⟩ (``M_t.mm(B)`` = M_t B)."""
    prob = objective.problem
    op = prob.operator
    if op.prefers_factored:  # ŷ from the factors (as Objective.measure), keeping x U for M_t U
        z, gradient = op.forward_factored_gradient(U, U)
    else:
        z, gradient = objective.measure((U,)), op.gradient
    res = z - prob.y
    mask = z <= R
    w = torch.where(mask, res, torch.zeros_like(res)) / prob.m
    return z, gradient(w), mask, res


def truncated_loss(U: torch.Tensor, objective, R: float, *, c: float | None = None) -> torch.Tensor:
    """f̃(U) = c Σ_i (ŷ_i − y_i)² 1{ŷ_i ≤ R}, c = 1/m by default (000 App. A, as printed)."""
    prob = objective.problem
    z = objective.measure((U,))
    res = z - prob.y
    c = 1.0 / prob.m if c is None else c
    return c * torch.where(z <= R, res * res, torch.zeros_like(res)).sum(-1)


class TruncatedGradient(Piece):
    """direction = M_t U_t with the truncated M_t of :func:`truncated_M` (module docstring for τ, R)."""

    name = "truncated_gradient"

    def __init__(self, tau: float | str = "mean_label", R: float | None = None, R_factor: float = R_FACTOR):
        if isinstance(tau, str) and tau != "mean_label":
            raise ValueError(f"algorithm.tau: got {tau!r}; accepted: a positive number (known ‖U⋆‖_F²) or 'mean_label'")
        self.tau, self.R, self.R_factor = tau, R, R_factor

    def describe(self):
        return f"truncated_gradient(tau={self.tau}, R={self.R}, R_factor={self.R_factor})"

    def resolve(self, problem) -> tuple[float, float]:
        """(τ, R) used on ``problem``: τ given or the mean label; R given or R_factor·τ·log d."""
        tau = float(problem.y.mean()) if self.tau == "mean_label" else float(self.tau)
        if tau <= 0:
            raise ValueError(f"algorithm.tau: the mean label is {tau:.3g} <= 0; give tau explicitly (tau > 0)")
        d = problem.shape[0]
        R = float(self.R) if self.R is not None else self.R_factor * tau * math.log(max(d, 2))
        return tau, R

    def init(self, ctx, objective, theta):
        if objective.param.name != "symmetric":
            raise ValueError(f"algorithm 'truncated_rescaled_gd' updates the factor U of X = UUᵀ: param must be "
                             f"'symmetric'; got {objective.param.name!r}")
        return self.resolve(objective.problem)

    def update(self, step: Step, state):
        (U,) = step.theta
        z, M, _, res = truncated_M(U, step.objective, state[1])
        step.direction = (M.mm(U) if M.symmetric else 0.5 * M.sym_mm(U),)
        sq = (res * res).sum(-1)
        step.evaluation = Evaluation(loss=step.objective.problem.loss.c * sq, z=z, fit_sq=sq)
        return state

    def truncated_fraction(self, objective, theta, z: torch.Tensor) -> torch.Tensor:
        """Fraction of samples with ŷ_i > R at θ (``z`` = 𝒜(UUᵀ))."""
        return 1.0 - (z <= self.resolve(objective.problem)[1]).to(z.dtype).mean(-1)

    def trace_gap(self, objective, theta) -> torch.Tensor:
        """c_t = ‖U_t‖_F² − τ."""
        (U,) = theta
        return (U * U).sum((-2, -1)) - self.resolve(objective.problem)[0]


class TraceRescale(Piece):
    """Algorithm 1's rescaling U_{t+1} = Ũ_t / (1 − η s c_t), c_t = ‖U_t‖_F² − τ (τ from the
    :class:`TruncatedGradient` piece). A non-positive denominator raises a ``ValueError`` naming eta."""

    name = "trace_rescale"

    def __init__(self, source: TruncatedGradient, grad_scale: float):
        self.source, self.grad_scale = source, grad_scale

    def describe(self):
        return "trace_rescale"

    def init(self, ctx, objective, theta):
        return self.source.resolve(objective.problem)[0]

    def update(self, step: Step, state):
        (U,) = step.theta
        (s,) = step.step_size
        tau = state
        c = (U * U).sum((-2, -1)) - tau
        denom = 1.0 - s * c
        if bool((denom <= 0).any()):
            i = int(torch.nonzero(denom <= 0).flatten()[0])
            eta_i = float(s[i]) / self.grad_scale
            raise ValueError(
                f"algorithm.eta: the rescaling denominator 1 − η·s·(‖U_t‖_F² − τ) = {float(denom[i]):.4g} <= 0 at "
                f"step {step.t} (replica {i}: η = {eta_i:.4g}, s = {self.grad_scale}, "
                f"‖U_t‖_F² = {float(c[i]) + tau:.4g}, τ = {tau:.4g}); accepted: eta < 1/(s·(‖U_t‖_F² − τ)) = "
                f"{1.0 / (self.grad_scale * float(c[i])):.4g}; use a smaller eta or a smaller initialization")
        (new,) = step.new_theta
        step.new_theta = (new / scale_like(denom, U),)
        return state


@register("algorithm", "truncated_rescaled_gd")
def truncated_rescaled_gd(eta: PosFloat | Sequence[PosFloat], grad_scale: PosFloat = 1.0,
                          tau: PosFloat | Literal["mean_label"] = "mean_label", R: PosFloat | None = None,
                          R_factor: PosFloat = R_FACTOR) -> Composed:
    """000 Algorithm 1: Ũ = U − η s M_t U (truncated), U ← Ũ / (1 − η s (‖U‖_F² − τ)); see the module
    docstring for M_t, s, τ and R."""
    trunc = TruncatedGradient(tau, R, R_factor)
    return Composed("truncated_rescaled_gd", [trunc, Descend(eta, grad_scale), TraceRescale(trunc, grad_scale)],
                    describe=f"truncated_rescaled_gd(eta={eta}, grad_scale={grad_scale}, tau={tau}, R={R}, "
                             f"R_factor={R_factor})")
