"""Problem: measurement operator + observations + loss, and the ground truth for metrics only.

Algorithms receive a problem through :class:`~overparam.objective.Objective` and never read
``X_star``: it exists so that metrics can report test errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from ..losses import Loss
from ..operators import LinearOperator


@dataclass(frozen=True)
class Problem:
    """L(X) = c Σ_i ℓ(⟨A_i, X⟩, y_i) for the operator 𝒜 = ``operator`` (see :mod:`overparam.losses`).

    Attributes:
        operator: the measurement operator 𝒜.
        y: observations ``(m,)``.
        loss: :class:`~overparam.losses.SquaredLoss` or :class:`~overparam.losses.LogisticLoss`,
            carrying the normalization constant c.
        X_star: ground truth (metrics only), or ``None`` when only its factors are kept.
        truth_factors: ``(L, R)`` with X⋆ = L Rᵀ, used to evaluate errors without forming X⋆.
        references: other named matrices metrics may use (e.g. ``"X_obs"`` for factorization).
        info: everything that describes the instance (sizes, rank r, seeds, normalization, κ …).
    """

    operator: LinearOperator
    y: torch.Tensor
    loss: Loss
    X_star: torch.Tensor | None = None
    truth_factors: tuple[torch.Tensor, torch.Tensor] | None = None
    references: dict[str, torch.Tensor] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    # -- derived sizes -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.operator.in_shape

    @property
    def m(self) -> int:
        return self.operator.m

    @property
    def r(self) -> int | None:
        """The true rank (or sparsity) of the planted solution, when there is one."""
        return self.info.get("r")

    @property
    def device(self) -> torch.device:
        return self.y.device

    @property
    def dtype(self) -> torch.dtype:
        return self.y.dtype

    # -- the loss ------------------------------------------------------------------------------
    def value(self, X: torch.Tensor) -> torch.Tensor:
        """L(X), one value per replica."""
        return self.loss.value(self.operator.forward(X), self.y)

    def grad(self, X: torch.Tensor) -> torch.Tensor:
        """∇_X L(X) = 𝒜*(c ∂ℓ/∂z), dense (for tests and X-space algorithms)."""
        return self.operator.adjoint(self.loss.dz(self.operator.forward(X), self.y))

    def truth(self) -> torch.Tensor | None:
        """X⋆ as a dense tensor (formed from its factors when only those are kept)."""
        if self.X_star is not None:
            return self.X_star
        if self.truth_factors is not None:
            L, R = self.truth_factors
            return L @ R.mT
        return None

    # -- placement -----------------------------------------------------------------------------
    def to(self, device: torch.device | None = None, dtype: torch.dtype | None = None) -> Problem:
        dev = device or self.device
        dt = dtype or self.dtype
        if dev == self.device and dt == self.dtype:
            return self

        def mv(t):
            return None if t is None else t.to(device=dev, dtype=dt if t.is_floating_point() else t.dtype)

        return replace(
            self,
            operator=self.operator.to(dev, dt),
            y=mv(self.y),
            X_star=mv(self.X_star),
            truth_factors=None if self.truth_factors is None else tuple(mv(t) for t in self.truth_factors),
            references={k: mv(v) for k, v in self.references.items()},
        )

    def with_normalization(self, c: float, name: str) -> Problem:
        """The same problem (and loss) with loss constant c."""
        return replace(self, loss=replace(self.loss, c=c), info={**self.info, "normalization": name, "c": c})

    def describe(self) -> str:
        keys = ("name", "shape", "r", "m", "normalization")
        return ", ".join(f"{k}={self.info[k]}" for k in keys if k in self.info)
