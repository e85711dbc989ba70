"""Spectral initialization and the truncated SVD (Tong, Ma, Chi 2021; Jiang, Chen, Ding 2023).

The spectral estimate of X⋆ is the top-k part of the unbiased back-projection

    Y = 𝒜*(y) / ν,   with ν chosen so that E[𝒜*(𝒜(X))] = ν X:

* Gaussian sensing (``matrix_sensing``, ``asymmetric_sensing``, ``from_arrays``): Y = (1/(m s²)) Σ_i y_i A_i,
  s = ``sensing_scale`` (1 by default). Unbiased for the ``"sym"`` ensemble on symmetric X
  ((Q+Qᵀ)/2: E⟨A, X⟩A = X) and for ``"raw"`` (i.i.d. N(0,1)); with 003's ``"triu"`` fill the
  off-diagonal entries come out doubled. This is Tong–Ma–Chi 2021's 𝒜*(y) for their operator with
  N(0, 1/m) entries (ScaledGD, §2.1 "spectral initialization", Alg. 1) and Eq. (5)'s
  (1/m)Σ y_i A_i of Li–Ma–Zhang 2018 written with the same normalization.
* Completion (``matrix_completion``): Y = P_Ω(X⋆ + E)/p, Tong–Ma–Chi's p⁻¹P_Ω(Y) (§2.2; their
  optional row-norm trimming for incoherence is not applied).
* Factorization (``matrix_factorization``, identity 𝒜): Y = X_obs, Jiang–Chen–Ding 2023's
  truncated-SVD baseline SVD_r(X) (002 §2, the best rank-r approximation, Eckart–Young).

Rank-one sensing (xxᵀ, quadratic networks) has E[(xᵀXx) xxᵀ] = 2X + tr(X) I, not a multiple of X,
and is refused.

Factors of the rank-k part (k = the parameterization's width):

* symmetric, X = UUᵀ: Y_sym = (Y + Yᵀ)/2 = V Λ Vᵀ, the k largest eigenvalues, U₀ = V_k max(Λ_k, 0)^{1/2};
* asymmetric, X = FGᵀ: Y = U Σ Vᵀ, F₀ = U_k Σ_k^{1/2}, G₀ = V_k Σ_k^{1/2} (balanced, Tong–Ma–Chi's
  L₀ = U₀Σ₀^{1/2}, R₀ = V₀Σ₀^{1/2}).

The init ``spectral`` (registered in :mod:`overparam.init`) uses these factors for the
parameterizations ``symmetric`` and ``asymmetric``; every replica gets the same θ₀ (it has no
randomness). The module sits in the model layer (it reads a problem's operator and
observations), below :mod:`overparam.init`; :mod:`overparam.baselines.spectral` re-exports it as
the truncated-SVD baseline.
"""

from __future__ import annotations

import torch

from .backend import BackendError
from .operators import EntrySampling, IdentityOperator, RankOneSensing
from .problems import Problem


def truncated_svd(Y: torch.Tensor, k: int) -> torch.Tensor:
    """SVD_k(Y) = U_k Σ_k V_kᵀ, the best rank-k approximation of Y in every unitarily invariant
    norm (Eckart–Young–Mirsky); 002's truncated-SVD baseline with k = r. Batched over leading axes."""
    U, S, Vh = torch.linalg.svd(Y, full_matrices=False)
    k = min(k, S.shape[-1])
    return (U[..., :k] * S[..., None, :k]) @ Vh[..., :k, :]


def back_projection_scale(problem: Problem) -> float:
    """ν with E[𝒜*(𝒜(X))] = ν X for the problem's operator (module docstring)."""
    op = problem.operator
    if isinstance(op, RankOneSensing):
        raise BackendError("spectral: rank-one sensing (x xᵀ) has no unbiased back-projection "
                           "(E[(xᵀXx) xxᵀ] = 2X + tr(X)I); accepted: Gaussian sensing, completion, factorization")
    if isinstance(op, IdentityOperator):
        return 1.0
    if isinstance(op, EntrySampling):
        p = problem.info.get("p")
        if p is None:
            p = op.m / (problem.shape[0] * problem.shape[1])
        return float(p)
    if len(problem.shape) != 2:
        raise BackendError(f"spectral: needs a matrix problem; got shape {tuple(problem.shape)}")
    s = float(problem.info.get("sensing_scale", 1.0))
    return float(op.m) * s * s


def spectral_matrix(problem: Problem) -> torch.Tensor:
    """Y = 𝒜*(y)/ν, the back-projection whose top-k part is the spectral estimate (module docstring)."""
    return problem.operator.adjoint(problem.y) / back_projection_scale(problem)


def _symmetric_factor(Y: torch.Tensor, k: int) -> torch.Tensor:
    lam, V = torch.linalg.eigh(0.5 * (Y + Y.mT))
    lam, V = lam.flip(-1)[:k], V.flip(-1)[:, :k]          # the k largest (algebraic) eigenvalues
    return V * lam.clamp(min=0.0).sqrt()


def _asymmetric_factors(Y: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    U, S, Vh = torch.linalg.svd(Y, full_matrices=False)
    q = min(k, S.shape[-1])
    root = S[:q].sqrt()
    F = torch.zeros(Y.shape[0], k, dtype=Y.dtype, device=Y.device)
    G = torch.zeros(Y.shape[1], k, dtype=Y.dtype, device=Y.device)
    F[:, :q] = U[:, :q] * root
    G[:, :q] = Vh[:q].mT * root
    return F, G


def spectral(problem: Problem, k: int, *, symmetric: bool) -> tuple[torch.Tensor, ...]:
    """Spectral factors of width k: ``(U₀,)`` with U₀U₀ᵀ = top-k PSD part of Y (``symmetric``), or
    ``(F₀, G₀)`` with F₀G₀ᵀ = SVD_k(Y) (module docstring for Y and the formulas)."""
    Y = spectral_matrix(problem)
    if symmetric:
        if Y.shape[-1] != Y.shape[-2]:
            raise BackendError(f"spectral: a symmetric factor needs a square problem; got {tuple(Y.shape)}")
        if k > Y.shape[-1]:
            raise BackendError(f"spectral: width k = {k} exceeds d = {Y.shape[-1]}")
        return (_symmetric_factor(Y, k),)
    return _asymmetric_factors(Y, k)


def spectral_estimate(problem: Problem, r: int | None = None) -> torch.Tensor:
    """X̂ = the rank-r spectral estimate: SVD_r(Y) (for factorization, 002's truncated SVD of X_obs);
    r defaults to the problem's true rank."""
    r = problem.r if r is None else r
    if r is None:
        raise BackendError("spectral_estimate: r: the problem records no rank; give r")
    return truncated_svd(spectral_matrix(problem), int(r))


def spectral_init_fn(shapes, *, g, problem: Problem, blocks: tuple[str, ...]) -> list[torch.Tensor]:
    """The ``init.spectral`` rule: joint factors for param ``symmetric`` (block U) or ``asymmetric``
    (blocks F, G), of the parameterization's width."""
    if tuple(blocks) == ("U",):
        return list(spectral(problem, shapes[0][1], symmetric=True))
    if tuple(blocks) == ("F", "G"):
        return list(spectral(problem, shapes[0][1], symmetric=False))
    raise BackendError(f"init 'spectral' applies to params 'symmetric' (U) and 'asymmetric' (F, G); "
                       f"got blocks {', '.join(blocks) or '(none)'}")


__all__ = ["back_projection_scale", "spectral", "spectral_estimate", "spectral_init_fn", "spectral_matrix",
           "truncated_svd"]
