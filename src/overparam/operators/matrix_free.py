"""Matrix-free Gaussian sensing: the rows of A regenerated from their seeds at every use, nothing stored.

:class:`MatrixFreeGaussianSensing` is the operator :meth:`GaussianSensing.sample
<overparam.operators.GaussianSensing.sample>` would build from the same ``(m, shape, seed, packed,
ensemble, scale, block_rows)``, without the m × n matrix: block b of ``block_rows`` rows is drawn
again by :func:`~overparam.operators.gaussian.gaussian_block` (a generator seeded with
``derive_seed(seed, "gaussian-sensing", b)``: counter-based, so any block can be drawn alone, in
any order, on any thread) whenever a product needs it. Memory is O(block_rows · n + R · (n + m))
instead of O(m n), so d = 1000 sensing (m = 25 000 rows of n = 500 500 packed columns, 100 GB if
stored in float64) runs in a few GB.

Costs. Drawing a row costs far more than reading it (torch's CPU normal sampler, about 10–20 ns
per float64 number and core, against well under 1 ns to read one), so every product is bound by
generation:

* :meth:`forward_adjoint` — the squared-loss step — draws every block **once** and finishes its
  forward product, residual and adjoint contribution while the block is in memory, half the
  cost of :meth:`forward` followed by :meth:`adjoint`;
* blocks are drawn by ``threads`` worker threads (torch releases the GIL while sampling) a few
  blocks ahead of the main thread, which applies them **in block order**, so results do not depend
  on the number of threads;
* :meth:`select` (SGD mini-batches) draws every block that holds a selected row.

Results agree with the stored operator to rounding (the per-block products sum in a different
order than one product over all rows); ``tests/test_matrix_free.py`` checks a 50-step GD run.
Generation happens on ``generate_on`` (default the CPU, the device stored operators are drawn on,
so the rows are the same wherever the products run).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import torch

from .base import DenseGrad, EmbeddedRows, ForwardAdjoint, LinearOperator, SymmetricPacking
from .gaussian import Ensemble, GaussianSensing, check_ensemble, gaussian_block


class MatrixFreeGaussianSensing(EmbeddedRows, LinearOperator):
    """Gaussian sensing z = A φ(X) whose rows are regenerated blockwise on every use.

    Args:
        m: number of measurements.
        shape: ``(d1, d2)`` of X.
        seed: the rows' seed, as in :meth:`GaussianSensing.sample` (equal arguments give equal rows).
        packed: as in :meth:`GaussianSensing.sample`.
        ensemble: as in :meth:`GaussianSensing.sample`.
        scale: as in :meth:`GaussianSensing.sample`.
        block_rows: as in :meth:`GaussianSensing.sample`.
        dtype: the precision of the products (rows are drawn in float64, then cast).
        device: where the products run.
        threads: worker threads drawing blocks (default: torch's intra-op thread count).
        generate_on: the device the rows are drawn on (default CPU: identical to the stored
            operator; ``"cuda"`` draws with a CUDA generator, which is fast but gives other rows).
    """

    fuses_forward_adjoint = True

    def __init__(
        self,
        m: int,
        shape: tuple[int, int],
        *,
        seed: int,
        packed: bool = False,
        ensemble: Ensemble = "sym",
        scale: float = 1.0,
        block_rows: int = 256,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        threads: int | None = None,
        generate_on: torch.device | str = "cpu",
    ):
        check_ensemble(ensemble, shape, packed)
        if block_rows < 1:
            raise ValueError(f"block_rows: got {block_rows}; accepted: integers >= 1")
        self.m = int(m)
        self.in_shape = tuple(shape)
        self.seed = int(seed)
        self.packed = packed
        self.symmetric_domain = packed
        self.ensemble = ensemble
        self.scale = float(scale)
        self.block_rows = int(block_rows)
        self._dtype = dtype
        self._device = torch.device(device)
        self.threads = threads
        self.generate_on = torch.device(generate_on)
        self.n_blocks = -(-self.m // self.block_rows)
        self.n_cols = shape[0] * (shape[0] + 1) // 2 if packed else shape[0] * shape[1]
        self._pack = SymmetricPacking(shape[0], self._device, dtype) if packed else None
        self.info = {"seed": self.seed, "ensemble": ensemble, "scale": self.scale, "block_rows": self.block_rows,
                     "storage": "matrix_free"}

    @classmethod
    def like(cls, op: GaussianSensing, **kwargs) -> MatrixFreeGaussianSensing:
        """The matrix-free twin of a stored operator built by :meth:`GaussianSensing.sample`."""
        info = op.info
        if "seed" not in info:
            raise ValueError("like: the stored operator was not built from a seed (GaussianSensing.sample)")
        kw = {"dtype": op.dtype, "device": op.device, **kwargs}
        return cls(op.m, op.in_shape, seed=info["seed"], packed=op.packed, ensemble=info["ensemble"],
                   scale=info["scale"], block_rows=info["block_rows"], **kw)

    # -- placement ---------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    @property
    def nbytes(self) -> int:
        return 0

    def to(self, device=None, dtype=None) -> MatrixFreeGaussianSensing:
        dev = torch.device(device) if device is not None else self._device
        dt = dtype or self._dtype
        if dev == self._device and dt == self._dtype:
            return self
        return MatrixFreeGaussianSensing(self.m, self.in_shape, seed=self.seed, packed=self.packed,
                                         ensemble=self.ensemble, scale=self.scale, block_rows=self.block_rows,
                                         dtype=dt, device=dev, threads=self.threads, generate_on=self.generate_on)

    # -- the rows ----------------------------------------------------------------------------------
    def block(self, b: int) -> torch.Tensor:
        """Rows ``[b·block_rows, min(m, (b+1)·block_rows))`` of A, ``(rows, n)`` on ``device``."""
        rows = gaussian_block(self.seed, b, self.block_rows, self.in_shape, packed=self.packed,
                              ensemble=self.ensemble, scale=self.scale, dtype=self._dtype,
                              device=self.generate_on)
        stop = min(self.m, (b + 1) * self.block_rows) - b * self.block_rows
        return rows[:stop].to(self._device)

    def blocks(self) -> Iterator[tuple[slice, torch.Tensor]]:
        """``(row slice, rows)`` for every block in order, drawn ahead by worker threads."""
        workers = self.threads or torch.get_num_threads()
        if workers <= 1 or self.n_blocks == 1:
            for b in range(self.n_blocks):
                yield self._slice(b), self.block(b)
            return
        ahead = workers + 1  # blocks in flight: memory is (workers + 2) blocks
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="overparam-rows") as pool:
            pending: deque = deque()
            nxt = 0
            for b in range(self.n_blocks):
                while nxt < self.n_blocks and nxt < b + ahead:
                    pending.append(pool.submit(self.block, nxt))
                    nxt += 1
                yield self._slice(b), pending.popleft().result()

    def _slice(self, b: int) -> slice:
        return slice(b * self.block_rows, min(self.m, (b + 1) * self.block_rows))

    def materialize(self) -> GaussianSensing:
        """The stored operator with the same rows (small problems and tests)."""
        A = torch.cat([rows for _, rows in self.blocks()], dim=0)
        return GaussianSensing(A.contiguous(), self.in_shape, packed=self.packed, info=dict(self.info, storage="stored"))

    # -- the map -----------------------------------------------------------------------------------
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        x = self.embed(X)
        flat = x.reshape(-1, self.n_cols)
        z = torch.empty(flat.shape[0], self.m, dtype=flat.dtype, device=flat.device)
        for sl, rows in self.blocks():
            z[:, sl] = flat @ rows.T
        return z.reshape(*x.shape[:-1], self.m)

    def adjoint_embedded(self, w: torch.Tensor) -> torch.Tensor:
        """Aᵀw in embedded coordinates, ``(…, m)`` → ``(…, n)``."""
        flat = w.reshape(-1, self.m)
        g = torch.zeros(flat.shape[0], self.n_cols, dtype=flat.dtype, device=flat.device)
        for sl, rows in self.blocks():
            g.addmm_(flat[:, sl], rows)
        return g.reshape(*w.shape[:-1], self.n_cols)

    def adjoint(self, w: torch.Tensor) -> torch.Tensor:
        return self.unembed(self.adjoint_embedded(w))

    def forward_adjoint(self, X: torch.Tensor, y: torch.Tensor, scale: float) -> ForwardAdjoint:
        """z = 𝒜(X), G = 𝒜*(scale (z − y)) and ‖z − y‖², drawing every block of rows once."""
        x = self.embed(X)
        flat = x.reshape(-1, self.n_cols)
        R = flat.shape[0]
        z = torch.empty(R, self.m, dtype=flat.dtype, device=flat.device)
        g = torch.zeros(R, self.n_cols, dtype=flat.dtype, device=flat.device)
        for sl, rows in self.blocks():
            zb = flat @ rows.T
            z[:, sl] = zb
            g.addmm_(scale * (zb - y[sl]), rows)
        z = z.reshape(*x.shape[:-1], self.m)
        g = g.reshape(*x.shape[:-1], self.n_cols)
        res = z - y
        return ForwardAdjoint(z, DenseGrad(self.unembed(g), symmetric=self.symmetric_domain), (res * res).sum(-1))

    def select(self, idx: torch.Tensor) -> GaussianSensing:
        """Rows ``idx`` (``(b,)`` or per replica ``(R, b)``) as a stored operator, drawing each block
        that holds one of them once."""
        idx = idx.long()
        flat = idx.reshape(-1).cpu()
        blocks = torch.unique(flat // self.block_rows).tolist()
        pos = {b: i for i, b in enumerate(blocks)}
        drawn = torch.cat([self.block(b) for b in blocks], dim=0)
        where = torch.tensor([pos[int(i) // self.block_rows] * self.block_rows + int(i) % self.block_rows
                              for i in flat.tolist()], dtype=torch.long)
        # block(b) may be shorter than block_rows only for the last block, which sorts last
        A = drawn[where.to(drawn.device)].reshape(*idx.shape, self.n_cols)
        return GaussianSensing(A, self.in_shape, packed=self.packed, info=self.info)

    def describe(self) -> str:
        layout = "packed-symmetric" if self.packed else "general"
        gb = self.m * self.n_cols * torch.finfo(self._dtype).bits / 8 / 1e9
        return (f"MatrixFreeGaussianSensing(m={self.m}, shape={self.in_shape}, {layout}, {self.ensemble}, "
                f"{gb:.3g} GB if stored)")


def stored_bytes(m: int, shape: tuple[int, int], *, packed: bool, dtype: torch.dtype = torch.float64) -> int:
    """Bytes the stored operator of these sizes would hold (to decide between the two)."""
    n = shape[0] * (shape[0] + 1) // 2 if packed else math.prod(shape)
    return m * n * torch.finfo(dtype).bits // 8
