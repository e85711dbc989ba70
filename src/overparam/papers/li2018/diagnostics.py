"""Numerical checks of the assumptions and lemmas behind 000's proofs.

* :func:`rip_constant_estimate` — a sampled estimate (a *lower bound*) of the RIP constant δ of an
  operator on rank-r matrices (000 Def. 2.1, Eq. 6, with its 1/m normalization);
* :func:`lemma_a1_monte_carlo` — Monte Carlo check of Lemma A.1, E[⟨xxᵀ, X⟩ xxᵀ] = 2X + tr(X) I,
  optionally with the lemma's truncation 1{|⟨xxᵀ, X⟩| ≤ R};
* :func:`lemma_a1_uniform` — Lemma A.1's actual content: the truncated empirical operator's
  deviation from 2X + tr(X) I at finite m, as a supremum over random and adversarial rank-r X.

(:func:`fit_line` and :func:`first_crossing` live in :mod:`overparam.papers._shared`.)

Every random draw comes from :func:`overparam.backend.generator` with an explicit seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...backend import generator
from ...operators import LinearOperator
from .._shared import first_crossing, fit_line
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


def truncation_bias_rank_one(R: float) -> float:
    """‖E[z xxᵀ 1{z > R}]‖ for X = uuᵀ (‖u‖ = 1), z = ⟨xxᵀ, X⟩ = g² with g = uᵀx ~ N(0, 1): the
    population bias that truncating at R adds to Lemma A.1's operator (its largest part, along u):
    E[g⁴ 1{|g| > a}] = 2[φ(a)(a³ + 3a) + 3(1 − Φ(a))], a = √R."""
    a = math.sqrt(R)
    phi = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    tail = 0.5 * math.erfc(a / math.sqrt(2))
    return 2 * (phi * (a**3 + 3 * a) + 3 * tail)


def _unit_nuclear(X: torch.Tensor) -> torch.Tensor:
    return X / torch.linalg.matrix_norm(X, ord="nuc")


def _apply(x: torch.Tensor, Xs: torch.Tensor, R: float, chunk: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each X in ``Xs`` (n × d × d): the truncated and untruncated empirical operators
    (1/m) Σ_i ⟨x_ix_iᵀ, X⟩ [1{|⟨x_ix_iᵀ, X⟩| ≤ R}] x_ix_iᵀ, and the truncated fraction."""
    m, d = x.shape
    n = Xs.shape[0]
    S_t = torch.zeros(n, d, d, dtype=x.dtype, device=x.device)
    S_u = torch.zeros_like(S_t)
    cut = torch.zeros(n, dtype=x.dtype, device=x.device)
    for i in range(0, m, chunk):
        xc = x[i:i + chunk]
        z = torch.einsum("md,nde,me->nm", xc, Xs, xc)  # ⟨x xᵀ, X⟩ for every X and sample
        keep = z.abs() <= R
        cut += (~keep).sum(-1)
        S_u += torch.einsum("md,nm,me->nde", xc, z, xc)
        S_t += torch.einsum("md,nm,me->nde", xc, torch.where(keep, z, torch.zeros_like(z)), xc)
    return S_t / m, S_u / m, cut / m


def lemma_a1_uniform(*, d: int, r: int, m_grid: list[int], R: float, n_random: int = 8, ascent_steps: int = 3,
                     seed: int = 0, chunk: int = 20_000, device: str = "cpu") -> dict:
    """Lemma A.1 at finite m, uniformly over rank-r X: the largest normalized spectral deviation
    ‖(1/m) Σ_i ⟨A_i, X⟩ 1{|⟨A_i, X⟩| ≤ R} A_i − 2X − tr(X) I‖ / ‖X‖_* (A_i = x_ix_iᵀ, x_i ~ N(0, I_d))
    over a set of rank-r X, for each m in ``m_grid`` (a fresh sample per m).

    The set (every X scaled to ‖X‖_* = 1, so R is on the scale of the lemma's normalized X):
    ``n_random`` random rank-r PSD X = GGᵀ and as many indefinite G diag(±1) Gᵀ; adversarial ones
    aligned with the sample — the heaviest sample direction x_j/‖x_j‖ (rank one) and the span of the r
    heaviest, the top-r eigenvectors of (1/m) Σ x_ix_iᵀ — and ``ascent_steps`` of a greedy ascent
    from the worst so far (X ← V diag(sign λ) Vᵀ/r with V the top-r eigenvectors of the deviation
    by |λ|). A supremum over a finite set is a lower bound on the lemma's supremum over all X.

    Returns per m: the sup deviation (truncated, as the lemma; and untruncated), the worst kind, the
    sup per kind, the truncated fraction, and the control: the smallest ‖Ŝ(X) − 2X‖ over the PSD X
    (tr X = 1), i.e. how far the RIP-like alternative 2X stays from the measurement.
    """
    dev = torch.device(device)
    out = []
    for m in m_grid:
        g = generator(seed, "lemma-a1-uniform", d, r, int(m), device="cpu")
        x = torch.randn(int(m), d, generator=g, dtype=torch.float64).to(dev)
        eye = torch.eye(d, dtype=torch.float64, device=dev)
        kinds: list[str] = []
        Xs = []
        for _ in range(n_random):
            G = torch.randn(d, r, generator=g, dtype=torch.float64).to(dev)
            Xs.append(_unit_nuclear(G @ G.T))
            kinds.append("random PSD")
            sgn = torch.where(torch.arange(r) % 2 == 0, 1.0, -1.0).to(dev, torch.float64)
            Xs.append(_unit_nuclear((G * sgn) @ G.T))
            kinds.append("random indefinite")
        norms = x.norm(dim=1)
        top = torch.topk(norms, r).indices
        v = x[top[0]] / norms[top[0]]
        Xs.append(torch.outer(v, v))
        kinds.append("heaviest sample (rank 1)")
        Q, _ = torch.linalg.qr(x[top].T)
        Xs.append(_unit_nuclear(Q @ Q.T))
        kinds.append("heaviest samples (rank r)")
        _, V = torch.linalg.eigh(x.T @ x / m)
        Vr = V[:, -r:]
        Xs.append(_unit_nuclear(Vr @ Vr.T))
        kinds.append("top-r covariance eigenvectors")
        X = torch.stack(Xs)
        tr = torch.diagonal(X, dim1=-2, dim2=-1).sum(-1)
        S_t, S_u, cut = _apply(x, X, R, chunk)
        target = 2 * X + tr[:, None, None] * eye
        dev_t = torch.linalg.matrix_norm(S_t - target, ord=2)
        dev_u = torch.linalg.matrix_norm(S_u - target, ord=2)
        control = torch.linalg.matrix_norm(S_t - 2 * X, ord=2)
        psd = torch.tensor([k in ("random PSD", "top-r covariance eigenvectors", "heaviest samples (rank r)",
                                  "heaviest sample (rank 1)") for k in kinds], device=dev)
        worst = int(torch.argmax(dev_t))
        best_dev, best_kind, best_X = float(dev_t[worst]), kinds[worst], X[worst]
        D = S_t[worst] - target[worst]
        for _ in range(ascent_steps):  # greedy ascent on the deviation
            lam, W = torch.linalg.eigh(0.5 * (D + D.T))
            idx = torch.topk(lam.abs(), r).indices
            Xa = _unit_nuclear((W[:, idx] * torch.sign(lam[idx])) @ W[:, idx].T)
            tra = torch.trace(Xa)
            St, Su, c = _apply(x, Xa[None], R, chunk)
            D = St[0] - (2 * Xa + tra * eye)
            val = float(torch.linalg.matrix_norm(D, ord=2))
            dev_u = torch.cat([dev_u, torch.linalg.matrix_norm(Su - (2 * Xa + tra * eye), ord=2)])
            cut = torch.cat([cut, c])
            kinds.append("greedy ascent")
            dev_t = torch.cat([dev_t, torch.tensor([val], dtype=dev_t.dtype, device=dev)])
            if val > best_dev:
                best_dev, best_kind, best_X = val, "greedy ascent", Xa
        by_kind: dict[str, float] = {}
        for k, v_ in zip(kinds, dev_t.tolist(), strict=True):
            by_kind[k] = max(by_kind.get(k, 0.0), v_)
        out.append({"m": int(m), "sup_deviation": best_dev, "worst_kind": best_kind,
                    "sup_deviation_untruncated": float(dev_u.max()), "by_kind": by_kind,
                    "truncated_fraction_max": float(cut.max()), "control_2X_min_psd": float(control[psd].min()),
                    "worst_rank": int(torch.linalg.matrix_rank(best_X))})
    return {"d": d, "r": r, "R": R, "per_m": out}


__all__ = ["MonteCarloCheck", "RipEstimate", "first_crossing", "fit_line", "lemma_a1_monte_carlo",
           "lemma_a1_uniform", "rip_constant_estimate"]
