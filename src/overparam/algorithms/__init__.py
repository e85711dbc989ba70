"""Algorithms: update rules stepped by :func:`overparam.run` (multi-stage recipes are functions)."""

from .base import Algorithm, RunContext, StepOut
from .gd import GD
from .projected import ProjectedGD, psd_projection
from .quadratic_net import TruncatedRescaledGD
from .sgd import SGD
from .subspace import SubspaceTrackedGD


def gd(eta, grad_scale: float = 1.0) -> GD:
    """Gradient descent θ ← θ − η s ∇f(θ); see :mod:`overparam.algorithms.gd`."""
    return GD(eta=eta, grad_scale=grad_scale)


def sgd(eta, batch_size: int = 1, replacement: bool = True, grad_scale: float = 1.0) -> SGD:
    """Mini-batch SGD; see :mod:`overparam.algorithms.sgd`."""
    return SGD(eta=eta, batch_size=batch_size, replacement=replacement, grad_scale=grad_scale)


def projected_gd(eta, grad_scale: float = 1.0, projection: str = "psd") -> ProjectedGD:
    """X ← Π_PSD(X − η s ∇f(X)) on θ = X (000 Fig. 4); see :mod:`overparam.algorithms.projected`."""
    return ProjectedGD(eta=eta, grad_scale=grad_scale, projection=projection)


def truncated_rescaled_gd(eta, grad_scale: float = 1.0, tau="mean_label", R=None, R_factor: float = 2.0):
    """000 Algorithm 1 (quadratic network); see :mod:`overparam.algorithms.quadratic_net`."""
    return TruncatedRescaledGD(eta=eta, grad_scale=grad_scale, tau=tau, R=R, R_factor=R_factor)


def gd_subspace(eta, grad_scale: float = 1.0) -> SubspaceTrackedGD:
    """GD plus 000's adaptive subspace S_t diagnostics; see :mod:`overparam.algorithms.subspace`."""
    return SubspaceTrackedGD(eta=eta, grad_scale=grad_scale)


__all__ = ["GD", "SGD", "Algorithm", "ProjectedGD", "RunContext", "StepOut", "SubspaceTrackedGD",
           "TruncatedRescaledGD", "gd", "gd_subspace", "projected_gd", "psd_projection", "sgd",
           "truncated_rescaled_gd"]
