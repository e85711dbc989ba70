"""Algorithms: update rules stepped by :func:`overparam.run` (multi-stage recipes are functions)."""

from .base import Algorithm, RunContext, StepOut
from .gd import GD
from .sgd import SGD


def gd(eta, grad_scale: float = 1.0) -> GD:
    """Gradient descent θ ← θ − η s ∇f(θ); see :mod:`overparam.algorithms.gd`."""
    return GD(eta=eta, grad_scale=grad_scale)


def sgd(eta, batch_size: int = 1, replacement: bool = True, grad_scale: float = 1.0) -> SGD:
    """Mini-batch SGD; see :mod:`overparam.algorithms.sgd`."""
    return SGD(eta=eta, batch_size=batch_size, replacement=replacement, grad_scale=grad_scale)


__all__ = ["GD", "SGD", "Algorithm", "RunContext", "StepOut", "gd", "sgd"]
