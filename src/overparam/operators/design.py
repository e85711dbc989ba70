"""Gaussian design for vectors (sparse regression): z = X β with X ∈ ℝ^{n×d}.

Used with the Hadamard parameterizations β = u⊙u − v⊙v or u⊙v (004 Eq. 126). The design matrix
is called ``design`` here to keep ``X`` free for the papers' matrix iterates.
"""

from __future__ import annotations

import torch

from ..backend import generator
from .base import DenseGrad, LinearOperator


class GaussianDesign(LinearOperator):
    """z = design β for ``design (n, d)`` (or per-replica rows ``(R, b, d)``)."""

    def __init__(self, design: torch.Tensor, info: dict | None = None):
        self.design = design
        self.m = design.shape[-2]
        self.in_shape = (design.shape[-1],)
        self.info = dict(info or {})

    @classmethod
    def sample(cls, n: int, d: int, *, seed: int, scale: float = 1.0, dtype=torch.float64, device="cpu") -> GaussianDesign:
        """i.i.d. N(0, scale²) entries from ``derive_seed(seed, "design")`` (drawn on CPU)."""
        g = generator(seed, "design")
        X = scale * torch.randn(n, d, generator=g, dtype=torch.float64)
        return cls(X.to(dtype=dtype, device=device), info={"seed": seed, "scale": scale})

    @property
    def device(self):
        return self.design.device

    @property
    def dtype(self):
        return self.design.dtype

    @property
    def nbytes(self) -> int:
        return self.design.numel() * self.design.element_size()

    def to(self, device=None, dtype=None) -> GaussianDesign:
        X = self.design.to(device=device or self.device, dtype=dtype or self.dtype)
        return self if X is self.design else GaussianDesign(X, self.info)

    def forward(self, beta: torch.Tensor) -> torch.Tensor:
        return (self.design @ beta.unsqueeze(-1)).squeeze(-1)

    def adjoint(self, w: torch.Tensor) -> torch.Tensor:
        return (w.unsqueeze(-2) @ self.design).squeeze(-2)

    def gradient(self, w: torch.Tensor) -> DenseGrad:
        return DenseGrad(self.adjoint(w))

    def select(self, idx: torch.Tensor) -> GaussianDesign:
        return GaussianDesign(self.design[idx.long()], self.info)
