"""One trajectory, several budgets: forks in a grouped pass (overparam.run's ``forks``,
overparam.experiments.grouping.forks), and the generic loop's replica lanes (overparam.lanes) that
let li2018's d = 100 / 200 runs group at all. Every grouped member must give the bits of its lone run."""

import numpy as np
import pytest
import torch

import overparam.experiments.grouping as grouping
from overparam.errors import OverparamError
from overparam.experiments.execute import build, execute
from overparam.experiments.grouping import PREFIX, forks, group_key, plan, run_group
from overparam.experiments.spec import RunSpec
from overparam.lanes import in_replica_lanes, replica_lanes
from overparam.operators.gaussian import GaussianSensing
from overparam.run import run
from overparam.snapshot import RunSnapshot, at_steps
from test_grouping import _same_bits


def fig(d: int, m: int, steps: int, alphas, **changes) -> RunSpec:
    """li2018's Figs. 1-3 pattern: U₀ = αI on one sensing problem, one replica per α."""
    data = {"steps": steps, "metrics": ["train_error", "test_error"],
            "problem": {"name": "matrix_sensing", "d": d, "r": 2, "m": m},
            "param": {"name": "symmetric"},
            "algorithm": {"name": "gd", "eta": 2.5e-3, "grad_scale": 1.0},
            "init": {"name": "scaled_identity", "basis": "identity"},
            "replicas": {"init.alpha": list(alphas)},
            "log": {"points": 20}}
    data.update(changes)
    return RunSpec.parse(data)


FIG1 = [1.0, 0.3, 0.1, 0.03, 0.01]


def figs(d=10, m=200, **changes):
    """Fig. 1 (five α, 120 steps), Fig. 2 (three of them, 300 steps, its own schedule), Fig. 3 (one
    of them, 500 steps, a third schedule)."""
    return [fig(d, m, 120, FIG1, **changes), fig(d, m, 300, [1.0, 0.01, 0.1], log={"points": 9}, **changes),
            fig(d, m, 500, [0.01], log={"points": 0, "every": 50}, **changes)]


def test_repeated_settings_become_forks_of_the_longest_lane():
    ms = figs()
    assert [len(t) for t in plan(ms)] == [3]
    # lanes 0-4: Fig. 1 (α = 1, …, 0.01); 5-7: Fig. 2 (α = 1, 0.01, 0.1); 8: Fig. 3 (α = 0.01, the longest)
    assert forks(ms) == [5, None, 7, None, 8, None, 8, None, None]


def test_forked_members_get_the_bits_of_their_lone_runs_on_an_engine():
    ms = figs()
    grouped = run_group(ms)
    assert grouped is not None and grouped[0].info["engine"] != "generic"
    for s, g in zip(ms, grouped, strict=True):
        _same_bits(execute(s), g)


def test_a_fork_ends_with_its_trajectory_when_that_stops_first():
    """The trajectory converges (target) or diverges before the fork's budget: the fork stops with
    it, at the same step, as its own run would."""
    conv = {"target_train_error": 5e-2, "algorithm": {"name": "gd", "eta": 0.1, "grad_scale": 1.0}}
    div = {"algorithm": {"name": "gd", "eta": 1.0, "grad_scale": 1.0}}
    ms = [fig(10, 200, 60, [1.0, 0.1], **conv), fig(10, 200, 400, [1.0, 0.1], log={"points": 7}, **conv),
          fig(10, 200, 2, [1.0, 0.1], **div), fig(10, 200, 200, [1.0, 0.1], **div)]
    grouped = [g for task in plan(ms) for g in run_group(task)]
    alone = [execute(s) for s in ms]
    # α = 1 converges after the fork's budget 60 (the fork completes there), α = 0.1 before it
    assert alone[1].status == ["converged"] * 2 and alone[1].stop_step[1] < 60 < alone[1].stop_step[0]
    assert alone[0].status == ["completed", "converged"] and alone[0].stop_step[1] == alone[1].stop_step[1]
    # α = 1 diverges at step 3, after the fork's budget 2; α = 0.1 later
    assert alone[3].status == ["diverged"] * 2 and alone[2].status == ["completed"] * 2
    for a, g in zip(alone, grouped, strict=True):
        _same_bits(a, g)


def test_a_fork_is_not_stepped(monkeypatch):
    """The pass steps each distinct trajectory once: 5 + 0 + 0 lanes for Figs. 1-3 (the operator
    sees at most five replicas), not 5 + 3 + 1."""
    monkeypatch.setattr("overparam.engines.base.MAX_BYTES", 0)  # the generic loop: its products are visible
    monkeypatch.setattr(grouping, "_DECISIONS", {})
    monkeypatch.setattr(GaussianSensing, "fused_min_bytes", 0)
    seen = []
    fa = GaussianSensing.forward_adjoint

    def counting(self, X, y, scale):
        seen.append(X.shape[0] if X.ndim == 3 else 1)
        return fa(self, X, y, scale)

    monkeypatch.setattr(GaussianSensing, "forward_adjoint", counting)
    ms = figs()
    grouped = run_group(ms)
    assert grouped is not None and grouped[0].info["engine"] == "generic"
    assert max(seen) == 5 and seen[-1] == 1


@pytest.mark.parametrize("d, m", [(10, 200), (128, 8)])  # row blocks; long rows (n = 8256 ≥ 8192 columns)
def test_the_generic_loop_groups_multi_replica_specs_with_lane_kernels(monkeypatch, d, m):
    """Above the engines' size bound (li2018 at d = 100, 200) the generic loop runs; with the fused
    lane kernels every replica of a run of ≥ 2 is computed the same way whatever the batch — down
    to one replica left (here η = 0.3 diverges its lane, the others reach their budgets) — so
    specs of ≥ 2 replicas group, bit for bit. A one-replica spec keeps its own kernel and is not grouped."""
    monkeypatch.setattr("overparam.engines.base.MAX_BYTES", 0)
    monkeypatch.setattr(grouping, "_DECISIONS", {})
    monkeypatch.setattr(GaussianSensing, "fused_min_bytes", 0)
    steps = 60 if d > 100 else 200
    eta = [2.5e-3, 2.5e-3, 1.0] if d <= 100 else [2.5e-3, 2.5e-3, 2.5e-3]
    ms = [fig(d, m, steps // 2, [1.0, 0.1, 0.01]),
          fig(d, m, steps, [0.1, 0.01, 1.0], algorithm={"name": "gd", "eta": 2.5e-3, "grad_scale": 1.0},
              replicas={"init.alpha": [0.1, 0.01, 1.0], "algorithm.eta": eta}, log={"points": 5}),
          fig(d, m, steps, [0.01, 1.0], log={"points": 0, "every": 7})]
    single = fig(d, m, steps, [0.01])
    assert group_key(single).startswith(PREFIX) and group_key(ms[0]) is not None  # one trajectory at most
    assert [len(t) for t in plan(ms + [single])] == [3, 1]
    grouped = run_group(ms)
    assert grouped is not None and grouped[0].info["engine"] == "generic"
    if d <= 100:
        assert grouped[1].status == ["completed", "completed", "diverged"]
    for s, g in zip(ms, grouped, strict=True):
        _same_bits(execute(s), g)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lanes_give_one_replica_the_bits_of_its_lane_in_a_batch(dtype):
    op = GaussianSensing.sample(30, (6, 6), seed=1, packed=True, dtype=dtype)
    op.fused_min_bytes = 0
    g = torch.Generator().manual_seed(0)
    U = torch.randn(3, 6, 2, generator=g, dtype=torch.float64).to(dtype)
    X = U @ U.mT
    y = torch.randn(30, generator=g, dtype=torch.float64).to(dtype)
    assert not in_replica_lanes()
    with replica_lanes():
        assert in_replica_lanes()
        z3, G3, f3 = op.forward_adjoint(X, y, 0.7)
        Z3 = op.forward(X)
        for i in range(3):
            z1, G1, f1 = op.forward_adjoint(X[i:i + 1], y, 0.7)
            assert torch.equal(z1[0], z3[i]) and torch.equal(G1.dense()[0], G3.dense()[i]) and torch.equal(f1[0], f3[i])
            assert torch.equal(op.forward(X[i]), Z3[i])
    assert not in_replica_lanes()
    assert op.max_lanes() == 16 and GaussianSensing.sample(30, (6, 6), seed=1, packed=True).max_lanes() == 0
    assert z3.dtype == f3.dtype == dtype


def test_run_checks_its_forks():
    b = build(fig(10, 200, 50, [1.0, 1.0, 0.1]))
    kw = {**b.run_kwargs, "budgets": [20, 50, 50]}
    for bad in ([None, None], [1, 0, None], [None, 0, None], [0, None, None], [None, None, 2], ["1", None, None]):
        with pytest.raises(OverparamError, match="forks: got"):
            run(b.problem, b.param, b.algorithm, **{**kw, "forks": bad})
    with pytest.raises(OverparamError, match="their θ₀ differ"):
        run(b.problem, b.param, b.algorithm, **{**kw, "forks": [2, None, None]})
    res = run(b.problem, b.param, b.algorithm, **{**kw, "forks": [1, None, None]})
    assert res.stop_step == [20, 50, 50] and res.status == ["completed"] * 3


def test_a_pass_with_forks_resumes_from_a_snapshot_with_the_same_bits():
    b = build(fig(10, 200, 50, [1.0, 0.1, 1.0, 0.1]))
    kw = {**b.run_kwargs, "budgets": [20, 35, 50, 50], "forks": [2, 3, None, None]}
    whole = run(b.problem, b.param, b.algorithm, **kw)
    for t in (10, 20, 30):
        saved: list[bytes] = []
        run(b.problem, b.param, b.algorithm, checkpoint=at_steps([t], lambda s, out=saved: out.append(s.to_bytes())),
            **kw)
        again = run(b.problem, b.param, b.algorithm, resume=RunSnapshot.from_bytes(saved[0]), **kw)
        _same_bits(whole, again)


def test_a_run_without_forks_keeps_its_snapshot_fingerprint():
    """Snapshots taken before forks existed (li2018's long runs in progress) still resume: a run
    without forks has no 'forks' entry in its fingerprint; a run with forks does."""
    b = build(fig(10, 200, 30, [1.0, 0.1]))
    fps = []
    for forks_ in (None, [None, None]):
        saved = []
        run(b.problem, b.param, b.algorithm, forks=forks_, **b.run_kwargs,
            checkpoint=at_steps([10], lambda s, out=saved: out.append(s)))
        fps.append(saved[0].fingerprint)
    assert "forks" not in fps[0] and fps[0] == fps[1]
    b = build(fig(10, 200, 30, [1.0, 1.0]))
    saved = []
    run(b.problem, b.param, b.algorithm, forks=[1, None], budgets=[20, 30],
        **{k: v for k, v in b.run_kwargs.items() if k != "budgets"}, checkpoint=at_steps([10], saved.append))
    assert saved[0].fingerprint["forks"] == [1, None]


@pytest.mark.parametrize("algorithm", [{"name": "gd", "eta": 2.5e-3, "grad_scale": 1.0},
                                       {"name": "sgd", "eta": 2.5e-3, "batch_size": 20}])
def test_one_replica_specs_at_other_budgets_share_one_trajectory_on_any_path(monkeypatch, algorithm):
    """A one-replica spec and the same spec run longer (li2018 claim 9's control and its 10× control):
    one computed lane, the longest run's own, so they group even where lanes are not invariant —
    here the generic loop's one-replica kernel, and SGD's sampled rows."""
    monkeypatch.setattr("overparam.engines.base.MAX_BYTES", 0)
    monkeypatch.setattr(grouping, "_DECISIONS", {})
    monkeypatch.setattr(GaussianSensing, "fused_min_bytes", 0)
    ms = [fig(10, 200, 40, [0.1], algorithm=algorithm), fig(10, 200, 150, [0.1], algorithm=algorithm,
                                                              log={"points": 0, "every": 9}),
          fig(10, 200, 40, [0.1], algorithm=algorithm, data_seed=1)]  # other data: alone
    assert [len(t) for t in plan(ms)] == [2, 1]
    assert forks(ms[:2]) == [1, None]
    grouped = run_group(ms[:2])
    assert grouped is not None and grouped[0].info["engine"] == "generic"
    for s, g in zip(ms[:2], grouped, strict=True):
        _same_bits(execute(s), g)


class _Killed(BaseException):
    """The process dies (nothing of the sweep's own error handling runs for it)."""


def test_a_killed_sweep_resumes_a_grouped_pass_from_its_snapshot(tmp_path, monkeypatch):
    """A pass of several specs (li2018's Figs. 1-2 at d = 200 take more than an hour) takes snapshots
    like a single run, under the merged spec's key, and a killed sweep resumes it: the same bits as
    the uninterrupted pass, and no snapshot left behind."""
    from overparam.experiments import Store, run_sweep
    from overparam.experiments.grouping import merged_spec

    ms = figs()
    whole = Store(tmp_path / "whole")
    assert sorted(run_sweep(ms, whole, checkpoint_seconds=0).computed) == sorted(s.key() for s in ms)
    ticks = iter(range(10**6))
    monkeypatch.setattr("overparam.snapshot._clock", lambda: float(next(ticks)))  # one second per look
    writes = []
    real = Store.save_partial

    def save_then_die(self, k, snap):
        real(self, k, snap)
        writes.append(snap.t)
        if len(writes) == 2:
            raise _Killed

    monkeypatch.setattr(Store, "save_partial", save_then_die)
    killed = Store(tmp_path / "killed")
    with pytest.raises(_Killed):
        run_sweep(ms, killed, checkpoint_seconds=5)
    pkey = merged_spec(ms).key()
    assert not any(killed.has(s.key()) for s in ms) and killed.load_partial(pkey)[0].t == writes[-1] > 0
    monkeypatch.setattr(Store, "save_partial", real)
    assert sorted(run_sweep(ms, killed, checkpoint_seconds=1000).computed) == sorted(s.key() for s in ms)
    assert not (tmp_path / "killed" / "partial" / pkey).exists()
    for s in ms:
        a, b = whole.load(s.key()), killed.load(s.key())
        assert b.meta["resumed_from_step"] == writes[-1]
        assert a.trace().equals(b.trace())
        ta, tb = a.arrays(), b.arrays()
        assert ta.keys() == tb.keys() and all(np.array_equal(ta[k], tb[k]) for k in ta)


def test_a_grouped_pass_reports_its_progress_under_its_first_run(tmp_path, monkeypatch):
    from overparam.experiments import Store, executors

    monkeypatch.setattr(executors, "PROGRESS_INTERVAL_S", 0.0)
    ms = figs()

    class Sink(list):
        put = list.append

    sink = Sink()
    out = executors.work_group([s.model_dump_json() for s in ms], str(tmp_path), 1, sink)
    assert sorted(k for k, kind, _ in out if kind == "computed") == sorted(s.key() for s in ms)
    assert sink and {k for k, *_ in sink} == {ms[0].key()} and sink[0][1].startswith("3 runs in one pass")
    assert max(t for *_, t, _ in sink) <= 500 == sink[-1][3]
    assert all(Store(tmp_path).has(s.key()) for s in ms)
