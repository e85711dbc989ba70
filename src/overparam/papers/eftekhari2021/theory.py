"""Formulas of 003 (Eftekhari, Zygalakis 2021) and exact geometry used by its figures and claims.

* :func:`capture_rank` — Thm 1.2(i): m = Ω(rank(U₀)·d·log d), i.e. rank(U₀) = O(m/(d log d)).
* :func:`jacobian` / :func:`licq` — Dg(U)[Δ] = 𝒜(ΔUᵀ) (Eq. 10) as an m × dp matrix with rows vec(A_iU)
  (for symmetric A_i, ⟨A_i, ΔUᵀ + UΔᵀ⟩/2 = ⟨A_iU, Δ⟩); Assumption 3.1(ii) needs rank = m. For rank(U)
  = k its rank is at most dk − k(k−1)/2 (:func:`jacobian_rank_bound`, notes-003 §4.4(1)).
* :func:`toy_problem` / :func:`toy_manifold` — Fig. 4's d = p = m = 2 example: 𝒜(UUᵀ) =
  [‖U[1,:]‖², ⟨A, UUᵀ⟩], whose zero-error set ℳ_b is the torus u₁ = √b₁(cos θ, sin θ),
  u₂ = −(S₁₂/S₂₂)u₁ + ρ(cos φ, sin φ), ρ = |x₂ + (S₁₂/S₂₂)x₁| (S = sym(A), X♮ = xxᵀ; notes §2.6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


def capture_rank(m: int, d: int) -> float:
    """m/(d ln d): the init rank Thm 1.2(i) allows, up to its unspecified constant (natural log)."""
    return m / (d * math.log(d))


def jacobian_rank_bound(d: int, k: int) -> int:
    """dk − k(k−1)/2: the largest possible rank of U ↦ 𝒜(ΔUᵀ) at a rank-k U for symmetric A_i
    (Δ ↦ ΔUᵀ + UΔᵀ has that many degrees of freedom on symmetric matrices)."""
    return d * k - k * (k - 1) // 2


def jacobian(A: torch.Tensor, U: torch.Tensor) -> torch.Tensor:
    """Dg(U) as an m × (d·p) matrix: row i is vec(A_i U) (``A`` is (m, d, d) with symmetric A_i)."""
    return (A @ U).reshape(A.shape[0], -1)


def licq(A: torch.Tensor, U: torch.Tensor, rtol: float = 1e-10) -> dict[str, float]:
    """Rank (at σ > rtol·σ_1) and σ_m of Dg(U), with the bound dk − k(k−1)/2 for k = rank U."""
    J = jacobian(A, U)
    s = torch.linalg.svdvals(J)
    m = A.shape[0]
    k = int(torch.linalg.matrix_rank(U).item())
    return {"rank": int((s > rtol * s[0]).sum()), "m": m, "sigma_m": float(s[m - 1]) if s.numel() >= m else 0.0,
            "sigma_1": float(s[0]), "rank_U": k, "bound": min(m, jacobian_rank_bound(U.shape[0], k))}


@dataclass(frozen=True)
class Toy:
    """Fig. 4's instance: x (X♮ = xxᵀ), the random A, S = sym(A), b."""

    x: np.ndarray
    A: np.ndarray
    S: np.ndarray
    b: np.ndarray

    def measure(self, U: np.ndarray) -> np.ndarray:
        X = U @ U.T
        return np.array([X[0, 0], float((self.A * X).sum())])


def toy_problem(seed: int = 0) -> Toy:
    """X♮ = xxᵀ with x ~ N(0, I₂) (a random rank-1 PSD matrix), A ∈ ℝ^{2×2} i.i.d. N(0, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(2)
    A = rng.standard_normal((2, 2))
    S = 0.5 * (A + A.T)
    b = np.array([x[0] ** 2, float(x @ S @ x)])
    return Toy(x, A, S, b)


def toy_manifold(toy: Toy, n_theta: int = 80, n_phi: int = 80) -> np.ndarray:
    """Points U(θ, φ) ∈ ℳ_b (before the ‖U‖ ≤ ξ cut), shape (n_theta, n_phi, 2, 2); needs S₂₂ ≠ 0."""
    S = toy.S
    if abs(S[1, 1]) < 1e-12:
        raise ValueError("toy_manifold: S₂₂ = 0; the second constraint is then linear in u₂ (draw another A)")
    c = S[0, 1] / S[1, 1]
    rho = abs(toy.x[1] + c * toy.x[0])
    th, ph = np.meshgrid(np.linspace(0, 2 * np.pi, n_theta), np.linspace(0, 2 * np.pi, n_phi), indexing="ij")
    u1 = math.sqrt(toy.b[0]) * np.stack([np.cos(th), np.sin(th)], -1)
    u2 = -c * u1 + rho * np.stack([np.cos(ph), np.sin(ph)], -1)
    return np.stack([u1, u2], -2)


def toy_violation(toy: Toy, pts: np.ndarray) -> float:
    """max ‖𝒜(UUᵀ) − b‖ over the points (zero on ℳ_b)."""
    flat = pts.reshape(-1, 2, 2)
    return float(max(np.abs(toy.measure(U) - toy.b).max() for U in flat))
