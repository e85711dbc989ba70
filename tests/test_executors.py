"""Executor equivalence: the same sweep run serially, on a 2-process pool and on a Dask LocalCluster
with 2 worker processes gives bit-identical tables and final parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from overparam.experiments import RunSpec, SpecError, Store, run_sweep
from overparam.experiments.executors import check_dask_address, dask_client
from tiny import tiny_spec, tiny_toml

BASE = tiny_spec(steps=150)


def sweep() -> list[RunSpec]:
    """Six specs: seeds, a batched run with per-replica settings, SGD (algorithm randomness), and an
    asymmetric problem."""
    specs = [RunSpec.parse({**BASE, "data_seed": s, "init_seed": s}) for s in (0, 1)]
    specs.append(RunSpec.parse({**BASE, "replicas": {"init_seed": [0, 1, 2], "init.scale": [0.1, 0.01, 0.001],
                                                     "algorithm.eta": [0.05, 0.04, 0.03]}}))
    specs.append(RunSpec.parse({**BASE, "algorithm": {"name": "sgd", "eta": 0.02, "batch_size": 10},
                                "replicas": {"algo_seed": [0, 1]}}))
    specs.append(RunSpec.parse({**BASE, "algorithm": {"name": "sgd", "eta": 0.02, "batch_size": 10},
                                "algo_seed": 7}))
    specs.append(RunSpec.parse({**BASE, "problem": {"name": "asymmetric_sensing", "d1": 8, "d2": 6, "r": 1, "m": 50},
                                "param": {"name": "asymmetric"}}))
    return specs


def _table(store: Store) -> pd.DataFrame:
    return store.table().drop(columns=["wall_time"]).sort_values(["key", "replica"]).reset_index(drop=True)


def test_serial_pool_and_dask_give_identical_results(tmp_path):
    pytest.importorskip("distributed")
    specs = sweep()
    stores = {name: Store(tmp_path / name) for name in ("serial", "pool", "dask")}
    reports = {
        "serial": run_sweep(specs, stores["serial"], workers=1),
        "pool": run_sweep(specs, stores["pool"], workers=2),
        "dask": run_sweep(specs, stores["dask"], workers=2, dask="local"),
    }
    for name, rep in reports.items():
        assert rep.failed == [] and len(rep.computed) == len(specs) == rep.total, name
    assert [r.executor for r in reports.values()] == ["serial", "pool", "dask"]
    ref = _table(stores["serial"])
    assert len(ref) == 1 + 1 + 3 + 2 + 1 + 1
    for name in ("pool", "dask"):
        pd.testing.assert_frame_equal(_table(stores[name]), ref, check_exact=True)
    for s in specs:
        want = stores["serial"].load(s.key())
        for name in ("pool", "dask"):
            got = stores[name].load(s.key())
            a_arr, b_arr = got.arrays(), want.arrays()
            assert list(a_arr) == list(b_arr)
            for k in a_arr:
                np.testing.assert_array_equal(a_arr[k], b_arr[k])
            pd.testing.assert_frame_equal(got.trace(), want.trace(), check_exact=True)
            assert got.meta["threads"] == want.meta["threads"] == 1
    # a finished sweep computes nothing, whichever executor is asked
    again = run_sweep(specs, stores["dask"], workers=2)
    assert again.computed == [] and again.skipped == len(specs)


def test_pool_records_failures_and_goes_on(tmp_path):
    store = Store(tmp_path / "s")
    good = [RunSpec.parse({**BASE, "steps": 20, "init_seed": s}) for s in range(3)]
    # valid, but fails when run: the subspace diagnostics need a full-gradient step, SGD has none
    bad = RunSpec.parse({**BASE, "algorithm": {"name": "sgd", "eta": 0.01}, "metrics": ["subspace_E_norm"]})
    rep = run_sweep([*good, bad], store, workers=2)
    assert sorted(rep.computed) == sorted(s.key() for s in good)
    assert [k for k, _ in rep.failed] == [bad.key()] and "full-gradient" in rep.failed[0][1]
    assert [f["key"] for f in store.failures()] == [bad.key()]


@pytest.mark.parametrize("address", ["nope", "tcp://", "http://host:8786", "tcp://host:notaport"])
def test_bad_dask_addresses_are_rejected_at_once(address):
    with pytest.raises(SpecError, match="accepted: 'local' or a scheduler address"):
        check_dask_address(address)


def test_unreachable_dask_scheduler_is_a_one_line_error(tmp_path):
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SpecError, match="cannot reach the scheduler") as info:
        dask_client(f"tcp://127.0.0.1:{port}", 1, timeout=2.0)
    assert "\n" not in str(info.value)
    with pytest.raises(SpecError, match="cannot reach"):
        run_sweep([RunSpec.parse(BASE)], Store(tmp_path / "s"), dask=f"127.0.0.1:{port}", dask_timeout=2.0)


RESUME_TOML = tiny_toml(3000, ("loss", "train_error", "test_error"), d=10, m=60, tail="""
[grid]
init_seed = {start = 0, stop = 30}
""")


def _stored_dirs(root):
    return [p for p in (root / "runs").glob("*/*")] if (root / "runs").exists() else []


def test_sigkill_mid_sweep_then_resume_recomputes_only_the_missing_runs(tmp_path):
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from overparam.experiments import load_sweep
    from overparam.experiments.store import RUN_FILES

    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(RESUME_TOML)
    specs = load_sweep(sweep_file)
    total = len(specs)
    root = tmp_path / "killed"
    cmd = [sys.executable, "-m", "overparam.cli", "run", str(sweep_file), "--workers", "2", "--store", str(root)]
    proc = subprocess.Popen([*cmd, "--quiet"], start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(_stored_dirs(root)) < 3:
            assert proc.poll() is None, f"sweep ended before it could be killed: {proc.stderr.read()!r}"
            assert time.monotonic() < deadline, "no run was stored within 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its pool workers
        proc.wait()
    time.sleep(0.2)
    # no visible half-written run: every run directory is complete
    dirs = _stored_dirs(root)
    for d in dirs:
        assert sorted(p.name for p in d.iterdir()) == sorted((*RUN_FILES, "manifest.json")), d
    stored_before = len(Store(root).keys())
    assert stored_before == len(dirs)
    assert 3 <= stored_before < total, (stored_before, total)

    out = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["total"] == total and rep["skipped"] == stored_before
    assert rep["computed"] == total - stored_before and rep["failed"] == []
    assert all(r["stored"] for r in rep["runs"])
    assert list((root / "tmp").glob("*")) == []  # what the killed processes were writing is gone

    reference = Store(tmp_path / "uninterrupted")
    assert len(run_sweep(specs, reference, workers=2).computed) == total
    pd.testing.assert_frame_equal(_table(Store(root)), _table(reference), check_exact=True)
