"""004's problem instances (§7), registered by name, with the three singular values as scalars.

These wrap the engine factories (:mod:`overparam.problems.factories`) and add nothing but the
paper's truth: X⋆ = VΣVᵀ (symmetric) or LΣRᵀ (asymmetric) with V, L, R Haar-orthonormal
(``truth="orthonormal"``) and Σ = diag(σ₁, σ₂, σ₃) (r = 3: "a diagonal matrix with entries σ₁, σ₂
and σ₃"; the values are stripped, notes §2.5), and the sparse β⋆. They exist as separate factories
because the engine's setting check refuses list-valued settings (``spectrum = [1, 0.75, 0.5]`` and
``beta = [...]`` are read as per-replica lists and each entry is checked against ``Sequence``:
``problem.spectrum[0] = 1.0: Input should be an instance of Sequence``), so the list is built here
from scalar settings and the engine factory's validated body (``__wrapped__``) is called.

Losses and normalizations (all noiseless):

* ``ma2025_sensing`` — symmetric: L(X) = (1/(4m)) Σ_i (⟨A_i, X⟩ − y_i)² (Eq. MS [R]), A_i = (Q_i + Q_iᵀ)/2;
  asymmetric: (1/(2m)) Σ_i (⟨A_i, X⟩ − y_i)² with A_i i.i.d. N(0, 1). Both make ∇f ≈ (X − X⋆)·factor
  with unit scale, so one η serves both.
* ``ma2025_completion`` — (1/(2p)) ‖P_Ω(X − X⋆)‖_F² (Eq. 124), Ω Bernoulli(p) (symmetric mask for
  the symmetric problem).
* ``ma2025_one_bit`` — the expected logistic negative log-likelihood over all entries (Eq. 125, c = 1).
* ``ma2025_sparse`` — (1/(2n)) ‖y − Xβ‖² (Eq. 126), X ∈ ℝ^{n×d} i.i.d. N(0, 1), β⋆ zero but its first
  k entries β⋆_i = (−1)^{i} β_max (k − i)/k, i = 0 … k − 1 (k = 5: 1, −0.8, 0.6, −0.4, 0.2 — our
  choice: the paper's five values are stripped; alternating signs exercise both branches of the
  parameterization, and the smallest, 0.2, makes a late, slow escape as in the paper's narrative).
"""

from __future__ import annotations

from ..._types import PosFloat, PosInt, Probability, Seed
from ...problems.factories import asymmetric_sensing, matrix_completion, matrix_sensing, one_bit_completion
from ...problems.factories import sparse_regression as _sparse
from ...registry import register

#: Σ = diag(σ₁, σ₂, σ₃) [?: stripped]; notes §5.1's calibration: κ = 2.
SIGMA = (1.0, 0.75, 0.5)


def _spectrum(sigma1, sigma2, sigma3) -> list[float]:
    return [float(sigma1), float(sigma2), float(sigma3)]


@register("problem", "ma2025.sensing", legacy="ma2025_sensing")
def ma2025_sensing(d: PosInt, m: PosInt, *, symmetric: bool = True, sigma1: PosFloat = SIGMA[0],
                   sigma2: PosFloat = SIGMA[1], sigma3: PosFloat = SIGMA[2], data_seed: Seed = 0,
                   truth_seed: Seed | None = None, device: str | None = None, dtype: str | None = None):
    """Matrix sensing of 004 §6–7 (module docstring): symmetric (1/(4m)) or asymmetric (1/(2m)), d × d, r = 3."""
    spec = _spectrum(sigma1, sigma2, sigma3)
    if symmetric:
        return matrix_sensing.__wrapped__(d=d, r=3, m=m, truth="orthonormal", spectrum=spec, normalization="1/(4m)",
                                          data_seed=data_seed, truth_seed=truth_seed, device=device, dtype=dtype)
    return asymmetric_sensing.__wrapped__(d1=d, d2=d, r=3, m=m, truth="orthonormal", spectrum=spec,
                                          normalization="1/(2m)", data_seed=data_seed, truth_seed=truth_seed,
                                          device=device, dtype=dtype)


@register("problem", "ma2025.completion", legacy="ma2025_completion")
def ma2025_completion(d: PosInt, p: Probability, *, symmetric: bool = True, sigma1: PosFloat = SIGMA[0],
                      sigma2: PosFloat = SIGMA[1], sigma3: PosFloat = SIGMA[2], data_seed: Seed = 0,
                      truth_seed: Seed | None = None, device: str | None = None, dtype: str | None = None):
    """Matrix completion of 004 Eq. 124 (module docstring), Bernoulli(p) mask, d × d, r = 3."""
    return matrix_completion.__wrapped__(d1=d, d2=d, r=3, p=p, symmetric=symmetric, truth="orthonormal",
                                         spectrum=_spectrum(sigma1, sigma2, sigma3), normalization="1/(2p)",
                                         data_seed=data_seed, truth_seed=truth_seed, device=device, dtype=dtype)


@register("problem", "ma2025.one_bit", legacy="ma2025_one_bit")
def ma2025_one_bit(d: PosInt, *, symmetric: bool = True, sigma1: PosFloat = SIGMA[0], sigma2: PosFloat = SIGMA[1],
                   sigma3: PosFloat = SIGMA[2], data_seed: Seed = 0, truth_seed: Seed | None = None,
                   device: str | None = None, dtype: str | None = None):
    """1-bit completion of 004 Eq. 125: expected logistic NLL over all d × d entries, r = 3."""
    return one_bit_completion.__wrapped__(d1=d, d2=d, r=3, p=1.0, symmetric=symmetric, truth="orthonormal",
                                          spectrum=_spectrum(sigma1, sigma2, sigma3), normalization="1",
                                          data_seed=data_seed, truth_seed=truth_seed, device=device, dtype=dtype)


def sparse_beta(k: int, beta_max: float = 1.0) -> list[float]:
    """β⋆_i = (−1)^i β_max (k − i)/k, i = 0 … k − 1 (module docstring)."""
    return [(-1) ** i * beta_max * (k - i) / k for i in range(k)]


@register("problem", "ma2025.sparse", legacy="ma2025_sparse")
def ma2025_sparse(n: PosInt, d: PosInt, k: PosInt = 5, *, beta_max: PosFloat = 1.0, data_seed: Seed = 0,
                  device: str | None = None, dtype: str | None = None):
    """Sparse recovery of 004 Eq. 126 (module docstring): y = Xβ⋆, loss (1/(2n))‖y − Xβ‖²."""
    return _sparse.__wrapped__(n=n, d=d, k=k, beta=sparse_beta(k, beta_max), normalization="1/(2m)",
                               data_seed=data_seed, device=device, dtype=dtype)
