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


class Loss:
    """The loss protocol: L(z) = c Σ_i ℓ(z_i, y_i) on the measurements z = 𝒜(X).

    Every loss gives, from z and y, in one call (:meth:`evaluate`):

    * the value L ``(R,)``;
    * the derivative ∂L/∂z ``(R, m)`` (the objective pulls it back through 𝒜* and the parameterization);
    * the **fit** ‖ψ(z) − y‖² ``(R,)``, the squared distance between the model's prediction ψ(z) of y
      and y itself: ψ = identity for the squared loss, ψ = σ for the logistic loss. ``train_error``
      (relative, √(fit/‖y‖²)), ``train_error_sq`` and ``target_train_error`` use it for every loss.

    ``fused_scale`` is 2c when the operator's one-pass squared-loss kernel (z, 𝒜*(s(z − y)),
    ‖z − y‖² with s = 2c) computes exactly this loss's gradient, else ``None``: the objective asks the
    loss, never its type.
    """

    name: str = "loss"
    c: float

    @property
    def fused_scale(self) -> float | None:
        return None

    def evaluate(self, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L, ∂L/∂z, ‖ψ(z) − y‖²)."""
        raise NotImplementedError  # pragma: no cover - interface

    def value(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.evaluate(z, y)[0]

    def dz(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.evaluate(z, y)[1]

    def fit_sq(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """‖ψ(z) − y‖² (the train-error numerator)."""
        return self.evaluate(z, y)[2]

    def rescaled(self, factor: float) -> Loss:
        """The same loss with constant c·factor (mini-batches: c·m/b)."""
        raise NotImplementedError  # pragma: no cover - interface


@dataclass(frozen=True)
class SquaredLoss(Loss):
    """ℓ(z, y) = (z − y)²; L = c Σ (z_i − y_i)², ∂L/∂z = 2c (z − y); fit = ‖z − y‖²."""

    c: float
    name: str = "squared"

    @property
    def fused_scale(self) -> float:
        return 2.0 * self.c

    def evaluate(self, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L, ∂L/∂z, ‖z − y‖²) with the residual formed once."""
        res = z - y
        sq = (res * res).sum(-1)
        return self.c * sq, (2.0 * self.c) * res, sq

    def fit_sq(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        res = z - y
        return (res * res).sum(-1)

    def rescaled(self, factor: float) -> SquaredLoss:
        return SquaredLoss(self.c * factor)


@dataclass(frozen=True)
class LogisticLoss(Loss):
    """Expected negative log-likelihood of 1-bit observations with P(Y=1) = σ(z) (004 Eq. 125).

    ℓ(z, y) = softplus(z) − y z + y log y + (1 − y) log(1 − y) = KL(Bernoulli(y) ‖ Bernoulli(σ(z))),
    where y = σ(X⋆_ij) ∈ [0, 1] is the *expected* label: the negative log-likelihood up to the
    constant entropy term, so L ≥ 0 with equality exactly at z = logit(y). ∂L/∂z = c (σ(z) − y);
    fit = ‖σ(z) − y‖² (predicted against expected probabilities).
    """

    c: float
    name: str = "logistic"

    def evaluate(self, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        entropy = torch.xlogy(y, y) + torch.xlogy(1 - y, 1 - y)
        value = self.c * (F.softplus(z) - y * z + entropy).sum(-1)
        p = torch.sigmoid(z)
        dz = self.c * (p - y)
        res = p - y
        return value, dz, (res * res).sum(-1)

    def fit_sq(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        res = torch.sigmoid(z) - y
        return (res * res).sum(-1)

    def rescaled(self, factor: float) -> LogisticLoss:
        return LogisticLoss(self.c * factor)


LOSSES = {"squared": SquaredLoss, "logistic": LogisticLoss}


def make_loss(name: str, c: float) -> Loss:
    """The loss ``name`` (``"squared"`` or ``"logistic"``) with constant c."""
    try:
        return LOSSES[name](c)
    except KeyError:
        raise BackendError(f"loss: got {name!r}; accepted: {', '.join(LOSSES)}") from None
