"""Snapshot and exact resume (overparam.snapshot, run(checkpoint=…, resume=…)): a run killed at a step
boundary and resumed from its snapshot gives the bits of the run never interrupted, for the generic
loop, both compiled engines, replica budgets, target stops, divergence, random perturbations, SGD,
a regularizer, stop rules and diagnostics; taking snapshots changes no number; what cannot be
stored exactly is refused; a snapshot of another run is not resumed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import overparam as op
from overparam.engines.factorization import FactorizationEngine
from overparam.engines.sym_packed import SymPackedEngine
from overparam.experiments import partial
from overparam.experiments.executors import run_sweep
from overparam.experiments.spec import RunSpec
from overparam.experiments.store import Store
from overparam.schedule import LogSchedule, UnionSchedule
from overparam.snapshot import RunSnapshot, SnapshotError, SnapshotMismatch, at_steps
from tiny import tiny_spec

STEPS = 40


def _sensing():
    return op.problems.matrix_sensing(d=6, r=1, m=30, data_seed=0)


def _factorization():
    return op.problems.matrix_factorization(d1=6, d2=5, r=1, data_seed=0)


def _ipgd():
    return op.algorithms.ipgd(eta=0.02, radius=1e-3, g_thres=0.5, escape_time=4, f_thres=1e-12)


#: name: (problem, param, algorithm, run kwargs, the engine the run must take (None: generic))
CASES = {
    "generic gd": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02),
                   dict(lean=False, init_seed=[0, 1]), None),
    "sym-packed engine, 1 replica": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02),
                                     dict(log=LogSchedule(points=7)), SymPackedEngine),
    "sym-packed engine, lanes, grad_norm": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02),
                                            dict(init_seed=list(range(6)), metrics=["loss", "grad_norm"]),
                                            SymPackedEngine),
    "factorization engine": (_factorization, op.params.Asymmetric, lambda: op.algorithms.gd(eta=0.1),
                             dict(init_seed=[0, 1]), FactorizationEngine),
    "budgets, engine": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02),
                        dict(init_seed=[0, 1, 2], budgets=[STEPS, 9, 27],
                             log=UnionSchedule(((LogSchedule(points=5), STEPS), (LogSchedule(points=4), 9),
                                                            (LogSchedule(points=6), 27)))), SymPackedEngine),
    "budgets, generic": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02),
                         dict(init_seed=[0, 1, 2], budgets=[STEPS, 9, 27], lean=False), None),
    "target stop": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=[0.05, 0.01]),
                    dict(init_seed=[0, 1], target_train_error=0.6, init=op.init.gaussian(scale=0.3)), SymPackedEngine),
    "diverges": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=[0.02, 3.0]),
                 dict(init_seed=[0, 1], lean=False, init=op.init.gaussian(scale=0.5)), None),
    "diverges, engine": (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=[0.02, 3.0]),
                         dict(init_seed=[0, 1], init=op.init.gaussian(scale=0.5)), SymPackedEngine),
    "ipgd perturbations, deviation diagnostic": (
        _sensing, op.params.Symmetric, _ipgd,
        dict(algo_seed=[3, 4], init_seed=[0, 1], metrics=["loss", "ma2025.Gamma", "ma2025.r0"]), None),
    "sgd": (_sensing, op.params.Symmetric, lambda: op.algorithms.sgd(eta=0.005, batch_size=5),
            dict(algo_seed=[1, 2], init_seed=[0, 1]), None),
    "regularizer, plateau stop": (
        _sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02),
        dict(init_seed=[0, 1, 2], regularizer=op.regularizers.group_lasso(lam=[1e-3, 1e-2, 0.0], beta=1e-2),
             stops=[op.stops.plateau(window=4, rtol=0.03)]), None),
}


def _run(name: str, **extra):
    prob, param, algo, kwargs, _ = CASES[name]
    kw = dict(init=op.init.gaussian(scale=0.1), steps=STEPS, metrics=["loss", "train_error", "test_error"])
    kw.update(kwargs)
    kw.update(extra)
    return op.run(prob(), param(), algo(), **kw)


def assert_same_bits(a, b):
    assert a.status == b.status and a.stop_step == b.stop_step and a.events == b.events
    assert a.replicas == b.replicas and a.info == b.info
    ca, cb = a.trace.columns, b.trace.columns
    assert set(ca) == set(cb)
    for k in ca:
        assert ca[k].dtype == cb[k].dtype and ca[k].shape == cb[k].shape, k
        assert np.array_equal(ca[k], cb[k], equal_nan=True), k
    for ta, tb in zip(a.theta_list, b.theta_list, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(ta, tb, strict=True))
    assert repr(a.carry) == repr(b.carry)


class _Kill(Exception):
    pass


def _killed_at(name: str, t: int) -> RunSnapshot:
    """The snapshot a run writes at step ``t`` just before it is killed (as bytes, read back)."""
    saved = []

    def save(snap):
        saved.append(snap.to_bytes())
        raise _Kill

    with pytest.raises(_Kill):
        _run(name, checkpoint=at_steps([t], save))
    return RunSnapshot.from_bytes(saved[0])


@pytest.mark.parametrize("name", list(CASES))
def test_a_killed_run_resumes_with_the_same_bits(name):
    whole = _run(name)
    engine = CASES[name][4]
    assert whole.info["engine"] == (engine.name if engine is not None else "generic")
    for t in (1, 9, 27):  # 9 and 27: where two lanes' budgets end
        snap = _killed_at(name, t)
        assert snap.t == t
        assert_same_bits(whole, _run(name, resume=snap))
    # snapshots every few steps (segment boundaries for an engine) change no number
    taken = []
    assert_same_bits(whole, _run(name, checkpoint=at_steps(range(3, STEPS, 5), taken.append)))
    assert taken and [s.t for s in taken] == [t for t in range(3, STEPS, 5)][:len(taken)]


def test_the_table_exercises_what_it_claims():
    """Each case reaches the situation it names (otherwise a resume there proves nothing)."""
    assert _run("target stop").stop_step == [22, STEPS]  # converged between two snapshot points (9, 27)
    assert "diverged" in _run("diverges").status and "diverged" in _run("diverges, engine").status
    b = _run("budgets, engine")
    assert b.stop_step == [STEPS, 9, 27]
    ip = _run("ipgd perturbations, deviation diagnostic")
    steps = sorted({e["step"] for e in ip.events if e["kind"] == "perturbation"})
    assert steps and steps[0] < 9 and any(9 < s < 27 for s in steps) and steps[-1] > 27, steps
    reg = _run("regularizer, plateau stop")
    assert any(s.startswith("stopped:plateau") for s in reg.status) and "completed" in reg.status


def test_a_snapshot_of_another_run_is_refused():
    snap = _killed_at("generic gd", 5)
    with pytest.raises(SnapshotMismatch, match="resume: .*theta0"):
        _run("generic gd", resume=snap, init_seed=[0, 2])
    with pytest.raises(SnapshotMismatch, match=r"its budgets is \[40, 40\], this run.s \[41, 41\]"):
        _run("generic gd", resume=snap, steps=STEPS + 1)
    with pytest.raises(op.errors.BackendError, match="resume: got"):
        _run("generic gd", resume=b"not a snapshot")


def test_state_that_cannot_be_stored_exactly_takes_no_snapshot_and_the_run_goes_on():
    from overparam.algorithms.base import Composed
    from overparam.algorithms.pieces import Descend, Gradient

    class Opaque(Gradient):
        def init(self, ctx, objective, theta):
            return {"handle": object()}

    algo = Composed("gd", [Opaque(), Descend(0.02)])
    why, taken = [], []
    whole = op.run(_sensing(), op.params.Symmetric(), op.algorithms.gd(eta=0.02), init=op.init.gaussian(scale=0.1),
                   steps=STEPS, lean=False)
    res = op.run(_sensing(), op.params.Symmetric(), algo, init=op.init.gaussian(scale=0.1), steps=STEPS,
                 checkpoint=at_steps([5, 10], taken.append, why.append))
    assert taken == [] and len(why) == 1 and "builtins.object" in why[0]
    assert res.status == whole.status and torch.equal(res.theta_list[0][0], whole.theta_list[0][0])


def test_the_snapshot_format_is_exact_and_never_unpickles():
    strided = torch.arange(12.0, dtype=torch.float64).reshape(3, 4).mT  # a transposed view keeps its strides
    tree = {"x": strided, "n": [1, 2.5, float("nan"), -0.0, None, "s", True], "t": (np.int64(3),),
            "dev": torch.device("cpu"), "s": op.algorithms.Stream(7, "perturb", 2)}
    snap = RunSnapshot.capture(3, {"a": 1}, tree, 1.5)
    back = RunSnapshot.from_bytes(snap.to_bytes()).tree()
    assert back["x"].stride() == strided.stride() and torch.equal(back["x"], strided)
    assert back["n"][:2] == [1, 2.5] and np.isnan(back["n"][2]) and str(back["n"][3]) == "-0.0"
    assert back["n"][4:] == [None, "s", True] and back["t"] == (3,) and type(back["t"][0]) is np.int64
    assert back["s"].state() == (7, "perturb", 2) and back["dev"] == torch.device("cpu")
    with pytest.raises(SnapshotError, match="expanded"):
        RunSnapshot.capture(0, {}, {"e": torch.zeros(3).expand(2, 3)}, 0.0)
    with pytest.raises(SnapshotError, match="not a readable snapshot"):
        RunSnapshot.from_bytes(b"garbage")
    import io

    buf = io.BytesIO()
    np.savez(buf, __snapshot_json__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SnapshotError, match="not a readable snapshot"):
        RunSnapshot.from_bytes(buf.getvalue())  # an object array would need pickle: refused


# -- the store's snapshots (partial/) and a sweep that resumes --------------------------------------------

def _tiny(steps=300):
    return RunSpec.parse(tiny_spec(steps=steps, replicas=[{"init_seed": 0}, {"init_seed": 1}]))


def test_the_store_keeps_one_snapshot_per_run_written_atomically_and_for_this_code_only(tmp_path, monkeypatch):
    store, spec = Store(tmp_path), _tiny(60)
    key = spec.key()
    snaps = [_killed_at("generic gd", t) for t in (5, 9)]
    store.save_partial(key, snaps[0])
    assert store.load_partial(key)[0].t == 5 and list((tmp_path / "tmp").iterdir()) == []
    assert store.load_partial(key)[0].records == {**partial.records(key), "engine": "generic", "step": 5}

    def crash(*a):
        raise OSError("killed while renaming")

    monkeypatch.setattr(partial.os, "replace", crash)
    with pytest.raises(OSError):
        store.save_partial(key, snaps[1])
    monkeypatch.undo()
    assert store.load_partial(key)[0].t == 5  # the previous snapshot stands, whole
    store.save_partial(key, snaps[1])
    assert store.load_partial(key)[0].t == 9 and [p.name for p in (tmp_path / "partial" / key).iterdir()] == \
        ["snapshot.npz"]
    # another key's or another version's snapshot is not used
    other = _tiny(61).key()
    (tmp_path / "partial" / other).mkdir()
    (tmp_path / "partial" / key / "snapshot.npz").rename(tmp_path / "partial" / other / "snapshot.npz")
    assert store.load_partial(other) == (None, f"its key is {key!r}, this code's {other!r}")
    monkeypatch.setattr(partial, "__version__", "0.0.0+other")
    store.save_partial(key, snaps[1])
    monkeypatch.undo()
    snap, why = store.load_partial(key)
    assert snap is None and why.startswith("its version is '0.0.0+other'")
    (tmp_path / "partial" / key / "snapshot.npz").write_bytes(b"half a snapshot")
    assert store.load_partial(key)[0] is None and "not a readable snapshot" in store.load_partial(key)[1]
    rep = store.verify()["partial"]
    assert [(p["key"], p["usable"]) for p in rep] == sorted([(key, False), (other, False)])
    # a stored run's snapshot is removed when it is stored; verify/clean remove stale ones
    run_sweep([spec], store, checkpoint_seconds=0)
    assert not (tmp_path / "partial" / key).exists() and (tmp_path / "partial" / other).exists()
    run_sweep([RunSpec.parse(tiny_spec(steps=61, replicas=[{"init_seed": 0}, {"init_seed": 1}]))], store)
    assert store.verify()["partial"] == [] and not (tmp_path / "partial" / other).exists()


class _Killed(BaseException):
    """The process dies (nothing of the sweep's own error handling runs for it)."""


def test_a_killed_sweep_resumes_its_run_from_the_snapshot_and_stores_the_same_bits(tmp_path, monkeypatch):
    import json

    import pyarrow.parquet as pq

    spec = _tiny()
    key = spec.key()
    whole = Store(tmp_path / "whole")
    assert run_sweep([spec], whole, checkpoint_seconds=0).computed == [key]
    assert not (tmp_path / "whole" / "partial").exists()
    ticks = iter(range(10**6))
    monkeypatch.setattr("overparam.snapshot._clock", lambda: float(next(ticks)))  # one second per look
    killed = Store(tmp_path / "killed", checkpoint_seconds=7)
    writes = []
    real = Store.save_partial

    def save_then_die(self, k, snap):
        real(self, k, snap)
        writes.append(snap.t)
        if len(writes) == 3:
            raise _Killed

    monkeypatch.setattr(Store, "save_partial", save_then_die)
    with pytest.raises(_Killed):
        run_sweep([spec], killed, checkpoint_seconds="store")
    assert not killed.has(key) and killed.load_partial(key)[0].t == writes[-1] and 0 < writes[-1] < 300
    rep = run_sweep([spec], Store(tmp_path / "killed"), checkpoint_seconds=1000)
    assert rep.computed == [key] and not (tmp_path / "killed" / "partial" / key).exists()
    a, b = whole.load(key), killed.load(key)
    assert b.meta["resumed_from_step"] == writes[-1] and "resumed_from_step" not in a.meta
    assert pq.read_table(a.path / "trace.parquet").equals(pq.read_table(b.path / "trace.parquet"))
    for name in ("summary.json", "spec.json"):
        assert json.loads((a.path / name).read_text()) == json.loads((b.path / name).read_text())
    ta, tb = a.arrays(), b.arrays()
    assert ta.keys() == tb.keys() and all(np.array_equal(ta[k], tb[k]) for k in ta)
    assert {k: v for k, v in a.meta.items() if k not in ("wall_time", "finished")} == \
        {k: v for k, v in b.meta.items() if k not in ("wall_time", "finished", "resumed_from_step")}


def test_checkpoint_seconds_is_checked(tmp_path, capsys):
    from overparam.cli import main
    from tiny import tiny_toml

    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml(steps=5))
    for cmd in (["run", str(spec)], ["reproduce", "li2018", "--quick"]):
        for bad in ("-1", "soon", "inf"):
            with pytest.raises(SystemExit) as ex:
                main([*cmd, "--store", str(tmp_path / "s"), "--checkpoint-seconds", bad])
            err = capsys.readouterr().err
            assert ex.value.code == 2 and f"--checkpoint-seconds: got {bad!r}; accepted: seconds >= 0" in err, err
    assert not (tmp_path / "s").exists()
    with pytest.raises(op.experiments.errors.SpecError, match="--checkpoint-seconds: got -2"):
        run_sweep([_tiny(5)], Store(tmp_path), checkpoint_seconds=-2)


def test_every_seconds_cuts_a_compiled_run_where_the_next_snapshot_falls_due():
    """A first segment of a hundredth measures the rate; then segments run to the predicted due step:
    a run shorter than the interval is two segments, a longer one is cut near each due step."""
    from overparam.snapshot import every_seconds

    now = [0.0]
    ck = every_seconds(600, lambda snap: None, clock=lambda: now[0])
    assert ck.next_boundary(0, 10_000) == 100
    now[0] = 1.0  # 100 steps a second
    assert ck.next_boundary(100, 10_000) == 10_000  # due after 60,000 steps: past the end
    assert ck.next_boundary(100, 10**6) == 100 + 59_900
    now[0] = 599.5
    assert not ck.due(59_950) and ck.next_boundary(59_950, 10**6) == 59_950 + 50
    now[0] = 600.0
    assert ck.due(60_000) and ck.next_boundary(60_000, 10**6) == 60_000 + 60_000
