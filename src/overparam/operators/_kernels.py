"""Compiled CPU kernels (numba) for sparse completion: the fused sampled product (SDDMM).

z_e = Σ_l L[i_e, l] R[j_e, l] for the observed entries e = (i_e, j_e) in CSR order, computed row by
row without gathering copies of L and R. numba is imported lazily, so importing overparam stays
cheap; kernels are cached on disk after their first compilation.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _sddmm_kernel():
    import numba as nb

    @nb.njit(parallel=True, cache=True, nogil=True)
    def sddmm_csr(crow, cols, L, R, out):  # pragma: no cover - compiled
        n = crow.shape[0] - 1
        k = L.shape[1]
        for i in nb.prange(n):
            for e in range(crow[i], crow[i + 1]):
                j = cols[e]
                s = 0.0
                for l in range(k):
                    s += L[i, l] * R[j, l]
                out[e] = s

    return sddmm_csr


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    return True


def sddmm_csr(crow: np.ndarray, cols: np.ndarray, L: np.ndarray, R: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill ``out[e] = L[i_e] · R[j_e]`` for the CSR pattern (``crow``, ``cols``)."""
    _sddmm_kernel()(crow, cols, L, R, out)
    return out
