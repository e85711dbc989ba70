"""Fused dense sensing kernels (numba, CPU): z = A x, w = s(z − y), g = Aᵀ w with one read of A.

For a row-major sensing matrix A (m × n), replicas x_r (R of them), shared observations y and a
scale s (2c for the squared loss c‖z − y‖²), :func:`fused_residual_adjoint` returns

    z_r = A x_r,        g_r = Aᵀ (s (z_r − y)),

the squared-loss measurements and the embedded gradient of every replica. The residual of row i
depends on row i only, so a thread can finish a block of rows — dot products, residuals, then its
contribution to g — while the block is still in its cache. A is read from memory once per step,
not twice as with a forward product followed by an adjoint product.

Two kernels (2-core development machine, 2 threads, d = 100 packed, m = 2500, A = 101 MB):

* **one replica** (``fused_rows``): four rows at a time, SIMD along the row, the next rows
  prefetched while the adjoint runs. float64: 2.5 ms against 3.7 ms for MKL's ``A @ x`` then
  ``w @ A``, and 1.8–2.1 ms to read A once (float32: 1.3 ms, 1.7 ms, 0.9 ms).
* **several replicas** (``fused_replicas``): the replicas are the SIMD lanes (explicit
  ``<8 x double>`` vectors, :mod:`._simd`), eight rows per block, so every element of A that is
  loaded is used by 8 replicas from a register; the block is then reused from L2 for the adjoint.
  8 replicas: 4.2 ms against 8.0 ms for MKL's skinny GEMMs (single thread: 10.7 ms against
  25 ms, i.e. 47 % of the core's AVX-512 peak). Measured and rejected: 16 rows per block
  (registers spill: 13.8 ms against 10.7 single-threaded), two accumulation chains in the adjoint
  (4.5 against 4.2 ms), prefetching into L2 instead of L1 or two blocks ahead (no gain).
  ``embed_lanes`` / ``unembed_lanes`` write svec(X) straight into the lane layout and read smat(G)
  straight out of it (0.05 and 0.09 ms for 8 replicas, against 0.15 ms to pack in torch alone).

**Long rows** (from ``LONG_ROW_COLUMNS`` columns; 000 Figs. 1–3 at d = 200: n = 20 100, rows of
160 KB, m = 5000, A = 804 MB). A block of 4 or 8 such rows no longer fits in L2 beside x and g (or
beside the replicas' inputs and gradients, n × L each, as large as L rows of A), so the row-block
kernels read A from memory, then again from L3, and stream the replicas' arrays once per 8 rows:
2.05 and 4.7 reads of A per library step (R = 1, 8; one thread, Intel Xeon, load ≈ 2.7). Two kernels
keep the memory stream going and the live data small:

* ``fused_rows_pairs`` (one replica): the rows in pairs; the forward of pair h+1 runs in the same
  column loop as the adjoint of pair h (4 rows, x and g live). 1.50 reads per step (kernel alone
  1.27–1.30).
* ``fused_replicas_piped`` (replicas): super-blocks of ``SUPER_BYTES`` of rows, every pass in
  column tiles of ``TILE_COLUMNS``; the forward of super-block b+1 (from memory) runs in the same
  column loop as the adjoint of super-block b (from cache), and the inputs' and gradients' tiles
  stay in L2 across a super-block. 2.76 reads per step at R = 8 on one thread: at that point the
  kernel is bound by its 2·m·n·R multiply-adds (1.6·10⁹, ≈ 11 GFMA/s measured), not by memory —
  as the row-block kernel is at d = 100 (3.2 reads per step on one thread there).

Both give the bits of the row-block kernels (same fma chains in the same order;
``tests/test_operators.py``). Below ``LONG_ROW_COLUMNS`` the row-block kernels run (measured
equal at d = 100).

Determinism: rows are split into a fixed number of chunks that depends on m only (not on the
thread count); every chunk accumulates its own partial g in a fixed order and the partials are
summed in chunk order. The same inputs give the same bits for any number of threads. In the
replica kernel every lane is a plain sequential dot product with ``fma``, so results also do not
depend on the vector width of the CPU.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator

import numpy as np
import torch

from ._aligned import aligned_empty

LANES = {torch.float64: 8, torch.float32: 16}
ROWS = 8  # rows per register block of the replica kernel
#: From this row length (columns n of A; d = 128 packed) the long-row kernels run (module docstring):
#: one replica ``fused_rows_pairs``, several ``fused_replicas_piped``. Below it (d = 100: rows of
#: 40 KB) the row-block kernels were tuned and the long-row ones measured no faster.
LONG_ROW_COLUMNS = 8192
#: Bytes of A per super-block of ``fused_replicas_piped`` (two are live: the one being read for the
#: forward, the previous one re-read from cache for the adjoint); its rows, a multiple of 8.
SUPER_BYTES = 5 * 2**20
#: Columns per tile of ``fused_replicas_piped``: 8 rows' tile, the inputs' and the gradients' tiles
#: (CT × L each) stay in L2 while a super-block's rows pass.
TILE_COLUMNS = 1024


def super_rows(n: int, itemsize: int) -> int:
    """Rows per super-block: ``SUPER_BYTES`` of rows of n entries, a multiple of 8, at least 8."""
    return max(8, SUPER_BYTES // (n * itemsize) // 8 * 8)
MAX_CHUNKS = 8
SERIAL_WORK = 1 << 19  # below m·n·R multiply-adds (≈ 50 µs on one core) the kernels run on one thread


@contextlib.contextmanager
def parallel_policy(work: int) -> Iterator[None]:
    """How the kernels below use numba's threads, for the calling thread only (numba's thread count
    and chunk size are thread-local):

    * small products (``work`` < ``SERIAL_WORK`` multiply-adds, ≈ 50 µs on one core) run on one
      thread: a parallel region's start and barrier cost tens of µs, and milliseconds when a
      neighbour's process holds the other core;
    * larger ones run with chunk size 1. On numba's OpenMP and workqueue layers this does *not*
      hand the chunks out one at a time (measured: the split stays static, half to each of two
      threads); the completion kernel claims its chunks itself for that reason (:mod:`._team`).

    The chunks themselves are fixed by the data sizes, so results do not depend on either choice.
    """
    import numba

    if work < SERIAL_WORK:
        old = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            yield
        finally:
            numba.set_num_threads(old)
        return
    with numba.parallel_chunksize(1):
        yield


def lanes_for(R: int, dtype: torch.dtype) -> int:
    """SIMD lanes per replica group: one 512-bit vector (8 doubles / 16 floats), half of one for
    R ≤ 4 (8 floats), two for R > one vector (the accumulators of 8 rows × 2 vectors fill 16 of the
    32 vector registers and every broadcast element of A serves 2 vectors)."""
    L = LANES[dtype]
    if R <= L // 2:
        return L // 2
    if R <= L:
        return L
    return 2 * L


def chunk_rows(m: int, multiple: int = ROWS) -> int:
    """Rows per chunk: at most ``MAX_CHUNKS`` chunks of a multiple of ``multiple`` rows (m only)."""
    n = max(1, min(MAX_CHUNKS, math.ceil(m / 256)))
    per = math.ceil(m / n)
    return max(multiple, math.ceil(per / multiple) * multiple)


@functools.cache
def sum_chunks_kernel():
    """The compiled ``sum_chunks(parts, out)``: out = Σ_c parts[c], summed in chunk order (parts
    (nch, N), out (N,)), tiles of the output in parallel — the fixed-order reduction that makes the
    fused kernels' results independent of the thread count (also used by completion's kernel)."""
    from . import _compiled

    return _compiled.sum_chunks


@functools.cache
def _kernels():
    from . import _compiled

    return (_compiled.fused_rows, _compiled.fused_replicas, _compiled.sum_chunks, _compiled.embed_lanes,
            _compiled.unembed_lanes)


def available() -> bool:
    """numba is importable (it is a dependency; the check keeps a broken install usable)."""
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def supports(A: torch.Tensor) -> bool:
    """The fused CPU kernels apply: a C-contiguous 2-d float32/float64 CPU matrix."""
    return A.device.type == "cpu" and A.ndim == 2 and A.dtype in LANES and A.is_contiguous() and available()


def fused_residual_adjoint(A: torch.Tensor, x: torch.Tensor, y: torch.Tensor, scale: float
                           ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z, g)`` with z = x Aᵀ ``(R, m)`` and g = (scale (z − y)) A ``(R, n)``, reading A once.

    ``A (m, n)`` C-contiguous on the CPU; ``x (R, n)``; ``y (m,)``. See the module docstring.
    """
    m, n = A.shape
    R = x.shape[0]
    with parallel_policy(m * n * R):
        return _fused(A, x, y, scale)


def _fused(A, x, y, scale):
    fused_rows, _, sum_chunks, _, _ = _kernels()
    from . import _compiled
    m, n = A.shape
    R = x.shape[0]
    dt = A.dtype
    Pn = A.numpy()
    yn = y.to(dt).contiguous().numpy()
    s = np.float64(scale) if dt == torch.float64 else np.float32(scale)
    if R == 1:
        CH = chunk_rows(m, 4)
        nch = -(-m // CH)
        z = torch.empty(1, m, dtype=dt)
        parts = aligned_empty((nch, n), Pn.dtype)
        rows = _compiled.fused_rows_pairs if n >= LONG_ROW_COLUMNS else fused_rows
        rows(Pn, x[0].to(dt).contiguous().numpy(), yn, s, z[0].numpy(), parts, CH, (0.0,) * LANES[dt])
        g = torch.empty(1, n, dtype=dt)
        sum_chunks(parts, g[0].numpy())
        return z, g
    L = lanes_for(R, dt)
    ng = -(-R // L)
    XT = torch.zeros(ng * L, n, dtype=dt)
    XT[:R] = x
    XT = XT.reshape(ng, L, n).transpose(1, 2).contiguous()  # (ng, n, L)
    CH = chunk_rows(m)
    nch = -(-m // CH)
    ZT = aligned_empty((ng, m, L), Pn.dtype)
    GP = aligned_empty((nch, ng, n, L), Pn.dtype)
    _replicas(Pn, XT.numpy(), yn, s, ZT, GP, CH, L)
    G = aligned_empty((ng, n, L), Pn.dtype)
    sum_chunks(GP.reshape(nch, -1), G.reshape(-1))
    z = torch.from_numpy(ZT).transpose(1, 2).reshape(ng * L, m)[:R]
    g = torch.from_numpy(G).transpose(1, 2).reshape(ng * L, n)[:R]
    return z, g


def _replicas(Pn, XT, yn, s, ZT, GP, CH, L):
    """The replica kernel for A's row length: the pipelined super-blocks from ``LONG_ROW_COLUMNS``
    columns, else the row blocks (the same bits either way)."""
    from . import _compiled

    tag = (0.0,) * L
    n = Pn.shape[1]
    if n >= LONG_ROW_COLUMNS:
        _compiled.fused_replicas_piped(Pn, XT, yn, s, ZT, GP, CH, super_rows(n, Pn.itemsize), TILE_COLUMNS, tag)
    else:
        _compiled.fused_replicas(Pn, XT, yn, s, ZT, GP, CH, tag)


def row_sumsq(res: torch.Tensor) -> torch.Tensor:
    """‖res_r‖² per row of ``res (R, m)``, one sequential sum per row: the same bits for a row
    whatever the number of rows (torch's ``(res * res).sum(-1)`` reduces one row in another order
    than several), as a run in replica lanes needs (:mod:`overparam.lanes`)."""
    from . import _compiled

    r = res.detach().contiguous()
    out = torch.empty(r.shape[0], dtype=r.dtype)
    _compiled.row_sumsq(r.numpy(), out.numpy())
    return out


def fused_matrices(A: torch.Tensor, X: torch.Tensor, y: torch.Tensor, scale: float, embedding: Embedding
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`fused_residual_adjoint` from and to matrices, for R ≥ 2 replicas: the embedding φ of
    ``X (R, d1, d2)`` is written straight into the replica-lane layout of the kernel, and
    G = φ*(g) straight out of it — one pass each instead of packing, padding and transposing.
    Returns ``z (R, m)`` and ``G (R, d1, d2)``; the bits are those of ``φ`` / ``φ*`` in
    :class:`~overparam.operators.base.SymmetricPacking` followed by :func:`fused_residual_adjoint`.
    """
    _, _, sum_chunks, embed_lanes, unembed_lanes = _kernels()
    m, n = A.shape
    R = X.shape[0]
    dt = A.dtype
    E = X.shape[-2] * X.shape[-1]
    with parallel_policy(m * n * R):
        Pn = A.numpy()
        yn = y.to(dt).contiguous().numpy()
        s = np.float64(scale) if dt == torch.float64 else np.float32(scale)
        L = lanes_for(R, dt)
        ng = -(-R // L)
        XT = aligned_empty((ng, n, L), Pn.dtype)
        embed_lanes(X.reshape(R, E).to(dt).contiguous().numpy(), embedding.up, embedding.lo,
                    embedding.weight(Pn.dtype), XT)
        CH = chunk_rows(m)
        nch = -(-m // CH)
        ZT = aligned_empty((ng, m, L), Pn.dtype)
        GP = aligned_empty((nch, ng, n, L), Pn.dtype)
        _replicas(Pn, XT, yn, s, ZT, GP, CH, L)
        G = aligned_empty((ng, n, L), Pn.dtype)
        sum_chunks(GP.reshape(nch, -1), G.reshape(-1))
        out = torch.empty(R, E, dtype=dt)
        unembed_lanes(G, embedding.where, embedding.weight_inv(Pn.dtype), out.numpy())
    z = torch.from_numpy(ZT).transpose(1, 2).reshape(ng * L, m)[:R]
    return z, out.reshape(X.shape)


class Embedding:
    """φ as index maps for :func:`fused_matrices`: φ(X)_t = ½(X[up_t] + X[lo_t]) w_t over the flat
    matrix, and φ*(g)_e = g[where_e] / w[where_e]. ``packing=None`` is vec (the identity maps)."""

    def __init__(self, d1: int, d2: int, packing=None):
        if packing is None:
            idx = np.arange(d1 * d2, dtype=np.int64)
            self.up = self.lo = self.where = idx
            self._w = np.ones(d1 * d2)
            self._winv = np.ones(d1 * d2)
        else:
            self.up = packing.upper.cpu().numpy()
            self.lo = packing.lower.cpu().numpy()
            self.where = packing.gather_index.cpu().numpy()
            self._w = packing.weight.double().cpu().numpy()
            self._winv = packing.gather_weight.double().cpu().numpy()
        self._cache: dict = {}

    def weight(self, dtype) -> np.ndarray:
        return self._typed("w", self._w, dtype)

    def weight_inv(self, dtype) -> np.ndarray:
        return self._typed("winv", self._winv, dtype)

    def _typed(self, key, arr, dtype):
        k = (key, np.dtype(dtype).str)
        if k not in self._cache:
            self._cache[k] = arr.astype(dtype)
        return self._cache[k]
