"""The results store: round trip, tables and filters, traces by filter, atomic layout, stale tmp
cleanup, failure records, and the OVERPARAM_STORE default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import overparam
from overparam.experiments import RunSpec, SpecError, Store, execute, run_sweep
from overparam.experiments.store import RUN_FILES, default_root
from tiny import tiny_spec

BASE = tiny_spec(steps=60)
MANIFEST = "manifest.json"  # content hashes of a run's files (issue 23)


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
        assert sorted(p.name for p in run.path.iterdir()) == sorted((*RUN_FILES, MANIFEST))
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


# -- claims: who holds a run, stale ones taken over, a bounded and announced wait (issue 23, defects 4, 10) --

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _host() -> str:
    import socket

    return "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname()) or "host"


def _start_ticks(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])


def _write_claim(store: Store, key: str, text: str) -> None:
    (store.root / "claims").mkdir(parents=True, exist_ok=True)
    (store.root / "claims" / key).write_text(text)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_claim_whose_pid_was_reused_is_taken_over_a_live_one_is_not(tmp_path):
    """A claim names host, pid and the process's start time: the same pid alive with another start
    time is a reused PID (the holder died), taken over at once. Before: any live pid (or anything
    unreadable as "host pid") blocked the run forever."""
    store, key, parent = Store(tmp_path), "ab" * 10, os.getppid()
    claim = {"host": _host(), "pid": parent, "start": _start_ticks(parent) + 7, "since": 0.0}
    _write_claim(store, key, json.dumps(claim))
    assert not store.claimed(key) and "reused" in store.holder(key).stale()
    assert store.claim(key) and store.holder(key).mine()  # taken over, now ours
    store.release(key)
    _write_claim(store, key, json.dumps({**claim, "start": _start_ticks(parent)}))  # the real holder, alive
    assert store.claimed(key) and not store.claim(key)
    desc = store.holder(key).describe()
    assert f"pid {parent}" in desc and "this host" in desc and "1970-01-01T00:00:00Z" in desc


def test_claim_files_carry_host_pid_and_start_time(tmp_path):
    store, key = Store(tmp_path), "cd" * 10
    assert store.claim(key)
    data = json.loads((store.root / "claims" / key).read_text())
    assert data["host"] == _host() and data["pid"] == os.getpid() and isinstance(data["since"], float)
    if os.path.exists("/proc/self/stat"):
        assert data["start"] == _start_ticks(os.getpid())
    assert [p.name for p in (store.root / "claims").iterdir()] == [key]  # written beside it, linked into place


def test_a_foreign_claim_is_announced_and_the_wait_is_bounded(tmp_path):
    """A claim from another host (live for a day) and an old-format one: the sweep says within seconds
    which run waits on what (host, pid, since when), gives up after --claim-timeout, exits 1 naming the
    runs still claimed and how to release them. Before: it waited silently, for a day."""
    spec_file = tmp_path / "s.toml"
    from tiny import tiny_toml

    spec_file.write_text(tiny_toml(steps=20, tail="[grid]\ndata_seed = [0, 1, 2]\n"))
    specs = [spec(steps=20, data_seed=s) for s in range(3)]
    store = Store(tmp_path / "st")
    _write_claim(store, specs[0].key(), json.dumps({"host": "otherhost", "pid": 4242, "start": 1,
                                                                  "since": time.time() - 3600}))
    _write_claim(store, specs[1].key(), "otherhost 777")  # an old-format claim (before start times)
    src = os.path.dirname(os.path.dirname(overparam.__file__))  # the package under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, ROOT])}
    proc = subprocess.run([sys.executable, "-m", "overparam", "run", str(spec_file), "--store", str(store.root),
                           "--workers", "1", "--claim-timeout", "2", "--quiet"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    err = proc.stderr
    since = time.strftime("%Y-%m-%dT%H:", time.gmtime(time.time() - 3600))
    assert f"run {specs[0].key()} is claimed by host otherhost, pid 4242, since {since}" in err
    assert f"run {specs[1].key()} is claimed by host otherhost, pid 777" in err
    assert "still claimed" in err and "--release-claims" in err and "Traceback" not in err
    assert store.has(specs[2]) and not store.has(specs[0]) and not store.has(specs[1])
    assert not store.failures()  # not a failure of the run: nothing recorded under failures/


def test_release_claims_removes_dead_ones_and_all_on_request(tmp_path, capsys):
    from overparam.cli import main

    store = Store(tmp_path)
    run_sweep([spec(steps=5)], store)
    dead, foreign, old, garbage = "11" * 10, "22" * 10, "33" * 10, "44" * 10
    _write_claim(store, dead, json.dumps({"host": _host(), "pid": 999999999, "start": 5, "since": 1.0}))
    _write_claim(store, foreign, json.dumps({"host": "elsewhere", "pid": 12, "start": 5, "since": 4e9}))
    _write_claim(store, old, f"{_host()} 999999998")  # old format, dead
    _write_claim(store, garbage, "\x00\x01 not a claim")
    os.utime(store.root / "claims" / garbage, (1.0, 1.0))  # long past the time to write one
    with pytest.raises(SystemExit) as ex:
        main(["results", "--store", str(store.root), "--release-claims"])
    out = capsys.readouterr()
    assert ex.value.code == 0
    assert f"removed claim on run {dead}" in out.out and "not running" in out.out
    assert f"removed claim on run {old}" in out.out and f"removed claim on run {garbage}" in out.out
    assert "3 claims removed, 1 kept" in out.out and f"kept claim on run {foreign}" in out.err
    assert sorted(p.name for p in (store.root / "claims").iterdir()) == [foreign]
    with pytest.raises(SystemExit):
        main(["results", "--store", str(store.root), "--release-claims", "--all"])
    assert "1 claims removed, 0 kept" in capsys.readouterr().out and not list((store.root / "claims").iterdir())


def test_a_run_stored_by_another_process_is_not_counted_as_computed_here(tmp_path):
    """Two sweeps of one run: the one that waits for the other's claim reports it as computed by
    another process, not as computed. Before: both reported it computed."""
    import threading

    store, s = Store(tmp_path), spec(steps=5)
    key, parent = s.key(), os.getppid()
    start = _start_ticks(parent) if os.path.exists("/proc/self/stat") else None
    _write_claim(store, key, json.dumps({"host": _host(), "pid": parent, "start": start, "since": 1.0}))

    def other() -> None:  # the other sweep: computes it, stores it, releases its claim
        store.save(s, execute(s))
        (store.root / "claims" / key).unlink()

    t = threading.Timer(0.5, other)
    t.start()
    rep = run_sweep([s], store, claim_timeout=120)
    t.join()
    assert rep.computed == [] and rep.by_other == [key] and not rep.failed
    assert rep.as_dict()["computed"] == 0 and rep.as_dict()["computed_by_other"] == 1


# -- content hashes and schemas: --verify sees what opens but is wrong (issue 23, defect 9) --------------------


def _flip_middle(p) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte inside a data page; the footer still opens
    p.write_bytes(bytes(data))


def _foreign_parquet(p) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1.0, 2.0]}), p)


def _pickled_npz(p) -> None:
    with open(p, "wb") as fh:
        np.savez(fh, U=np.array([{"a": 1}], dtype=object))


def _edited_spec(p) -> None:
    data = json.loads(p.read_text())
    data["algorithm"]["params"]["eta"] = 0.04  # still a valid spec, no longer the one the key names
    p.write_text(json.dumps(data))


DAMAGES = {
    "corrupted data page": ("trace.parquet", _flip_middle, "sha256"),
    "summary {}": ("summary.json", lambda p: p.write_text("{}"), "summary.json"),
    "meta [1,2,3]": ("meta.json", lambda p: p.write_text("[1, 2, 3]"), "meta.json"),
    "foreign parquet": ("trace.parquet", _foreign_parquet, "trace.parquet"),
    "pickled array": ("final.npz", _pickled_npz, "final.npz"),
    "edited spec": ("spec.json", _edited_spec, "spec.json"),
}


@pytest.mark.parametrize("hashed", [True, False], ids=["manifest", "before-manifests"])
@pytest.mark.parametrize("what", list(DAMAGES))
def test_verify_finds_damage_that_opens_and_the_sweep_recomputes_it(tmp_path, capsys, what, hashed):
    """Each of these opened fine and was reported "0 damaged" before; the next sweep skipped the run
    and a later read raised or the run vanished from `results`. Now: named by --verify (by its sha256
    when the run has a manifest, by the schema checks otherwise, except a flipped byte that only a
    hash can see), named on stderr by `results`, and recomputed by the next sweep."""
    from overparam.cli import main

    victim, damage, reason = DAMAGES[what]
    if not hashed and what == "corrupted data page":
        pytest.skip("a flipped byte in a plain data page is visible only to a content hash")
    store = Store(tmp_path)
    specs = [spec(steps=5, data_seed=s) for s in range(2)]
    run_sweep(specs, store)
    key = specs[0].key()
    path = store.path(key)
    if not hashed:
        for k in (key, specs[1].key()):
            (store.path(k) / MANIFEST).unlink(missing_ok=True)  # as stored before this change
    damage(path / victim)
    fresh = Store(tmp_path)
    report = fresh.verify()
    assert [d["key"] for d in report["damaged"]] == [key], report
    why = report["damaged"][0]["reason"]
    assert (why.startswith(victim) and ("sha256" in why if hashed else reason in why)), why
    assert report["schema_only"] == ([] if hashed else [specs[1].key()])
    with pytest.raises(SystemExit) as ex:
        main(["results", "--store", str(tmp_path), "--verify"])
    out = capsys.readouterr()
    assert ex.value.code == 1 and f"damaged {key}: {victim}" in out.err
    assert ("1 runs intact, 1 damaged" in out.out) if hashed else ("checked by schema only" in out.out)
    with pytest.raises(SystemExit) as ex:
        main(["results", "--store", str(tmp_path), "--csv"])
    out = capsys.readouterr()
    assert ex.value.code == 0 and f"damaged {key}" in out.err and key not in out.out
    rep = run_sweep(specs, Store(tmp_path))
    assert rep.computed == [key] and Store(tmp_path).verify()["damaged"] == []


def test_manifest_records_every_file_hash_and_keys_do_not_change(tmp_path):
    import hashlib

    store, s = Store(tmp_path), spec(steps=5)
    run_sweep([s], store)
    man = json.loads((store.path(s.key()) / MANIFEST).read_text())
    assert sorted(man["files"]) == sorted(RUN_FILES)
    for name, rec in man["files"].items():
        data = (store.path(s.key()) / name).read_bytes()
        assert rec == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert s.key() == RunSpec.parse(json.loads((store.path(s.key()) / "spec.json").read_text())).key()
