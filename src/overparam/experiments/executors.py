"""Run many specs into a store: serially, on a local process pool, or on Dask distributed.

Every executor calls the same :func:`work` on each spec with the same BLAS thread count (default
1 per run), so a spec's numbers are bit-identical whichever executor ran it. Runs already in the
store are skipped, so re-running a sweep computes nothing and a killed sweep resumes with exactly
the missing runs. A run that raises is recorded under ``failures/`` and the sweep goes on.

* serial: in this process, one run at a time;
* pool: ``workers`` spawned processes (``spawn`` context: no fork after torch has started threads);
* Dask: ``"local"`` starts a ``LocalCluster`` of ``workers`` single-threaded worker processes bound
  to 127.0.0.1; any other value is a scheduler address (``tcp://host:8786``). Workers write to the
  store directly, so on a cluster the store must be on a shared filesystem.
"""

from __future__ import annotations

import os
import queue as queue_mod
import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import SpecError
from .spec import RunSpec
from .store import Store


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
    total: int
    skipped: int
    computed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    wall_time: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "skipped": self.skipped, "computed": len(self.computed),
                "failed": [{"key": k, "error": e} for k, e in self.failed], "wall_time": self.wall_time}


def label_of(spec: RunSpec) -> str:
    tag = spec.tags.get("figure") or spec.tags.get("label")
    return f"{tag or spec.problem.name} {spec.key()[:8]}"


def work(spec_json: str, store_root: str, threads: int, sink: Any = None) -> tuple[str, str | None]:
    """Run one spec and save it; returns ``(key, error or None)``. Used by every executor."""
    from ..backend import threads as thread_ctx
    from .execute import execute

    spec = RunSpec.model_validate_json(spec_json)
    key = spec.key()
    store = Store(store_root)
    if store.has(key):
        return key, None
    label = label_of(spec)
    last = [0.0]

    def progress(t: int, steps: int) -> None:
        if sink is None:
            return
        now = time.monotonic()
        if now - last[0] >= 0.25 or t == steps:
            last[0] = now
            try:
                sink.put((key, label, t, steps))
            except Exception:  # noqa: BLE001 - progress must never break a run
                pass

    try:
        with thread_ctx(threads):
            result = execute(spec, progress=progress)
        store.save(spec, result)
        return key, None
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        msg = f"{type(exc).__name__}: {exc}"
        store.record_failure(spec, msg + "\n" + traceback.format_exc(limit=8))
        return key, msg


def _init_worker(threads: int) -> None:
    from ..backend import pin_process_threads

    pin_process_threads(threads)


def clean_stale_tmp(store: Store) -> int:
    """Remove half-written runs left by processes of this host that no longer exist."""
    tmp = store.root / "tmp"
    removed = 0
    if not tmp.exists():
        return 0
    for p in tmp.iterdir():
        parts = p.name.split(".")
        try:
            pid = int(parts[1])
        except (IndexError, ValueError):
            continue
        if not _pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_sweep(
    specs: Sequence[RunSpec],
    store: Store,
    *,
    workers: int = 1,
    dask: str | None = None,
    threads: int = 1,
    progress: Progress | None = None,
) -> SweepReport:
    """Compute every spec missing from ``store``; see the module docstring for executors."""
    if workers < 1:
        raise SpecError(f"--workers: got {workers}; accepted: integers >= 1")
    if threads < 1:
        raise SpecError(f"--threads: got {threads}; accepted: integers >= 1")
    progress = progress or NullProgress()
    unique: dict[str, RunSpec] = {}
    for s in specs:
        unique.setdefault(s.key(), s)
    store.root.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(store)
    todo = [s for k, s in unique.items() if not store.has(k)]
    report = SweepReport(total=len(unique), skipped=len(unique) - len(todo))
    progress.start(len(unique), report.skipped)
    t0 = time.perf_counter()
    if todo:
        if dask is not None:
            _run_dask(todo, store, dask, workers, threads, progress, report)
        elif workers == 1 or len(todo) == 1:
            _run_serial(todo, store, threads, progress, report)
        else:
            _run_pool(todo, store, min(workers, len(todo)), threads, progress, report)
    report.wall_time = time.perf_counter() - t0
    progress.close()
    return report


def _finish(report: SweepReport, progress: Progress, key: str, err: str | None) -> None:
    if err is None:
        report.computed.append(key)
    else:
        report.failed.append((key, err))
    progress.run_finished(key, err is None)


class _DirectSink:
    def __init__(self, progress: Progress):
        self.progress = progress

    def put(self, item: tuple[str, str, int, int]) -> None:
        self.progress.run_update(*item)


def _run_serial(todo, store, threads, progress, report) -> None:
    sink = _DirectSink(progress)
    for spec in todo:
        key, err = work(spec.model_dump_json(), str(store.root), threads, sink)
        _finish(report, progress, key, err)


def _drain(q, progress: Progress) -> None:
    while True:
        try:
            item = q.get_nowait()
        except (queue_mod.Empty, EOFError, OSError):
            return
        progress.run_update(*item)


def _run_pool(todo, store, workers, threads, progress, report) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        q = manager.Queue()
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(threads,)) as pool:
            pending = {pool.submit(work, s.model_dump_json(), str(store.root), threads, q) for s in todo}
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(q, progress)
                for fut in done:
                    key, err = fut.result()
                    _finish(report, progress, key, err)
            _drain(q, progress)


def dask_client(address: str, workers: int) -> tuple[Any, Callable[[], None]]:
    """A Dask client for ``"local"`` (a LocalCluster on 127.0.0.1) or a scheduler address."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SpecError("--dask: dask[distributed] is not installed (pip install 'overparam[dask]')") from None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client, close
    if not address.startswith(("tcp://", "tls://", "inproc://", "ucx://")) and ":" not in address:
        raise SpecError(f"--dask {address!r}: expected 'local' or a scheduler address such as tcp://host:8786")
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise SpecError(f"--dask {address!r}: cannot reach the scheduler ({exc})") from None
    return client, client.close


def _run_dask(todo, store, address, workers, threads, progress, report) -> None:
    from dask.distributed import as_completed

    client, close = dask_client(address, workers)
    try:
        root = str(Path(store.root).resolve())
        futures = [client.submit(work, s.model_dump_json(), root, threads, None, pure=False, key=f"run-{s.key()}")
                   for s in todo]
        for fut in as_completed(futures):
            key, err = fut.result()
            _finish(report, progress, key, err)
    finally:
        close()
