"""X = F Gᵀ on the identity operator (002's ½‖FGᵀ − X‖²): the generic step's tensor operations
without the layers around them. Chosen by :func:`overparam.engines.select_engine`."""

from __future__ import annotations

import torch

from ..algorithms.base import StepOut
from ..operators.base import DenseGrad
from .base import Engine


class FactorizationEngine(Engine):
    """X = F Gᵀ on the identity operator (002's ½‖FGᵀ − X‖²): the generic step's own tensor operations,
    in the same order and shapes (so the same bits), without the pieces, objective and operator
    layers around them: X = F Gᵀ, r = vec(X) − y, ‖r‖², W = 2c r, then F − η s (W G) and
    G − η s (Wᵀ F). The three products are the whole arithmetic; nothing cheaper computes this step
    (``benchmarks/RESULTS.md``)."""

    name = "asymmetric×identity (lean torch step)"

    def __init__(self, objective):
        super().__init__(objective)
        prob = objective.problem
        self.y = prob.y
        self.shape = prob.shape

    def _residual(self, F, G):
        z = (F @ G.mT).reshape(F.shape[0], -1)
        res = z - self.y
        return z, res, (res * res).sum(-1)

    def _update(self, F, G, res, step_size):
        W = ((2.0 * self.c) * res).reshape(F.shape[0], *self.shape)
        dF, dG = W @ G, W.mT @ F
        sF, sG = step_size
        return F - sF.reshape(-1, 1, 1) * dF, G - sG.reshape(-1, 1, 1) * dG, W, (dF, dG)

    def segment(self, theta, step_size, n, ref, factor, target, y_norm_sq, rec=None):
        """``n`` steps of :meth:`step`'s arithmetic with the temporaries reused in place: the residual
        becomes W and each gradient its scaled update (the same operations on the same values, so the
        same bits; a step's inputs F, G are never written, they stay the previous iterate)."""
        F, G = theta
        prev = theta
        lim = factor * ref
        y, two_c, R = self.y, 2.0 * self.c, F.shape[0]
        sF, sG = (s.reshape(-1, 1, 1) for s in step_size)
        for t in range(n):
            res = torch.matmul(F, G.mT).reshape(R, -1).sub_(y)
            fit = (res * res).sum(-1)
            flag = ~(self.c * fit <= lim)
            if target is not None:
                flag |= (fit / y_norm_sq).sqrt() <= target
            if bool(flag.any()):
                return t, (F, G), prev, None
            prev = (F, G)
            W = res.mul_(two_c).reshape(R, *self.shape)
            dF, dG = torch.matmul(W, G), torch.matmul(W.mT, F)
            F, G = torch.sub(F, dF.mul_(sF)), torch.sub(G, dG.mul_(sG))
        return n, (F, G), prev, None

    def step(self, theta, step_size):
        F, G = theta
        z, res, fit = self._residual(F, G)
        F1, G1, W, grad = self._update(F, G, res, step_size)
        return StepOut((F1, G1), self._evaluation(z, fit, grad, DenseGrad(W)), step_size=step_size)
