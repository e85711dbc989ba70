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

from .lanes import in_replica_lanes
from .operators import GradOperator
from .params import Parameterization, Params
from .problems import Problem


class Regularizer(Protocol):
    """An explicit penalty reg(θ) ``(R,)`` added to the objective (001's λ·R_β, …), bound to a run's
    replicas (see :mod:`overparam.regularizers`): value, gradient, Hessian-vector product, and
    ``select(keep)`` for the replicas that keep running."""

    def value(self, theta: Params) -> torch.Tensor: ...

    def grad(self, theta: Params) -> Params: ...

    def hvp(self, theta: Params, v: Params) -> Params: ...

    def select(self, keep: torch.Tensor) -> Regularizer: ...


@dataclass
class Evaluation:
    """f, z and ∇f at one θ (replica axis first).

    ``fit_sq`` = ‖ψ(z) − y‖², the loss's fit measure (ψ = identity for squared losses, σ for the
    logistic loss; see :class:`overparam.losses.Loss`); ``data_loss`` is f without the regularizer.
    """

    loss: torch.Tensor
    z: torch.Tensor
    fit_sq: torch.Tensor
    grad: Params | None = None
    G: GradOperator | None = None
    data_loss: torch.Tensor | None = None

    @property
    def residual_sq(self) -> torch.Tensor:
        """The fit ‖ψ(z) − y‖² (for squared losses the residual ‖z − y‖²)."""
        return self.fit_sq

    def select(self, keep: torch.Tensor) -> Evaluation:
        return Evaluation(
            loss=self.loss[keep],
            z=self.z[keep],
            fit_sq=self.fit_sq[keep],
            grad=None if self.grad is None else tuple(g[keep] for g in self.grad),
            G=None,
            data_loss=None if self.data_loss is None else self.data_loss[keep],
        )


class Objective:
    """f(θ) = L(g(θ)) + reg(θ) for a problem, a parameterization and an optional (bound) regularizer."""

    def __init__(self, problem: Problem, param: Parameterization, regularizer: Regularizer | None = None):
        param.check(problem.shape)
        self.problem = problem
        self.param = param
        self.regularizer = regularizer

    def select(self, keep: torch.Tensor) -> Objective:
        """The objective for the replicas ``keep`` (per-replica regularizer weights follow them)."""
        if self.regularizer is None:
            return self
        return Objective(self.problem, self.param, self.regularizer.select(keep))

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
        gradient is an unbiased estimate of the full gradient. When the loss has a ``fused_scale``
        and the operator fuses, z, the residual and G come from one pass over the data.
        """
        prob = self.problem
        op, y, loss = prob.operator, prob.y, prob.loss
        if rows is not None:
            op = op.select(rows)
            y = y[rows]
            loss = loss.rescaled(prob.m / rows.shape[-1])
        G = None
        s = loss.fused_scale
        # a run in replica lanes evaluates through the operator's lane path, with a gradient or not,
        # so that a replica's loss does not depend on its batch (:mod:`overparam.lanes`)
        lanes = not grad and rows is None and in_replica_lanes() and op.max_lanes() > 0
        if (grad or lanes) and s is not None and op.fuses_forward_adjoint:
            # one pass for z, the residual and G (a dense operator read once; entries visited once)
            fac = self.param.factors(theta) if op.prefers_factored else None
            if fac is not None:
                z, G, fit = op.forward_factored_adjoint(*fac, y, s)
            else:
                z, G, fit = op.forward_adjoint(self.param.to_matrix(theta), y, s)
            value = loss.c * fit
        else:
            z = self.measure(theta, op)
            value, dz, fit = loss.evaluate(z, y)
        data_loss = value
        if self.regularizer is not None:
            value = value + self.regularizer.value(theta)
        if not grad:
            return Evaluation(loss=value, z=z, fit_sq=fit, data_loss=data_loss)
        if G is None:
            G = op.gradient(dz)
        g = self.param.pullback(theta, G)
        if self.regularizer is not None:
            g = tuple(a + b for a, b in zip(g, self.regularizer.grad(theta), strict=True))
        return Evaluation(loss=value, z=z, fit_sq=fit, grad=g, G=G, data_loss=data_loss)

    def hvp(self, theta: Params, v: Params) -> Params:
        """∇²f(θ)[v] per replica, by reverse-over-reverse autograd through the dense forward path
        z = 𝒜(g(θ)) (plain torch operations; the fused kernels are not differentiable). For 001's
        second-order check (Lanczos on the smallest Hessian eigenvalue) and 004's deviation rate."""
        prob = self.problem
        with torch.enable_grad():
            ps = tuple(p.detach().requires_grad_(True) for p in theta)
            z = prob.operator.forward(self.param.to_matrix(ps))
            f = prob.loss.value(z, prob.y).sum()  # replicas are independent: the sum separates them
            if self.regularizer is not None:
                f = f + self.regularizer.value(ps).sum()
            g = torch.autograd.grad(f, ps, create_graph=True)
            dot = sum((gi * vi).sum() for gi, vi in zip(g, v, strict=True))
            return tuple(h.detach() for h in torch.autograd.grad(dot, ps))
