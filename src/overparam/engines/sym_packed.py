"""X = UUᵀ on packed-symmetric dense Gaussian sensing: plain GD as numba segments (many steps per
call, the health checks inside; :mod:`._kernels`).

At the sizes of papers 001–004 a GD step is tens of microseconds of arithmetic, and the generic
step (``Composed`` pieces, ``Objective.evaluate``, the operator's pack / products / unpack, the
pullback, the update, the health check: about fifteen torch calls) costs several times that in
Python and dispatch overhead. Used by 000 (small d), 001 Fig. 2, 003 Ex. 1.1 and 004 (matrix
sensing); chosen by :func:`overparam.engines.select_engine`.

Results have the structure of the generic path's (trace, status, stop step, events, final θ) and
its numbers to rounding: the sums run in another order (``tests/test_engines.py``). Every
replica's arithmetic is fixed, so the bits do not depend on the thread count, on R (one replica
at a time or replica lanes), on which executor runs the spec, or on the log schedule (segment
lengths). Every array the kernels read or write is checked against the problem's and θ's shapes
before a call (:meth:`SymPackedEngine._check_shapes`): a kernel can never read out of bounds.
"""

from __future__ import annotations

import numpy as np
import torch

from ..algorithms.base import StepOut
from ..backend import BackendError, start_numba_pool
from ..operators.base import DenseGrad, KnownProducts
from .base import LANES_FROM, PARALLEL_WORK, Engine


class SymPackedEngine(Engine):
    """X = UUᵀ on packed-symmetric dense Gaussian sensing: the numba segment kernel."""

    name = "symmetric×packed-sensing (numba segment)"
    records = True
    torch_threads = 1
    replica_invariant = True

    def __init__(self, objective):
        super().__init__(objective)
        from . import _kernels as lk

        # (parallel, serial) for each layout, called through their compiled entry points
        self.kernel = (lk.Entry(lk.sym_packed_single), lk.Entry(lk.sym_packed_single_serial))
        self.lanes_kernel = (lk.Entry(lk.sym_packed_lanes), lk.Entry(lk.sym_packed_lanes_serial))
        op = objective.problem.operator
        self.op = op
        dt = op.dtype
        self.np_dtype = np.float64 if dt == torch.float64 else np.float32
        pack = op._pack
        self.P = op.A.numpy()
        self.y = objective.problem.y.to(dt).contiguous().numpy()
        self.wpk = pack.weight.to(dt).contiguous().numpy()
        self.where = pack.gather_index.contiguous().numpy()
        self.winv = pack.gather_weight.to(dt).contiguous().numpy()
        self.tag = (0.0,) * (8 if dt == torch.float64 else 16)
        self.PT = lk.blocked_transpose(self.P, len(self.tag))
        self.PA = lk.padded_columns(self.P, 8 * len(self.tag))
        m, D = self.P.shape
        self.work = m * D
        self.d = op.in_shape[0]
        self._check_problem()

    def _check_problem(self) -> None:
        """The kernels' problem arrays agree (they index each other without bounds checks)."""
        m, D = self.P.shape
        d = self.d
        ok = (D == d * (d + 1) // 2 and self.y.shape == (m,) and self.wpk.shape == (D,)
              and self.where.shape == (d * d,) and self.winv.shape == (d * d,)
              and (self.where.size == 0 or (0 <= int(self.where.min()) and int(self.where.max()) < D)))
        if not ok:
            raise BackendError(f"problem: the packed sensing arrays disagree (A {self.P.shape}, y {self.y.shape}, "
                               f"d = {d}); expected A (m, d(d+1)/2) and y (m,)")

    def _check_call(self, U0, step, ref, n: int, rec) -> None:
        """Every array a kernel call reads or writes has the shape the kernel indexes by: θ (R, d, k),
        the steps and references (R,), the record steps increasing from 0 (the kernel writes record i
only at its step, into arrays of one row per record; steps past n are never reached). Called before every
        kernel call: the kernels themselves never check bounds (SIMD loads)."""
        R = U0.shape[0] if U0.ndim == 3 else -1
        if U0.ndim != 3 or U0.shape[1] != self.d or R < 1:  # width 0: every column pruned (X = 0)
            raise BackendError(f"theta0: got {tuple(U0.shape)}; expected (R, {self.d}, k) for this problem")
        if tuple(step.shape) != (R,) or tuple(ref.shape) != (R,):
            raise BackendError(f"algorithm.eta: {tuple(step.shape)} step sizes for {R} replicas; expected ({R},)")
        if n < 0 or (len(rec) and (int(rec[0]) < 0 or bool(np.any(np.diff(rec) <= 0)))):
            raise BackendError(f"log: record steps {rec.tolist()[:8]}… not increasing from 0 (a segment of {n} steps)")

    def _threads(self, R: int, n: int, groups: int) -> int:
        import numba

        # a serial call never asks numba for its count: asking starts numba's OpenMP pool (threads); a
        # parallel one starts it keeping torch's and BLAS's counts (backend.start_numba_pool)
        if n * R * self.work < PARALLEL_WORK or groups < 2:
            return 1
        start_numba_pool()
        return max(1, min(numba.get_num_threads(), groups))

    def _call(self, U0, step, n, check, ref, factor, target, ynsq, rec=None):
        """Run the kernel (one replica at a time for R < ``LANES_FROM``, replica lanes from there) and
        return ``(stop per group, θ, θ_prev, z, fit, ∇, records)`` with the replica axis first;
        records: θ (nrec, R, d, k), fit (nrec, R), z (nrec, R, m) at the local steps ``rec``."""
        import numba

        rec = np.zeros(0, dtype=np.int64) if rec is None else np.asarray(rec, dtype=np.int64)
        self._check_call(U0, step, ref, n, rec)
        R, d, k = U0.shape
        L = len(self.tag)
        dt = self.op.dtype
        f = self.np_dtype
        m = self.P.shape[0]
        nrec = rec.shape[0]
        lanes = R >= LANES_FROM  # the same bits either way: only the speed differs
        if lanes:
            ng = -(-R // L)
            pad = ng * L - R

            def to_lanes(t, shape):
                t = torch.cat([t, t.new_zeros(pad, *t.shape[1:])]) if pad else t
                return t.reshape(ng, L, *shape).movedim(1, -1).contiguous()

            UL = to_lanes(U0, (d, k))
            cur, prev = torch.empty_like(UL), torch.empty_like(UL)
            z = torch.empty(ng, m, L, dtype=dt)
            fit = torch.empty(ng, L, dtype=dt)
            grad = torch.empty_like(UL) if not check else torch.empty(ng, 1, 1, L, dtype=dt)
            Urec = torch.empty(nrec, ng, d, k, L, dtype=dt)
            FITrec = torch.empty(nrec, ng, L, dtype=dt)
            Zrec = torch.empty(nrec, ng, m, L, dtype=dt)
            nvalid = np.array([min(L, R - q * L) for q in range(ng)], dtype=np.int64)
            stop = np.zeros(ng, dtype=np.int64)
            threads = self._threads(R, n, ng)
            args = (self.P, self.y, f(self.s), f(self.c), self.wpk, self.where, self.winv, UL.numpy(), cur.numpy(),
                    prev.numpy(), to_lanes(step, ()).numpy(), to_lanes(ref, ()).numpy(), nvalid, f(factor), f(ynsq),
                    f(target), n, check, stop, z.numpy(), fit.numpy(), grad.numpy(), rec, Urec.numpy(),
                    FITrec.numpy(), Zrec.numpy(), self.tag)
            kernel = self.lanes_kernel
        else:
            cur, prev = torch.empty_like(U0), torch.empty_like(U0)
            z = torch.empty(R, m, dtype=dt)
            fit = torch.empty(R, dtype=dt)
            grad = torch.empty_like(U0) if not check else torch.empty(R, 1, 1, dtype=dt)
            Urec = torch.empty(nrec, R, d, k, dtype=dt)
            FITrec = torch.empty(nrec, R, dtype=dt)
            Zrec = torch.empty(nrec, R, m, dtype=dt)
            stop = np.zeros(R, dtype=np.int64)
            threads = self._threads(R, n, R)
            args = (self.P, self.PT, self.PA, self.y, f(self.s), f(self.c), self.wpk, self.where, self.winv, U0.numpy(),
                    cur.numpy(), prev.numpy(), step.numpy(), ref.numpy(), f(factor), f(ynsq), f(target), n, check,
                    stop, z.numpy(), fit.numpy(), grad.numpy(), rec, Urec.numpy(), FITrec.numpy(), Zrec.numpy(),
                    self.tag)
            kernel = self.kernel
        if threads <= 1:
            kernel[1](*args)
        else:
            old = numba.get_num_threads()
            numba.set_num_threads(min(old, threads))
            try:
                kernel[0](*args)
            finally:
                numba.set_num_threads(old)
        if lanes:
            def back(t, shape, lead=()):
                return t.movedim(-1, len(lead) + 1).reshape(*lead, ng * L, *shape).narrow(len(lead), 0, R)

            cur, prev = back(cur, (d, k)).contiguous(), back(prev, (d, k)).contiguous()
            z, fit = back(z, (m,)), back(fit, ())
            grad = back(grad, (d, k)) if not check else None
            Urec, FITrec, Zrec = back(Urec, (d, k), (nrec,)), back(FITrec, (), (nrec,)), back(Zrec, (m,), (nrec,))
        return stop, cur, prev, z, fit, grad, (Urec, FITrec, Zrec)

    def segment(self, theta, step_size, n, ref, factor, target, y_norm_sq, rec=None):
        U0 = theta[0].contiguous()
        step = step_size[0].contiguous()
        ref = ref.to(self.op.dtype).contiguous()
        tgt = -1.0 if target is None else float(target)
        stop, cur, prev, _, _, _, recs = self._call(U0, step, n, True, ref, factor, tgt, y_norm_sq, rec)
        made = int(stop.min())
        if made < int(stop.max()):  # groups that went further: replay them to the common step
            stop, cur, prev, _, _, _, recs = self._call(U0, step, made, True, ref, factor, tgt, y_norm_sq, rec)
        return made, (cur,), (prev,), recs

    def step(self, theta, step_size):
        U0 = theta[0].contiguous()
        R = U0.shape[0]
        dummy = torch.zeros(R, dtype=self.op.dtype)
        _, cur, _, z, fit, grad, _ = self._call(U0, step_size[0].contiguous(), 1, False, dummy, 1.0, -1.0, 1.0)
        op, y, s = self.op, self.objective.problem.y, self.s
        G = KnownProducts(lambda: DenseGrad(op.adjoint(s * (z - y)), symmetric=True), symmetric=True)
        return StepOut((cur,), self._evaluation(z, fit, (grad.contiguous(),), G), step_size=step_size)
