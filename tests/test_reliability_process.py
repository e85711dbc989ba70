"""Reliability, processes: a sweep killed at random moments (the whole process group, or only its
parent) leaves no process behind and no damaged run, and resuming gives the uninterrupted sweep's
results bit for bit; Ctrl-C during a pool's start-up is one line; grouped runs take the per-run
claims; a Dask address that answers but is not a scheduler fails within its timeout instead of hanging.

Processes are found through /proc (Linux; psutil is not a dependency). No assertion here is on
speed: the deadlines only turn a hang into a failure.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tests.tiny import tiny_spec

import overparam
from overparam.experiments import RunSpec, SpecError, run_sweep
from overparam.experiments.store import Store

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(overparam.__file__).resolve().parents[1]  # the package under test (a worktree's src/ too)
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)])}
HANG_S = 60  # a process still there after this long is a hang, not slowness

# 12 tiny runs, 6 problems × 2 init scales: the grouping planner pairs the two scales of a problem,
# so a kill can land inside a grouped run as well as a single one
SPECS_CODE = """
from tests.tiny import tiny_spec
from overparam.experiments import RunSpec
def sweep_specs():
    return [RunSpec.parse(tiny_spec(steps=60000, data_seed=s, init={"name": "gaussian", "scale": sc}))
            for s in range(6) for sc in (0.01, 0.1)]
"""
SWEEP_SCRIPT = SPECS_CODE + """
import sys
from overparam.experiments import run_sweep
from overparam.experiments.store import Store
run_sweep(sweep_specs(), Store(sys.argv[1]), workers=2)
"""


def sweep_specs() -> list[RunSpec]:
    ns: dict = {}
    exec(SPECS_CODE, ns)  # noqa: S102 - the same specs as the subprocess, from the same text
    return ns["sweep_specs"]()


# -- /proc helpers ------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")  # a zombie has exited (waiting to be reaped)


def descendants(pid: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None and st[0] not in ("Z", "X"):
            parents.setdefault(st[1], []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def wait_gone(pids: set[int], limit_s: float = HANG_S) -> set[int]:
    """The processes of ``pids`` still alive after waiting up to ``limit_s`` for them to end."""
    end = time.monotonic() + limit_s
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < end:
        time.sleep(0.1)
    return left


def _wait_for(cond, limit_s: float = HANG_S, what: str = "") -> None:
    end = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"waited {limit_s} s for {what}")
        time.sleep(0.02)


def _default_sigint() -> None:
    """A non-interactive shell starts background jobs with SIGINT ignored, which Python keeps:
    give the child the default disposition, as a terminal would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# -- kill at random moments, then verify and resume --------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted sweep (serial, in this process)."""
    store = Store(tmp_path_factory.mktemp("reference") / "s")
    report = run_sweep(sweep_specs(), store, workers=1)
    assert len(report.computed) == 12 and not report.failed
    return store


def _same_run(a, b) -> None:
    assert a.summary == b.summary
    arrays_a, arrays_b = a.arrays(), b.arrays()
    assert sorted(arrays_a) == sorted(arrays_b)
    for name in arrays_a:
        assert arrays_a[name].dtype == arrays_b[name].dtype and arrays_a[name].tobytes() == arrays_b[name].tobytes()
    ta, tb = a.trace(), b.trace()
    assert list(ta.columns) == list(tb.columns) and len(ta) == len(tb)
    for col in ta.columns:
        assert all(np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True) for x, y in zip(ta[col], tb[col],
                                                                                                 strict=True)), col


TRIALS: list[dict] = []


def kill_and_resume(trial: int, tmp_path: Path, reference: Store) -> dict:
    """One trial: start the pool sweep, SIGKILL it at a seeded random moment of its computing (once a
    random number 0–11 of its 12 runs are stored, plus a random 0–0.2 s: a moment that follows the
    sweep's progress whatever the machine's load), the parent only (even trials) or the whole process
    group (odd ones); then check that no process is left, ``results --verify`` finds no damaged
    run, and the resumed store equals the reference bit for bit."""
    from overparam.cli import main

    rng = random.Random(1000 + trial)
    mode = "parent" if trial % 2 == 0 else "group"
    root = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-c", SWEEP_SCRIPT, str(root)], env=ENV, cwd=ROOT,
                            start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        target, extra = rng.randrange(12), rng.uniform(0.0, 0.2)
        _wait_for(lambda: (root / "claims").exists() and len(Store(root).keys()) >= target or proc.poll() is not None,
                  what=f"{target} runs stored")
        time.sleep(extra)
        family = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL) if mode == "group" else proc.kill()
        proc.wait(timeout=HANG_S)
        left = wait_gone(family)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    for pid in left:  # only ever our own leftovers, so that a failure does not leak them
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{mode} kill left processes behind: {sorted(left)} of {sorted(family)}"
    store = Store(root)
    stored = len(store.keys())
    damaged = store.damaged()
    with pytest.raises(SystemExit) as exc:
        main(["results", "--verify", "--store", str(root)])
    assert exc.value.code == 0 and not damaged, damaged
    report = run_sweep(sweep_specs(), store, workers=1)
    assert report.skipped == stored and len(report.computed) == 12 - stored and not report.failed
    keys = reference.keys()
    assert sorted(store.keys()) == sorted(keys)
    for key in keys:
        _same_run(store.load(key), reference.load(key))
    row = {"trial": trial, "mode": mode, "helpers": len(family), "kill_after_stored": target, "stored_at_kill": stored,
           "finished_before_kill": proc.returncode == 0, "damaged": len(damaged)}
    TRIALS.append(row)
    print(json.dumps(row))
    return row


@pytest.mark.parametrize("trial", range(2))  # one parent kill, one process-group kill
def test_sigkill_at_a_random_moment_then_resume_gives_the_uninterrupted_results(trial, tmp_path, reference):
    kill_and_resume(trial, tmp_path, reference)


@pytest.mark.slow  # trials 0 and 1 above cover both kill modes; these repeat them at other random moments
@pytest.mark.parametrize("trial", range(2, 23))
def test_sigkill_at_random_moments_slow(trial, tmp_path, reference):
    kill_and_resume(trial, tmp_path, reference)


LONG_SWEEP = """
import sys
from tests.tiny import tiny_spec
from overparam.experiments import RunSpec, run_sweep
from overparam.experiments.store import Store
specs = [RunSpec.parse(tiny_spec(steps=10**7, data_seed=s)) for s in range(4)]  # about a minute each
run_sweep(specs, Store(sys.argv[1]), workers=2)
"""


def test_killing_only_the_parent_ends_its_workers_and_tracker(tmp_path):
    """SIGKILL to the sweep's process alone while both pool workers are in the middle of long runs:
    the workers and the resource tracker must all be gone within 10 s (the watchdog polls every
    0.25 s). Before: the workers ran their runs to the end and the tracker stayed forever (the 10 s
    bound is far below a run's length, so a worker that merely finishes its run fails here). There
    is no progress manager process any more (issue 23): progress travels over a queue each worker
    inherits, so the family is the two workers and the tracker."""
    root = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-c", LONG_SWEEP, str(root)], env=ENV, cwd=ROOT, start_new_session=True,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: len(list((root / "claims").glob("*"))) >= 2 if (root / "claims").exists()
                  else proc.poll() is not None, what="two runs in progress")
        family = descendants(proc.pid)
        proc.kill()
        proc.wait(timeout=HANG_S)
        left = wait_gone(family, limit_s=10)
    finally:
        os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert len(family) == 3 and not left, f"left behind: {sorted(left)} of {sorted(family)}"
    assert not Store(root).keys() and not Store(root).damaged()


# -- Ctrl-C during the pool's start-up ----------------------------------------------------------------------


@pytest.mark.parametrize("helpers, delay", [(1, 0.3), (2, 0.5)])
def test_ctrl_c_during_pool_start_up_is_one_line(tmp_path, helpers, delay):
    """SIGINT to the whole process group (what Ctrl-C in a terminal does) ``delay`` seconds after the
    pool's ``helpers``-th process appeared (1: the first worker, 2: the second), i.e. while
    it is still importing: one line "interrupted", exit 130, no traceback, nothing left running.
    Before: a KeyboardInterrupt traceback from each helper caught mid-import (and no line from the
    parent: Typer returns 130 for Ctrl-C, which the CLI passed on silently)."""
    spec = tmp_path / "s.toml"
    from tests.tiny import tiny_toml

    spec.write_text(tiny_toml(steps=20000, tail='[grid]\ndata_seed = [0, 1, 2, 3]\n'))
    proc = subprocess.Popen([sys.executable, "-m", "overparam", "run", str(spec), "--store", str(tmp_path / "st"),
                             "--workers", "2", "--quiet"], env=ENV, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    try:
        _wait_for(lambda: len(descendants(proc.pid)) >= helpers + 1 or proc.poll() is not None,
                  what="the pool to start")  # + 1: the resource tracker comes first
        time.sleep(delay)
        family = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert wait_gone(family) == set()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert proc.returncode == 130 and err.strip() == "interrupted", (proc.returncode, err)


# -- grouped runs take the per-run claims ------------------------------------------------------------------

GROUPED_SCRIPT = """
import importlib, sys
grouping = importlib.import_module("overparam.experiments.grouping")
ex = importlib.import_module("overparam.experiments.execute")
from overparam.experiments import RunSpec, run_sweep
from overparam.experiments.store import Store
from tests.tiny import tiny_spec

def log(keys):
    with open(sys.argv[2], "a") as fh:
        fh.write("".join(k + "\\n" for k in keys))

real_group, real_execute = grouping.run_group, ex.execute
inside = []
def counted_group(specs):
    inside.append(1)
    try:
        out = real_group(specs)  # runs one merged spec through execute: not counted there
    finally:
        inside.pop()
    if out is not None:
        log([s.key() for s in specs])
    return out
def counted_execute(spec, **kw):
    if not inside:
        log([spec.key()])
    return real_execute(spec, **kw)
grouping.run_group, ex.execute = counted_group, counted_execute
specs = [RunSpec.parse(tiny_spec(steps=20000, init_seed=s)) for s in range(8)]
lo, hi = map(int, sys.argv[3:5])
assert len(grouping.plan(specs[lo:hi])) == 1  # one group: all share the problem
run_sweep(specs[lo:hi], Store(sys.argv[1]), workers=1)
"""


def test_two_sweeps_of_grouped_runs_compute_each_run_once(tmp_path):
    """Two processes at once: runs 0–5 and 2–7 of 8 specs that share one problem, so each sweep runs
    its specs as one grouped (batched) run. The 4 shared runs are claimed by one of them and computed
    once; the other waits for them. Before: both computed the overlap (12 computations for 8 runs)."""
    root = tmp_path / "s"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [subprocess.Popen([sys.executable, "-c", GROUPED_SCRIPT, str(root), str(log), lo, hi], env=ENV, cwd=ROOT)
             for log, (lo, hi) in zip(logs, (("0", "6"), ("2", "8")), strict=True)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    computed = [k for log in logs if log.exists() for k in log.read_text().split()]
    store = Store(root)
    assert len(store.keys()) == 8 and not store.damaged()
    assert len(computed) == len(set(computed)) == 8, computed  # nothing twice, nothing lost
    assert not list((root / "claims").iterdir())
    print(json.dumps({"grouped_concurrency": {"stored": len(store.keys()), "computed": len(computed)}}))


# -- Dask: an address that answers but is not a scheduler ---------------------------------------------------


def _serve(handler) -> tuple[int, threading.Event]:
    """A TCP server on 127.0.0.1 that runs ``handler(conn)`` on each connection until stopped."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        conns = []
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conns.append(conn)
            handler(conn)
        for c in conns:
            c.close()
        srv.close()

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1], stop


def _in_thread(fn):
    """``fn()``'s exception (or None) — from a thread, so that a hang fails the test instead of blocking it."""
    box: list = []

    def target() -> None:
        try:
            fn()
            box.append(None)
        except BaseException as exc:  # noqa: BLE001
            box.append(exc)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(HANG_S)
    assert box, f"still waiting after {HANG_S} s: a hang"
    return box[0]


@pytest.mark.parametrize("server, why", [
    ("silent", "no Dask handshake within 1 s"),  # accepts and says nothing (as an HTTP server does)
    ("banner", "not a Dask handshake"),  # speaks first, but not Dask (an SSH server's banner)
    ("closes", "closed the connection"),
])
def test_a_dask_address_that_answers_but_is_not_a_scheduler_fails_at_once(tmp_path, server, why):
    pytest.importorskip("distributed")
    from overparam.experiments.executors import dask_client

    handlers = {"silent": lambda c: None, "banner": lambda c: c.sendall(b"SSH-2.0-OpenSSH_9.6\r\n"),
                "closes": lambda c: c.close()}
    port, stop = _serve(handlers[server])
    try:
        exc = _in_thread(lambda: dask_client(f"tcp://127.0.0.1:{port}", 1, timeout=1.0))
        assert isinstance(exc, SpecError) and why in str(exc) and "\n" not in str(exc), exc
        exc = _in_thread(lambda: run_sweep([RunSpec.parse(tiny_spec(steps=1))], Store(tmp_path / "s"),
                                           dask=f"127.0.0.1:{port}", dask_timeout=1.0))
        assert isinstance(exc, SpecError) and why in str(exc)
    finally:
        stop.set()
    assert not Store(tmp_path / "s").keys()


def test_an_http_server_is_not_a_scheduler_on_the_cli(tmp_path):
    """The CLI against a real HTTP server: one line, exit 2 (before: no output for over 400 s)."""
    pytest.importorskip("distributed")
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    from tests.tiny import tiny_toml

    httpd = HTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    spec = tmp_path / "s.toml"
    spec.write_text(tiny_toml(steps=1))
    try:
        proc = subprocess.run([sys.executable, "-m", "overparam", "run", str(spec), "--store", str(tmp_path / "st"),
                               "--dask", f"127.0.0.1:{httpd.server_address[1]}", "--quiet"], env=ENV, cwd=ROOT,
                              capture_output=True, text=True, timeout=HANG_S)
    finally:
        httpd.shutdown()
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not a Dask scheduler" in proc.stderr, proc.stderr


def test_a_closed_port_is_a_one_line_error(tmp_path):
    pytest.importorskip("distributed")
    from overparam.experiments.executors import dask_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused
    exc = _in_thread(lambda: dask_client(f"127.0.0.1:{port}", 1, timeout=1.0))
    assert isinstance(exc, SpecError) and "cannot reach the scheduler" in str(exc)


def test_a_real_scheduler_passes_the_handshake_check():
    pytest.importorskip("distributed")
    from dask.distributed import LocalCluster

    from overparam.experiments.executors import _reachable, dask_client

    with LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert _reachable(cluster.scheduler_address, 5.0) is None
        client, close = dask_client(cluster.scheduler_address, 1, timeout=5.0)
        try:
            assert client.scheduler_info()["address"] == cluster.scheduler_address
        finally:
            close()


def test_the_local_cluster_listens_on_loopback_only(monkeypatch):
    """``--dask local`` binds its scheduler and workers to 127.0.0.1: Dask ships pickled tasks, so a
    scheduler reachable from the network would run anyone's code (docs/experiments.md, Security)."""
    pytest.importorskip("distributed")
    import dask.distributed

    from overparam.experiments.executors import dask_client

    seen = {}

    class FakeCluster:
        def __init__(self, **kwargs):
            seen.update(kwargs)

        def close(self):
            pass

    class FakeClient:
        def __init__(self, cluster):
            self.cluster = cluster

        def close(self):
            pass

    monkeypatch.setattr(dask.distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(dask.distributed, "Client", FakeClient)
    client, close = dask_client("local", 2)
    close()
    assert seen["host"] == "127.0.0.1" and seen["n_workers"] == 2 and seen["dashboard_address"] is None


# -- a helper thread or process that cannot start: one line, exit 1, never a hang (issue 23, defects 3, 12) ----

NO_THREADS = """
import threading
def start(self):
    raise RuntimeError("can't start new thread")
threading.Thread.start = start
"""
CHILD_NO_THREADS = """
import sys
if "--multiprocessing-fork" in sys.argv:  # spawned pool workers only
""" + "".join("    " + line + "\n" for line in NO_THREADS.strip().splitlines())


def _cli(tmp_path, prelude: str, *args: str, env=None) -> tuple[subprocess.CompletedProcess, float]:
    from tests.tiny import tiny_toml

    spec = tmp_path / "s.toml"
    spec.write_text(tiny_toml(steps=200, tail='[grid]\ndata_seed = [0, 1, 2, 3]\n'))
    code = prelude + "\nfrom overparam.cli import main\nmain(" + repr(
        ["run", str(spec), "--store", str(tmp_path / "st"), *args]) + ")\n"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], env=env or ENV, cwd=ROOT, capture_output=True, text=True,
                          timeout=HANG_S * 3, start_new_session=True)
    return proc, time.monotonic() - t0


@pytest.mark.parametrize("args, what", [(("--workers", "2", "--quiet"), "the worker pool"),
                                        (("--workers", "1"), "the progress display")])
def test_a_thread_that_cannot_start_in_the_sweep_ends_it_in_one_line(tmp_path, args, what):
    """Every new thread of the sweep's process fails as on a machine out of threads ("can't start new
    thread"): the command ends at once, exit 1, with one line naming what could not start and why.
    Before: a raw RuntimeError traceback (and, with the manager's accepter thread, a hang)."""
    proc, _ = _cli(tmp_path, NO_THREADS, *args)
    err = proc.stderr.strip()
    assert proc.returncode == 1, (proc.returncode, err)
    assert "\n" not in err and err.startswith(f"error: {what}: could not start a thread or process"), err
    assert "can't start new thread" in err


def test_a_pool_worker_that_cannot_start_a_thread_ends_the_sweep_in_one_line(tmp_path):
    """Pool workers whose threads cannot start (their parent watchdog, the progress queue's feeder):
    the sweep ends with exit 1 and one line naming the worker's start-up and the cause, within the
    hang bound, and leaves no process behind. Before: a "Exception in initializer" traceback per
    worker and every run reported as "worker process died (killed, or out of memory)"."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(CHILD_NO_THREADS)
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(site), ENV["PYTHONPATH"]])}
    proc, took = _cli(tmp_path, "", "--workers", "2", "--quiet", env=env)
    err = proc.stderr.strip()
    assert proc.returncode == 1, (proc.returncode, err)
    assert "\n" not in err and "pool worker process" in err and "can't start new thread" in err, err
    print(json.dumps({"worker_thread_failure_s": round(took, 1)}))
