"""Baselines the field compares implicit regularization against.

* :mod:`.convex` — nuclear-norm minimization (trace minimization with X ⪰ 0 for PSD problems) via
  cvxpy, equality-constrained or noise-aware; the optional extra ``overparam[convex]``.
* :mod:`.spectral` — spectral initialization (Tong, Ma, Chi 2021) and the truncated SVD
  (Jiang, Chen, Ding 2023's baseline), and the ``init.spectral`` registered for specs.

The iterative baselines are update rules of :mod:`overparam.algorithms` (``scaled_gd``,
``mirror_descent``, ``projected_gd``) and the ``deep`` parameterization; ``docs/baselines.md`` lists
each with its formula, paper and usage.
"""

from __future__ import annotations

from .convex import ConvexError, NuclearNormResult, nuclear_norm
from .spectral import spectral, spectral_estimate, spectral_matrix, truncated_svd

__all__ = [
    "ConvexError",
    "NuclearNormResult",
    "nuclear_norm",
    "spectral",
    "spectral_estimate",
    "spectral_matrix",
    "truncated_svd",
]
