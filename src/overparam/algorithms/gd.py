"""Gradient methods composed of pieces: GD, SGD, proximal GD, ScaledGD(λ), IPGD, mirror descent.

θ_{t+1} = θ_t − η · s · ∇f(θ_t), where ∇f is the exact gradient of the problem's loss (whose
normalization c the problem states) and s = ``grad_scale`` converts to a paper's convention:

* 000 Eq. (5), U_{t+1} = (I − η M_t) U_t with M_t = (1/m) Σ_i ⟨A_i, U_tU_tᵀ − X⋆⟩ A_i, is
  s = ½ on the loss 1/(2m) Σ(⟨A_i, UUᵀ⟩ − y_i)² (exact gradient 2 M_t U_t); η_paper = 2 η_exact.
* 001's analysis uses (UUᵀ − X⋆)U for ∇‖UUᵀ − X⋆‖_F² = 4(UUᵀ − X⋆)U: s = ¼.
* 003's update U − η ∇‖𝒜(UUᵀ) − b‖² on G(U) = ⅛‖𝒜(UUᵀ) − b‖²: s = 8.

``eta`` (and ``grad_scale``) may be per-replica sequences or per-block tables
(``eta = {"F": 0.1, "G": 0.05}``); the update is simultaneous in all blocks (002's Jacobi update,
not alternating).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .._types import NonNegFloat, PosFloat, PosInt
from ..registry import register
from .base import Composed
from .pieces import Descend, Gradient, MirrorDescend, Perturb, ProxGroupLasso, SampleRows, ScaledPrecondition

Eta = PosFloat | Sequence[PosFloat] | Mapping[str, Any]


@register("algorithm", "gd")
def gd(eta: Eta, grad_scale: PosFloat | Mapping[str, Any] = 1.0) -> Composed:
    """Gradient descent θ ← θ − η s ∇f(θ) (module docstring for ``grad_scale``)."""
    return Composed("gd", [Gradient(), Descend(eta, grad_scale)],
                    describe=f"gd(eta={eta}, grad_scale={grad_scale})")


@register("algorithm", "sgd")
def sgd(eta: Eta, batch_size: PosInt = 1, replacement: bool = True,
        grad_scale: PosFloat | Mapping[str, Any] = 1.0) -> Composed:
    """Mini-batch SGD θ ← θ − η s ∇f_B(θ): the data loss on a batch B of b measurement indices,
    rescaled by m/b so that E ∇f_B = ∇f (the batch loss for normalization 1/(2m) is
    1/(2b) Σ_{i∈B}(⟨A_i, X⟩ − y_i)²). ``replacement=True`` draws each batch i.i.d. uniform
    (000 Fig. 5: batch 1 with replacement); ``False`` shuffles epochs. SGD does not evaluate the
    full objective: the run loop computes it at logged steps only."""
    return Composed("sgd", [SampleRows(batch_size, replacement), Gradient(), Descend(eta, grad_scale)],
                    describe=f"sgd(eta={eta}, batch_size={batch_size}, replacement={replacement})")


@register("algorithm", "proximal_gd")
def proximal_gd(eta: Eta, lam: NonNegFloat | Sequence[NonNegFloat], grad_scale: PosFloat = 1.0) -> Composed:
    """Proximal GD on f(θ) + λ Σ_i ‖U e_i‖₂ (non-smooth group Lasso over columns of every factor):
    U ← prox_{ηsλ‖·‖_{2,1}}(U − η s ∇f(U))."""
    return Composed("proximal_gd", [Gradient(), Descend(eta, grad_scale), ProxGroupLasso(lam)])


@register("algorithm", "scaled_gd")
def scaled_gd(eta: Eta, lam: NonNegFloat | Sequence[NonNegFloat] = 0.0, grad_scale: PosFloat = 1.0) -> Composed:
    """ScaledGD(λ): U ← U − η s ∇_U f (UᵀU + λI)⁻¹ (Xu, Shen, Ma, Tong, Chi 2023, over-parameterized,
    small random init, λ ∝ σ_min(X⋆)); λ = 0 is ScaledGD (Tong, Ma, Chi 2021, Eq. 6, known rank from the
    spectral init ``init.spectral``). For FGᵀ each factor is preconditioned by the other's Gram:
    F ← F − η s ∇_F f (GᵀG + λI)⁻¹, G ← G − η s ∇_G f (FᵀF + λI)⁻¹.

    Conventions: both papers write the symmetric loss as f(X) = ¼‖𝒜(XXᵀ) − y‖² with 𝒜's entries
    N(0, 1/m), whose gradient is (1/m)Σ r_i A_i X; on the library's 1/(2m) loss the exact gradient is
    twice that, so the papers' η is ``eta`` with ``grad_scale = 0.5``. Asymmetric (½‖𝒜(FGᵀ) − y‖²),
    completion (1/(2p)) and factorization (½) match with ``grad_scale = 1``. ``docs/baselines.md``."""
    return Composed("scaled_gd", [Gradient(), ScaledPrecondition(lam), Descend(eta, grad_scale)])


@register("algorithm", "ipgd")
def ipgd(eta: Eta, radius: PosFloat | Sequence[PosFloat], g_thres: NonNegFloat | Sequence[NonNegFloat],
         escape_time: PosInt | Sequence[PosInt], f_thres: NonNegFloat | Sequence[NonNegFloat],
         grad_scale: PosFloat = 1.0, terminate: bool = True) -> Composed:
    """Perturbed GD (004 Algorithm 1, IPGD, with a radius near round-off; Jin et al. 2017's PGD with
    its large radius): a perturbation uniform in the ball of radius ``radius`` when ‖∇f‖ ≤ ``g_thres``
    and ``escape_time`` steps have passed since the last; the replica terminates, returning the
    pre-perturbation point, when the escape time passes without f falling by ``f_thres``. See
    :class:`~overparam.algorithms.pieces.Perturb`."""
    return Composed("ipgd", [Gradient(), Perturb(radius, g_thres, escape_time, f_thres, terminate),
                             Descend(eta, grad_scale)])


@register("algorithm", "mirror_descent")
def mirror_descent(eta: PosFloat | Sequence[PosFloat], mirror: Literal["entropy", "hypentropy"] = "entropy",
                   beta: PosFloat = 1e-3, grad_scale: PosFloat = 1.0) -> Composed:
    """Mirror descent on θ = X (param ``direct``), Wu & Rebeschini 2021: ∇Φ(X_{t+1}) = ∇Φ(X_t) − η s ∇f(X_t)
    with the spectral entropy Φ(X) = tr(X log X − X) (PSD X, from X₀ = αI: X_{t+1} = exp(log X_t − η s ∇f))
    or the spectral hypentropy Φ_β(X) = tr(X arcsinh(X/β) − √(X² + β²I)) (symmetric indefinite X, from
    X₀ = 0: X_{t+1} = β sinh(arcsinh(X_t/β) − η s ∇f)); ∇f is the exact gradient of the problem's loss,
    symmetrized. Their early stopping is the ``early_stopping`` recipe. See
    :class:`~overparam.algorithms.pieces.MirrorDescend`."""
    return Composed("mirror_descent", [Gradient(), MirrorDescend(eta, mirror, beta, grad_scale)])
