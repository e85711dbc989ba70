"""Run many specs into a store: serially, on a local process pool, or on Dask distributed.

Every executor calls the same :func:`work` on each spec with the same BLAS thread count (default
1 per run), so a spec's numbers are bit-identical whichever executor ran it. numba's compiled
kernels, whose results do not depend on their thread count, get the cores no other run of the
sweep uses (:func:`kernel_threads_for`): a lone run gets all of them. Runs already in the
store are skipped, so re-running a sweep computes nothing and a killed sweep resumes with exactly
the missing runs. A run that raises is recorded under ``failures/`` and the sweep goes on; so is a
run whose worker process died (out of memory, killed).

* serial: in this process, one run at a time;
* pool: ``workers`` spawned processes (``spawn`` context: no fork after torch has started threads),
  each pinned to ``threads`` BLAS threads for its whole life;
* Dask: ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded worker processes bound
  to 127.0.0.1; any other value is a scheduler address (``tcp://host:8786``), reached within
  ``dask_timeout`` seconds or a one-line :class:`SpecError`. Workers write to the store directly,
  so on a cluster the store must be on a shared filesystem. Dask is imported only here, only when
  asked for.

Progress: runs done / total through ``Progress.run_finished``; iteration progress of running runs
through ``Progress.run_update`` (at most four updates a second per run), from pool workers over a
pipe whose writing end each worker inherits when it starts, and from Dask workers as scheduler
events. No manager process and no feeder thread: a worker writes each update with one
non-blocking write (under ``PIPE_BUF`` bytes, so atomic) and drops it if the pipe is full, so no
helper that dies or lags can leave a worker waiting.

Snapshots: a run of a sweep that lasts longer than ``checkpoint_seconds`` (default 600 s; 0: never)
writes a snapshot of its state to the store every ``checkpoint_seconds`` of wall time
(:mod:`overparam.experiments.partial`), and a task that finds a usable snapshot of its spec resumes
from it with the bits of a run never interrupted (:mod:`overparam.snapshot`): a killed sweep loses at
most ``checkpoint_seconds`` of each long run. Single-spec tasks only (:func:`work`): a grouped task
(:func:`work_group`) batches small problems whose runs last seconds to minutes, and a recipe's stages
are separate runs; both start over.

Claims: a run another process holds (:meth:`Store.claim`) is waited on for at most
``claim_timeout`` seconds (:func:`claim_or_wait`); the wait is announced on stderr within
:data:`CLAIM_REPORT_S` seconds (which run, which host and process hold it, since when); runs still
claimed at the end of the wait are reported in :attr:`SweepReport.claimed` and as failures that say
how to release them. :attr:`SweepReport.computed` holds only the runs this process computed; runs
another process stored meanwhile are in :attr:`SweepReport.by_other`.

Helpers that cannot start or die: a thread or process that cannot be started (``can't start new
thread``, ``fork``/``spawn`` refused for lack of resources) in this process, in a pool worker or in
a Dask LocalCluster ends the sweep with one :class:`SweepError` naming what could not start and why
(the CLI prints it as one line and exits 1); it never leaves the sweep waiting.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..errors import SweepError
from .errors import SpecError
from .spec import RunSpec
from .store import CLAIM_TIMEOUT_S, Store

PROGRESS_INTERVAL_S = 0.25
DASK_TIMEOUT_S = 5.0
DASK_PROGRESS_TOPIC = "overparam-progress"
#: A Dask handshake frame is a few hundred bytes; a first "length" above this is not Dask.
MAX_HANDSHAKE_BYTES = 1 << 20
#: Local worker processes per usable CPU at most (:func:`max_workers`).
WORKERS_PER_CPU = 4
#: How often a pool helper checks that the sweep's process is still alive (:func:`_exit_with_parent`).
PARENT_POLL_S = 0.25
#: Seconds a run may stay claimed by another process before a sweep gives up on it (``--claim-timeout``).
DEFAULT_CLAIM_TIMEOUT_S = CLAIM_TIMEOUT_S
#: A wait for another process's claim is announced on stderr after this many seconds.
CLAIM_REPORT_S = 1.0



class ClaimTimeout(Exception):
    """A run still claimed by another process after the claim timeout (see :func:`claim_or_wait`)."""


def start_failure(exc: BaseException) -> BaseException | None:
    """The exception in ``exc``'s chain (itself, its cause or context) that says a thread or process
    could not be started for lack of resources, or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
            return exc
        if isinstance(exc, OSError) and exc.errno in (errno.EAGAIN, errno.ENOMEM):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


@contextlib.contextmanager
def _starting(what: str):
    """Turn a thread or process start failure inside the block into a :class:`SweepError` naming
    ``what`` was being started."""
    try:
        yield
    except SweepError:
        raise
    except Exception as exc:
        cause = start_failure(exc)
        if cause is None:
            raise
        raise SweepError(f"{what}: could not start a thread or process ({type(cause).__name__}: "
                         f"{str(cause).splitlines()[0] if str(cause) else ''}); the machine's thread or process "
                         "limit is reached (other jobs, ulimit -u); retry with fewer --workers or when it is "
                         "less loaded") from None


class Progress(Protocol):
    def start(self, total: int, skipped: int) -> None: ...

    def run_update(self, key: str, label: str, step: int, steps: int) -> None: ...

    def run_finished(self, key: str, ok: bool) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    def start(self, total: int, skipped: int) -> None:
        pass

    def run_update(self, key: str, label: str, step: int, steps: int) -> None:
        pass

    def run_finished(self, key: str, ok: bool) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class SweepReport:
    """What a sweep did: ``total`` distinct specs, ``skipped`` already stored when it started, the
    keys ``computed`` by this process, those stored meanwhile by another process (``by_other``:
    a concurrent sweep that held their claims), the ``failed`` ``(key, error)`` pairs (runs still
    claimed at the claim timeout included), the ``claimed`` ``(key, holder)`` pairs among them, the
    executor and the wall time in seconds."""

    total: int
    skipped: int
    computed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    wall_time: float = 0.0
    executor: str = "serial"
    by_other: list[str] = field(default_factory=list)
    claimed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON form (``overparam run --json``; see docs/cli.md)."""
        return {"total": self.total, "skipped": self.skipped, "computed": len(self.computed),
                "computed_by_other": len(self.by_other),
                "failed": [{"key": k, "error": e.splitlines()[0] if e else ""} for k, e in self.failed],
                "claimed": [{"key": k, "holder": h} for k, h in self.claimed],
                "executor": self.executor, "wall_time": self.wall_time}


def label_of(spec: RunSpec) -> str:
    tag = spec.tags.get("figure") or spec.tags.get("label")
    return f"{tag or spec.problem.name} {spec.key()[:8]}"


#: What happened to one run in a task: ``(key, kind, detail)``; ``kind`` is ``"computed"`` (by this
#: process), ``"other"`` (stored by another process meanwhile), ``"failed"`` (``detail``: the error)
#: or ``"claimed"`` (still held by another process at the claim timeout; ``detail``: the holder).
Outcome = tuple[str, str, "str | None"]


def work(spec_json: str, store_root: str, threads: int, sink: Any = None,
         kernel_threads: int | None = None, claim_timeout: float | None = DEFAULT_CLAIM_TIMEOUT_S,
         checkpoint_seconds: float = 0.0) -> Outcome:
    """Run one spec and save it; returns its :data:`Outcome`. Used by every executor. The run is
    claimed in the store first (:meth:`Store.claim`, waiting at most ``claim_timeout`` seconds for
    another holder: :func:`claim_or_wait`), so two sweeps or many workers writing one store compute
    it once. ``kernel_threads``: numba's threads (bit-neutral; see :func:`kernel_threads_for`).
    ``checkpoint_seconds`` > 0: the run resumes from its snapshot in the store if it has a usable one,
    and writes one every ``checkpoint_seconds`` of wall time (:func:`_compute`)."""
    spec = RunSpec.model_validate_json(spec_json)
    key = spec.key()
    store = Store(store_root)
    if store.has(key):
        return key, "other", None  # stored after this sweep looked
    try:
        if not claim_or_wait(store, key, timeout=claim_timeout):
            return key, "other", None  # stored by the process that held its claim
    except ClaimTimeout as exc:
        return key, "claimed", str(exc)
    try:
        return _compute(spec, key, store, threads, sink, kernel_threads, checkpoint_seconds)
    finally:
        store.release(key)


def _notify(line: str) -> None:
    with contextlib.suppress(Exception):
        print(line, file=sys.stderr, flush=True)


def claim_or_wait(store: Store, key: str, poll_s: float = 0.1, *, timeout: float | None = DEFAULT_CLAIM_TIMEOUT_S,
                  report_after: float = CLAIM_REPORT_S, notify: Callable[[str], None] = _notify) -> bool:
    """True when this process holds ``key``'s claim and the run is still missing; False when another
    process stored it meanwhile (this one waited for it instead of computing it twice).

    A stale claim (its process died or its PID was reused on this host; see
    :meth:`overparam.experiments.store.Claim.stale`) is taken over at once. A live or foreign
    holder is waited on: after ``report_after`` seconds one line goes to ``notify`` (stderr) naming
    the run and its holder (host, pid, since when); after ``timeout`` seconds (None: no limit)
    :class:`ClaimTimeout` is raised, whose message names the holder and how to release the claim."""
    t0 = time.monotonic()
    reported = False
    while True:
        if store.claim(key):
            if store.has(key):
                store.release(key)
                return False
            return True
        if store.has(key):
            return False
        waited = time.monotonic() - t0
        holder = None
        if not reported and waited >= report_after:
            holder = store.holder(key)
            if holder is not None:
                limit = "no time limit" if timeout is None else f"up to {timeout:g} s, --claim-timeout"
                notify(f"run {key} is claimed by {holder.describe()}: waiting for it ({limit})")
                reported = True
        if timeout is not None and waited >= timeout:
            holder = holder or store.holder(key)
            who = holder.describe() if holder is not None else "another process"
            raise ClaimTimeout(
                f"still claimed by {who} after {waited:.0f} s (--claim-timeout {timeout:g}); if no sweep is "
                f"computing it: overparam results --store {store.root} --release-claims (--all also removes "
                "live and other hosts' claims), then run again")
        time.sleep(poll_s if timeout is None else max(0.0, min(poll_s, timeout - waited)))


def _progress(sink: Any, key: str, label: str):
    """A run's (or a pass's) progress callback ``(t, steps)`` that hands the sink at most one update
    per ``PROGRESS_INTERVAL_S``; ``None`` without a sink."""
    if sink is None:
        return None
    last = [time.monotonic()]

    def progress(t: int, steps: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL_S:
            last[0] = now
            try:
                sink.put((key, label, t, steps))
            except Exception as exc:  # noqa: BLE001 - progress must never break a run ...
                if start_failure(exc) is not None:  # ... but a thread that cannot start ends the sweep
                    raise

    return progress


def _snapshots(store: Store, key: str, checkpoint_seconds: float, what: str):
    """``(resume, checkpoint)`` for a run (or a group's pass) whose snapshots live under ``key``: the
    store's usable snapshot of ``key`` if any, and a checkpoint handing the store a snapshot every
    ``checkpoint_seconds`` (``(None, None)`` when that is 0)."""
    from ..snapshot import every_seconds

    if checkpoint_seconds <= 0:
        return None, None
    resume, why = store.load_partial(key)
    if why is not None:
        _notify(f"{what} {key}: its snapshot is not used ({why}); computing it from step 0")

    def save(snap) -> None:
        try:
            store.save_partial(key, snap)
        except OSError as exc:  # a full disk costs the snapshot, never the run
            _notify(f"{what} {key}: snapshot at step {snap.t} not written ({exc.strerror or exc})")

    return resume, every_seconds(checkpoint_seconds, save, lambda why: _notify(f"{what} {key}: takes no snapshots "
                                                                                 f"({why})"))


def _resuming(call, store: Store, key: str, resume, what: str):
    """``(call(resume), resume)``; when the run refuses the snapshot (another run's after all), its
    snapshot is dropped and ``(call(None), None)``: computed from step 0."""
    from ..snapshot import SnapshotError

    try:
        return call(resume), resume
    except SnapshotError as exc:
        _notify(f"{what} {key}: its snapshot is not used ({exc}); computing it from step 0")
        store.drop_partial(key)
        return call(None), None


def _compute(spec: RunSpec, key: str, store: Store, threads: int, sink: Any, kernel_threads: int | None,
             checkpoint_seconds: float = 0.0) -> Outcome:
    """Run ``spec`` and store it (or record its failure). With ``checkpoint_seconds`` > 0 and no
    recipe: resume from the store's usable snapshot of ``key`` if any (meta records
    ``resumed_from_step``; a snapshot the run refuses, of another engine or thread count, is removed
    and the run starts over), and hand the store a snapshot every ``checkpoint_seconds``."""
    from ..backend import threads as thread_ctx
    from .execute import execute

    progress = _progress(sink, key, label_of(spec))
    resume, checkpoint = _snapshots(store, key, checkpoint_seconds if spec.recipe is None else 0.0, "run")
    report = progress
    try:
        with thread_ctx(threads, kernels=kernel_threads):  # numba first, then torch and BLAS (backend.threads)
            try:
                result, resume = _resuming(lambda r: execute(spec, progress=report, checkpoint=checkpoint, resume=r),
                                           store, key, resume, "run")
            except Exception:
                if resume is not None:  # never resume into the same failure twice: the next sweep starts over
                    store.drop_partial(key)
                raise
        store.save(spec, result, meta={"resumed_from_step": resume.t} if resume is not None else None)
        return key, "computed", None
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        if start_failure(exc) is not None:  # not the run's fault: the sweep cannot go on
            with _starting(f"run {key} in process {os.getpid()}"):
                raise
        msg = f"{type(exc).__name__}: {exc}"
        store.record_failure(spec, msg + "\n" + traceback.format_exc(limit=8))
        return key, "failed", msg


def kernel_threads_for(threads: int, concurrent: int) -> int:
    """numba's threads for each of ``concurrent`` runs sharing this machine: the usable cores split
    among them, at least ``threads``. A lone run (the serial executor, or a sweep with one missing run)
    gets every core for its compiled kernels. BLAS and torch keep ``threads`` (their sums depend on
    the count); the compiled kernels' results do not, so the numbers are those of any other executor."""
    from ..backend import usable_cpus

    return max(threads, usable_cpus() // max(1, concurrent))


def work_group(spec_jsons: list[str], store_root: str, threads: int, sink: Any = None,
               kernel_threads: int | None = None, claim_timeout: float | None = DEFAULT_CLAIM_TIMEOUT_S,
               checkpoint_seconds: float = 0.0) -> list[Outcome]:
    """Run specs that :func:`overparam.experiments.grouping.plan` grouped as one batched run and
    save each (bit-identical to running them one by one); one by one when that is not possible.

    Each member is claimed in the store first, like :func:`work`: the members this process claims
    run as the batch; those another process holds are left to it (waited for by :func:`work`
    afterwards), so two sweeps that group the same specs still compute each once. With
    ``checkpoint_seconds`` the pass takes snapshots and resumes like a single run, under the key of
    the merged spec (``grouping.merged_spec``: the same members give the same key)."""
    from ..backend import threads as thread_ctx
    from .grouping import merged_spec, run_group

    specs = [RunSpec.model_validate_json(j) for j in spec_jsons]
    store = Store(store_root)
    out: list[Outcome] = []
    mine: list[RunSpec] = []
    theirs: list[RunSpec] = []
    try:
        for spec in specs:
            key = spec.key()
            if store.has(key):
                out.append((key, "other", None))
            elif not store.claim(key):
                theirs.append(spec)
            elif store.has(key):  # stored by another process between the look and the claim
                store.release(key)
                out.append((key, "other", None))
            else:
                mine.append(spec)
        results = None
        if len(mine) > 1:
            pkey = merged_spec(mine).key()
            resume, checkpoint = _snapshots(store, pkey, checkpoint_seconds, "pass")
            # the bar under the first member's key: it goes when that run is reported stored
            report = _progress(sink, mine[0].key(), f"{len(mine)} runs in one pass: {label_of(mine[0])} …")
            try:
                with thread_ctx(threads, kernels=kernel_threads):
                    results, resume = _resuming(
                        lambda r: run_group(mine, progress=report, checkpoint=checkpoint, resume=r),
                        store, pkey, resume, "pass")
                if results is not None:
                    meta = {"resumed_from_step": resume.t} if resume is not None else None
                    for spec, res in zip(mine, results, strict=True):
                        store.save(spec, res, meta=meta)
                if checkpoint is not None:
                    store.drop_partial(pkey)
            except Exception as exc:  # noqa: BLE001 - run them one by one: each failure is recorded on its own
                if start_failure(exc) is not None:
                    with _starting(f"runs {', '.join(s.key() for s in mine)} in process {os.getpid()}"):
                        raise
                results = None
        for spec in mine:
            if results is not None or store.has(spec.key()):
                out.append((spec.key(), "computed", None))
            else:
                out.append(_compute(spec, spec.key(), store, threads, sink, kernel_threads, checkpoint_seconds))
    finally:
        for spec in mine:
            store.release(spec.key())
    return out + [work(spec.model_dump_json(), store_root, threads, sink, kernel_threads, claim_timeout,
                       checkpoint_seconds) for spec in theirs]


def _task(fn_args: list[str], root: str, threads: int, sink: Any, kt: int | None,
          claim_timeout: float | None = DEFAULT_CLAIM_TIMEOUT_S, checkpoint_seconds: float = 0.0) -> list[Outcome]:
    """A task of the pool or Dask: one spec (``work``) or a group (``work_group``). In a pool worker,
    a failed start-up (:func:`_init_worker`) is raised here, as a :class:`SweepError`."""
    if _WORKER_INIT_ERROR:
        raise _WORKER_INIT_ERROR[0]
    if sink is None:
        sink = _WORKER_SINK[0] if _WORKER_SINK else None
    if len(fn_args) == 1:
        return [work(fn_args[0], root, threads, sink, kt, claim_timeout, checkpoint_seconds)]
    return work_group(fn_args, root, threads, sink, kt, claim_timeout, checkpoint_seconds)


#: In a pool worker: the progress queue it inherited, and the error its start-up raised (if any).
_WORKER_SINK: list[Any] = []
_WORKER_INIT_ERROR: list[SweepError] = []


class _PipeSink:
    """A pool worker's end of the progress pipe: each update is one non-blocking write, dropped
    when the pipe is full (the sweep's process reads it every 0.2 s); it never blocks and starts no
    thread."""

    def __init__(self, conn: Any):
        self.conn = conn
        os.set_blocking(conn.fileno(), False)

    def put(self, item: tuple[str, str, int, int]) -> None:
        with contextlib.suppress(BlockingIOError):
            self.conn.send(item)


def _init_worker(threads: int, parent: int | None = None, q: Any = None) -> None:
    """A pool worker's start-up. An error here cannot reach the parent directly (the pool would only
    see a worker that died and log a traceback), so it is kept and raised by the worker's first task
    as a :class:`SweepError` naming the cause."""
    from ..backend import pin_process_threads

    try:
        with _starting(f"pool worker process {os.getpid()} (its start-up)"):
            _init_helper(parent)
            pin_process_threads(threads)
            if q is not None:
                _WORKER_SINK.append(_PipeSink(q))
    except SweepError as exc:
        _WORKER_INIT_ERROR.append(exc)


def _init_helper(parent: int | None = None) -> None:
    """First thing in a pool worker: quiet Ctrl-C, and exit with the parent.

    Ctrl-C reaches every process of the terminal's group: helpers end at once and silently (what
    they were writing stays in tmp/ and is cleaned later); the parent reports it. Helpers are
    started with SIGINT blocked (:func:`_sigint_blocked`), so a Ctrl-C during their start-up waits
    until here, where it ends them silently, instead of printing a KeyboardInterrupt traceback
    from the middle of an import.

    ``parent``: the sweep's process id. If that process dies without shutting the pool down
    (SIGKILL, out of memory), nothing tells its helpers: a watchdog thread sees the process
    re-parented (:func:`_exit_with_parent`) and exits it. Polling ``os.getppid()`` was chosen over
    Linux's ``prctl(PR_SET_PDEATHSIG)``: it works on every POSIX system, and PDEATHSIG fires when
    the parent *thread* that started the process ends, not the parent process, which would kill
    helpers started from a short-lived thread. The resource tracker needs nothing: it exits when the
    last process holding its pipe (the parent and these helpers) is gone."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), name="overparam-parent-watch", daemon=True).start()


def _exit_with_parent(parent: int, poll_s: float = PARENT_POLL_S) -> None:
    """Exit this process (status 1, no clean-up: the store's writes are atomic) once ``parent`` is no
    longer its parent process, i.e. it died and this process was re-parented."""
    while os.getppid() == parent:
        time.sleep(poll_s)
    os._exit(1)


@contextlib.contextmanager
def _sigint_blocked():
    """Block SIGINT in this thread while helper processes are spawned: they inherit the blocked
    mask and unblock it in :func:`_init_helper`. A Ctrl-C meanwhile still reaches the parent (through
    another of its threads, or this one on leaving): one KeyboardInterrupt there, none in the
    helpers. The standard library's resource tracker is started the same way, but then unblocks
    SIGINT outright, so it is started before."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # first: starting it *unblocks* SIGINT in this thread
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def clean_stale_tmp(store: Store) -> int:
    """Remove half-written runs of processes that no longer exist (see :meth:`Store.clean_tmp`)."""
    return store.clean_tmp()


def run_sweep(
    specs: Sequence[RunSpec],
    store: Store,
    *,
    workers: int = 1,
    dask: str | None = None,
    threads: int = 1,
    progress: Progress | None = None,
    dask_timeout: float = DASK_TIMEOUT_S,
    group: bool = True,
    claim_timeout: float | None | str = "store",
    checkpoint_seconds: float | str = "store",
) -> SweepReport:
    """Compute every spec missing from ``store``; see the module docstring for executors.

    Args:
        specs: the runs (duplicates, by key, run once).
        store: where finished runs are written and looked up.
        workers: process-pool size (1: serial), or the LocalCluster size with ``dask="local"``.
        dask: ``None`` (no Dask), ``"local"``, or a scheduler address.
        threads: BLAS threads of every run, whichever executor (keep it equal to compare bits).
        progress: receives run and iteration progress (default: none).
        dask_timeout: seconds to reach a Dask scheduler before giving up.
        group: run specs that share an operator as one batched run where that changes no bit
            (:mod:`overparam.experiments.grouping`).
        claim_timeout: seconds to wait for a run another process holds (None: no limit; default:
            the store's ``claim_timeout``, 600 s unless set); see
            :func:`claim_or_wait`. Runs still claimed then are failures of this sweep (not recorded
            under ``failures/``) and listed in :attr:`SweepReport.claimed`.
        checkpoint_seconds: seconds of wall time between a long run's snapshots in the store (0: none;
            default: the store's ``checkpoint_seconds``, 600 s unless set); a run with a usable
            snapshot resumes from it (module docstring).

    Raises:
        SweepError: a thread or process of the sweep could not be started (here, in a pool worker
            or in a Dask LocalCluster).
    """
    check_workers(workers, dask)
    claim_timeout = check_claim_timeout(store.claim_timeout if claim_timeout == "store" else claim_timeout)
    ckpt = check_checkpoint_seconds(store.checkpoint_seconds if checkpoint_seconds == "store" else checkpoint_seconds)
    if threads < 1:
        raise SpecError(f"--threads: got {threads}; accepted: integers >= 1")
    if dask is not None:
        check_dask_address(dask)
    progress = progress or NullProgress()
    unique: dict[str, RunSpec] = {}
    for s in specs:
        unique.setdefault(s.key(), s)
    if dask in (None, "local"):
        check_devices(unique.values())
    try:
        store.root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError(f"--store {str(store.root)!r}: cannot create it ({exc.strerror or exc})") from None
    store.clean_tmp()
    store.clean_partial()
    todo = [s for k, s in unique.items() if not store.has(k)]
    report = SweepReport(total=len(unique), skipped=len(unique) - len(todo))
    from .grouping import longest_first, plan

    tasks = plan(todo) if group else [[s] for s in todo]
    if workers > 1 or dask is not None:  # several at once: start the longest first (order changes no number)
        tasks = longest_first(tasks)
    t0 = time.perf_counter()
    if todo and dask is not None:
        report.executor = "dask"
        client, close = dask_client(dask, workers, timeout=dask_timeout)  # errors before any display
        try:
            with _starting("the progress display"):
                progress.start(len(unique), report.skipped)
            kt = kernel_threads_for(threads, workers) if dask == "local" else None  # remote: unknown cores
            with _starting("the Dask sweep"):
                _run_dask(client, tasks, store, threads, progress, report, kt, claim_timeout, ckpt)
        finally:
            with contextlib.suppress(Exception):
                progress.close()
            close()
    else:
        with _starting("the progress display"):
            progress.start(len(unique), report.skipped)
        try:
            if not todo:
                pass
            elif workers == 1 or len(tasks) == 1:
                with _starting("the sweep"):
                    _run_serial(tasks, store, threads, progress, report, claim_timeout, ckpt)
            else:
                report.executor = "pool"
                _run_pool(tasks, store, min(workers, len(tasks)), threads, progress, report, claim_timeout, ckpt)
        finally:
            with contextlib.suppress(Exception):
                progress.close()
    report.wall_time = time.perf_counter() - t0
    return report


def check_devices(specs) -> None:
    """Every spec's ``device`` is available on this machine (the local executors run here): a spec
    with ``device = "cuda"`` and no GPU fails before any work, not as one failure per run."""
    if any(s.device == "cuda" for s in specs):
        import torch

        if not torch.cuda.is_available():
            raise SpecError("device = 'cuda': no CUDA device is available on this machine; accepted: 'cpu' "
                            "(or run where a GPU is, e.g. on a Dask scheduler's workers)")


def check_checkpoint_seconds(value: Any) -> float:
    """``value`` as seconds between snapshots (a finite number >= 0; 0: none), else a one-line
    :class:`SpecError` naming ``--checkpoint-seconds``."""
    try:
        ok = not isinstance(value, bool) and 0 <= float(value) < float("inf")
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SpecError(f"--checkpoint-seconds: got {value!r}; accepted: seconds >= 0 (a finite number; 0: no "
                        "snapshots)")
    return float(value)


def check_claim_timeout(value: float | None) -> float | None:
    """``value`` if it is a claim timeout (seconds >= 0, or None for no limit), else a one-line
    :class:`SpecError`."""
    if value is None:
        return None
    try:
        ok = not isinstance(value, bool) and float(value) >= 0 and float(value) != float("inf")
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SpecError(f"--claim-timeout: got {value!r}; accepted: seconds >= 0 (a finite number)")
    return float(value)


def _lost(keys, store, by_key, err: str) -> list[Outcome]:
    """The outcome of a task whose worker died: runs it stored stand; the others are failures."""
    outcome = []
    for key in keys:
        if not store.has(key):
            store.record_failure(by_key[key], err)
        outcome.append((key, "computed", None) if store.has(key) else (key, "failed", err))
    return outcome


def _finish(report: SweepReport, progress: Progress, key: str, kind: str, detail: str | None) -> None:
    if kind == "computed":
        report.computed.append(key)
    elif kind == "other":
        report.by_other.append(key)
    elif kind == "claimed":
        report.claimed.append((key, detail or ""))
        report.failed.append((key, detail or "still claimed"))
    else:
        report.failed.append((key, detail or ""))
    progress.run_finished(key, kind in ("computed", "other"))


class _DirectSink:
    def __init__(self, progress: Progress):
        self.progress = progress

    def put(self, item: tuple[str, str, int, int]) -> None:
        self.progress.run_update(*item)


def _run_serial(tasks, store, threads, progress, report, claim_timeout=DEFAULT_CLAIM_TIMEOUT_S,
                checkpoint_seconds=0.0) -> None:
    sink = _DirectSink(progress)
    kt = kernel_threads_for(threads, 1)
    for task in tasks:
        for outcome in _task([s.model_dump_json() for s in task], str(store.root), threads, sink, kt, claim_timeout,
                             checkpoint_seconds):
            _finish(report, progress, *outcome)


def _drain(reader, progress: Progress) -> None:
    """Show the progress updates waiting in the pipe (each arrived whole: see :class:`_PipeSink`)."""
    try:
        while reader.poll():
            item = reader.recv()
            with contextlib.suppress(Exception):
                progress.run_update(*item)
    except Exception:  # noqa: BLE001 - closed or garbled: progress must never break a sweep
        return


def _run_pool(tasks, store, workers, threads, progress, report, claim_timeout=DEFAULT_CLAIM_TIMEOUT_S,
              checkpoint_seconds=0.0) -> None:
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")
    root = str(Path(store.root).resolve())
    by_key = {s.key(): s for task in tasks for s in task}
    pool = q = writer = None
    try:
        with _starting("the worker pool"), _sigint_blocked():  # the workers are spawned by the first submits
            q, writer = ctx.Pipe(duplex=False)  # iteration progress; workers inherit the writing end
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                       initargs=(threads, os.getpid(), writer))
            kt = kernel_threads_for(threads, workers)
            pending = {pool.submit(_task, [s.model_dump_json() for s in task], root, threads, None, kt, claim_timeout,
                                   checkpoint_seconds):
                       [s.key() for s in task] for task in tasks}
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(q, progress)
            for fut in done:
                keys = pending.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    outcome = _lost(keys, store, by_key, "worker process died (killed, or out of memory)")
                except Exception as exc:  # noqa: BLE001 - a thread or process start failure in a worker
                    if isinstance(exc, SweepError):
                        raise
                    with _starting(f"a pool worker running {', '.join(keys)}"):
                        raise
                    raise
                for out in outcome:
                    _finish(report, progress, *out)
        _drain(q, progress)
    except BaseException:
        if pool is not None:  # Ctrl-C or a helper that failed: end the workers, run nothing queued
            _kill_workers(pool)  # first: shutdown forgets its processes
            with contextlib.suppress(Exception):
                pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        for end in (q, writer):
            if end is not None:
                end.close()


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's workers now (after an error: their runs stay in tmp/ and are cleaned later)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            if proc.is_alive():
                proc.kill()
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            proc.join(5)


def check_dask_address(address: str) -> None:
    """Reject what cannot be a scheduler address before anything starts (one-line :class:`SpecError`)."""
    if address == "local":
        return
    parsed = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme not in ("tcp", "tls", "ws", "wss", "ucx", "inproc") or not parsed.hostname or (
            parsed.scheme != "inproc" and port is None):
        raise SpecError(f"--dask {address!r}: accepted: 'local' or a scheduler address such as tcp://host:8786")


def _reachable(address: str, timeout: float) -> str | None:
    """``None`` when the address answers like a Dask scheduler within ``timeout`` seconds, else why not.

    Every scheme: a TCP connection to the host and port must open. Plain ``tcp://`` (no TLS in the
    way): the server must also send the first frame of Dask's handshake unasked, as a Dask server
    does on accepting a connection (``distributed.comm.core.Listener.on_connection``: it writes its
    handshake, then reads the client's). Dask's own ``connect`` then waits for that frame with no
    time limit, so a port that accepts and stays silent (an HTTP server, any other service) would
    hang ``Client(...)`` forever; here it fails within ``timeout``. The frame starts with its length
    as a native-order uint64 (``distributed.comm.tcp``): a banner such as ``SSH-2.0`` reads as an
    absurd length and is refused too."""
    parsed = urlsplit(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "tls", "ws", "wss"):
        return None
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    with sock:
        if parsed.scheme != "tcp":
            return None
        head = b""
        try:
            while len(head) < 8:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    return "the server closed the connection without a Dask handshake: not a Dask scheduler"
                head += chunk
        except TimeoutError:
            return f"no Dask handshake within {timeout:g} s: something answers there, but not a Dask scheduler"
        except OSError as exc:
            return exc.strerror or str(exc) or type(exc).__name__
    if not 0 < int.from_bytes(head, sys.byteorder) <= MAX_HANDSHAKE_BYTES:
        return "the server's first bytes are not a Dask handshake: not a Dask scheduler"
    return None


def max_workers() -> int:
    """The most worker processes a local executor (pool or ``--dask local``) starts: 4 per usable
    core. More only adds memory (each worker holds torch, ~200 MB) and contention, never speed."""
    from ..backend import usable_cpus

    return WORKERS_PER_CPU * usable_cpus()


def check_workers(workers: int, dask: str | None = None) -> None:
    """Reject a worker count out of range (one-line :class:`SpecError`); a remote scheduler's workers
    are its own, so there only ``workers >= 1`` is checked."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError(f"--workers: got {workers!r}; accepted: integers >= 1")
    cap = max_workers()
    if dask in (None, "local") and workers > cap:
        raise SpecError(f"--workers: got {workers}; accepted: 1 to {cap} ({WORKERS_PER_CPU} per usable CPU "
                        "of this machine) for a local pool or --dask local")


def dask_client(address: str, workers: int, *, timeout: float = DASK_TIMEOUT_S) -> tuple[Any, Callable[[], None]]:
    """A Dask client and its closer for ``"local"`` (a LocalCluster of ``workers`` single-threaded
    processes on 127.0.0.1) or a scheduler address (reached within ``timeout`` seconds)."""
    check_dask_address(address)
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SpecError("--dask: dask[distributed] is not installed; accepted after: pip install 'overparam[dask]'") \
            from None
    if address == "local":
        try:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=40)
        except Exception as exc:  # noqa: BLE001 - a Nanny or worker that could not start: one line, never a hang
            with _starting("--dask local (the LocalCluster)"):
                raise
            raise SweepError(f"--dask local: the LocalCluster did not start ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
        try:
            client = Client(cluster)
        except BaseException:
            cluster.close()
            raise

        def close() -> None:
            client.close()
            cluster.close()

        return client, close
    why = _reachable(address, timeout)
    if why is not None:
        raise SpecError(f"--dask {address!r}: cannot reach the scheduler ({why}); accepted: 'local' or the "
                        "address of a running scheduler")
    try:
        client = Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise SpecError(f"--dask {address!r}: cannot reach the scheduler ({str(exc).splitlines()[0]})") from None
    return client, client.close


class _DaskSink:
    """Sends iteration progress from a Dask worker to the client as a scheduler event."""

    def __init__(self, topic: str):
        self.topic = topic

    def put(self, item: tuple[str, str, int, int]) -> None:
        from distributed import get_worker

        get_worker().log_event(self.topic, list(item))


def _run_dask(client, tasks, store, threads, progress, report, kernel_threads=None,
              claim_timeout=DEFAULT_CLAIM_TIMEOUT_S, checkpoint_seconds=0.0) -> None:
    from dask.distributed import as_completed

    root = str(Path(store.root).resolve())

    def on_event(event: Any) -> None:
        try:
            _, msg = event
            progress.run_update(*msg)
        except Exception:  # noqa: BLE001 - progress must never break a sweep
            pass

    topic = f"{DASK_PROGRESS_TOPIC}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        client.subscribe_topic(topic, on_event)
        sink = _DaskSink(topic)
    except Exception:  # noqa: BLE001 - an older scheduler without events: runs-level progress only
        sink = None
    by_key = {s.key(): s for task in tasks for s in task}
    futures = {client.submit(_task, [s.model_dump_json() for s in task], root, threads, sink, kernel_threads,
                             claim_timeout, checkpoint_seconds, pure=False,
                             key=f"overparam-{'-'.join(s.key() for s in task)[:200]}"):
               [s.key() for s in task] for task in tasks}
    try:
        for fut in as_completed(list(futures)):
            keys = futures[fut]
            try:
                outcome = fut.result()
            except SweepError:
                raise
            except Exception as exc:  # noqa: BLE001 - a worker died (KilledWorker) or the task was lost
                outcome = _lost(keys, store, by_key, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            for out in outcome:
                _finish(report, progress, *out)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        if sink is not None:
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)
