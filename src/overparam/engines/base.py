"""What every compiled engine shares: the :class:`Engine` interface the run loop drives, the
bounds it runs under, and :func:`next_boundary`.

An engine advances the ordinary GD steps of a run without the generic step's layers (pieces,
objective, operator). The run loop (:class:`overparam.run._Loop`) asks :meth:`Engine.segment` to
advance over the steps between two logged steps (it stops *before* a step where a replica diverges
or reaches the target) and :meth:`Engine.step` for a logged or stopping step, whose
:class:`~overparam.algorithms.base.StepOut` goes through the loop's usual health check, recording
and replica bookkeeping. Every evaluation the loop records on an engine's run comes from the engine
(:meth:`Engine.step`), never from the generic objective: θ is the same bits whatever the log
schedule, and so is every number computed from it (``tests/test_engines.py``).
"""

from __future__ import annotations

import bisect
import contextlib

import torch

from ..algorithms.base import StepOut
from ..objective import Evaluation

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
def torch_threads(n: int | None):
    """torch's intra-op thread count set to ``n`` for the block (``None``: unchanged), restored after."""
    if n is None or torch.get_num_threads() == n:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


class Engine:
    """A stepper for the ordinary GD steps of a covered run (module docstring)."""

    name = "lean"
    #: whether every replica's arithmetic is independent of the batch (R, its lane, the thread count):
    #: only then may a sweep merge specs into one run (:mod:`overparam.experiments.grouping`)
    replica_invariant = False
    #: torch's intra-op thread count while this engine runs (``None``: unchanged). The numba
    #: segment's work around it — recording, logged steps — is a few small tensor operations,
    #: which torch runs on one thread anyway; a second OpenMP thread only spins, taking the core
    #: numba's kernel or the run's neighbour needs (measured at 2 threads on 003 Ex. 1.1, R = 1:
    #: 13–17 µs per step with torch at 1 thread, 51–60 µs with torch at 2; RESULTS.md).
    torch_threads: int | None = None
    #: whether :meth:`segment` can record θ, fit and z at given steps (``rec``) on the way
    records = False

    def threads(self):
        """A context in which the engine runs: torch at :attr:`torch_threads` (restored after)."""
        return torch_threads(self.torch_threads)

    def __init__(self, objective):
        self.objective = objective
        prob = objective.problem
        self.c = prob.loss.c
        self.s = prob.loss.fused_scale

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


def next_boundary(schedule_sorted: list[int], t: int, steps: int) -> int:
    """The first logged step ≥ t (``steps`` when none is left)."""
    i = bisect.bisect_left(schedule_sorted, t)
    return schedule_sorted[i] if i < len(schedule_sorted) else steps
