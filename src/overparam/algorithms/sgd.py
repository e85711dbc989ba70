"""Stochastic gradient descent: :func:`overparam.algorithms.gd.sgd` (mini-batches from
:class:`~overparam.algorithms.pieces.SampleRows`)."""

from .gd import sgd

__all__ = ["sgd"]
