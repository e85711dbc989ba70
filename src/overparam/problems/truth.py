"""Planted low-rank ground truths X⋆ = L Rᵀ (PSD: R = L).

Kinds:

* ``"gaussian_unit_columns"`` — 000 App. B (paper-faithful): U⋆ ∈ ℝ^{d×r} with i.i.d. N(0,1)
  entries and every column normalized to unit norm, X⋆ = U⋆U⋆ᵀ ("so that ‖X⋆‖ is close to one";
  κ is not controlled). Asymmetric: X⋆ = U⋆V⋆ᵀ with both factors column-normalized.
* ``"gaussian"`` — Gaussian factors, X⋆ rescaled so that ``norm(X⋆) = scale`` (001: ‖U⋆‖_op = 1,
  i.e. spectral norm 1; 002: ‖X♮‖_F = 1; 003: tr X♮ = 1).
* ``"orthonormal"`` — controlled: Haar-orthonormal factors (QR of Gaussians) with a prescribed
  spectrum, or σ_i geometric from 1 down to 1/κ; then rescaled to ``norm(X⋆) = scale``.

``norm`` is one of ``"spectral"``, ``"frobenius"``, ``"trace"`` (PSD only) or ``"none"``.
All draws use ``derive_seed(seed, "truth")`` on CPU in float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..backend import BackendError, generator

TRUTHS = ("gaussian_unit_columns", "gaussian", "orthonormal")
NORMS = ("spectral", "frobenius", "trace", "none")


def _haar_orthonormal(n: int, r: int, g: torch.Generator) -> torch.Tensor:
    Z = torch.randn(n, r, generator=g, dtype=torch.float64)
    Q, Rr = torch.linalg.qr(Z)
    return Q * torch.sign(torch.diagonal(Rr)).where(torch.diagonal(Rr) != 0, torch.ones(r, dtype=torch.float64))


def spectrum_from_kappa(r: int, kappa: float) -> torch.Tensor:
    """σ_1 = 1 ≥ … ≥ σ_r = 1/κ, geometrically spaced."""
    if kappa < 1:
        raise BackendError(f"kappa: got {kappa}; accepted: kappa >= 1")
    if r == 1:
        return torch.ones(1, dtype=torch.float64)
    return torch.logspace(0.0, -torch.log10(torch.tensor(float(kappa))).item(), r, dtype=torch.float64)


def _norm_of(L: torch.Tensor, R: torch.Tensor, norm: str, psd: bool) -> float:
    X = L @ R.T
    if norm == "spectral":
        return float(torch.linalg.matrix_norm(X, ord=2))
    if norm == "frobenius":
        return float(torch.linalg.matrix_norm(X))
    if norm == "trace":
        if not psd:
            raise BackendError("truth_norm 'trace' applies to PSD (symmetric) truths only")
        return float(torch.trace(X))
    return 1.0


def low_rank_truth(
    shape: tuple[int, int],
    r: int,
    *,
    seed: int,
    psd: bool,
    kind: str = "gaussian_unit_columns",
    kappa: float = 1.0,
    spectrum: Sequence[float] | None = None,
    norm: str | None = None,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Factors (L, R) of X⋆ = L Rᵀ (R is L for PSD truths), float64 on CPU.

    ``norm=None`` means ``"none"`` for ``gaussian_unit_columns`` and ``"spectral"`` otherwise.
    """
    d1, d2 = shape
    if kind not in TRUTHS:
        raise BackendError(f"truth: got {kind!r}; accepted: {', '.join(TRUTHS)}")
    if not 1 <= r <= min(d1, d2):
        raise BackendError(f"r: got {r}; accepted: 1 <= r <= {min(d1, d2)}")
    norm = norm or ("none" if kind == "gaussian_unit_columns" else "spectral")
    if norm not in NORMS:
        raise BackendError(f"truth_norm: got {norm!r}; accepted: {', '.join(NORMS)}")
    if psd and d1 != d2:
        raise BackendError(f"a PSD truth needs a square shape; got {shape}")
    if kind != "orthonormal" and (spectrum is not None or kappa != 1.0):
        what = "spectrum" if spectrum is not None else "kappa"
        raise BackendError(f"{what}: applies to truth 'orthonormal' only (a prescribed spectrum); this truth is "
                           f"{kind!r}, whose spectrum is random; accepted: truth = 'orthonormal' with {what}")
    g = generator(seed, "truth")
    if kind == "gaussian_unit_columns":
        L = torch.randn(d1, r, generator=g, dtype=torch.float64)
        L = L / L.norm(dim=0, keepdim=True)
        if psd:
            R = L
        else:
            R = torch.randn(d2, r, generator=g, dtype=torch.float64)
            R = R / R.norm(dim=0, keepdim=True)
    elif kind == "gaussian":
        L = torch.randn(d1, r, generator=g, dtype=torch.float64)
        R = L if psd else torch.randn(d2, r, generator=g, dtype=torch.float64)
    else:
        if spectrum is not None:
            sigma = torch.tensor(list(spectrum), dtype=torch.float64)
            if sigma.numel() != r or bool((sigma <= 0).any()):
                raise BackendError(f"spectrum: needs {r} positive values; got {list(spectrum)}")
            sigma = sigma.sort(descending=True).values
        else:
            sigma = spectrum_from_kappa(r, kappa)
        QL = _haar_orthonormal(d1, r, g)
        QR = QL if psd else _haar_orthonormal(d2, r, g)
        s = sigma.sqrt()
        L = QL * s
        R = L if psd else QR * s
    if norm != "none":
        c = scale / _norm_of(L, R, norm, psd)
        L = L * c**0.5
        R = L if psd else R * c**0.5
    elif scale != 1.0:
        L = L * scale**0.5
        R = L if psd else R * scale**0.5
    return L, R


def truth_summary(L: torch.Tensor, R: torch.Tensor, r: int) -> dict[str, float]:
    """Spectral norm, Frobenius norm and condition number κ = σ_1/σ_r of X⋆ = L Rᵀ."""
    s = torch.linalg.svdvals(L @ R.T)[:r]
    return {
        "truth_spectral_norm": float(s[0]),
        "truth_frobenius_norm": float(torch.linalg.matrix_norm(L @ R.T)),
        "truth_kappa": float(s[0] / s[r - 1]),
    }
