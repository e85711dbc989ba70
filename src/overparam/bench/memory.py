"""The memory limit: the time to read an operator's stored data once, measured in the same process.

A read is timed as the faster of two kernels that touch every byte once and do almost nothing
else: a compiled (numba), multi-threaded, vectorized sum of the array, and, for floating-point
data, a BLAS matrix-vector product ``v @ A`` (MKL streams A at close to the memory bandwidth).
The faster of the two is the honest limit: no step that reads the data can beat it.
"""

from __future__ import annotations

import functools

import torch


@functools.cache
def _sum_kernel():
    import numba as nb

    from ..backend import start_numba_pool

    start_numba_pool()

    @nb.njit(parallel=True, fastmath=True, cache=True, nogil=True)
    def rowsum(a):  # pragma: no cover - compiled
        n = a.shape[0]
        out = 0.0
        for i in nb.prange(n):
            s = 0.0
            for j in range(a.shape[1]):
                s += a[i, j]
            out += s
        return out

    return rowsum


def _as_rows(t: torch.Tensor) -> torch.Tensor:
    t = t.contiguous()
    if t.ndim == 1:
        n = t.numel()
        cols = 1024 if n >= 1024 else n
        t = t[: (n // cols) * cols].reshape(-1, cols) if n >= cols else t.reshape(1, -1)
    return t.reshape(t.shape[0], -1)


def readers(tensors: list[torch.Tensor]) -> dict[str, callable]:
    """Functions that read all of ``tensors`` once: ``"sum"`` (numba) and ``"gemv"`` (BLAS)."""
    mats = [_as_rows(t) for t in tensors]
    out = {}
    if all(m.device.type == "cpu" for m in mats):
        kernel = _sum_kernel()
        arrays = [m.numpy() for m in mats]

        from ..operators._dense_kernels import parallel_policy

        work = sum(a.size for a in arrays)

        def numba_sum():
            with parallel_policy(work):  # one thread for small arrays, as the operators' kernels
                return sum(kernel(a) for a in arrays)

        out["sum"] = numba_sum
    if all(m.is_floating_point() for m in mats):  # integer index arrays: the compiled sum only
        vecs = [torch.ones(m.shape[0], dtype=m.dtype, device=m.device) for m in mats]

        def gemv():
            return [v @ m for v, m in zip(vecs, mats, strict=True)]

        out["gemv"] = gemv
    return out


def nbytes(tensors: list[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)
