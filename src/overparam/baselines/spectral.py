"""The spectral estimate and truncated SVD as baselines: :mod:`overparam.spectral` (model layer,
below the initializations that use it), re-exported here under its earlier name."""

from __future__ import annotations

from ..spectral import (
    back_projection_scale,
    spectral,
    spectral_estimate,
    spectral_init_fn,
    spectral_matrix,
    truncated_svd,
)

__all__ = ["back_projection_scale", "spectral", "spectral_estimate", "spectral_init_fn", "spectral_matrix",
           "truncated_svd"]
