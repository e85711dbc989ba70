"""The lean path of :func:`overparam.run`: plain GD on small problems without the per-step dispatch.

At the sizes of papers 001–004 a GD step is tens of microseconds of arithmetic, and the generic
step (``Composed`` pieces, ``Objective.evaluate``, the operator's pack / products / unpack, the
pullback, the update, the health check: about fifteen torch calls) costs several times that in
Python and dispatch overhead. :func:`lean_for` returns a :class:`Lean` stepper when the run is one
it covers, else ``None`` (and the generic loop runs):

* the algorithm is exactly ``gd`` (pieces ``[Gradient, Descend]``, any per-replica / per-block η),
  no regularizer, no stop rules, no stateful diagnostic requested, a squared loss, the CPU, and
* the parameterization × operator pair is one of

  ======================  =========================================  =============================
  pair                    how                                        papers
  ======================  =========================================  =============================
  Symmetric × packed      a numba segment: many steps per call,      000 small d, 001 Fig. 2,
  Gaussian sensing        the health checks inside                   003 Ex. 1.1, 004 (MS)
  (A ≤ ``MAX_BYTES``)     (:mod:`.operators._lean_kernels`)
  Asymmetric × identity   the generic step's own tensor operations   002 (factorization)
  (factorization)         (the same bits) without the layers around
                          them: three products per step
  ======================  =========================================  =============================

The run loop (:class:`overparam.run._Loop`) asks :meth:`Lean.segment` to advance over the ordinary
steps between two logged steps (it stops *before* a step where a replica diverges or reaches the
target) and :meth:`Lean.step` for a logged or stopping step, whose :class:`StepOut` goes through
the loop's usual health check, recording and replica bookkeeping. Results have the structure of
the generic path's (trace, status, stop step, events, final θ) and its numbers to rounding: the
sums run in another order (``tests/test_lean.py``: relative difference ≤ 1e-12 over hundreds of
float64 steps). Every replica's arithmetic is fixed, so the bits do not depend on the thread count
or on which executor runs the spec.
"""

from __future__ import annotations

import bisect
import contextlib

import numpy as np
import torch

from .algorithms.base import Composed, StepOut
from .algorithms.pieces import Descend, Gradient
from .losses import SquaredLoss
from .objective import Evaluation
from .operators.base import DenseGrad, KnownProducts
from .operators.gaussian import GaussianSensing
from .operators.identity import IdentityOperator
from .params import Asymmetric, Symmetric

#: The numba segment is used up to this operator size. Above it one step is milliseconds of
#: memory traffic, the dispatch overhead is a few per cent, and the generic fused kernel (one read
#: of A per step, rows split across threads) is the faster path.
MAX_BYTES = 4 * 2**20
#: Metrics computed from θ, the problem and the loss value / fit alone: a lean segment records θ, fit
#: and z at logged steps inside its kernel call, and these are then computed for all of them at once.
BATCH_METRICS = frozenset({"loss", "train_error", "train_error_sq", "test_error", "test_error_sq", "param_norm",
                           "singular_values", "effective_rank", "dist_best_rank_r", "column_norms"})
#: Logged steps recorded per segment call at most (memory: θ per record and replica).
MAX_RECORDS = 64
#: From this many replicas the segment runs them as the lanes of SIMD vectors (groups of 8 in float64,
#: 16 in float32); below, one replica at a time with the vectors across rows and columns. Both
#: kernels give every replica exactly the same arithmetic (bits), whatever R, lane or thread.
LANES_FROM = 5
#: Multiply-adds per call below which a segment runs on one thread: a parallel region's start and
#: barrier cost tens of µs, and a time slice (milliseconds) when a neighbour's process holds the other
#: core, so only calls of several milliseconds of work (≈ 3·10⁷ multiply-adds) are split.
PARALLEL_WORK = 1 << 25


@contextlib.contextmanager
def _torch_threads(n: int | None):
    if n is None or torch.get_num_threads() == n:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def lean_for(objective, algorithm, *, diagnostics, stops, device) -> Lean | None:
    """A :class:`Lean` stepper for this run, or ``None`` when the generic loop must run it."""
    if device.type != "cpu" or objective.regularizer is not None or diagnostics or stops:
        return None
    if type(algorithm) is not Composed or [type(p) for p in algorithm.pieces] != [Gradient, Descend]:
        return None
    prob, param = objective.problem, objective.param
    if type(prob.loss) is not SquaredLoss or prob.dtype not in (torch.float64, torch.float32):
        return None
    op = prob.operator
    if (type(param) is Symmetric and type(op) is GaussianSensing and op.packed and op.A.ndim == 2
            and op.A.is_contiguous() and op.nbytes <= MAX_BYTES and prob.y.ndim == 1):
        try:
            import numba  # noqa: F401
        except ImportError:  # pragma: no cover - numba is a dependency
            return None
        return SymPackedLean(objective)
    if type(param) is Asymmetric and type(op) is IdentityOperator and not op.symmetric_domain:
        return FactorizationLean(objective)
    return None


class Lean:
    """A stepper for the ordinary GD steps of a covered run (module docstring)."""

    name = "lean"
    #: torch's intra-op thread count while this stepper runs (``None``: unchanged). The numba
    #: segment's work around it — recording, logged steps — is a few small tensor operations,
    #: which torch runs on one thread anyway; a second OpenMP thread only spins, taking the core
    #: numba's kernel or the run's neighbour needs (measured at 2 threads on 003 Ex. 1.1, R = 1:
    #: 13–17 µs per step with torch at 1 thread, 51–60 µs with torch at 2; RESULTS.md).
    torch_threads: int | None = None

    def threads(self):
        """A context in which the stepper runs: torch at :attr:`torch_threads` (restored after)."""
        return _torch_threads(self.torch_threads)

    def __init__(self, objective):
        self.objective = objective
        prob = objective.problem
        self.c = prob.loss.c
        self.s = prob.loss.fused_scale

    #: whether :meth:`segment` can record θ, fit and z at given steps (``rec``) on the way
    records = False

    def segment(self, theta, step_size, n: int, ref: torch.Tensor, factor: float, target: float | None,
                y_norm_sq: float, rec=None):
        """Advance up to ``n`` steps from θ; stop before a step where some replica is flagged
        (diverged: not loss ≤ factor·ref; reached: √(fit/‖y‖²) ≤ target). Returns ``(made, θ,
        θ_prev, records)``; records (when ``records``): θ, fit and z at the local steps ``rec``."""
        raise NotImplementedError  # pragma: no cover - interface

    def step(self, theta, step_size) -> StepOut:
        """One GD step with its evaluation at θ (for the run loop's logged and stopping steps)."""
        raise NotImplementedError  # pragma: no cover - interface

    def _evaluation(self, z, fit, grad, G) -> Evaluation:
        loss = self.c * fit
        return Evaluation(loss=loss, z=z, fit_sq=fit, grad=grad, G=G, data_loss=loss)


class SymPackedLean(Lean):
    """X = UUᵀ on packed-symmetric dense Gaussian sensing: the numba segment kernel."""

    name = "symmetric×packed-sensing (numba segment)"
    records = True
    torch_threads = 1

    def __init__(self, objective):
        super().__init__(objective)
        from .operators import _lean_kernels as lk

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

    def _threads(self, R: int, n: int, groups: int) -> int:
        import numba

        return 1 if n * R * self.work < PARALLEL_WORK else max(1, min(numba.get_num_threads(), groups))

    def _call(self, U0, step, n, check, ref, factor, target, ynsq, rec=None):
        """Run the kernel (one replica at a time for R < ``LANES_FROM``, replica lanes from there) and
        return ``(stop per group, θ, θ_prev, z, fit, ∇, records)`` with the replica axis first;
        records: θ (nrec, R, d, k), fit (nrec, R), z (nrec, R, m) at the local steps ``rec``."""
        import numba

        R, d, k = U0.shape
        L = len(self.tag)
        dt = self.op.dtype
        f = self.np_dtype
        m = self.P.shape[0]
        rec = np.zeros(0, dtype=np.int64) if rec is None else np.asarray(rec, dtype=np.int64)
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
        old = numba.get_num_threads()
        threads = max(1, min(old, threads))
        if threads == 1:
            kernel[1](*args)
        else:
            numba.set_num_threads(threads)
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


class FactorizationLean(Lean):
    """X = F Gᵀ on the identity operator (002's ½‖FGᵀ − X‖²): the generic step's own tensor operations,
    in the same order and shapes (so the same bits), without the pieces, objective and operator
    layers around them: X = F Gᵀ, r = vec(X) − y, ‖r‖², W = 2c r, then F − η s (W G) and
    G − η s (Wᵀ F). The three products are the whole arithmetic; nothing cheaper computes this step
    (``benchmarks/RESULTS.md``)."""

    name = "asymmetric×identity (lean torch step)"

    def __init__(self, objective):
        super().__init__(objective)
        prob = objective.problem
        self.y = prob.y
        self.shape = prob.shape

    def _residual(self, F, G):
        z = (F @ G.mT).reshape(F.shape[0], -1)
        res = z - self.y
        return z, res, (res * res).sum(-1)

    def _update(self, F, G, res, step_size):
        W = ((2.0 * self.c) * res).reshape(F.shape[0], *self.shape)
        dF, dG = W @ G, W.mT @ F
        sF, sG = step_size
        return F - sF.reshape(-1, 1, 1) * dF, G - sG.reshape(-1, 1, 1) * dG, W, (dF, dG)

    def segment(self, theta, step_size, n, ref, factor, target, y_norm_sq, rec=None):
        F, G = theta
        prev = theta
        lim = factor * ref
        for t in range(n):
            _, res, fit = self._residual(F, G)
            flag = ~(self.c * fit <= lim)
            if target is not None:
                flag |= (fit / y_norm_sq).sqrt() <= target
            if bool(flag.any()):
                return t, (F, G), prev, None
            prev = (F, G)
            F, G, _, _ = self._update(F, G, res, step_size)
        return n, (F, G), prev, None

    def step(self, theta, step_size):
        F, G = theta
        z, res, fit = self._residual(F, G)
        F1, G1, W, grad = self._update(F, G, res, step_size)
        return StepOut((F1, G1), self._evaluation(z, fit, grad, DenseGrad(W)), step_size=step_size)


def next_boundary(schedule_sorted: list[int], t: int, steps: int) -> int:
    """The first logged step ≥ t (``steps`` when none is left)."""
    i = bisect.bisect_left(schedule_sorted, t)
    return schedule_sorted[i] if i < len(schedule_sorted) else steps


__all__ = ["MAX_BYTES", "Lean", "lean_for", "next_boundary"]
