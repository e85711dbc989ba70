"""A reproduction's figure and claim phase: draw the figures and check the claims from the store,
in this process or as tasks on a spawned process pool (:func:`draw_and_check`).

Serially (``workers == 1``), each figure is drawn and then each claim checked in this process, in
their order, on the reproduction's :class:`~overparam.papers.base.Context`.

On a pool (``workers > 1``, or the pool ``reproduce`` already started for its stored computations:
:func:`worker_pool`), the figures and claims are tasks passed by id, in groups of those that read a stored run or
computation in common (a figure with the claims that read its runs, :func:`groups`). A worker
resolves each id with :func:`overparam.papers.resolve_targets` and draws or checks it on its own
context over the same store (one per worker process, kept for the pool's life, so that a worker's
tasks share what it read: :class:`~overparam.experiments.memo.Memo`). Groups are submitted biggest
first (:func:`cost`), so the longest do not start last; the results are kept in the serial order, so
``claims.json`` and the problems list come out the same whichever way they were made. A worker
first checks that each id resolves to the same runs and computations as in this process (their
keys, :func:`read_keys`); where it does not (this process changed a paper's settings at run time, as
tests do), this process draws or checks that item itself, as it does the items of a worker that
died. A figure or claim that raises :class:`~overparam.experiments.errors.SpecError` (a run not in
the store) lands in ``problems`` exactly as serially; any other error ends the phase, as serially.
Workers are pinned to ``threads`` BLAS threads, like the runs'.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .experiments.claims import Claim
from .experiments.errors import SpecError
from .experiments.store import Store


@dataclass
class Drawn:
    """What the phase produced: figure files by id (in figure order), claims (in claim order), and a
    line per figure not drawn or claim not checked (figures first)."""

    figures: dict[str, list[Path]] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_keys(ctx, item) -> list[str]:
    """The keys of the runs and stored computations ``item`` (a figure or a claim) reads in ``ctx``."""
    return [s.key() for s in ctx.specs(item.specs)] + [c.key() for c in ctx.computations(item.computations)]


def digest(keys: list[str]) -> str:
    """A digest of :func:`read_keys`: equal in two processes when both resolve an item to the same data."""
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def cost(ctx, kind: str, item, keys: list[str]) -> int:
    """The order in which groups start (bigger first; any order gives the same results): the stored
    runs and computations the item reads, times the number of evaluations of a claim's check."""
    n = len(keys)
    if kind == "claim":
        n *= 2 + 2 * len(item.thresholds) + len({s.data_seed for s in ctx.specs(item.specs)})
    return n


def _one(kind: str, item, ctx, out: Path) -> tuple[str, Any]:
    """``("ok", paths or Claim)`` or ``("problem", line)`` for a figure or claim that raised SpecError."""
    try:
        return ("ok", item.plot(ctx, out)) if kind == "figure" else ("ok", item.check(ctx))
    except SpecError as exc:
        what = f"figure {item.id} not drawn" if kind == "figure" else f"claim {item.id} not checked"
        return "problem", f"{what}: {exc}"


#: this worker process's context, by (store root, quick, device): one at a time
_WORKER_CTX: dict[tuple[str, bool, str], Any] = {}


def _task(items: list[tuple[str, str, str]], root: str, quick: bool, device: str, out: str) -> list[tuple[str, Any]]:
    """A group of figures and claims ``(kind, id, reads digest)`` in a pool worker (see the module
    docstring): one ``(status, value)`` each, ``("elsewhere", None)`` for an id that resolves to other
    runs here than in the parent."""
    from .experiments.executors import _WORKER_INIT_ERROR
    from .papers import resolve_targets
    from .papers.base import Context

    if _WORKER_INIT_ERROR:
        raise _WORKER_INIT_ERROR[0]
    key = (root, quick, device)
    if key not in _WORKER_CTX:
        _WORKER_CTX.clear()
        _WORKER_CTX[key] = Context(store=Store(root), quick=quick, device=device)
    ctx = _WORKER_CTX[key]
    done = []
    for kind, item_id, expected in items:
        figures, checks, _ = resolve_targets([item_id])
        item = next(x for x in (figures if kind == "figure" else checks) if x.id == item_id)
        same = digest(read_keys(ctx, item)) == expected
        done.append(_one(kind, item, ctx, Path(out)) if same else ("elsewhere", None))
    return done


def groups(tasks: list[tuple[str, Any]], keys: dict[str, list[str]]) -> list[list[tuple[str, Any]]]:
    """``tasks`` ((kind, item)) in groups that one worker takes together, so that they share its reads:
    two items are in one group when they read a stored run or computation in common (``keys``: by
    item id, :func:`read_keys`), directly or through others. Each group keeps the serial order (a
    figure before the claims that read its runs); groups come in the order of their first item."""
    root = list(range(len(tasks)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    first: dict[str, int] = {}
    for i, (_, item) in enumerate(tasks):
        for key in keys[item.id]:
            j = first.setdefault(key, i)
            root[find(i)] = find(j)
    out: dict[int, list[tuple[str, Any]]] = {}
    for i, task in enumerate(tasks):
        out.setdefault(find(i), []).append(task)
    return list(out.values())


@contextlib.contextmanager
def worker_pool(workers: int, threads: int) -> Iterator[ProcessPoolExecutor | None]:
    """A spawned pool of ``workers`` processes pinned to ``threads`` BLAS threads (``None`` when
    ``workers`` ≤ 1), shared by ``reproduce``'s stored computations and its figures and claims; its
    processes start on the first submit. On an error or Ctrl-C its workers are ended at once."""
    if workers <= 1:
        yield None
        return
    import multiprocessing as mp

    from .experiments.executors import _init_worker, _kill_workers

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                               initargs=(threads, os.getpid()))
    try:
        yield pool
    except BaseException:
        _kill_workers(pool)  # first: shutdown forgets its processes
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)


def _pool_results(tasks: list[tuple[str, Any]], ctx, out: Path, pool: ProcessPoolExecutor) -> dict[str, tuple]:
    """``{item id: (status, value)}`` for ``tasks`` ((kind, item)) run on ``pool``, biggest group first;
    the items a worker could not take (``elsewhere``) or that a dead worker lost are left out (the
    caller does them)."""
    from concurrent.futures.process import BrokenProcessPool

    from .experiments.executors import _sigint_blocked, _starting

    root = str(Path(ctx.store.root).resolve())
    keys = {item.id: read_keys(ctx, item) for _, item in tasks}
    order = sorted(groups(tasks, keys), key=lambda g: -sum(cost(ctx, kind, item, keys[item.id]) for kind, item in g))
    done: dict[str, tuple] = {}
    futs = {}
    try:
        with _starting("the figure and claim pool"), _sigint_blocked():  # workers start on the first submits
            for g in order:
                futs[pool.submit(_task, [(kind, item.id, digest(keys[item.id])) for kind, item in g], root,
                                 ctx.quick, ctx.device, str(out))] = [item.id for _, item in g]
    except BrokenProcessPool:  # a worker died before (a stored computation): this process does the rest
        pass
    for fut, ids in futs.items():
        try:
            results = fut.result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): this process does the rest
            continue
        done.update((i, r) for i, r in zip(ids, results, strict=True) if r[0] != "elsewhere")
    return done


def draw_and_check(figures: list, checks: list, ctx, out: Path, *, workers: int = 1, threads: int = 1,
                   pool: ProcessPoolExecutor | None = None) -> Drawn:
    """Draw ``figures`` into ``out`` and check ``checks`` on ``ctx`` (see the module docstring):
    serially when ``workers`` ≤ 1 and no ``pool`` is given, else on ``pool`` (:func:`worker_pool`) or
    on a pool of ``workers`` processes started here."""
    tasks = [("figure", f) for f in figures] + [("claim", c) for c in checks]
    done: dict[str, tuple] = {}
    if len(tasks) > 1 and (pool is not None or workers > 1):
        with contextlib.ExitStack() as stack:
            if pool is None:
                pool = stack.enter_context(worker_pool(workers, threads))
            done = _pool_results(tasks, ctx, out, pool)
    result = Drawn()
    for kind, item in tasks:
        status, value = done[item.id] if item.id in done else _one(kind, item, ctx, out)
        if status == "problem":
            result.problems.append(value)
        elif kind == "figure":
            result.figures[item.id] = value
        else:
            result.claims.append(value)
    return result


__all__ = ["Drawn", "cost", "digest", "draw_and_check", "groups", "read_keys", "worker_pool"]
