"""The results store: round trip, tables and filters, traces by filter, atomic layout, stale tmp
cleanup, failure records, and the OVERPARAM_STORE default."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import overparam
from overparam.experiments import RunSpec, SpecError, Store, execute, run_sweep
from overparam.experiments.store import RUN_FILES, default_root
from tiny import tiny_spec

BASE = tiny_spec(steps=60)


def spec(**changes) -> RunSpec:
    return RunSpec.parse({**BASE, **changes})


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A store with three runs: two single-replica seeds and one with three replicas."""
    store = Store(tmp_path_factory.mktemp("store"))
    specs = [spec(init_seed=0), spec(init_seed=1, tags={"figure": "demo"}),
             spec(data_seed=2, replicas={"init_seed": [0, 1, 2], "init.scale": [0.1, 0.01, 0.001]})]
    results = {}
    for s in specs:
        results[s.key()] = execute(s)
        store.save(s, results[s.key()])
    return store, specs, results


def test_round_trip_spec_summary_meta_trace_theta(filled):
    store, specs, results = filled
    for s in specs:
        run = store.load(s.key())
        res = results[s.key()]
        assert sorted(p.name for p in run.path.iterdir()) == sorted(RUN_FILES)
        assert run.spec.key() == s.key() and run.spec.tags == s.tags
        assert json.loads((run.path / "spec.json").read_text())["tags"] == s.tags
        # summary: per replica settings, status, final metrics exactly as computed
        assert [r["replica"] for r in run.summary] == list(range(s.n_replicas))
        for r, row in enumerate(run.summary):
            assert row["status"] == res.status[r] and row["stop_step"] == res.stop_step[r]
            assert row["test_error"] == float(res.final("test_error")[r])
            assert row["init_seed"] == s.replica_settings()[r]["init_seed"]
        # provenance
        meta = run.meta
        assert meta["version"] == overparam.__version__ and meta["torch"]
        assert meta["device"] == "cpu" and meta["dtype"] == "float64" and meta["wall_time"] > 0
        assert meta["status"] == {"completed": s.n_replicas} and "git_commit" in meta
        # trace: every column, vector metrics as arrays
        tr = run.trace()
        frame = res.trace.to_frame()
        assert list(tr.columns) == list(frame.columns)
        np.testing.assert_array_equal(tr["test_error"].to_numpy(), frame["test_error"].to_numpy())
        np.testing.assert_array_equal(np.stack(tr["singular_values"]), res.trace.columns["singular_values"])
        # final θ, read without pickle
        theta = run.theta()  # by block name
        assert list(theta) == list(res.blocks) and len(theta) == len(res.theta)
        for a, b in zip(theta.values(), res.theta):
            np.testing.assert_array_equal(a, b.numpy())
        with np.load(run.path / "final.npz", allow_pickle=False) as z:
            assert all(z[k].dtype == np.float64 for k in z.files)


def test_table_rows_columns_and_filters(filled):
    store, specs, _ = filled
    df = store.table()
    assert len(df) == 1 + 1 + 3
    for col in ("key", "replica", "problem.name", "problem.d", "init.scale", "init_seed", "data_seed", "status",
                "stop_step", "loss", "train_error", "test_error", "wall_time", "tags.figure"):
        assert col in df.columns, col
    assert list(df["key"]) == sorted(df["key"])  # sorted by key, then replica
    assert len(store.table(init_seed=1)) == 2  # the single run and replica 1 of the batched run
    assert len(store.table(**{"init.scale": 0.001})) == 1
    assert len(store.table(problem__d=8)) == 5
    assert len(store.table(problem__d="8")) == 5  # CLI strings match numbers
    assert len(store.table(data_seed=2, replica=[0, 2])) == 2
    assert len(store.table(**{"tags.figure": "demo"})) == 1
    assert store.table(status="diverged").empty
    with pytest.raises(SpecError, match="no such column"):
        store.table(nonexistent=1)


def test_traces_by_filter(filled):
    store, specs, results = filled
    batched = specs[2]
    got = list(store.traces(data_seed=2))
    assert [row["replica"] for row, _ in got] == [0, 1, 2]
    for row, tr in got:
        assert row["key"] == batched.key()
        assert set(tr["replica"]) == {row["replica"]}
        steps, vals = results[batched.key()].trace.series("train_error", row["replica"])
        np.testing.assert_array_equal(tr["step"].to_numpy(), steps)
        np.testing.assert_array_equal(tr["train_error"].to_numpy(), vals)
    long = store.trace_table(columns=["init.scale"], init_seed=1)
    assert list(long.columns[:2]) == ["key", "init.scale"]
    assert sorted(set(long["init.scale"])) == [0.01]
    assert len(long) == sum(len(tr) for _, tr in store.traces(init_seed=1))
    assert store.trace_table(status="diverged").empty


def test_no_partial_runs_and_stale_tmp_cleanup(tmp_path):
    store = Store(tmp_path / "s")
    s = spec()
    # a half-written run of a dead process (as SIGKILL leaves it) and one of a live process
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    from overparam.experiments.store import _host_tag

    tmp = store.root / "tmp"
    (tmp / f"{s.key()}.{_host_tag()}.{dead.stdout.strip()}.deadbeef").mkdir(parents=True)
    (tmp / f"{s.key()}.{_host_tag()}.{dead.stdout.strip()}.deadbeef" / "spec.json").write_text("{}")
    live = tmp / f"{s.key()}.{_host_tag()}.{os.getpid()}.cafebabe"
    live.mkdir()
    assert not store.has(s) and store.keys() == [] and store.table().empty
    assert store.clean_tmp() == 1
    assert [p.name for p in tmp.iterdir()] == [live.name]
    report = run_sweep([s], store)
    assert report.computed == [s.key()] and store.has(s)
    again = run_sweep([s, s], store)  # duplicates and stored runs compute nothing
    assert again.total == 1 and again.skipped == 1 and again.computed == []


def test_failures_are_recorded_and_retried(tmp_path):
    store = Store(tmp_path / "s")
    # the subspace diagnostics under SGD (no full gradient operator per step): valid, fails when run
    bad = spec(algorithm={"name": "sgd", "eta": 0.01}, metrics=["subspace_E_norm"])
    good = spec()
    report = run_sweep([bad, good], store)
    assert [k for k, _ in report.failed] == [bad.key()] and report.computed == [good.key()]
    assert not store.has(bad)
    fails = store.failures()
    assert [f["key"] for f in fails] == [bad.key()] and "Traceback" in fails[0]["error"]
    assert RunSpec.parse(fails[0]["spec"]).key() == bad.key()
    # a later success of the same key clears the record
    store.save(bad, execute(good))
    assert store.failures() == []


def test_store_location_default_env_and_file(tmp_path, monkeypatch):
    monkeypatch.delenv("OVERPARAM_STORE", raising=False)
    assert default_root() == type(default_root())("./overparam-results")
    monkeypatch.setenv("OVERPARAM_STORE", str(tmp_path / "env-store"))
    assert Store().root == tmp_path / "env-store"
    assert Store(tmp_path / "explicit").root == tmp_path / "explicit"
    (tmp_path / "file").write_text("x")
    with pytest.raises(SpecError, match="not a directory"):
        Store(tmp_path / "file")


def test_table_of_empty_store(tmp_path):
    st = Store(tmp_path / "empty")
    assert isinstance(st.table(), pd.DataFrame) and st.table().empty
    assert list(st.traces()) == [] and len(st) == 0
