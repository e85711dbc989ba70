"""Problem factories: one per setting of the five papers, plus ``from_arrays`` for your own data.

Every factory draws its data from explicit seeds (``data_seed`` for measurements and noise,
``truth_seed`` for the planted solution, defaulting to ``data_seed``), builds in float64 on the CPU
and then moves to ``device``/``dtype``, so the same seeds give the same instance everywhere.
The loss normalization is stated in each docstring and recorded in ``problem.info``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from pydantic import validate_call

from .._types import Kappa, NonNegFloat, PosFloat, PosInt, Probability, Seed
from ..backend import BackendError, as_tensor, generator, resolve_device, resolve_dtype
from ..losses import SquaredLoss, make_loss, normalization_constant
from ..operators import (
    EntrySampling,
    GaussianDesign,
    GaussianSensing,
    IdentityOperator,
    LinearOperator,
    MatrixFreeGaussianSensing,
    RankOneSensing,
)
from ..registry import register
from .problem import Problem
from .truth import low_rank_truth, truth_summary

Truth = Literal["gaussian_unit_columns", "gaussian", "orthonormal"]
TruthNorm = Literal["spectral", "frobenius", "trace", "none"] | None
Normalization = Literal["1/(2m)", "1/m", "1/(4m)", "1/2", "1/8", "1/(2p)", "1"]
Ensemble = Literal["sym", "raw", "triu"]
Storage = Literal["stored", "matrix_free"]

_validate = validate_call(config={"arbitrary_types_allowed": True})


def _gaussian_operator(operator: str, m: int, shape: tuple[int, int], *, seed: int, packed: bool, ensemble: str,
                       scale: float) -> LinearOperator:
    """The stored Gaussian sensing matrix, or its matrix-free twin (same rows, regenerated per use)."""
    cls = GaussianSensing.sample if operator == "stored" else MatrixFreeGaussianSensing
    return cls(m, shape, seed=seed, packed=packed, ensemble=ensemble, scale=scale)


def _finish(
    name: str,
    operator: LinearOperator,
    L: torch.Tensor | None,
    R: torch.Tensor | None,
    *,
    r: int | None,
    normalization: str,
    noise: float,
    data_seed: int,
    device: str | None,
    dtype: str | None,
    loss: str = "squared",
    y: torch.Tensor | None = None,
    p: float | None = None,
    info: dict[str, Any] | None = None,
    references: dict[str, torch.Tensor] | None = None,
    keep_dense_truth: bool = True,
) -> Problem:
    """Observations y = 𝒜(X⋆) + noise·ε (ε ~ N(0, I) from ``data_seed``), loss, placement."""
    if y is None:
        if operator.prefers_factored:
            y = operator.forward_factored(L, R)
        else:
            y = operator.forward(L @ R.T)
        if noise > 0:
            g = generator(data_seed, "noise")
            y = y + noise * torch.randn(y.shape, generator=g, dtype=torch.float64)
    c = normalization_constant(normalization, m=operator.m, p=p)
    full_info: dict[str, Any] = {
        "name": name,
        "shape": list(operator.in_shape),
        "r": r,
        "m": operator.m,
        "normalization": normalization,
        "c": c,
        "noise": noise,
        "data_seed": data_seed,
        **(info or {}),
    }
    if L is not None and r is not None and len(operator.in_shape) == 2:
        full_info.update(truth_summary(L, R, r))
    prob = Problem(
        operator=operator,
        y=y,
        loss=make_loss(loss, c),
        X_star=(L @ R.T) if (L is not None and keep_dense_truth) else None,
        truth_factors=None if L is None else (L, R),
        references=references or {},
        info=full_info,
    )
    return prob.to(resolve_device(device), resolve_dtype(dtype))


def _truth(shape, r, *, psd, truth, kappa, spectrum, truth_norm, truth_scale, truth_seed, data_seed):
    seed = data_seed if truth_seed is None else truth_seed
    L, R = low_rank_truth(shape, r, seed=seed, psd=psd, kind=truth, kappa=kappa, spectrum=spectrum,
                          norm=truth_norm, scale=truth_scale)
    return L, R, {"truth": truth, "truth_seed": seed}


@register("problem")
@_validate
def matrix_sensing(
    d: PosInt,
    r: PosInt,
    m: PosInt,
    *,
    truth: Truth = "gaussian_unit_columns",
    kappa: Kappa = 1.0,
    spectrum: Sequence[PosFloat] | None = None,
    truth_norm: TruthNorm = None,
    truth_scale: PosFloat = 1.0,
    ensemble: Ensemble = "sym",
    sensing_scale: PosFloat = 1.0,
    noise: NonNegFloat = 0.0,
    normalization: Normalization = "1/(2m)",
    operator: Storage = "stored",
    truth_seed: Seed | None = None,
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """Symmetric PSD Gaussian matrix sensing (000 §1.1; the symmetric MS of 001, 003, 004).

    y_i = ⟨A_i, X⋆⟩ + noise·ε_i with X⋆ = U⋆U⋆ᵀ ⪰ 0 of rank r in ℝ^{d×d}; A_i from ``ensemble``
    (``"sym"`` = (Q_i + Q_iᵀ)/2, 000 footnote 3; ``"triu"`` = 003's upper-triangle fill) times
    ``sensing_scale`` (001's N(0, 1/d) entries: ``sensing_scale = d**-0.5``). X is symmetric, so
    𝒜 is stored packed, m × d(d+1)/2 — or, with ``operator="matrix_free"``, not stored at all: its
    rows are regenerated from ``data_seed`` at every step (the same rows, see
    :class:`~overparam.operators.MatrixFreeGaussianSensing`; for d where m × d(d+1)/2 numbers do not
    fit in memory).

    Loss: L(X) = c Σ_i (⟨A_i, X⟩ − y_i)², c from ``normalization`` (default 1/(2m), 000 Eq. 1).
    """
    L, R, tinfo = _truth((d, d), r, psd=True, truth=truth, kappa=kappa, spectrum=spectrum, truth_norm=truth_norm,
                         truth_scale=truth_scale, truth_seed=truth_seed, data_seed=data_seed)
    op = _gaussian_operator(operator, m, (d, d), seed=data_seed, packed=True, ensemble=ensemble, scale=sensing_scale)
    info = {**tinfo, "ensemble": ensemble, "sensing_scale": sensing_scale,
            **({"operator": operator} if operator != "stored" else {})}
    return _finish("matrix_sensing", op, L, R, r=r, normalization=normalization, noise=noise,
                   data_seed=data_seed, device=device, dtype=dtype, info=info)


@register("problem")
@_validate
def asymmetric_sensing(
    d1: PosInt,
    d2: PosInt,
    r: PosInt,
    m: PosInt,
    *,
    truth: Truth = "orthonormal",
    kappa: Kappa = 1.0,
    spectrum: Sequence[PosFloat] | None = None,
    truth_norm: TruthNorm = None,
    truth_scale: PosFloat = 1.0,
    ensemble: Ensemble = "raw",
    sensing_scale: PosFloat = 1.0,
    noise: NonNegFloat = 0.0,
    normalization: Normalization = "1/(2m)",
    operator: Storage = "stored",
    truth_seed: Seed | None = None,
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """Asymmetric Gaussian matrix sensing (004 §7): X⋆ = L Σ Rᵀ ∈ ℝ^{d1×d2}, rank r.

    y_i = ⟨A_i, X⋆⟩ + noise·ε_i with A_i i.i.d. N(0,1) (``"raw"``), stored as m × d1·d2, or regenerated
    from ``data_seed`` at every step with ``operator="matrix_free"`` (the same rows, nothing stored).
    Loss: L(X) = c Σ_i (⟨A_i, X⟩ − y_i)², default c = 1/(2m).
    """
    L, R, tinfo = _truth((d1, d2), r, psd=False, truth=truth, kappa=kappa, spectrum=spectrum, truth_norm=truth_norm,
                         truth_scale=truth_scale, truth_seed=truth_seed, data_seed=data_seed)
    op = _gaussian_operator(operator, m, (d1, d2), seed=data_seed, packed=False, ensemble=ensemble,
                            scale=sensing_scale)
    info = {**tinfo, "ensemble": ensemble, "sensing_scale": sensing_scale,
            **({"operator": operator} if operator != "stored" else {})}
    return _finish("asymmetric_sensing", op, L, R, r=r, normalization=normalization, noise=noise,
                   data_seed=data_seed, device=device, dtype=dtype, info=info)


@register("problem")
@_validate
def matrix_factorization(
    d1: PosInt,
    d2: PosInt,
    r: PosInt,
    *,
    truth: Truth = "gaussian",
    kappa: Kappa = 1.0,
    spectrum: Sequence[PosFloat] | None = None,
    truth_norm: TruthNorm = "frobenius",
    truth_scale: PosFloat = 1.0,
    noise: NonNegFloat = 0.0,
    noise_op_norm: NonNegFloat | None = None,
    symmetric: bool = False,
    normalization: Normalization = "1/2",
    truth_seed: Seed | None = None,
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """Model-free factorization (002): observe X = X♮ + E in full, X♮ of rank r.

    E has i.i.d. N(0, σ²) entries with σ = ``noise``, or σ = ``noise_op_norm``/(√d1 + √d2) so that
    E‖E‖ ≈ ``noise_op_norm`` (002 Fig. 1: E‖E‖ ≈ 2·10⁻³). ``symmetric`` uses a PSD X♮ and
    symmetrized noise (E + Eᵀ)/√2. The operator is the identity; X⋆ = X♮ for test errors and
    ``references["X_obs"]`` = X.

    Loss: L(X) = c ‖X − X_obs‖_F², default c = ½ (002 Eq. M: f = ½‖FGᵀ − X‖_F²).
    """
    if symmetric and d1 != d2:
        raise BackendError(f"symmetric factorization needs d1 == d2; got {d1}, {d2}")
    L, R, tinfo = _truth((d1, d2), r, psd=symmetric, truth=truth, kappa=kappa, spectrum=spectrum,
                         truth_norm=truth_norm, truth_scale=truth_scale, truth_seed=truth_seed, data_seed=data_seed)
    sigma = noise if noise_op_norm is None else noise_op_norm / (math.sqrt(d1) + math.sqrt(d2))
    X_obs = L @ R.T
    if sigma > 0:
        E = torch.randn(d1, d2, generator=generator(data_seed, "noise"), dtype=torch.float64)
        if symmetric:
            E = (E + E.T) / math.sqrt(2.0)
        X_obs = X_obs + sigma * E
    op = IdentityOperator((d1, d2), symmetric=symmetric)
    info = {**tinfo, "noise_std": sigma, "symmetric": symmetric}
    return _finish("matrix_factorization", op, L, R, r=r, normalization=normalization, noise=0.0,
                   data_seed=data_seed, device=device, dtype=dtype, y=X_obs.reshape(-1), info=info,
                   references={"X_obs": X_obs})


@register("problem")
@_validate
def matrix_completion(
    d1: PosInt,
    d2: PosInt,
    r: PosInt,
    *,
    p: Probability | None = None,
    m: PosInt | None = None,
    symmetric: bool = False,
    truth: Truth = "orthonormal",
    kappa: Kappa = 1.0,
    spectrum: Sequence[PosFloat] | None = None,
    truth_norm: TruthNorm = None,
    truth_scale: PosFloat = 1.0,
    noise: NonNegFloat = 0.0,
    normalization: Normalization = "1/(2p)",
    truth_seed: Seed | None = None,
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """Matrix completion (004 Eq. 124): observe X⋆_ij on Ω, Bernoulli(p) per entry or m entries.

    No dense mask is ever formed (see :class:`~overparam.operators.EntrySampling`). ``symmetric``
    samples pairs i ≤ j of a PSD X⋆ and observes both (i, j) and (j, i).

    Loss: L(X) = c ‖P_Ω(X − X⋆)‖_F², default c = 1/(2p) (with m given, p = m / (d1 d2)).
    """
    if (p is None) == (m is None):
        raise BackendError("matrix_completion: give exactly one of p (sampling rate) or m (entry count)")
    L, R, tinfo = _truth((d1, d2), r, psd=symmetric, truth=truth, kappa=kappa, spectrum=spectrum,
                         truth_norm=truth_norm, truth_scale=truth_scale, truth_seed=truth_seed, data_seed=data_seed)
    op = EntrySampling.sample((d1, d2), seed=data_seed, p=p, m=m, symmetric=symmetric)
    p_eff = p if p is not None else m / (d1 * d2 if not symmetric else d1 * (d1 + 1) / 2)
    big = d1 * d2 > 4_000_000
    info = {**tinfo, "p": p_eff, "symmetric": symmetric}
    return _finish("matrix_completion", op, L, R, r=r, normalization=normalization, noise=noise, p=p_eff,
                   data_seed=data_seed, device=device, dtype=dtype, info=info, keep_dense_truth=not big)


@register("problem")
@_validate
def quadratic_network(
    d: PosInt,
    r: PosInt,
    m: PosInt,
    *,
    truth: Truth = "gaussian_unit_columns",
    kappa: Kappa = 1.0,
    spectrum: Sequence[PosFloat] | None = None,
    truth_norm: TruthNorm = None,
    truth_scale: PosFloat = 1.0,
    noise: NonNegFloat = 0.0,
    normalization: Normalization = "1/(2m)",
    truth_seed: Seed | None = None,
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """One-hidden-layer network with quadratic activation (000 §1.2, App. A; 001 App. F).

    Teacher y = Σ_j (u⋆_jᵀx)² = ⟨x xᵀ, U⋆U⋆ᵀ⟩ with x ~ N(0, I_d); the student ŷ = ‖Uᵀx‖² is rank-one
    sensing with A_i = x_i x_iᵀ (never formed). Not RIP: E⟨xxᵀ, X⟩xxᵀ = 2X + tr(X) I (Lemma A.1).

    Loss: L(X) = c Σ_i (x_iᵀ X x_i − y_i)², default c = 1/(2m) (Algorithm 1 applies its own
    truncation and rescaling on top).
    """
    L, R, tinfo = _truth((d, d), r, psd=True, truth=truth, kappa=kappa, spectrum=spectrum, truth_norm=truth_norm,
                         truth_scale=truth_scale, truth_seed=truth_seed, data_seed=data_seed)
    op = RankOneSensing.sample(m, d, seed=data_seed)
    return _finish("quadratic_network", op, L, R, r=r, normalization=normalization, noise=noise,
                   data_seed=data_seed, device=device, dtype=dtype, info=tinfo)


@register("problem")
@_validate
def sparse_regression(
    n: PosInt,
    d: PosInt,
    k: PosInt,
    *,
    beta: Sequence[float] | None = None,
    design_scale: PosFloat = 1.0,
    noise: NonNegFloat = 0.0,
    normalization: Normalization = "1/(2m)",
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """Sparse recovery (004 Eq. 126): y = X β⋆ + noise·ε with X ∈ ℝ^{n×d} i.i.d. N(0, design_scale²).

    β⋆ is zero except its first k entries, which are ``beta`` (default all ones).
    Loss: L(β) = c ‖X β − y‖², default c = 1/(2n) (004: f(u, v) = (1/(2n))‖y − X(u⊙v)‖²).
    """
    if k > d:
        raise BackendError(f"k: got {k}; accepted: 1 <= k <= d = {d}")
    vals = torch.ones(k, dtype=torch.float64) if beta is None else torch.tensor(list(beta), dtype=torch.float64)
    if vals.numel() != k:
        raise BackendError(f"beta: needs {k} values (one per support entry); got {vals.numel()}")
    beta_star = torch.zeros(d, dtype=torch.float64)
    beta_star[:k] = vals
    op = GaussianDesign.sample(n, d, seed=data_seed, scale=design_scale)
    y = op.forward(beta_star)
    if noise > 0:
        y = y + noise * torch.randn(y.shape, generator=generator(data_seed, "noise"), dtype=torch.float64)
    c = normalization_constant(normalization, m=n)
    info = {"name": "sparse_regression", "shape": [d], "r": k, "m": n, "normalization": normalization, "c": c,
            "noise": noise, "data_seed": data_seed}
    prob = Problem(operator=op, y=y, loss=SquaredLoss(c), X_star=beta_star, info=info)
    return prob.to(resolve_device(device), resolve_dtype(dtype))


@register("problem")
@_validate
def one_bit_completion(
    d1: PosInt,
    d2: PosInt,
    r: PosInt,
    *,
    p: Probability = 1.0,
    symmetric: bool = False,
    truth: Truth = "orthonormal",
    kappa: Kappa = 1.0,
    spectrum: Sequence[PosFloat] | None = None,
    truth_norm: TruthNorm = None,
    truth_scale: PosFloat = 1.0,
    normalization: Normalization = "1",
    truth_seed: Seed | None = None,
    data_seed: Seed = 0,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """1-bit matrix completion with the expected logistic loss (004 Eq. 125).

    Y_ij = 1 with probability σ(X⋆_ij); the *expected* negative log-likelihood over observed entries
    (all of them for p = 1) is L(X) = c Σ_{(i,j)∈Ω} [softplus(X_ij) − σ(X⋆_ij) X_ij] + const, minimized
    exactly at X = X⋆ on Ω (no sampling noise). Default c = 1 [004's normalization is not legible].
    """
    L, R, tinfo = _truth((d1, d2), r, psd=symmetric, truth=truth, kappa=kappa, spectrum=spectrum,
                         truth_norm=truth_norm, truth_scale=truth_scale, truth_seed=truth_seed, data_seed=data_seed)
    if p == 1.0:
        op: LinearOperator = IdentityOperator((d1, d2), symmetric=symmetric)
        y = torch.sigmoid(L @ R.T).reshape(-1)
    else:
        op = EntrySampling.sample((d1, d2), seed=data_seed, p=p, symmetric=symmetric)
        y = torch.sigmoid(op.forward_factored(L, R))
    return _finish("one_bit_completion", op, L, R, r=r, normalization=normalization, noise=0.0, loss="logistic",
                   data_seed=data_seed, device=device, dtype=dtype, y=y, info={**tinfo, "p": p})


def _real_finite_data(name: str, x: Any) -> torch.Tensor:
    """``x`` as a float64 tensor, refused (one line naming ``name``) when it is complex (casting would
    drop the imaginary part), not numeric, or holds NaN or ±inf (a run would then read as diverged)."""
    is_complex = x.is_complex() if isinstance(x, torch.Tensor) else bool(np.iscomplexobj(x))
    if is_complex:
        raise BackendError(f"{name}: got complex data; accepted: real numbers (pass the real and imaginary parts "
                           "as separate real measurements)")
    try:
        t = as_tensor(x, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise BackendError(f"{name}: expected an array of real numbers; got {type(x).__name__} "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise BackendError(f"{name}: {bad} entr{'y is' if bad == 1 else 'ies are'} NaN or infinite; "
                           "accepted: finite real numbers")
    return t


def from_arrays(
    A: Any,
    y: Any,
    *,
    X_star: Any = None,
    r: int | None = None,
    normalization: str = "1/(2m)",
    symmetric: bool | None = None,
    device: str | None = None,
    dtype: str | None = None,
) -> Problem:
    """A problem from your own data (NumPy arrays or tensors).

    ``A`` is ``(m, d1, d2)`` sensing matrices (stored packed when all are symmetric, unless
    ``symmetric=False``) or ``(m, d)`` for a vector design; ``y`` is ``(m,)``.
    Loss: L = c Σ (⟨A_i, X⟩ − y_i)², c from ``normalization`` (default 1/(2m)).
    """
    A_t = _real_finite_data("A", A)
    y_t = _real_finite_data("y", y)
    if A_t.ndim >= 1 and A_t.shape[0] == 0:
        raise BackendError(f"A: got m = 0 measurements (shape {tuple(A_t.shape)}); accepted: m >= 1")
    if y_t.ndim != 1 or y_t.shape[0] != A_t.shape[0]:
        raise BackendError(f"y: expected shape ({A_t.shape[0]},) to match A; got {tuple(y_t.shape)}")
    if A_t.ndim == 3:
        op: LinearOperator = GaussianSensing.from_matrices(A_t, packed=symmetric)
    elif A_t.ndim == 2:
        op = GaussianDesign(A_t, info={"source": "arrays"})
    else:
        raise BackendError(f"A: expected (m, d1, d2) matrices or an (m, d) design; got shape {tuple(A_t.shape)}")
    Xs = None if X_star is None else _real_finite_data("X_star", X_star)
    if Xs is not None and tuple(Xs.shape) != tuple(op.in_shape):
        raise BackendError(f"X_star: expected shape {tuple(op.in_shape)}; got {tuple(Xs.shape)}")
    c = normalization_constant(normalization, m=op.m)
    info = {"name": "from_arrays", "shape": list(op.in_shape), "r": r, "m": op.m, "normalization": normalization,
            "c": c}
    prob = Problem(operator=op, y=y_t, loss=SquaredLoss(c), X_star=Xs, info=info)
    return prob.to(resolve_device(device), resolve_dtype(dtype))
