"""Replica lanes: a run of several replicas computes each of them the same way to its end.

An operator may have one kernel for a single replica and another for a batch of replicas, each
replica a *lane* of the batch (dense Gaussian sensing above ``FUSED_MIN_BYTES``:
:mod:`overparam.operators._dense_kernels`). The lane kernel gives every replica the same
operations whatever the batch — its size, the replica's lane, the thread count — but the
one-replica kernel sums in another order. A run of R ≥ 2 replicas whose batch shrinks to one
replica (the others converged, diverged or reached their step budgets) would switch kernels for
that replica mid-run, and its bits would then depend on what else was in the batch.

:func:`overparam.run` therefore runs a batch of R ≥ 2 replicas inside :func:`replica_lanes`:
operators that have lane kernels use them for every product of the run, one replica included.
A one-replica run keeps the one-replica kernel (its numbers are unchanged). With this, a replica's
numbers in a multi-replica run do not depend on its batch, which is what lets a sweep run specs
that share data as one batched pass (:mod:`overparam.experiments.grouping`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_LANES: contextvars.ContextVar[bool] = contextvars.ContextVar("overparam_replica_lanes", default=False)


@contextlib.contextmanager
def replica_lanes(on: bool = True) -> Iterator[None]:
    """Within the block, operators compute every replica as a lane of their batch kernel
    (``on=False``: as outside, the one-replica kernel for one replica). Thread- and task-local."""
    token = _LANES.set(bool(on))
    try:
        yield
    finally:
        _LANES.reset(token)


def in_replica_lanes() -> bool:
    """Whether the calling code runs inside :func:`replica_lanes` (a run of several replicas)."""
    return _LANES.get()


__all__ = ["in_replica_lanes", "replica_lanes"]
