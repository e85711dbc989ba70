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
pattern only), so results do not depend on the number of threads. numba is imported lazily, so
importing overparam stays cheap; kernels are cached on disk after their first compilation.
"""

from __future__ import annotations

import functools

import numpy as np

MAX_CHUNKS = 8


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


@functools.cache
def _fused_kernels():
    import numba as nb

    from ._simd import fma, hsum_tree, load, mul, splat, store, zero

    @nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
    def fused_step(crow, cols, bounds, L, R, y, s, z, GR, GtLp, rsq, tag):  # pragma: no cover - compiled
        """One replica. A factor row (k = len(tag) numbers) is one SIMD vector, so G R's row i and
        the dot products stay in registers. bounds (nch+1,) row ranges of the chunks; GR (n1, k)
        out; GtLp (nch, n2, k) per-chunk partials of Gᵀ L; rsq (nch,) per-chunk Σ r_e²."""
        nch = bounds.shape[0] - 1
        k = len(tag)
        Lf = L.reshape(-1)
        Rf = R.reshape(-1)
        GRf = GR.reshape(-1)
        for c in nb.prange(nch):
            part = GtLp[c].reshape(-1)
            for t in range(0, part.size, k):
                store(part, t, zero(part, tag))
            acc = s - s
            for i in range(bounds[c], bounds[c + 1]):
                li = load(Lf, i * k, tag)
                gi = zero(Lf, tag)
                for e in range(crow[i], crow[i + 1]):
                    j = cols[e]
                    rj = load(Rf, j * k, tag)
                    d = hsum_tree(mul(li, rj))  # Σ_l L[i,l] R[j,l]
                    z[e] = d
                    r = d - y[e]
                    acc += r * r
                    w = splat(s * r, tag)
                    gi = fma(w, rj, gi)
                    store(part, j * k, fma(w, li, load(part, j * k, tag)))
                store(GRf, i * k, gi)
            rsq[c] = acc


    from ._dense_kernels import sum_chunks_kernel

    return fused_step, sum_chunks_kernel()


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
    kernel, sum_chunks = _fused_kernels()
    n1, k = L.shape
    nch = bounds.shape[0] - 1
    z = np.empty(cols.shape[0], dtype=L.dtype)
    GR = np.empty((n1, k), dtype=L.dtype)
    parts = np.empty((nch, n2, k), dtype=L.dtype)
    rsq = np.empty(nch, dtype=L.dtype)
    from ._dense_kernels import parallel_policy

    with parallel_policy(cols.shape[0] * k * 3):
        kernel(crow, cols, bounds, L, R, y, s, z, GR, parts, rsq, (0.0,) * k)
        GtL = np.empty((n2, k), dtype=L.dtype)
        sum_chunks(parts.reshape(nch, -1), GtL.reshape(-1))
    total = rsq[0]
    for c in range(1, nch):
        total += rsq[c]
    return z, GR, GtL, total
