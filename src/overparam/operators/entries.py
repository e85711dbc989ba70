"""Entry sampling (matrix completion): z_e = X[i_e, j_e] for observed entries Ω, no dense masks.

Ω is held as index arrays sorted by (row, column), i.e. in CSR order. Costs per step, with
|Ω| = m observed entries and rank-k factors:

* forward on factors (X = L Rᵀ): the fused sampled product z_e = L[i_e]·R[j_e] (SDDMM), O(m k),
  a compiled kernel on CPU — no gathered copies of L and R, no n1 × n2 matrix;
* gradient products 𝒜*(w) B and 𝒜*(w)ᵀ B: sparse-dense products with a CSR matrix of w and of
  its transpose (MKL on CPU, cuSPARSE on CUDA), O(m k);
* the squared-loss step on factors (:meth:`EntrySampling.forward_factored_adjoint`, CPU): one
  compiled pass over Ω computes the sampled product, the residual and its norm, and both products
  G R and Gᵀ L, reading each row R[j_e] once (:func:`._kernels.fused_step`; a factor row is one
  SIMD vector of k lanes). n = 2000, p = 0.05, k = 10 (|Ω| = 2·10⁵), 2 threads: 1.2 ms against
  1.8 ms for the SDDMM, the residual and the two sparse products; a whole GD step 1.3–2.2 ms
  against 14 ms with a dense mask (n = 10 000, p = 0.01: 7.5 ms against 0.53 s) — see
  ``benchmarks/RESULTS.md``.

Sampling: Bernoulli(p) per entry (drawn with geometric gaps, O(p n1 n2) memory) or exactly m
distinct entries. Symmetric completion samples the upper triangle (diagonal included) and
observes each pair (i, j) and (j, i), so ‖P_Ω(X)‖_F² counts off-diagonal pairs twice, as the
Frobenius norm does.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..backend import BackendError, generator
from . import _kernels
from .base import ForwardAdjoint, GradOperator, KnownProducts, LinearOperator


def _bernoulli_positions(N: int, p: float, g: torch.Generator) -> torch.Tensor:
    """Sorted positions in [0, N) of an i.i.d. Bernoulli(p) sample, via geometric gaps."""
    if not 0.0 < p <= 1.0:
        raise BackendError(f"p: got {p}; accepted: 0 < p <= 1")
    if p == 1.0:
        return torch.arange(N)
    out = []
    last = -1
    chunk = int(p * N + 6.0 * (p * N) ** 0.5 + 16)
    while last < N:
        gaps = torch.empty(chunk, dtype=torch.float64).geometric_(p, generator=g).long()
        pos = last + torch.cumsum(gaps, 0)
        out.append(pos)
        last = int(pos[-1])
    pos = torch.cat(out)
    return pos[pos < N]


def _distinct_positions(N: int, m: int, g: torch.Generator) -> torch.Tensor:
    """Sorted positions of a uniformly random m-subset of [0, N) (sequential rejection)."""
    if not 0 < m <= N:
        raise BackendError(f"m: got {m}; accepted: 1 <= m <= {N} (the number of entries)")
    seq = torch.empty(0, dtype=torch.long)
    while seq.numel() < m:
        draw = torch.randint(0, N, (int(1.1 * (m - seq.numel())) + 16,), generator=g)
        seq = torch.cat([seq, draw])
        uniq, inv = torch.unique(seq, return_inverse=True)
        first = torch.full((uniq.numel(),), seq.numel(), dtype=torch.long)
        first.scatter_reduce_(0, inv, torch.arange(seq.numel()), reduce="amin")
        seq = uniq[first.argsort()]
    return seq[:m].sort().values


def _triangle_to_pairs(t: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Map linear indices of the row-major upper triangle (diagonal included) to (i, j)."""
    i_all = torch.arange(n)
    offsets = i_all * n - i_all * (i_all - 1) // 2  # start of row i
    i = torch.searchsorted(offsets, t, right=True) - 1
    j = t - offsets[i] + i
    return i, j


def sample_entries(
    shape: tuple[int, int],
    *,
    seed: int,
    p: float | None = None,
    m: int | None = None,
    symmetric: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Observed (rows, cols) in CSR order: Bernoulli(``p``) per entry, or exactly ``m`` entries.

    For ``symmetric=True`` (square shape) the sample is over pairs i ≤ j and both (i, j) and
    (j, i) are returned; ``m`` then counts the distinct pairs.
    """
    if (p is None) == (m is None):
        raise BackendError("completion: give exactly one of p (Bernoulli rate) or m (fixed count)")
    g = generator(seed, "entries")
    d1, d2 = shape
    if symmetric:
        if d1 != d2:
            raise BackendError(f"symmetric completion needs a square shape; got {shape}")
        N = d1 * (d1 + 1) // 2
        t = _bernoulli_positions(N, p, g) if p is not None else _distinct_positions(N, m, g)
        i, j = _triangle_to_pairs(t, d1)
        off = i != j
        rows = torch.cat([i, j[off]])
        cols = torch.cat([j, i[off]])
    else:
        N = d1 * d2
        t = _bernoulli_positions(N, p, g) if p is not None else _distinct_positions(N, m, g)
        rows, cols = t // d2, t % d2
    order = torch.argsort(rows * d2 + cols)
    return rows[order].contiguous(), cols[order].contiguous()


def _csr(rows: torch.Tensor, cols: torch.Tensor, n_rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    crow = torch.zeros(n_rows + 1, dtype=torch.long, device=rows.device)
    crow[1:] = torch.bincount(rows, minlength=n_rows).cumsum(0)
    return crow, cols


class SparseGrad(GradOperator):
    """G = 𝒜*(w), the n1 × n2 matrix with w_e at (i_e, j_e), applied as a CSR matrix."""

    def __init__(self, op: EntrySampling, w: torch.Tensor):
        self.op = op
        self.w = w  # (R, m) or (m,)

    def _apply(self, crow, col, perm, shape, B):
        w = self.w if perm is None else self.w[..., perm]
        with warnings.catch_warnings():  # torch flags CSR support as beta, once per process
            warnings.simplefilter("ignore", UserWarning)
            if w.ndim == 1:
                return torch.sparse_csr_tensor(crow, col, w, shape, check_invariants=False) @ B
            outs = []
            for r in range(w.shape[0]):
                S = torch.sparse_csr_tensor(crow, col, w[r], shape, check_invariants=False)
                outs.append(S @ (B[r] if B.ndim == 3 else B))
        return torch.stack(outs)

    def mm(self, B: torch.Tensor) -> torch.Tensor:
        op = self.op
        return self._apply(op.crow, op.cols, None, op.in_shape, B)

    def tmm(self, B: torch.Tensor) -> torch.Tensor:
        op = self.op
        return self._apply(op.crow_T, op.col_T, op.perm_T, op.in_shape[::-1], B)

    def dense(self) -> torch.Tensor:
        return self.op.adjoint(self.w)


class ScatterGrad(GradOperator):
    """G = 𝒜*(w) for per-replica entry subsets (SGD mini-batches): gathers and scatter-adds."""

    def __init__(self, op: EntrySampling, w: torch.Tensor):
        self.op = op
        self.w = w  # (R, b)

    def _prod(self, rows, cols, n_out, B):
        R = self.w.shape[0]
        ar = torch.arange(R, device=B.device).unsqueeze(-1)
        vals = self.w.unsqueeze(-1) * B[ar, cols]  # (R, b, k)
        out = torch.zeros(R, n_out, B.shape[-1], dtype=B.dtype, device=B.device)
        out.index_put_((ar.expand_as(rows), rows), vals, accumulate=True)
        return out

    def mm(self, B):
        return self._prod(self.op.rows, self.op.cols, self.op.in_shape[0], B)

    def tmm(self, B):
        return self._prod(self.op.cols, self.op.rows, self.op.in_shape[1], B)

    def dense(self):
        return self.op.adjoint(self.w)


class EntrySampling(LinearOperator):
    """z_e = X[i_e, j_e] for observed entries (``rows``, ``cols``) of an ``shape`` matrix.

    ``rows``/``cols`` are ``(m,)`` (shared, CSR order) or ``(R, b)`` (per-replica, from ``select``).
    """

    prefers_factored = True

    def __init__(self, rows: torch.Tensor, cols: torch.Tensor, shape: tuple[int, int],
                 *, symmetric: bool = False, dtype: torch.dtype = torch.float64, info: dict | None = None):
        self.rows = rows.long()
        self.cols = cols.long()
        self.in_shape = tuple(shape)
        self.m = rows.shape[-1]
        self.symmetric = symmetric
        self.info = dict(info or {})
        self._dtype = dtype
        if self.rows.ndim == 1:
            d1, d2 = shape
            self.crow, _ = _csr(self.rows, self.cols, d1)
            self.perm_T = torch.argsort(self.cols * d1 + self.rows)
            self.crow_T, _ = _csr(self.cols[self.perm_T], self.rows[self.perm_T], d2)
            self.col_T = self.rows[self.perm_T].contiguous()
            self._bounds = None  # row chunks of the fused CPU kernel, built on first use

    @classmethod
    def sample(cls, shape, *, seed: int, p: float | None = None, m: int | None = None,
               symmetric: bool = False, dtype: torch.dtype = torch.float64, device="cpu") -> EntrySampling:
        rows, cols = sample_entries(shape, seed=seed, p=p, m=m, symmetric=symmetric)
        info = {"seed": seed, "p": p, "m_requested": m}
        return cls(rows.to(device), cols.to(device), shape, symmetric=symmetric, dtype=dtype, info=info)

    @property
    def device(self):
        return self.rows.device

    @property
    def dtype(self):
        return self._dtype

    @property
    def nbytes(self) -> int:
        return 2 * self.rows.numel() * self.rows.element_size()

    def to(self, device=None, dtype=None) -> EntrySampling:
        dev = torch.device(device) if device is not None else self.device
        if dev == self.device and (dtype is None or dtype == self.dtype):
            return self
        return EntrySampling(self.rows.to(dev), self.cols.to(dev), self.in_shape, symmetric=self.symmetric,
                             dtype=dtype or self.dtype, info=self.info)

    def _batch_index(self, X):
        return torch.arange(X.shape[0], device=X.device).unsqueeze(-1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.rows.ndim == 2:
            return X[self._batch_index(X), self.rows, self.cols]
        return X[..., self.rows, self.cols]

    def forward_factored(self, L: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
        if self.rows.ndim == 2:
            ar = self._batch_index(L)
            return (L[ar, self.rows] * R[ar, self.cols]).sum(-1)
        if L.device.type != "cpu" or not _kernels.numba_available():
            return (L[..., self.rows, :] * R[..., self.cols, :]).sum(-1)
        crow = self.crow.numpy()
        cols = self.cols.numpy()
        Lb = L.reshape(-1, *L.shape[-2:])
        Rb = R.reshape(-1, *R.shape[-2:])
        out = torch.empty(Lb.shape[0], self.m, dtype=L.dtype)
        for r in range(Lb.shape[0]):
            _kernels.sddmm_csr(crow, cols, Lb[r].contiguous().numpy(), Rb[r].contiguous().numpy(), out[r].numpy())
        return out.reshape(*L.shape[:-2], self.m)

    def adjoint(self, w: torch.Tensor) -> torch.Tensor:
        d1, d2 = self.in_shape
        lead = w.shape[:-1]
        flat = torch.zeros(*lead, d1 * d2, dtype=w.dtype, device=w.device)
        idx = self.rows * d2 + self.cols
        if idx.ndim == 2:
            flat.scatter_add_(-1, idx, w)
        else:
            flat.index_add_(-1, idx, w)
        return flat.reshape(*lead, d1, d2)

    fuses_forward_adjoint = True

    def forward_factored_adjoint(self, L: torch.Tensor, R: torch.Tensor, y: torch.Tensor, scale: float
                                 ) -> ForwardAdjoint:
        """z_e = L[i_e]·R[j_e], G = 𝒜*(scale (z − y)) with G R and Gᵀ L already computed, and ‖z − y‖²,
        in one compiled pass over Ω on the CPU (see the module docstring); two passes elsewhere."""
        if (self.rows.ndim == 2 or L.device.type != "cpu" or y.ndim != 1 or L.dtype not in (torch.float64, torch.float32)
                or not _kernels.numba_available()):
            return super().forward_factored_adjoint(L, R, y, scale)
        if self._bounds is None:
            self._bounds = _kernels.chunk_bounds(self.crow.numpy())
        crow, cols = self.crow.numpy(), self.cols.numpy()
        Lb = L.reshape(-1, *L.shape[-2:])
        Rb = R.reshape(-1, *R.shape[-2:])
        yn = y.to(L.dtype).contiguous().numpy()
        s = np.float64(scale) if L.dtype == torch.float64 else np.float32(scale)
        outs = [_kernels.fused_step(crow, cols, self._bounds, Lb[r].contiguous().numpy(), Rb[r].contiguous().numpy(),
                                    yn, s, self.in_shape[1]) for r in range(Lb.shape[0])]
        lead = L.shape[:-2]
        z = torch.from_numpy(np.stack([o[0] for o in outs])).reshape(*lead, self.m)
        GR = torch.from_numpy(np.stack([o[1] for o in outs])).reshape(L.shape)
        GtL = torch.from_numpy(np.stack([o[2] for o in outs])).reshape(R.shape)
        rsq = torch.tensor([float(o[3]) for o in outs], dtype=L.dtype).reshape(lead)
        G = KnownProducts(lambda: SparseGrad(self, scale * (z - y)), symmetric=False, mm=[(R, GR)], tmm=[(L, GtL)])
        return ForwardAdjoint(z, G, rsq)

    def gradient(self, w: torch.Tensor) -> GradOperator:
        if self.rows.ndim == 2:
            return ScatterGrad(self, w)
        return SparseGrad(self, w)

    def select(self, idx: torch.Tensor) -> EntrySampling:
        idx = idx.long()
        return EntrySampling(self.rows[idx], self.cols[idx], self.in_shape, symmetric=self.symmetric,
                             dtype=self.dtype, info=self.info)

    def mask(self) -> torch.Tensor:
        """The dense 0/1 mask (tests and the NumPy baseline only)."""
        M = torch.zeros(self.in_shape, dtype=self.dtype, device=self.device)
        M[self.rows, self.cols] = 1.0
        return M


