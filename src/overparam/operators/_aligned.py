"""Arrays for the compiled kernels on a 64-byte boundary (a cache line, one AVX-512 vector).

The kernels load and store vectors of 8 doubles (:mod:`._simd`). NumPy aligns an array's data to
16 bytes and numba to 32, so such a vector of a NumPy- or numba-made array straddles two cache
lines at every load and store, and which alignment an array gets depends on the heap's state: a
kernel ran at one of two speeds from one process to the next (the d = 20 sensing segment at 15 or
25 µs a step; torch's own tensors are 64-byte aligned already). Alignment changes no arithmetic,
only where the data lies. Inside kernels, :func:`._simd.empty_aligned` does the same.
"""

from __future__ import annotations

import numpy as np

#: The alignment of the arrays that kernels read and write in vectors.
ALIGN = 64


def aligned_empty(shape, dtype) -> np.ndarray:
    """An uninitialized C-contiguous array of ``shape`` whose data starts on an :data:`ALIGN`-byte boundary."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    buf = np.empty(n + ALIGN // dtype.itemsize, dtype=dtype)
    off = (-buf.ctypes.data % ALIGN) // dtype.itemsize
    return buf[off:off + n].reshape(shape)


def aligned_zeros(shape, dtype) -> np.ndarray:
    """:func:`aligned_empty`, filled with zeros."""
    out = aligned_empty(shape, dtype)
    out[...] = 0
    return out
