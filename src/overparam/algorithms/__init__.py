"""Algorithms: update rules stepped by :func:`overparam.run`, composed from small pieces
(:mod:`overparam.algorithms.pieces`); multi-stage recipes are in :mod:`overparam.recipes`."""

from .base import Algorithm, Composed, Piece, RunContext, Step, StepOut, StopRequest
from .gd import gd, ipgd, mirror_descent, proximal_gd, scaled_gd, sgd
from .pieces import (
    Descend,
    Gradient,
    MirrorDescend,
    Perturb,
    ProjectPSD,
    ProxGroupLasso,
    SampleRows,
    ScaledPrecondition,
    Stream,
    psd_projection,
)
from .projected import projected_gd
from .quadratic_net import TraceRescale, TruncatedGradient, truncated_rescaled_gd
from .subspace import gd_subspace

__all__ = ["Algorithm", "Composed", "Descend", "Gradient", "MirrorDescend", "Perturb", "Piece", "ProjectPSD", "ProxGroupLasso",
           "RunContext", "SampleRows", "ScaledPrecondition", "Step", "StepOut", "StopRequest", "Stream",
           "TraceRescale", "TruncatedGradient", "gd", "gd_subspace", "ipgd", "mirror_descent", "projected_gd",
           "proximal_gd", "psd_projection", "scaled_gd", "sgd", "truncated_rescaled_gd"]
