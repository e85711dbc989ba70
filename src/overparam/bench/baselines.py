"""The straightforward NumPy steps a paper's own script would run, written plainly on purpose.

These are the peers the library is compared with, not code the library uses: per-measurement
``einsum`` over an ``(m, d, d)`` stack of sensing matrices, a dense 0/1 mask for completion, the
materialized x_i x_iᵀ for rank-one sensing, and plain matrix products for factorization. Each
returns the parameters after one gradient step with the same conventions as the library step it
is timed against (the benchmark checks that both give the same result).
"""

from __future__ import annotations

import numpy as np


def sensing_step(A: np.ndarray, y: np.ndarray, U: np.ndarray, eta: float) -> np.ndarray:
    """000 Eq. (5): U ← U − η M U, M = (1/m) Σ_i (⟨A_i, UUᵀ⟩ − y_i) A_i, with A ``(m, d, d)``."""
    m = A.shape[0]
    X = U @ U.T
    r = np.einsum("ijk,jk->i", A, X) - y
    M = np.einsum("i,ijk->jk", r, A) / m
    return U - eta * (M @ U)


def completion_step(mask: np.ndarray, Y: np.ndarray, U: np.ndarray, V: np.ndarray, eta: float, p: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """GD on (1/(2p))‖P_Ω(UVᵀ − Y)‖_F² with P_Ω a dense 0/1 ``mask`` (n1 × n2)."""
    R = mask * (U @ V.T - Y)
    return U - (eta / p) * (R @ V), V - (eta / p) * (R.T @ U)


def rank_one_step(A: np.ndarray, y: np.ndarray, U: np.ndarray, eta: float) -> np.ndarray:
    """The sensing step with the materialized A_i = x_i x_iᵀ ``(m, d, d)`` (000 §1.2)."""
    return sensing_step(A, y, U, eta)


def factorization_step(X: np.ndarray, F: np.ndarray, G: np.ndarray, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """GD on ½‖FGᵀ − X‖_F² (002 Eq. M): F ← F − η (FGᵀ − X) G, G ← G − η (FGᵀ − X)ᵀ F."""
    R = F @ G.T - X
    return F - eta * (R @ G), G - eta * (R.T @ F)


def sensing_gemv_loop(A: np.ndarray, y: np.ndarray, U: np.ndarray, step: float, steps: int) -> np.ndarray:
    """``steps`` GD steps on c‖𝒜(UUᵀ) − y‖² with a flat A ``(m, d²)`` of symmetric A_i, as a
    researcher writes them: two matrix–vector products per step, r = A vec(UUᵀ) − y and
    M = mat(rᵀA), then U ← U − step · M U (step = η s · 4c: ∇_U = 2 · 2c M U for symmetric A_i)."""
    d = U.shape[0]
    for _ in range(steps):
        r = A @ (U @ U.T).ravel() - y
        M = (r @ A).reshape(d, d)
        U = U - step * (M @ U)
    return U


def factorization_loop(X: np.ndarray, F: np.ndarray, G: np.ndarray, eta: float, steps: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` GD steps on ½‖FGᵀ − X‖_F² (002): the residual once, then the two gradient products."""
    for _ in range(steps):
        R = F @ G.T - X
        F, G = F - eta * (R @ G), G - eta * (R.T @ F)
    return F, G
