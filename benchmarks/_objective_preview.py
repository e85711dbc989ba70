"""PREVIEW ONLY: the proposed ``Objective.evaluate`` that calls the operators' fused squared-loss hook.

``LinearOperator.forward_adjoint(X, y, scale)`` / ``forward_factored_adjoint(L, R, y, scale)`` return
z = 𝒜(X), G = 𝒜*(scale (z − y)) and ‖z − y‖² in one pass (a dense or matrix-free Gaussian operator
read once per step; completion's entries visited once; rank-one sensing's x L reused). ``overparam.objective`` does not call it yet; this
module installs the proposed evaluate for a benchmark run (``benchmarks/run.py --preview-fused-objective``)
so the numbers of the fused path can be recorded before the change lands. Once
``Objective.evaluate`` calls the hook itself, ``install`` does nothing. Results carry
``objective_fused`` and ``objective_preview`` so a table never hides which path it measured.
"""

from __future__ import annotations

from overparam.losses import SquaredLoss
from overparam.objective import Evaluation, Objective


def evaluate(self, theta, *, grad=True, rows=None):
    prob = self.problem
    op, y, loss = prob.operator, prob.y, prob.loss
    if rows is not None:
        op = op.select(rows)
        y = y[rows]
        loss = loss.rescaled(prob.m / rows.shape[-1])
    G = None
    if grad and op.fuses_forward_adjoint and isinstance(loss, SquaredLoss):
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


def install() -> bool:
    """Install the preview unless the library already fuses; returns whether it was installed."""
    from overparam.bench import objective_uses_fused_path

    if objective_uses_fused_path():
        return False
    Objective.evaluate = evaluate
    return True
