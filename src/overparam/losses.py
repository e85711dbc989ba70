"""Losses on the measurements z = 𝒜(X), with an explicit normalization constant c.

L(X) = c · Σ_i ℓ(z_i, y_i), and ∇_X L = 𝒜*(c · ∂ℓ/∂z). The constant is named in every problem's
docstring and recorded in ``Problem.info["normalization"]``, because the papers differ:

===========  =========================  ===================================================
name         c                          used by
===========  =========================  ===================================================
"1/(2m)"     1/(2m)                     000 Eq. (1); 004 asymmetric sensing
"1/m"        1/m                        000's projected GD f(X) (App. B); 001 Eq. (1)
"1/(4m)"     1/(4m)                     004 symmetric sensing (MS)
"1/2"        1/2                        002 ½‖FGᵀ − X‖_F²; 004 sparse recovery uses 1/(2n)
"1/8"        1/8                        003 G(U) = ⅛‖𝒜(UUᵀ) − b‖²
"1/(2p)"     1/(2p)                     004 completion ½p⁻¹‖P_Ω(X − X⋆)‖_F²
===========  =========================  ===================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .backend import BackendError

NORMALIZATIONS = ("1/(2m)", "1/m", "1/(4m)", "1/2", "1/8", "1/(2p)", "1")


def normalization_constant(name: str, *, m: int, p: float | None = None) -> float:
    """The constant c of a named normalization for m measurements (and sampling rate p)."""
    table = {"1/(2m)": 1.0 / (2 * m), "1/m": 1.0 / m, "1/(4m)": 1.0 / (4 * m), "1/2": 0.5, "1/8": 0.125, "1": 1.0}
    if name == "1/(2p)":
        if p is None:
            raise BackendError("normalization '1/(2p)' needs a sampling rate p (completion problems)")
        return 1.0 / (2 * p)
    try:
        return table[name]
    except KeyError:
        raise BackendError(f"normalization: got {name!r}; accepted: {', '.join(NORMALIZATIONS)}") from None


@dataclass(frozen=True)
class SquaredLoss:
    """ℓ(z, y) = (z − y)²; L = c Σ (z_i − y_i)², ∂L/∂z = 2c (z − y)."""

    c: float
    name: str = "squared"

    def value(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        r = z - y
        return self.c * (r * r).sum(-1)

    def dz(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (2.0 * self.c) * (z - y)

    def evaluate(self, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L, ∂L/∂z, ‖z − y‖²) with the residual formed once."""
        res = z - y
        sq = (res * res).sum(-1)
        return self.c * sq, (2.0 * self.c) * res, sq

    def rescaled(self, factor: float) -> SquaredLoss:
        return SquaredLoss(self.c * factor)


@dataclass(frozen=True)
class LogisticLoss:
    """Expected negative log-likelihood of 1-bit observations with P(Y=1) = σ(z) (004 Eq. 125).

    ℓ(z, y) = softplus(z) − y z + y log y + (1 − y) log(1 − y) = KL(Bernoulli(y) ‖ Bernoulli(σ(z))),
    where y = σ(X⋆_ij) ∈ [0, 1] is the *expected* label: the negative log-likelihood up to the
    constant entropy term, so L ≥ 0 with equality exactly at z = logit(y). ∂ℓ/∂z = σ(z) − y.
    """

    c: float
    name: str = "logistic"

    def value(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        entropy = torch.xlogy(y, y) + torch.xlogy(1 - y, 1 - y)
        return self.c * (F.softplus(z) - y * z + entropy).sum(-1)

    def dz(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.c * (torch.sigmoid(z) - y)

    def evaluate(self, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        return self.value(z, y), self.dz(z, y), None

    def rescaled(self, factor: float) -> LogisticLoss:
        return LogisticLoss(self.c * factor)


Loss = SquaredLoss | LogisticLoss
