"""What the depth study reads from an end-to-end matrix X (Arora, Cohen, Hu, Luo 2019, §2.2 and Fig. 2).

* effective rank (Roy & Vetterli 2007): erank(X) = exp(H(p)), H(p) = −Σ_i p_i log p_i with
  p_i = σ_i / Σ_j σ_j over the singular values of X (0 log 0 = 0). It is 1 for a rank-one matrix,
  k for a rank-k matrix with k equal singular values, and d for a multiple of an orthogonal d × d
  matrix; between those it varies continuously (it is the rank measure Arora et al. plot).
* numerical rank at fraction τ: #{i : σ_i > τ · σ_1} (0 for X = 0).
* unobserved-entry error (the test error of completion, Arora et al. §2.2: "the reconstruction
  error over the unobserved entries"): ‖P_Ωᶜ(X − X⋆)‖_F / ‖P_Ωᶜ(X⋆)‖_F, Ωᶜ the entries not observed.
* the end-to-end matrix of stored factors: X itself (param ``direct``) or W_N ⋯ W_1 (``deep``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch


def effective_rank(s) -> float:
    """exp(−Σ p_i log p_i), p_i = σ_i/Σσ (module docstring); ``s`` the singular values (any order)."""
    s = torch.as_tensor(np.asarray(s, dtype=np.float64))
    total = s.sum()
    if not total > 0:
        return float("nan")
    p = s / total
    return float(torch.exp(-torch.xlogy(p, p).sum()))


def numerical_rank(s, fraction: float) -> int:
    """#{σ_i > fraction · σ_1} (module docstring); ``s`` the singular values (any order)."""
    s = np.asarray(s, dtype=np.float64)
    if s.size == 0 or not s.max() > 0:
        return 0
    return int(np.count_nonzero(s > fraction * s.max()))


def unobserved_mask(shape: tuple[int, int], rows, cols) -> torch.Tensor:
    """Boolean d1 × d2 mask of the entries not in Ω = {(rows[k], cols[k])}."""
    mask = torch.ones(shape, dtype=torch.bool)
    mask[torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)] = False
    return mask


def unobserved_error(X, X_star, rows, cols) -> float:
    """‖P_Ωᶜ(X − X⋆)‖_F / ‖P_Ωᶜ(X⋆)‖_F (module docstring)."""
    X = torch.as_tensor(X, dtype=torch.float64)
    X_star = torch.as_tensor(X_star, dtype=torch.float64)
    mask = unobserved_mask(tuple(X_star.shape), rows, cols)
    den = X_star[mask].norm()
    return float((X - X_star)[mask].norm() / den) if den > 0 else float("nan")


def end_to_end(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """The end-to-end matrices (replica axis first) of stored final factors: ``X`` (param ``direct``)
    or W_N ⋯ W_1 from ``W1`` … ``WN`` (param ``deep``)."""
    if "X" in arrays:
        return np.asarray(arrays["X"], dtype=np.float64)
    names = sorted((k for k in arrays if k.startswith("W") and k[1:].isdigit()), key=lambda k: int(k[1:]))
    if not names:
        raise ValueError(f"stored factors {sorted(arrays)}: expected X or W1 … WN")
    out = np.asarray(arrays[names[0]], dtype=np.float64)
    for name in names[1:]:
        out = np.asarray(arrays[name], dtype=np.float64) @ out
    return out


__all__ = ["effective_rank", "end_to_end", "numerical_rank", "unobserved_error", "unobserved_mask"]
