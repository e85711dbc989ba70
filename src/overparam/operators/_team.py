"""A team of threads for kernels that claim their chunks one at a time (:mod:`._atomic`).

:func:`run` calls a compiled ``nogil`` kernel in the calling thread and in ``helpers`` helper
threads at once; the kernel hands out its fixed chunks through atomic counters, so a thread that
the OS has paused (a neighbour's process on the other core) holds at most the one chunk it is
running, and a helper that starts late finds nothing left and returns. The caller does not wait
for helpers to arrive, only for claimed chunks to finish — unlike a ``prange`` region, whose join
waits for every thread (numba's OpenMP layer also assigns the chunks statically, half to each of
two threads; :mod:`._atomic`).

Results do not depend on the team: the chunks and their reduction order are fixed by the data.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable

_lock = threading.Lock()
_queues: list[queue.SimpleQueue] = []


def _helper(q: queue.SimpleQueue) -> None:
    while True:
        kernel, args = q.get()
        with contextlib.suppress(Exception):  # only dispatch can fail, before any claim: the caller does it all
            kernel(*args)


def _reset_after_fork() -> None:  # pragma: no cover - forked children only
    global _lock
    _lock = threading.Lock()
    _queues.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def helpers_for(threads: int) -> int:
    """Helper threads for a team of ``threads`` (the caller is one of them)."""
    return max(0, threads - 1)


def run(kernel: Callable[..., object], args: tuple, helpers: int) -> None:
    """``kernel(*args, last)`` in this thread (``last=True``: it returns when all the work is done)
    and in ``helpers`` helper threads (``last=False``), started as daemon threads on first use."""
    if helpers > 0:
        with _lock:
            while len(_queues) < helpers:
                q: queue.SimpleQueue = queue.SimpleQueue()
                threading.Thread(target=_helper, args=(q,), daemon=True, name=f"overparam-team-{len(_queues)}").start()
                _queues.append(q)
            qs = _queues[:helpers]
        for q in qs:
            q.put((kernel, (*args, False)))
    kernel(*args, True)


__all__ = ["helpers_for", "run"]
