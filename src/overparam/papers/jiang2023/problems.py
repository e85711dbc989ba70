"""The model-free data of Jiang–Chen–Ding (002): an observed X ∈ ℝ^{m×n}, nothing else.

Problem ``jiang2023_model_free`` (registered by name): f(F, G) = ½‖FGᵀ − X‖_F² (002 Eq. M) through the
identity operator, loss normalization ``"1/2"`` (c = ½), so GD with ``grad_scale = 1`` is exactly (GD-M):
F ← F − η(FGᵀ − X)G, G ← G − η(FGᵀ − X)ᵀF from the same iterate.

Generators (``generator``), all from ``data_seed`` on the CPU in float64:

* ``"planted_noise"`` — Fig. 1 (§1): X = X♮ + E, X♮ = ABᵀ/‖ABᵀ‖_F with Gaussian A ∈ ℝ^{m×rank},
  B ∈ ℝ^{n×rank} (‖X♮‖_F = 1; the paper does not give X♮'s spectrum, notes-002 §2.2), E i.i.d.
  N(0, s²) with s = ``noise_op_norm``/(√m + √n), so E‖E‖ ≈ ``noise_op_norm`` (2·10⁻³ in Fig. 1).
  The ground truth X⋆ (for ``test_error``) is X♮.
* ``"gaussian_rank"`` — Fig. 2, paper-literal: "a random rank-10 matrix", ABᵀ/‖ABᵀ‖_F (‖X‖_F = 1).
* ``"geometric"`` — Fig. 2, our choice: rank ``rank`` with σ_i ∝ ``decay``^{i−1}, Haar singular
  vectors, ‖X‖_F = 1 (the Gaussian product has clustered σ_i, 0.40 → 0.23, notes-002 §5).
* ``"gap"`` — Fig. 3 (§5.2, notes-002 §2.3 [R]): Haar Φ, Ψ and σ_1 = κ, σ_2 = ``sigma2`` (default
  (κ+1)/2), σ_3 = 1, σ_4 = 1 − δ (for target r = 3; in general σ_r = 1, σ_{r+1} = 1 − δ, σ_2..σ_{r−1}
  evenly between), then a tail of ``tail_len`` values, ``tail = "flat"`` (≡ 1 − δ) or ``"geometric"``
  ((1 − δ)·0.9^{j−r−1}). ``basis = "identity"`` puts X = diag(σ) (statistically the same runs: the
  Gaussian init is rotation invariant, Eq. 4.2).

For every generator but ``planted_noise`` X⋆ = X_r, the best rank-r approximation of X (truncated SVD,
r = the target rank ``r``), so ``test_error`` is the paper's ε_t = ‖F_tG_tᵀ − X_r‖_F/‖X_r‖_F (§5.2).
``symmetric = True`` (square X) makes X = Φ diag(σ) Φᵀ PSD, for App. C.3's FFᵀ variant.

``references``: ``X_obs`` (X), ``X_r``, and ``U_top``, ``S_top``, ``V_top``: the leading
``n_top`` singular triplets of X (for the distances ‖FGᵀ − X_s‖_F of Fig. 2a). ``info`` records σ_1,
σ_r, σ_{r+1}, δ, κ_r, ‖X‖_F, ‖X − X_r‖_F and the generator settings.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import validate_call

from ..._types import NonNegFloat, NonNegInt, PosFloat, PosInt, Seed
from ...backend import BackendError, generator, resolve_device, resolve_dtype
from ...losses import make_loss, normalization_constant
from ...operators import IdentityOperator
from ...problems.problem import Problem
from ...registry import register

Generator = Literal["planted_noise", "gaussian_rank", "geometric", "gap"]


def _haar(n: int, q: int, g: torch.Generator) -> torch.Tensor:
    Z = torch.randn(n, q, generator=g, dtype=torch.float64)
    Q, R = torch.linalg.qr(Z)
    d = torch.diagonal(R)
    return Q * torch.where(d < 0, -torch.ones_like(d), torch.ones_like(d))


def gap_spectrum(r: int, kappa: float, delta: float, *, sigma2: float | None = None, tail: str = "flat",
                 tail_len: int = 0) -> list[float]:
    """Fig. 3's spectrum (notes-002 §2.3 [R]): σ_1 = κ, σ_r = 1, σ_{r+1} = 1 − δ, σ_2 = ``sigma2``
    (default (κ + 1)/2 when r = 3; σ_2..σ_{r−1} evenly spaced between κ and 1 otherwise), then
    ``tail_len`` more values: ≡ 1 − δ (``"flat"``) or (1 − δ)·0.9^j (``"geometric"``)."""
    if not 0 < delta < 1:
        raise BackendError(f"delta: got {delta}; accepted: 0 < delta < 1")
    if kappa < 1:
        raise BackendError(f"kappa: got {kappa}; accepted: kappa >= 1")
    if r == 1:
        head = [1.0]
    else:
        head = [kappa + (1.0 - kappa) * i / (r - 1) for i in range(r)]
        if sigma2 is not None and r >= 3:
            head[1] = sigma2
    lo = 1.0 - delta
    tail_vals = [lo * (0.9**j if tail == "geometric" else 1.0) for j in range(tail_len + 1)]
    return head + tail_vals


def model_free_matrix(m: int, n: int, r: int, *, generator_kind: str, rank: int, decay: float, kappa: float,
                      delta: float, sigma2: float | None, tail: str, tail_len: int, noise_op_norm: float,
                      basis: str, symmetric: bool, seed: int) -> tuple[torch.Tensor, torch.Tensor | None, dict]:
    """(X, X♮ or None, info) in float64 on the CPU (the module docstring's generators)."""
    if symmetric and m != n:
        raise BackendError(f"symmetric: needs m == n; got {m}, {n}")
    g = generator(seed, "jiang2023", generator_kind)
    info: dict = {}
    natural = None
    if generator_kind in ("planted_noise", "gaussian_rank"):
        if rank > min(m, n):
            raise BackendError(f"rank: got {rank}; accepted: rank <= min(m, n) = {min(m, n)}")
        A = torch.randn(m, rank, generator=g, dtype=torch.float64)
        B = A if symmetric else torch.randn(n, rank, generator=g, dtype=torch.float64)
        X = A @ B.T
        X = X / torch.linalg.matrix_norm(X)
        if generator_kind == "planted_noise":
            natural = X
            s = noise_op_norm / (math.sqrt(m) + math.sqrt(n))
            E = torch.randn(m, n, generator=generator(seed, "jiang2023", "noise"), dtype=torch.float64)
            if symmetric:
                E = (E + E.T) / math.sqrt(2.0)
            X = X + s * E
            info.update(noise_std=s, noise_fro=float(s * torch.linalg.matrix_norm(E)),
                        noise_op=float(s * torch.linalg.matrix_norm(E, ord=2)))
    else:
        if generator_kind == "geometric":
            sig = torch.tensor([decay**i for i in range(rank)], dtype=torch.float64)
            sig = sig / sig.norm()
        else:
            sig = torch.tensor(gap_spectrum(r, kappa, delta, sigma2=sigma2, tail=tail, tail_len=tail_len),
                               dtype=torch.float64)
        q = sig.numel()
        if q > min(m, n):
            raise BackendError(f"the spectrum has {q} values; accepted: at most min(m, n) = {min(m, n)}")
        if basis == "identity":
            Phi = torch.eye(m, q, dtype=torch.float64)
            Psi = Phi if symmetric else torch.eye(n, q, dtype=torch.float64)
        else:
            Phi = _haar(m, q, g)
            Psi = Phi if symmetric else _haar(n, q, g)
        X = (Phi * sig) @ Psi.T
    return X, natural, info


@register("problem", "jiang2023.model_free", legacy="jiang2023_model_free")
@validate_call(config={"arbitrary_types_allowed": True})
def jiang2023_model_free(
    m: PosInt,
    n: PosInt,
    r: PosInt,
    *,
    generator: Generator = "gap",
    rank: PosInt = 10,
    decay: PosFloat = 0.7,
    kappa: PosFloat = 2.0,
    delta: PosFloat = 0.4,
    sigma2: PosFloat | None = None,
    tail: Literal["flat", "geometric"] = "flat",
    tail_len: NonNegInt = 0,
    noise_op_norm: NonNegFloat = 2e-3,
    basis: Literal["haar", "identity"] = "haar",
    symmetric: bool = False,
    n_top: PosInt = 10,
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """002's model-free factorization f(F, G) = ½‖FGᵀ − X‖_F² (Eq. M), X from ``generator`` (module
    docstring); r is the target rank of X_r. Loss: L(Y) = ½‖Y − X‖_F² (normalization "1/2")."""
    X, natural, info = model_free_matrix(m, n, r, generator_kind=generator, rank=rank, decay=decay, kappa=kappa,
                                         delta=delta, sigma2=sigma2, tail=tail, tail_len=tail_len,
                                         noise_op_norm=noise_op_norm, basis=basis, symmetric=symmetric,
                                         seed=data_seed)
    U, S, Vh = torch.linalg.svd(X, full_matrices=False)
    if r >= S.numel():
        raise BackendError(f"r: got {r}; accepted: r < min(m, n) = {S.numel()}")
    Xr = (U[:, :r] * S[:r]) @ Vh[:r]
    q = min(n_top, S.numel())
    sr, sr1 = float(S[r - 1]), float(S[r])
    info.update(
        name="jiang2023_model_free", shape=[m, n], r=r, m=m * n, normalization="1/2",
        c=normalization_constant("1/2", m=m * n), generator=generator, data_seed=data_seed,
        sigma_1=float(S[0]), sigma_r=sr, sigma_r1=sr1, delta=(sr - sr1) / sr, kappa_r=float(S[0]) / sr,
        x_fro=float(torch.linalg.matrix_norm(X)), tail_fro=float(S[r:].norm()), xr_fro=float(S[:r].norm()),
        sigma_top=[float(s) for s in S[:q]],
    )
    if natural is not None:
        info["truncated_svd_test_error"] = float(torch.linalg.matrix_norm(Xr - natural) /
                                                 torch.linalg.matrix_norm(natural))
    op = IdentityOperator((m, n), symmetric=symmetric)
    refs = {"X_obs": X, "X_r": Xr, "U_top": U[:, :q].contiguous(), "S_top": S[:q].contiguous(),
            "V_top": Vh[:q].T.contiguous()}
    prob = Problem(operator=op, y=X.reshape(-1), loss=make_loss("squared", 0.5),
                   X_star=natural if natural is not None else Xr, references=refs, info=info)
    return prob.to(resolve_device(device), resolve_dtype(dtype))


def gap_problem_kwargs(kappa: float, delta: float, **extra) -> dict:
    return {"generator": "gap", "kappa": kappa, "delta": delta, **extra}


__all__ = ["gap_spectrum", "jiang2023_model_free", "model_free_matrix"]

