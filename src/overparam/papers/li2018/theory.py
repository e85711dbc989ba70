"""The formulas of 000 (Li, Ma, Zhang, COLT 2018) as functions, each citing its equation.

Bounds with unspecified absolute constants ("≲") are returned with the constant set to 1 and say
so; they are orders of magnitude to compare measurements against, not predictions of a value.

Step-size conventions: ``grad_scale`` s is relative to the exact gradient of 000's 1/(2m) loss
(Eq. 1), as in :mod:`overparam.algorithms.gd`: s = ½ is the paper's Eq. 5, s = 1 the exact gradient.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def thm11_error_bound(alpha: float, d: int, kappa: float = 1.0) -> float:
    """Thm 1.1: ‖U_TU_Tᵀ − X⋆‖_F² ≲ α√d / κ² (squared, absolute; absolute constant set to 1).

    Valid for ‖X⋆‖ = 1, (4r, δ)-RIP with δ ≤ c/(κ³√r log² d), α ≤ c·min{δ√r κ, 1/d}, η ≤ cδ and
    κ log(d/α)/η ≲ T ≲ 1/(η√d κ α)."""
    _positive(alpha=alpha, d=d, kappa=kappa)
    return alpha * math.sqrt(d) / kappa**2


def thm11_horizon(alpha: float, d: int, eta: float, kappa: float = 1.0) -> tuple[float, float]:
    """Thm 1.1's window of iterations (constants set to 1): (κ log(d/α)/η, 1/(η√d κ α)).

    The lower end is the time to fit the signal; the upper end is how long the error is
    guaranteed to stay at the α√d/κ² level (after it the theorem says nothing)."""
    _positive(alpha=alpha, d=d, eta=eta, kappa=kappa)
    return kappa * math.log(d / alpha) / eta, 1.0 / (eta * math.sqrt(d) * kappa * alpha)


def thm12_error_bound(alpha: float, d: int, kappa: float = 1.0) -> float:
    """Thm 1.2 (quadratic network, Algorithm 1): generalization error O(d κ α) (constant set to 1)."""
    _positive(alpha=alpha, d=d, kappa=kappa)
    return d * kappa * alpha


def growth_factor(eta: float, lam: float = 1.0, grad_scale: float = 1.0) -> float:
    """Per-step growth 1 + 2 s η λ of a signal direction of X⋆ with eigenvalue λ while UUᵀ ≪ X⋆.

    Population dynamics of GD on ½‖UUᵀ − X⋆‖_F² (the expectation of Eq. 1, Eq. 8 with its 1/2):
    U ← U − 2 s η (UUᵀ − X⋆) U, so along an eigenvector u of X⋆ with U = σ^{1/2}-scaled, the
    coefficient grows by 1 + 2sη(λ − σ) ≈ 1 + 2sηλ (Thm 4.2 (22) states the weaker 1 + η/(8κ))."""
    _positive(eta=eta, lam=lam, grad_scale=grad_scale)
    return 1.0 + 2.0 * grad_scale * eta * lam


def escape_slope(eta: float, lam: float = 1.0, grad_scale: float = 1.0) -> float:
    """d T_escape / d log(1/α) = 1 / log(1 + 2sηλ) ≈ 1/(2sηλ) (Thm 4.2: T ≈ κ log(d/α)/η).

    In the exact-gradient convention (s = 1) with λ = 1 this is ≈ 1/(2η); in the paper's Eq. 5
    convention (s = ½) it is ≈ 1/η."""
    return 1.0 / math.log(growth_factor(eta, lam, grad_scale))


def escape_steps(alpha: float, eta: float, lam: float = 1.0, grad_scale: float = 1.0, level: float = 0.5) -> float:
    """Steps for a direction with eigenvalue λ to go from u² = α² to u² = level·λ (population, U₀ = αI).

    The population recursion σ ← σ(1 + 2sη(λ − σ))² is, in continuous time t = η·steps, the
    logistic equation dσ/dt = 4s(λ − σ)σ, whose solution gives
    T = [log(λ/α² − 1) − log(1/level − 1)] / (4 s η λ) ≈ log(1/α)/(2sηλ) for small α."""
    _positive(alpha=alpha, eta=eta, lam=lam, grad_scale=grad_scale)
    if not 0 < level < 1:
        raise ValueError(f"level: got {level}; accepted: 0 < level < 1")
    return (math.log(lam / alpha**2 - 1.0) - math.log(1.0 / level - 1.0)) / (4.0 * grad_scale * eta * lam)


def lemma_a1_expectation(X: torch.Tensor) -> torch.Tensor:
    """Lemma A.1: E_x[⟨xxᵀ, X⟩ xxᵀ] = 2X + tr(X)·I for symmetric X and x ~ N(0, I_d)."""
    d = X.shape[-1]
    eye = torch.eye(d, dtype=X.dtype, device=X.device)
    tr = torch.diagonal(X, dim1=-2, dim2=-1).sum(-1)
    return 2.0 * X + tr[..., None, None] * eye


def quadratic_net_population_error(Delta: torch.Tensor) -> torch.Tensor:
    """E_x(ŷ − y)² = E⟨xxᵀ, Δ⟩² = 2‖Δ‖_F² + (tr Δ)², Δ = UUᵀ − U⋆U⋆ᵀ, x ~ N(0, I)
    (notes-000 §2.2 [R]; Isserlis' theorem on the Gaussian fourth moment)."""
    tr = torch.diagonal(Delta, dim1=-2, dim2=-1).sum(-1)
    return 2.0 * (Delta * Delta).sum((-2, -1)) + tr * tr


def null_space_fraction(d: int, m: int) -> float:
    """(D − m)/D with D = d(d+1)/2: the expected fraction of a fixed symmetric matrix's squared
    norm that lies in the null space of m i.i.d. Gaussian symmetric measurements (0 when m ≥ D).

    In svec coordinates the rows are i.i.d. N(0, I_D), so the null space is a uniformly random
    (D − m)-dimensional subspace and E‖P_null v‖² = ‖v‖² (D − m)/D exactly."""
    _positive(d=d, m=m)
    D = d * (d + 1) // 2
    return max(D - m, 0) / D


def large_init_test_error(d: int, m: int, X_star: torch.Tensor | np.ndarray) -> float:
    """Linear-model prediction of the relative test error of GD from U₀ = I (α = 1):
    √((D − m)/D · ‖I − X⋆‖_F²) / ‖X⋆‖_F.

    GD in X-space from X₀ = I converges to X⋆ + P_null(I − X⋆) (the projection of I onto
    {X : 𝒜(X) = y}); its expected squared error is (D − m)/D · ‖I − X⋆‖_F² by
    :func:`null_space_fraction`. The factorized dynamics from U₀ = I is not linear, so this is a
    heuristic for its order of magnitude (it explains why the α = 1 test error is O(1), not 10⁻¹,
    at m = 5dr; notes-000 §5.6)."""
    Xs = torch.as_tensor(X_star, dtype=torch.float64)
    eye = torch.eye(d, dtype=torch.float64)
    num = null_space_fraction(d, m) * float(((eye - Xs) ** 2).sum())
    return math.sqrt(num) / float(Xs.norm())


def rip_delta_needed(d: int, r: int, kappa: float = 1.0) -> float:
    """Thm 1.1 / 4.2's requirement on the measurements, δ ≤ c/(κ³√r log² d), with c = 1 (the theorem's
    c is "sufficiently small", so this is the most lenient reading). Thm 1.2 (quadratic network) runs
    the same analysis on the truncated, rescaled operator, so Lemma A.1's δ must meet it too."""
    _positive(d=d, r=r, kappa=kappa)
    return 1.0 / (kappa**3 * math.sqrt(r) * math.log(d) ** 2)


def thm12_samples(d: int, r: int, kappa: float = 1.0) -> float:
    """Thm 1.2's sample size Õ(d r⁵ κ⁶) with the constant 1 and the log factors dropped."""
    _positive(d=d, r=r, kappa=kappa)
    return d * r**5 * kappa**6


def lemma_a1_samples(d: int, delta: float, q: float = 0.01) -> float:
    """Lemma A.1's sufficient sample size m ≳ d log⁴(d/(qδ)) / δ² (constant 1; notes-000 §4.7 [R])."""
    _positive(d=d, delta=delta, q=q)
    return d * math.log(d / (q * delta)) ** 4 / delta**2


def lemma_a1_delta(m: float, d: int, q: float = 0.01) -> float:
    """The δ that Lemma A.1 guarantees at m samples: the solution of m = d log⁴(d/(qδ))/δ² (constant 1)."""
    _positive(m=m, d=d, q=q)
    lo, hi = 1e-12, 1e12
    for _ in range(200):  # the sample size falls monotonically in δ: bisect in log δ
        mid = math.sqrt(lo * hi)
        if lemma_a1_samples(d, mid, q) > m:
            lo = mid
        else:
            hi = mid
    return hi


def _positive(**values: float) -> None:
    for name, v in values.items():
        if not v > 0:
            raise ValueError(f"{name}: got {v}; accepted: {name} > 0")


__all__ = [
    "lemma_a1_delta",
    "lemma_a1_samples",
    "rip_delta_needed",
    "thm12_samples",
    "escape_slope",
    "escape_steps",
    "growth_factor",
    "large_init_test_error",
    "lemma_a1_expectation",
    "null_space_fraction",
    "quadratic_net_population_error",
    "thm11_error_bound",
    "thm11_horizon",
    "thm12_error_bound",
]
