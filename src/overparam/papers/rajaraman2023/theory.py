"""Formulas of 001 used by the reproduction (notes-001 §§2–4).

* :func:`theory_parameters` — eq. (10): β = c_β σ_r⋆²/r, λ = c_λ σ_r⋆³/√(kr), γ = c_γ σ_r⋆³/(√k r^{5/2}),
  ϵ = c_ϵ σ_r⋆^{7/2}/(√k r^{5/2}) (the √k·r^{5/2} reading of the garbled denominator, notes-001 §3.3);
* :func:`implied_constants` — the c_β, c_λ a chosen (λ, β) corresponds to;
* :func:`population_loss` — L_pop(U) = ‖UUᵀ − U⋆U⋆ᵀ‖_F² = ‖UᵀU‖_F² − 2‖U⋆ᵀU‖_F² + ‖U⋆ᵀU⋆‖_F² and its
  gradient 4(U(UᵀU) − U⋆(U⋆ᵀU)) (Lemma 39), in O(dk² + dkr) without d × d products;
* :func:`weight_decay_lambda` — λ_c = 2μ√β, where the penalty's weight decay 2λ/√β near 0 balances the
  growth 4μ of a direction with eigenvalue μ (notes-001 §7.4; claim 6);
* :func:`noise_floors` — the squared floors σ²rd/n (Thm 5, pruned) and σ²kd/n ([23], unpruned), with
  constants 1 and σ_r⋆ = 1.
"""

from __future__ import annotations

import math

import torch


def theory_parameters(sigma_r: float, r: int, k: int, *, c_beta: float = 0.1, c_lambda: float = 0.1,
                      c_gamma: float = 0.1, c_eps: float = 0.1) -> dict[str, float]:
    """β, λ, γ, ϵ of eq. (10) (Thm 3) for σ_r⋆ = ``sigma_r`` (σ₁⋆ = 1)."""
    s = sigma_r
    return {"beta": c_beta * s**2 / r, "lam": c_lambda * s**3 / math.sqrt(k * r),
            "gamma": c_gamma * s**3 / (math.sqrt(k) * r**2.5), "eps": c_eps * s**3.5 / (math.sqrt(k) * r**2.5)}


def implied_constants(lam: float, beta: float, sigma_r: float, r: int, k: int) -> dict[str, float]:
    """c_β = βr/σ_r⋆² and c_λ = λ√(kr)/σ_r⋆³ for a chosen (λ, β)."""
    return {"c_beta": beta * r / sigma_r**2, "c_lambda": lam * math.sqrt(k * r) / sigma_r**3}


def population_loss(U: torch.Tensor, U_star: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(‖UUᵀ − U⋆U⋆ᵀ‖_F², its gradient 4(UUᵀ − U⋆U⋆ᵀ)U) from k × k and r × k products only."""
    G = U.mT @ U
    C = U_star.mT @ U
    S = U_star.mT @ U_star
    value = (G * G).sum((-2, -1)) - 2 * (C * C).sum((-2, -1)) + (S * S).sum((-2, -1))
    grad = 4 * (U @ G - U_star @ C)
    return value, grad


def weight_decay_lambda(mu: float, beta: float) -> float:
    """λ_c = 2μ√β (above it a direction with growth rate 4μ does not grow from inside ‖u‖² ≪ β)."""
    return 2.0 * mu * math.sqrt(beta)


def noise_floors(sigma: float, r: int, k: int, d: int, n: int) -> dict[str, float]:
    """σ²rd/n (Thm 5, after pruning) and σ²kd/n ([23], over-parameterized GD), constants set to 1."""
    return {"pruned": sigma**2 * r * d / n, "unpruned": sigma**2 * k * d / n}
