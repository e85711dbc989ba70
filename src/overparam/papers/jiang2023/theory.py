"""Jiang–Chen–Ding (002) formulas, computed in log space (the admissible ρ of Thm A.1 is ~10⁻⁴⁵⁹ and
underflows float64; notes-002 §4.3). Natural logarithms throughout; ``log_rho`` = ln ρ.

Notation (notes-002 §2.1): σ_1 ≥ σ_r > σ_{r+1}, δ = (σ_r − σ_{r+1})/σ_r, γ = 1 − δ̲ ≥ σ_{r+1}/σ_r (we take
δ̲ = δ when δ is known), κ_r = σ_1/σ_r, η the step, ρ the init size of the theory convention
F₀, G₀ = ρ/(3√(m+n+k))·N(0, σ_1) (variance σ_1, §4.1).

* :func:`thm42_T` — T = ⌊ln(ρ^{δ/(2(2−δ))}/ρ) / ln(1 + (1−δ)ησ_r)⌋ (Thm 4.2; = Thm A.1's T with γ = 1 − δ);
* :func:`thm42_eta_max`, :func:`thm42_log_rho_max` — Thm 4.2's η ≤ c·min{δ, 1−δ}σ_r²/σ_1³ and
  ρ ≤ (cδε/κ_r)^{1/(cδ)} (c unspecified in the paper: a parameter);
* :func:`thmA1_eta_max`, :func:`thmA1_log_rho_max`, :func:`thmA1_phases` — Thm A.1 with its explicit
  constants (600, 20, 24, 1200, 1600, 180, …), phases T₁, T₂, T₃, their sum T₀ and T;
* :func:`window_fraction` — (A.2): T₀/T ≤ 1 − (3−2γ)(1−γ)/(6(3γ+1)), the guaranteed window's share of T;
* :func:`log_error_bound_A3` — (A.3): ‖F_tG_tᵀ − X_r‖ ≤ (8 + 4√(2r))·ρ^{(1−γ)/(2(1+γ))}·σ_1 on [T₀, T];
* :func:`learning_time` — **not in the paper** (notes-002 §4.5 [D]): the scalar-model time at which
  σ_i(F_tG_tᵀ) reaches σ_i/2, t_i = ln(σ_i/(k a²)) / (2 ln(1 + ησ_i)) with a the init's entry std;
* :func:`heuristic_eps_exponent` — **not in the paper** ([D]): ε ≈ ρ^{2δ/(2−δ)} (4× the A.3 exponent),
  and :func:`heuristic_T0` ≈ ln(1/ε)/(δησ_r).
"""

from __future__ import annotations

import math


def theory_entry_std(rho: float, sigma_1: float, m: int, n: int, k: int) -> float:
    """Entry standard deviation of the paper's init ρ/(3√(m+n+k))·N(0, σ_1): ρ√σ_1/(3√(m+n+k))."""
    return rho * math.sqrt(sigma_1) / (3.0 * math.sqrt(m + n + k))


def thm42_exponent(delta: float) -> float:
    """The error exponent δ/(2(2−δ)) = (1−γ)/(2(1+γ)) of Thm 4.2 / (A.3)."""
    return delta / (2.0 * (2.0 - delta))


def thm42_T(log_rho: float, delta: float, eta: float, sigma_r: float) -> int:
    """Thm 4.2's T = ⌊((4−3δ)/(2(2−δ)))·ln(1/ρ) / ln(1 + (1−δ)ησ_r)⌋ (γ = 1 − δ in Thm A.1's T)."""
    num = (1.0 - thm42_exponent(delta)) * (-log_rho)
    return int(math.floor(num / math.log1p((1.0 - delta) * eta * sigma_r)))


def thm42_window_start(T: int, delta: float, c_prime: float = 1.0) -> float:
    """(1 − c'δ)T, the start of Thm 4.2's window (c' unspecified in the paper)."""
    return (1.0 - c_prime * delta) * T


def thm42_eta_max(delta: float, sigma_1: float, sigma_r: float, c: float = 1.0) -> float:
    """η ≤ c·min{δ, 1−δ}·σ_r²/σ_1³ (Thm 4.2; Thm 4.1 prints σ_1², a typo, notes-002 §3.3)."""
    return c * min(delta, 1.0 - delta) * sigma_r**2 / sigma_1**3


def thm42_log_rho_max(delta: float, eps: float, kappa_r: float, c: float = 1.0) -> float:
    """ln of ρ ≤ (cδε/κ_r)^{1/(cδ)} (Thm 4.2; c unspecified)."""
    return math.log(c * delta * eps / kappa_r) / (c * delta)


def thmA1_eta_max(gamma: float, sigma_1: float, sigma_r: float) -> float:
    """Thm A.1: η ≤ min{γσ_r²/(600σ_1³), (1−γ)σ_r/(20σ_1²)}."""
    return min(gamma * sigma_r**2 / (600.0 * sigma_1**3), (1.0 - gamma) * sigma_r / (20.0 * sigma_1**2))


def thmA1_log_rho_max(gamma: float, m: int, n: int, k: int, r: int, sigma_1: float, sigma_r: float,
                      c_rho: float = 0.1) -> dict[str, float]:
    """ln of Thm A.1's two conditions on ρ and of their minimum (Prop. B.2 prints "max" for the second:
    a typo, notes-002 §4.3). Returns ``{"cond1", "cond2", "log_rho_max"}`` (natural logs)."""
    d = m + n + k
    g = gamma
    base1 = min(1.0 / 3.0, (1.0 - g) / 24.0,
                c_rho * math.sqrt(sigma_1) / (12.0 * d * math.sqrt((1.0 - g) / 24.0) * math.sqrt(sigma_r)))
    e1 = 180.0 * g * (1.0 + g) / ((3.0 - 2.0 * g) * (1.0 - g))
    cond1 = e1 * math.log(base1)
    a = 2.0 * (1.0 + g) / (1.0 - g) * math.log((1.0 - g) * c_rho * sigma_r / (1200.0 * d * r * sigma_1))
    b = (1.0 + g) / (1.0 - g) * math.log(g * sigma_r**2 / (1600.0 * r * sigma_1**2))
    c = math.log(g * sigma_r * math.sqrt(2.0 * r) / (16.0 * sigma_1 * math.sqrt(d)))
    cond2 = min(a, b, c)
    return {"cond1": cond1, "cond2": cond2, "log_rho_max": min(cond1, cond2)}


def thmA1_phases(log_rho: float, gamma: float, eta: float, sigma_1: float, sigma_r: float, m: int, n: int,
                 k: int, c_rho: float = 0.1) -> dict[str, int]:
    """Thm A.1's T₁, T₂, T₃ (floor + 1, as in A.1; Props B.4, B.5 write ceil), T₀ = T₁ + T₂ + T₃ and T."""
    g = gamma
    d = m + n + k
    e = (1.0 - g) / (2.0 * (1.0 + g))
    T1 = math.floor((math.log(12.0 * d * math.sqrt((1.0 - g) / 24.0) * math.sqrt(sigma_r) / (c_rho * math.sqrt(sigma_1)))
                     - log_rho) / math.log1p((1.0 + g) / 2.0 * eta * sigma_r)) + 1
    T2 = math.floor(math.log(math.sqrt(24.0 / (1.0 - g))) / math.log1p(0.1 * eta * sigma_r)) + 1
    T3 = math.floor((e * log_rho - math.log(3.0)) / math.log1p(-1.5 * eta * sigma_r)) + 1
    T = math.floor((e * log_rho - log_rho) / math.log1p(g * eta * sigma_r))
    return {"T1": T1, "T2": T2, "T3": T3, "T0": T1 + T2 + T3, "T": T}


def window_fraction(delta: float) -> float:
    """(A.2) in δ form: the guaranteed window [T₀, T] is at least δ(1+2δ)/(6(4−3δ)) of T."""
    return delta * (1.0 + 2.0 * delta) / (6.0 * (4.0 - 3.0 * delta))


def log_error_bound_A3(log_rho: float, delta: float, r: int, sigma_1: float) -> float:
    """ln of (A.3)'s bound (8 + 4√(2r))·ρ^{δ/(2(2−δ))}·σ_1 on ‖F_tG_tᵀ − X_r‖ (operator norm, t ∈ [T₀, T])."""
    return math.log(8.0 + 4.0 * math.sqrt(2.0 * r)) + thm42_exponent(delta) * log_rho + math.log(sigma_1)


def learning_time(sigma_i: float, eta: float, k: int, entry_std: float) -> float:
    """[D] t_i = ln(σ_i/(k a²)) / (2 ln(1 + ησ_i)): in the scalar model the i-th component's pair grows by
    (1 + ησ_i) per step from ⟨f₀ + g₀⟩²/4 ≈ k a²/2 (a = ``entry_std``), reaching σ_i/2 at t_i (notes-002
    §4.5; ≈ ln(1/ρ)/(ησ_i) as ρ → 0). Not a statement of the paper."""
    return math.log(sigma_i / (k * entry_std**2)) / (2.0 * math.log1p(eta * sigma_i))


def heuristic_eps_exponent(delta: float) -> float:
    """[D] ε ≈ ρ^{2δ/(2−δ)} (notes-002 §4.5): balance of component r's decay and component r+1's growth."""
    return 2.0 * delta / (2.0 - delta)


def heuristic_T0(eps: float, delta: float, eta: float, sigma_r: float) -> float:
    """[D] T₀ ≈ ln(1/ε)/(δησ_r)."""
    return math.log(1.0 / eps) / (delta * eta * sigma_r)


def scalar_recursion(lams, f0: float, eta: float, steps: int) -> list[list[float]]:
    """App. C.3 (C.11): f_{i,t+1} = f_{i,t}(1 + ηλ_i − ηf_{i,t}²) from f_{i,0} = ``f0``; the eigenvalues of
    F_tF_tᵀ for PSD X = U diag(λ) Uᵀ and F₀ = f0·I are f_{i,t}². Returns the f_{i,t}, one list per t."""
    f = [float(f0)] * len(lams)
    out = [list(f)]
    for _ in range(steps):
        f = [fi * (1.0 + eta * li - eta * fi * fi) for fi, li in zip(f, lams, strict=True)]
        out.append(list(f))
    return out
