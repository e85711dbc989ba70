"""Dense Gaussian sensing, general (m × d1·d2) or packed-symmetric (m × d(d+1)/2).

z_i = ⟨A_i, X⟩ with A_i Gaussian. Two layouts:

* **general** — rows a_i = vec(A_i) of length d1·d2; forward z = A vec(X), adjoint 𝒜*(w) = mat(Aᵀw).
* **packed** — for symmetric X only: rows p_i = svec(A_i) of length D = d(d+1)/2 (see
  :class:`~overparam.operators.base.SymmetricPacking`), half the data of the general layout.

Ensembles (how A_i is drawn from Q_i with i.i.d. N(0,1) entries, times ``scale``):

* ``"sym"`` (default, 000 footnote 3): A_i = (Q_i + Q_iᵀ)/2. In svec coordinates every entry of
  p_i is i.i.d. N(0,1), and E⟨A_i, X⟩² = ‖X‖_F² for symmetric X.
* ``"raw"``: A_i = Q_i. On symmetric X it induces the same distribution of z as ``"sym"``, so the
  packed layout samples both identically; it differs on non-symmetric X (general layout).
* ``"triu"`` (003 §2.2): the upper triangle of a symmetric A_i filled with i.i.d. N(0,1), so
  E⟨A_i, X⟩² = 2‖X‖_F² − Σ_j X_jj²; off-diagonal svec entries are N(0, 2).

Rows are generated in blocks of ``block_rows``; block b comes from the generator seeded with
``derive_seed(seed, "gaussian-sensing", b)``. A stored operator is the concatenation of those
blocks, which is what lets the matrix-free operator regenerate exactly the same rows.

Fast paths (numbers: the 2-core development machine, 2 threads, d = 100 packed, m = 2500,
float64, A = 101 MB; ``benchmarks/RESULTS.md`` has the full table, ``overparam bench`` re-measures):

* **one read of A per step** — :meth:`GaussianSensing.forward_adjoint` computes z = A x, the
  squared-loss residual weights w = 2c(z − y) and Aᵀw block of rows by block of rows while the
  block is in cache (numba kernels in :mod:`._dense_kernels`), instead of ``A @ x`` followed by
  ``w @ A``, which reads A twice. One replica: 2.5 ms against 3.7 ms for the two MKL products;
  one read of A takes 1.8–1.9 ms when a loop keeps part of it in the last-level cache (3.4 ms
  from DRAM alone). Below ``FUSED_MIN_BYTES`` A stays in cache between the two products and
  those are as fast.
* **long rows** (d = 200 packed: n = 20 100, A = 804 MB for m = 5000) — the forward of the next
  rows runs in the adjoint's column loop of the previous ones, replicas by super-blocks and column
  tiles (:mod:`._dense_kernels`, "Long rows"): one thread, a library GD step costs 1.50 reads of A
  at R = 1 (2.05 before) and 2.76 at R = 8 (4.7 before; compute-bound there). ``overparam bench``
  re-measures it (``reads_d200_R1``, ``reads_d200_R8``).
* **replicas as SIMD lanes** — R replicas sharing A are the lanes of explicit 512-bit vectors:
  each element of A is loaded once and serves 8 (float64) or 16 (float32) replicas from registers.
  R = 8: 4.2 ms against 8.0 ms for MKL's skinny GEMMs (``A @ X`` with X n × 8 runs far below the
  core's peak); R = 16: 9.1 ms against 10.7 ms. Beyond ``FUSED_MAX_REPLICAS`` the replicas'
  inputs and gradients (R × n each) no longer fit in L2 next to the row block and MKL's GEMMs are
  faster (R = 32: 15.5 ms against 21 ms fused).
* **the fast BLAS orientation** for the separate products: A is stored row-major, the forward map
  is ``A @ x`` with the skinny operand (one column per replica) made row-major, the adjoint
  ``w @ A``. A second, transposed copy of A was measured and rejected: inside a GD step it doubles
  the bytes touched per step and lost more to cache pressure than it gained.

All paths agree to rounding (tests compare them); the fused kernels give the same bits for any
thread count.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from ..backend import BackendError, generator
from ..lanes import in_replica_lanes
from . import _dense_kernels
from .base import DenseGrad, EmbeddedRows, ForwardAdjoint, LinearOperator, SymmetricPacking

Ensemble = Literal["sym", "raw", "triu"]
ENSEMBLES = ("sym", "raw", "triu")

#: Up to this many replicas the fused CPU kernel beats MKL's two GEMMs (see the module docstring;
#: float32, 2 threads: R = 16 3.7 ms fused vs 4.2 ms, R = 32 6.6 vs 6.2 ms).
FUSED_MAX_REPLICAS = {torch.float64: 16, torch.float32: 16}
#: Below this size A stays in cache between the two products and MKL's two passes are as fast or
#: faster (measured crossover 10–15 MB: 4 MB, R = 1: 0.41 ms fused vs 0.34 ms; 15 MB: 0.65 vs 0.68).
FUSED_MIN_BYTES = 12 * 2**20


def gaussian_block(
    seed: int,
    block: int,
    block_rows: int,
    shape: tuple[int, int],
    *,
    packed: bool,
    ensemble: Ensemble,
    scale: float,
    dtype: torch.dtype,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Rows ``[block·block_rows, (block+1)·block_rows)`` of the sensing matrix (all of them).

    Drawn in float64 on ``device`` (CPU for stored operators, so that the same seed gives the same
    data on every device), then cast to ``dtype``.
    """
    g = generator(seed, "gaussian-sensing", block, device=device)
    d1, d2 = shape
    if packed:
        d = d1
        D = d * (d + 1) // 2
        rows = torch.randn(block_rows, D, generator=g, dtype=torch.float64, device=device)
        if ensemble == "triu":
            iu_r, iu_c = torch.triu_indices(d, d, device=device)
            rows[:, iu_r != iu_c] *= math.sqrt(2.0)
    else:
        rows = torch.randn(block_rows, d1 * d2, generator=g, dtype=torch.float64, device=device)
        if ensemble == "sym":
            Q = rows.reshape(block_rows, d1, d2)
            rows = (0.5 * (Q + Q.mT)).reshape(block_rows, d1 * d2)
        elif ensemble == "triu":
            Q = rows.reshape(block_rows, d1, d2)
            up = torch.triu(Q)
            rows = (up + torch.triu(Q, diagonal=1).mT).reshape(block_rows, d1 * d2)
    if scale != 1.0:
        rows *= scale
    return rows.to(dtype)


def gaussian_rows(
    seed: int,
    m: int,
    shape: tuple[int, int],
    *,
    packed: bool,
    ensemble: Ensemble,
    scale: float,
    dtype: torch.dtype,
    block_rows: int = 256,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """All m rows, block by block (see :func:`gaussian_block`)."""
    n_blocks = -(-m // block_rows)
    blocks = [
        gaussian_block(seed, b, block_rows, shape, packed=packed, ensemble=ensemble, scale=scale,
                       dtype=dtype, device=device)
        for b in range(n_blocks)
    ]
    return torch.cat(blocks, dim=0)[:m].contiguous()


def check_ensemble(ensemble: str, shape: tuple[int, int], packed: bool) -> None:
    if ensemble not in ENSEMBLES:
        raise BackendError(f"ensemble: got {ensemble!r}; accepted: {', '.join(ENSEMBLES)}")
    if (packed or ensemble in ("sym", "triu")) and shape[0] != shape[1]:
        raise BackendError(f"ensemble {ensemble!r} / packed layout needs a square shape; got {shape}")


class GaussianSensing(EmbeddedRows, LinearOperator):
    """Dense sensing z = A φ(X) with φ = vec (general) or svec (packed symmetric).

    Args:
        A: ``(m, n)`` row-major sensing matrix, or ``(R, b, n)`` per-replica rows (from ``select``).
        shape: ``(d1, d2)`` of X.
        packed: rows are svec coordinates; X must be symmetric.

    Build one with :meth:`sample` (seeded) or :meth:`from_matrices` (your own A_i).
    """

    def __init__(self, A: torch.Tensor, shape: tuple[int, int], *, packed: bool, info: dict | None = None,
                 packing: SymmetricPacking | None = None):
        self.A = A
        self.in_shape = tuple(shape)
        self.packed = packed
        self.symmetric_domain = packed
        self.m = A.shape[-2]
        self.info = dict(info or {})
        if packed and packing is None:
            packing = SymmetricPacking(shape[0], A.device, A.dtype)
        self._pack = packing if packed else None
        self._embedding = None  # index maps of φ for the fused CPU kernel, built on first use

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def sample(
        cls,
        m: int,
        shape: tuple[int, int],
        *,
        seed: int,
        packed: bool = False,
        ensemble: Ensemble = "sym",
        scale: float = 1.0,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        block_rows: int = 256,
    ) -> GaussianSensing:
        """m seeded Gaussian measurements of ``shape`` matrices; ``packed`` for symmetric X."""
        check_ensemble(ensemble, shape, packed)
        A = gaussian_rows(seed, m, shape, packed=packed, ensemble=ensemble, scale=scale,
                          dtype=dtype, block_rows=block_rows)
        info = {"seed": seed, "ensemble": ensemble, "scale": scale, "block_rows": block_rows}
        return cls(A.to(device), shape, packed=packed, info=info)

    @classmethod
    def from_matrices(cls, A: torch.Tensor, *, packed: bool | None = None) -> GaussianSensing:
        """From explicit matrices ``A (m, d1, d2)``; ``packed=None`` packs when all A_i are symmetric."""
        m, d1, d2 = A.shape
        if packed is None:
            packed = d1 == d2 and bool(torch.allclose(A, A.mT))
        if packed:
            if d1 != d2:
                raise BackendError(f"packed layout needs square A_i; got {d1}×{d2}")
            P = SymmetricPacking(d1, A.device, A.dtype).pack(A)
            return cls(P.contiguous(), (d1, d2), packed=True, info={"source": "arrays"})
        return cls(A.reshape(m, d1 * d2).contiguous(), (d1, d2), packed=False, info={"source": "arrays"})

    # -- placement -------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.A.device

    @property
    def dtype(self) -> torch.dtype:
        return self.A.dtype

    @property
    def nbytes(self) -> int:
        return self.A.numel() * self.A.element_size()

    def to(self, device=None, dtype=None) -> GaussianSensing:
        A = self.A.to(device=device or self.A.device, dtype=dtype or self.A.dtype)
        if A is self.A:
            return self
        return GaussianSensing(A, self.in_shape, packed=self.packed, info=self.info)

    # -- the map -----------------------------------------------------------------------------------
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if in_replica_lanes() and self.A.ndim == 2:
            R = math.prod(X.shape[:-2])
            if self.fused_applies(R):  # z of the lane kernel (:mod:`overparam.lanes`)
                z, _ = _dense_kernels.fused_matrices(self.A, X.reshape(R, *self.in_shape),
                                                     self.A.new_zeros(self.m), 0.0, self._lane_embedding())
                return z.reshape(*X.shape[:-2], self.m)
        x = self.embed(X)
        if self.A.ndim == 3:  # per-replica rows
            return torch.bmm(self.A, x.unsqueeze(-1)).squeeze(-1)
        if x.ndim == 1:
            return self.A @ x
        flat = x.reshape(-1, x.shape[-1])
        if flat.shape[0] == 1:
            return (self.A @ flat[0]).reshape(*x.shape[:-1], self.m)
        # the skinny operand row-major (n × R) keeps MKL on its memory-speed kernel
        return (self.A @ flat.T.contiguous()).T.reshape(*x.shape[:-1], self.m)

    def adjoint(self, w: torch.Tensor) -> torch.Tensor:
        return self.unembed(self.adjoint_embedded(w))

    def adjoint_embedded(self, w: torch.Tensor) -> torch.Tensor:
        """Aᵀw in embedded coordinates (``(…, m)`` → ``(…, n)``)."""
        if self.A.ndim == 3:
            return torch.bmm(w.unsqueeze(-2), self.A).squeeze(-2)
        if w.ndim == 1:
            return w @ self.A
        flat = w.reshape(-1, self.m)
        g = flat[0] @ self.A if flat.shape[0] == 1 else flat @ self.A
        return g.reshape(*w.shape[:-1], self.A.shape[-1])

    fuses_forward_adjoint = True
    fused_min_bytes: int = FUSED_MIN_BYTES  # per instance, so tests can exercise the kernel on small A

    def fused_applies(self, R: int) -> bool:
        """The fused CPU kernels run for ``R`` replicas of a shared A: a 2-d C-contiguous float A of at
        least ``fused_min_bytes`` on the CPU and R ≤ ``FUSED_MAX_REPLICAS`` (observations y 1-d)."""
        return (self.A.ndim == 2 and self.nbytes >= self.fused_min_bytes and _dense_kernels.supports(self.A)
                and R <= FUSED_MAX_REPLICAS[self.A.dtype])

    def max_lanes(self) -> int:
        """Inside :func:`overparam.lanes.replica_lanes`, every product of a run of up to
        ``FUSED_MAX_REPLICAS`` replicas (forward, fused forward–adjoint) is the lane kernel's, whose
        arithmetic for a replica does not depend on the batch: its size, the replica's lane, the
        thread count (:mod:`._dense_kernels`). 0 where the fused kernels do not run."""
        return FUSED_MAX_REPLICAS[self.A.dtype] if self.fused_applies(1) else 0

    def _lane_embedding(self) -> _dense_kernels.Embedding:
        if self._embedding is None:
            self._embedding = _dense_kernels.Embedding(*self.in_shape, self._pack)
        return self._embedding

    def forward_adjoint(self, X: torch.Tensor, y: torch.Tensor, scale: float) -> ForwardAdjoint:
        """z = 𝒜(X), G = 𝒜*(scale (z − y)) and ‖z − y‖², reading A once (see the module docstring).

        The fused kernel runs for a shared 2-d A of at least ``fused_min_bytes`` on the CPU with up
        to ``FUSED_MAX_REPLICAS`` replicas; otherwise (small A, CUDA, per-replica mini-batch rows,
        many replicas) the two products.
        """
        lead = X.shape[:-2]
        R = math.prod(lead)
        if y.ndim == 1 and self.fused_applies(R):
            if R > 1 or in_replica_lanes():  # φ and φ* fused into the kernel's replica-lane layout
                z, G = _dense_kernels.fused_matrices(self.A, X.reshape(R, *self.in_shape), y, scale,
                                                     self._lane_embedding())
                z, G = z.reshape(*lead, self.m), G.reshape(X.shape)
            else:
                z, g = _dense_kernels.fused_residual_adjoint(self.A, self.embed(X).reshape(1, -1), y, scale)
                z, G = z.reshape(*lead, self.m), self.unembed(g.reshape(*lead, self.A.shape[-1]))
        else:
            z = self.forward(X)
            G = self.unembed(self.adjoint_embedded(scale * (z - y)))
        res = z - y
        if in_replica_lanes() and y.ndim == 1 and self.fused_applies(R):  # a row's sum whatever the rows
            fit = _dense_kernels.row_sumsq(res.reshape(R, self.m)).reshape(lead)
        else:
            fit = (res * res).sum(-1)
        return ForwardAdjoint(z, DenseGrad(G, symmetric=self.symmetric_domain), fit)

    def select(self, idx: torch.Tensor) -> GaussianSensing:
        # the packing helper is shared, not rebuilt for every SGD step
        return GaussianSensing(self.A[idx.long()], self.in_shape, packed=self.packed, info=self.info,
                               packing=self._pack)

    def describe(self) -> str:
        layout = "packed-symmetric" if self.packed else "general"
        return f"GaussianSensing(m={self.m}, shape={self.in_shape}, {layout}, {self.info.get('ensemble', 'arrays')})"
