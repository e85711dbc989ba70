"""The objective f(θ) = L(g(θ)) (+ λ·reg(θ)) and its gradient, on the fast path for each operator.

``Objective.evaluate`` computes z = 𝒜(g(θ)) once — from the factors of X = L Rᵀ when the operator
prefers that (completion, rank-one sensing), otherwise from X — then the loss, ∂L/∂z, the
gradient operator G = 𝒜*(∂L/∂z) and the pullback J_g(θ)ᵀ[G]. For squared losses, operators that
set ``fuses_forward_adjoint`` compute z, the residual and G in a single pass over their data
(``forward_adjoint`` / ``forward_factored_adjoint``: dense Gaussian sensing reads A once per step,
completion visits each observed entry once). The :class:`Evaluation` it returns
is reused by the run loop (loss, divergence and train-error checks) and by metrics, so nothing
is computed twice per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from .losses import SquaredLoss
from .operators import GradOperator
from .params import Parameterization, Params
from .problems import Problem


class Regularizer(Protocol):
    """An explicit penalty λ·reg(θ) added to the objective (001's smoothed group Lasso, …)."""

    def value(self, theta: Params) -> torch.Tensor: ...

    def grad(self, theta: Params) -> Params: ...


@dataclass
class Evaluation:
    """f, z and ∇f at one θ (replica axis first). ``residual_sq`` = ‖z − y‖² for squared losses."""

    loss: torch.Tensor
    z: torch.Tensor
    residual_sq: torch.Tensor | None
    grad: Params | None = None
    G: GradOperator | None = None
    data_loss: torch.Tensor | None = None

    def select(self, keep: torch.Tensor) -> Evaluation:
        return Evaluation(
            loss=self.loss[keep],
            z=self.z[keep],
            residual_sq=None if self.residual_sq is None else self.residual_sq[keep],
            grad=None if self.grad is None else tuple(g[keep] for g in self.grad),
            G=None,
            data_loss=None if self.data_loss is None else self.data_loss[keep],
        )


class Objective:
    """f(θ) = L(g(θ)) + reg(θ) for a problem, a parameterization and an optional regularizer."""

    def __init__(self, problem: Problem, param: Parameterization, regularizer: Regularizer | None = None):
        param.check(problem.shape)
        self.problem = problem
        self.param = param
        self.regularizer = regularizer

    def measure(self, theta: Params, op=None) -> torch.Tensor:
        """z = 𝒜(g(θ)), from the factors when the operator prefers them."""
        op = op or self.problem.operator
        if op.prefers_factored:
            fac = self.param.factors(theta)
            if fac is not None:
                return op.forward_factored(*fac)
        return op.forward(self.param.to_matrix(theta))

    def evaluate(self, theta: Params, *, grad: bool = True, rows: torch.Tensor | None = None) -> Evaluation:
        """Loss (and gradient) at θ; ``rows`` (``(R, b)`` indices) restricts to a mini-batch.

        On a mini-batch of b of the m measurements the data loss is rescaled by m/b, so that its
        gradient is an unbiased estimate of the full gradient.
        """
        prob = self.problem
        op, y, loss = prob.operator, prob.y, prob.loss
        if rows is not None:
            op = op.select(rows)
            y = y[rows]
            loss = loss.rescaled(prob.m / rows.shape[-1])
        G = None
        if grad and op.fuses_forward_adjoint and isinstance(loss, SquaredLoss):
            # one pass for z, the residual and G (a dense operator read once; entries visited once)
            fac = self.param.factors(theta) if op.prefers_factored else None
            s = 2.0 * loss.c
            if fac is not None:
                z, G, res_sq = op.forward_factored_adjoint(*fac, y, s)
            else:
                z, G, res_sq = op.forward_adjoint(self.param.to_matrix(theta), y, s)
            value = loss.c * res_sq
        else:
            z = self.measure(theta, op)
            value, dz, res_sq = loss.evaluate(z, y)
        data_loss = value
        if self.regularizer is not None:
            value = value + self.regularizer.value(theta)
        if not grad:
            return Evaluation(loss=value, z=z, residual_sq=res_sq, data_loss=data_loss)
        if G is None:
            G = op.gradient(dz)
        g = self.param.pullback(theta, G)
        if self.regularizer is not None:
            g = tuple(a + b for a, b in zip(g, self.regularizer.grad(theta), strict=True))
        return Evaluation(loss=value, z=z, residual_sq=res_sq, grad=g, G=G, data_loss=data_loss)
