"""Compiled CPU kernels (numba) for sparse completion: the fused sampled product (SDDMM) and the fused
squared-loss step over the observed entries.

* :func:`sddmm_csr`: z_e = Σ_l L[i_e, l] R[j_e, l] for the observed entries e = (i_e, j_e) in CSR
  order, row by row, without gathering copies of L and R.
* :func:`fused_step`: in the same single pass over the entries, also the residual
  r_e = z_e − y_e, its square sum, and both gradient products of G = 𝒜*(s r):
  (G R)[i] = Σ_{e∈row i} s r_e R[j_e] (owned by the row, accumulated in registers' order) and
  (Gᵀ L)[j] = Σ_e s r_e L[i_e] (scattered, so every chunk of rows accumulates its own partial,
  summed in chunk order). Each R[j_e] row is read once instead of three times (sampled product,
  G R, Gᵀ L as separate sparse products), and no residual vector is formed in between.

Rows are split into a fixed number of chunks of about equal entry counts (it depends on the
pattern only), so results do not depend on the number of threads. The threads claim the chunks
one at a time (:mod:`._team`, :mod:`._atomic`) instead of a ``prange`` region: numba's OpenMP
layer gives each of two threads half the chunks up front and its join waits for both, so a thread
the OS had paused for a neighbour's process held the step for a time slice (n = 2000, p = 0.05,
k = 10, 2 threads, load average ≈ 10: 55 ms per GD step before, 4.3 ms after; bits unchanged). numba is imported lazily, so
importing overparam stays cheap; kernels are cached on disk after their first compilation.
"""

from __future__ import annotations

import functools

import numpy as np

MAX_CHUNKS = 8
TILE = 2048  # numbers of Gᵀ L summed per claim in the reduction of the chunks' partials


@functools.cache
def _sddmm_kernel():
    from . import _compiled

    return _compiled.sddmm_csr


@functools.cache
def _fused_kernel():
    from . import _compiled

    return _compiled.fused_step


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


def chunk_bounds(crow: np.ndarray, chunks: int = MAX_CHUNKS) -> np.ndarray:
    """Row boundaries of ``chunks`` row ranges holding about equal numbers of entries."""
    n = crow.shape[0] - 1
    chunks = max(1, min(chunks, n))
    targets = np.linspace(0, crow[-1], chunks + 1)
    b = np.searchsorted(crow, targets, side="left").astype(np.int64)
    b[0], b[-1] = 0, n
    return np.maximum.accumulate(np.minimum(b, n))


def fused_step(crow, cols, bounds, L, R, y, s, n2):
    """``(z, G R, Gᵀ L, ‖z − y‖²)`` for one replica with G = 𝒜*(s (z − y)) (see the module docstring)."""
    import numba

    from . import _team
    from ._dense_kernels import SERIAL_WORK

    kernel = _fused_kernel()
    n1, k = L.shape
    nch = bounds.shape[0] - 1
    z = np.empty(cols.shape[0], dtype=L.dtype)
    GR = np.empty((n1, k), dtype=L.dtype)
    parts = np.empty((nch, n2, k), dtype=L.dtype)
    rsq = np.empty(nch, dtype=L.dtype)
    GtL = np.empty((n2, k), dtype=L.dtype)
    ctr = np.zeros(4, dtype=np.int64)
    threads = 1 if cols.shape[0] * k * 3 < SERIAL_WORK else numba.get_num_threads()
    _team.run(kernel, (ctr, crow, cols, bounds, L, R, y, s, z, GR, parts, rsq, GtL.reshape(-1), TILE, (0.0,) * k),
              _team.helpers_for(threads))
    total = rsq[0]
    for c in range(1, nch):
        total += rsq[c]
    return z, GR, GtL, total
