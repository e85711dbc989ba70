"""The identity measurement operator: matrix factorization observes every entry, z = vec(X).

With y = vec(X_obs), the squared loss with normalization ½ is 002's f(F, G) = ½‖FGᵀ − X‖_F².
Mini-batches (``select``) become entry samples, so SGD on factorization reuses completion.
"""

from __future__ import annotations

import torch

from .base import DenseGrad, LinearOperator
from .entries import EntrySampling


class IdentityOperator(LinearOperator):
    """z = vec(X) for ``shape`` matrices (m = d1·d2)."""

    def __init__(self, shape: tuple[int, int], *, symmetric: bool = False,
                 dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"):
        self.in_shape = tuple(shape)
        self.m = shape[0] * shape[1]
        self.symmetric_domain = symmetric
        self._dtype = dtype
        self._device = torch.device(device)

    @property
    def device(self):
        return self._device

    @property
    def dtype(self):
        return self._dtype

    def to(self, device=None, dtype=None) -> IdentityOperator:
        return IdentityOperator(self.in_shape, symmetric=self.symmetric_domain, dtype=dtype or self._dtype,
                                device=device or self._device)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.symmetric_domain:
            X = 0.5 * (X + X.mT)
        return X.reshape(*X.shape[:-2], self.m)

    def matrix_of(self, z: torch.Tensor) -> torch.Tensor | None:
        """X = mat(z), a view (the symmetric domain measures ½(X + Xᵀ): ``None`` there)."""
        return None if self.symmetric_domain else z.reshape(*z.shape[:-1], *self.in_shape)

    def adjoint(self, w: torch.Tensor) -> torch.Tensor:
        G = w.reshape(*w.shape[:-1], *self.in_shape)
        return 0.5 * (G + G.mT) if self.symmetric_domain else G

    def gradient(self, w: torch.Tensor) -> DenseGrad:
        return DenseGrad(self.adjoint(w), symmetric=self.symmetric_domain)

    def select(self, idx: torch.Tensor) -> EntrySampling:
        idx = idx.long()
        d2 = self.in_shape[1]
        return EntrySampling(idx // d2, idx % d2, self.in_shape, dtype=self._dtype)
