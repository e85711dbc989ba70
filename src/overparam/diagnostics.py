"""Numerical checks of the assumptions and lemmas behind 000's proofs, and small fitting helpers.

* :func:`rip_constant_estimate` — a sampled estimate (a *lower bound*) of the RIP constant δ of an
  operator on rank-r matrices (000 Def. 2.1, Eq. 6, with its 1/m normalization);
* :func:`lemma_a1_monte_carlo` — Monte Carlo check of Lemma A.1, E[⟨xxᵀ, X⟩ xxᵀ] = 2X + tr(X) I,
  optionally with the lemma's truncation 1{|⟨xxᵀ, X⟩| ≤ R};
* :func:`fit_line`, :func:`first_crossing` — the log–log slope and escape-time helpers that claim
  checks use.

Every random draw comes from :func:`overparam.backend.generator` with an explicit seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .backend import generator
from .operators import LinearOperator
from .theory import lemma_a1_expectation


@dataclass(frozen=True)
class RipEstimate:
    """Ratios ρ(X) = (1/m) Σ_i ⟨A_i, X⟩² / ‖X‖_F² over sampled rank-r X; δ̂ = max |ρ − 1|."""

    delta: float
    ratio_min: float
    ratio_max: float
    rank: int
    samples: int


def rip_constant_estimate(operator: LinearOperator, rank: int, *, samples: int = 200, seed: int = 0,
                          psd: bool = False, chunk: int = 64) -> RipEstimate:
    """Sampled RIP constant of ``operator`` on symmetric rank-``rank`` matrices (000 Def. 2.1).

    Draws X = G diag(ε) Gᵀ with G ∈ ℝ^{d×r} i.i.d. N(0, 1) and signs ε = ±1 (all +1 when ``psd``),
    and returns the extreme ratios (1/m) Σ_i ⟨A_i, X⟩² / ‖X‖_F². The true δ is a supremum over all
    rank-r X, so δ̂ ≤ δ: a sampled lower bound (notes-000 §8.3), not a certificate. For the
    symmetric Gaussian ensemble E⟨A_i, X⟩² = ‖X‖_F² and δ̂ → 0 as m grows; rank-one measurements
    xxᵀ are not RIP (ratios ≈ 2 + (tr X)²/‖X‖_F², Lemma A.1).
    """
    if len(operator.in_shape) != 2 or operator.in_shape[0] != operator.in_shape[1]:
        raise ValueError(f"rip_constant_estimate: needs an operator on square matrices; got {operator.in_shape}")
    d = operator.in_shape[0]
    if not 1 <= rank <= d:
        raise ValueError(f"rank: got {rank}; accepted: 1 <= rank <= d = {d}")
    if samples < 1:
        raise ValueError(f"samples: got {samples}; accepted: samples >= 1")
    g = generator(seed, "rip-estimate", rank)
    ratios = []
    done = 0
    while done < samples:
        n = min(chunk, samples - done)
        G = torch.randn(n, d, rank, generator=g, dtype=torch.float64)
        eps = torch.ones(n, rank, dtype=torch.float64) if psd else \
            torch.randint(0, 2, (n, rank), generator=g).to(torch.float64) * 2 - 1
        X = (G * eps.unsqueeze(-2)) @ G.mT
        X = X.to(device=operator.device, dtype=operator.dtype)
        z = operator.forward(X)
        ratios.append(((z * z).mean(-1) / (X * X).sum((-2, -1))).cpu())
        done += n
    rho = torch.cat(ratios)
    return RipEstimate(delta=float((rho - 1).abs().max()), ratio_min=float(rho.min()), ratio_max=float(rho.max()),
                       rank=rank, samples=samples)


@dataclass(frozen=True)
class MonteCarloCheck:
    """Monte Carlo estimate vs prediction: relative error ‖est − pred‖_F/‖pred‖_F, and its noise
    level (the standard error of that Frobenius deviation, from batch means)."""

    estimate: torch.Tensor
    prediction: torch.Tensor
    rel_error: float
    noise: float
    samples: int
    truncated_fraction: float

    @property
    def z_score(self) -> float:
        """rel_error / noise: O(1) when the prediction is right, large when it is wrong."""
        return self.rel_error / self.noise if self.noise > 0 else math.inf


def lemma_a1_monte_carlo(X: torch.Tensor, *, samples: int = 200_000, seed: int = 0, batches: int = 20,
                         R: float | None = None, prediction: torch.Tensor | None = None) -> MonteCarloCheck:
    """Estimate E[⟨xxᵀ, X⟩ 1{|⟨xxᵀ, X⟩| ≤ R} xxᵀ] for x ~ N(0, I_d) and compare it with Lemma A.1's
    2X + tr(X)·I (or ``prediction``).

    ``R=None`` is the untruncated expectation, equal to 2X + tr(X) I exactly (Isserlis); with a
    threshold R the lemma bounds the deviation by δ‖X‖_* for R = Θ(log(1/δ)). The samples are split
    into ``batches`` batch means, whose spread gives the noise level of the relative error.
    Never forms an m × d × d tensor: Σ_i w_i x_i x_iᵀ = xᵀ diag(w) x.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    if X.ndim != 2 or X.shape[0] != X.shape[1] or not torch.allclose(X, X.T):
        raise ValueError(f"X: needs a symmetric d × d matrix; got shape {tuple(X.shape)}")
    if samples < batches or batches < 2:
        raise ValueError(f"samples/batches: got {samples}/{batches}; accepted: batches >= 2 and samples >= batches")
    d = X.shape[0]
    pred = lemma_a1_expectation(X) if prediction is None else torch.as_tensor(prediction, dtype=torch.float64)
    g = generator(seed, "lemma-a1", d)
    per = samples // batches
    means = []
    cut = 0
    for _ in range(batches):
        x = torch.randn(per, d, generator=g, dtype=torch.float64)
        z = ((x @ X) * x).sum(-1)
        if R is not None:
            keep = z.abs() <= R
            cut += int((~keep).sum())
            z = torch.where(keep, z, torch.zeros_like(z))
        means.append(x.T @ (z.unsqueeze(-1) * x) / per)
    B = torch.stack(means)
    est = B.mean(0)
    pnorm = float(pred.norm())
    rel = float((est - pred).norm()) / pnorm
    # standard error of the mean matrix, summed over entries: E‖est − E est‖_F² = Σ var / batches
    spread = float(((B - est) ** 2).sum() / (batches - 1) / batches)
    return MonteCarloCheck(estimate=est, prediction=pred, rel_error=rel, noise=math.sqrt(spread) / pnorm,
                           samples=per * batches, truncated_fraction=cut / (per * batches))


def fit_line(x, y) -> tuple[float, float, float]:
    """Least-squares y ≈ a·x + b: returns (slope a, intercept b, R²)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 2 or x.size != y.size:
        raise ValueError(f"fit_line: needs two or more (x, y) pairs of equal length; got {x.size}, {y.size}")
    a, b = np.polyfit(x, y, 1)
    resid = y - (a * x + b)
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / ss if ss > 0 else 1.0
    return float(a), float(b), r2


def first_crossing(steps, values, threshold: float) -> float | None:
    """The first step at which ``values`` ≤ ``threshold``, linearly interpolated between the two
    recorded steps around the crossing (in log value); None if it never crosses."""
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    below = np.flatnonzero(v <= threshold)
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return float(s[0])
    v0, v1 = math.log(v[i - 1]), math.log(max(v[i], 1e-300))
    lt = math.log(threshold)
    frac = (v0 - lt) / (v0 - v1) if v0 != v1 else 1.0
    return float(s[i - 1] + frac * (s[i] - s[i - 1]))


__all__ = ["MonteCarloCheck", "RipEstimate", "first_crossing", "fit_line", "lemma_a1_monte_carlo",
           "rip_constant_estimate"]
