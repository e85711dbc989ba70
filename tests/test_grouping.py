"""Automatic grouping of a sweep's specs (overparam.experiments.grouping): only where it changes no
bit, and then bit-identical to running each spec alone."""

import numpy as np
import torch

from overparam.experiments import Store, run_sweep
from overparam.experiments.execute import execute
from overparam.experiments.grouping import PREFIX, estimated_cost, group_key, longest_first, plan, run_group
from overparam.experiments.spec import RunSpec
from overparam.run import run


def spec(**changes):
    data = {"steps": 150, "metrics": ["loss", "train_error", "test_error"],
            "problem": {"name": "matrix_sensing", "d": 10, "r": 2, "m": 80, "normalization": "1/8"},
            "param": {"name": "symmetric"},
            "algorithm": {"name": "gd", "eta": 1e-3, "grad_scale": 8.0},
            "init": {"name": "gaussian", "scale": 1e-2},
            "target_train_error": 1e-2}
    for k, v in changes.items():
        cur = data
        *head, last = k.split(".")
        for h in head:
            cur = cur[h]
        cur[last] = v
    return RunSpec.parse(data)


def members():
    return [spec(init_seed=0), spec(init_seed=1, **{"init.scale": 1e-3}), spec(init_seed=2, **{"algorithm.eta": 3e-2}),
            RunSpec.parse({**spec().model_dump(mode="python"), "replicas": {"init_seed": [5, 6, 7]}})]


def test_specs_that_share_data_are_grouped_and_others_are_not():
    ms = members()
    assert len({group_key(s) for s in ms}) == 1 and group_key(ms[0]) is not None
    other = [spec(data_seed=1), spec(**{"problem.d": 12}), spec(**{"param.name": "asymmetric"}),
             spec(target_train_error=1e-3), spec(data_seed=2)]
    budgets = [spec(steps=100), spec(steps=400, log={"points": 0, "every": 7})]  # only budget / schedule differ
    tasks = plan(ms + other + budgets)
    assert [len(t) for t in tasks] == [6, 1, 1, 1, 1, 1]
    # a large operator (the generic path) or SGD: no batch of several lanes; a one-replica spec only
    # shares a pass with the same spec at other budgets (one trajectory)
    for other in (spec(**{"problem.m": 10**6}), spec(**{"algorithm.name": "sgd"})):
        assert group_key(other).startswith(PREFIX) and group_key(other) != group_key(ms[0])
    assert group_key(RunSpec.parse({**spec(**{"algorithm.name": "sgd"}).model_dump(mode="python"),
                                    "replicas": {"init_seed": [5, 6]}})) is None


def test_a_pool_gets_the_longest_tasks_first():
    small, long_, wide, big = [spec()], [spec(steps=3000)], [spec(replicas={"init_seed": list(range(9))})], \
        [spec(**{"problem.d": 40, "problem.m": 400})]
    # steps x operator bytes x lanes: d = 40 reads 820 packed columns x 400 rows, 40x the d = 10 operator
    assert estimated_cost(long_) == 20 * estimated_cost(small) and estimated_cost(wide) == 3 * estimated_cost(small)
    assert estimated_cost(big) > estimated_cost(long_)
    assert longest_first([small, long_, wide, big, [spec(data_seed=3)]]) == [big, long_, wide, small, [spec(data_seed=3)]]


def test_a_group_gives_each_spec_the_bits_of_its_lone_run():
    ms = members()
    grouped = run_group(ms)
    assert grouped is not None
    assert "diverged" in grouped[2].status  # η = 3e-2 diverges: the batch shrinks mid-run
    assert "converged" in grouped[0].status or "converged" in grouped[3].status
    for s, g in zip(ms, grouped, strict=True):
        alone = execute(s)
        assert alone.status == g.status and alone.stop_step == g.stop_step
        assert alone.events == g.events and alone.replicas == g.replicas
        assert {k: v for k, v in alone.info.items()} == g.info
        for k in alone.trace.columns:
            assert np.array_equal(alone.trace.columns[k], g.trace.columns[k]), k
        for a, b in zip(alone.theta_list, g.theta_list, strict=True):
            assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _same_bits(alone, g):
    assert alone.status == g.status and alone.stop_step == g.stop_step
    assert alone.events == g.events and alone.replicas == g.replicas and alone.info == g.info
    assert alone.trace.columns.keys() == g.trace.columns.keys()
    for k in alone.trace.columns:
        assert np.array_equal(alone.trace.columns[k], g.trace.columns[k]), k
    for a, b in zip(alone.theta_list, g.theta_list, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_members_with_their_own_budgets_and_schedules_get_the_bits_of_their_lone_runs():
    """One pass to the longest budget: each lane ends at its member's budget as that run ends (the
    target is not checked at the last step: a lane reaching it exactly there is 'completed'), a lane
    stopped by the target or by divergence leaves early, and each member keeps its own schedule's rows."""
    ms = [spec(steps=150, **{"algorithm.eta": 2e-4}),                       # converges at 147 < 150
          spec(steps=60, init_seed=1, log={"points": 7}, **{"init.scale": 1e-3}),  # converges at 39
          spec(steps=39, init_seed=1, **{"init.scale": 1e-3}),                 # reaches the target at its last step
          spec(steps=100, init_seed=2, **{"algorithm.eta": 3e-2}),              # diverges
          spec(steps=90, log={"points": 0, "every": 9}, **{"algorithm.eta": 1e-4}),
          RunSpec.parse({**spec(steps=40, **{"algorithm.eta": 2e-4}).model_dump(mode="python"),
                         "replicas": {"init_seed": [5, 6, 7]}}),
          spec(steps=0, init_seed=3), spec(steps=1, init_seed=4)]  # ending at step 0 (before any reference loss)
    assert [len(t) for t in plan(ms)] == [8]
    grouped = run_group(ms)
    assert grouped is not None
    assert [(g.status[0], g.stop_step[0]) for g in grouped] == [
        ("converged", 147), ("converged", 39), ("completed", 39), ("diverged", 3), ("completed", 90),
        ("completed", 40), ("completed", 0), ("completed", 1)]
    for s, g in zip(ms, grouped, strict=True):
        _same_bits(execute(s), g)


def test_a_lane_that_overflows_keeps_its_last_finite_row_and_not_the_pass_schedule():
    """Divergence to a non-finite iterate: the member records its last finite iterate (stop − 1) as
    alone, while rows the pass logged only for another member (every step here) are not its own."""
    ms = [spec(steps=150, diverge_factor=1e300, log={"points": 0, "every": 1}, **{"algorithm.eta": 2e-4}),
          spec(steps=100, init_seed=2, diverge_factor=1e300, log={"points": 5}, **{"algorithm.eta": 3e-2})]
    grouped = run_group(ms)
    assert grouped[1].status == ["diverged"] and grouped[1].trace.columns["step"].tolist() == [0, 1, 3, 5]
    for s, g in zip(ms, grouped, strict=True):
        _same_bits(execute(s), g)


def test_run_budgets_are_checked():
    import pytest

    from overparam.errors import OverparamError
    from overparam.experiments.execute import build

    b = build(spec())
    with pytest.raises(OverparamError, match="budgets: got"):
        run(b.problem, b.param, b.algorithm, **{**b.run_kwargs, "budgets": [151]})
    # the generic loop honours budgets too (its numbers agree with lone runs to rounding, not bits)
    b = build(RunSpec.parse({**spec(steps=50).model_dump(mode="python"), "replicas": {"init_seed": [0, 1]}}))
    res = run(b.problem, b.param, b.algorithm, lean=False, **{**b.run_kwargs, "budgets": [20, 50]})
    short = run(b.problem, b.param, b.algorithm, lean=False, **{**b.run_kwargs, "steps": 20})
    long = run(b.problem, b.param, b.algorithm, lean=False, **b.run_kwargs)
    assert res.status == [short.status[0], long.status[1]] and res.stop_step == [20, long.stop_step[1]]
    assert int(res.trace.columns["step"][res.trace.columns["replica"] == 0].max()) == 20
    for i, alone in ((0, short), (1, long)):
        np.testing.assert_allclose(res.theta_list[i][0], alone.theta_list[i][0], rtol=1e-12)


def test_sweep_with_and_without_grouping_stores_the_same_numbers(tmp_path):
    ms = members() + [spec(data_seed=3), spec(steps=90, init_seed=8, log={"points": 0, "every": 9})]
    r1 = run_sweep(ms, Store(tmp_path / "a"))
    r2 = run_sweep(ms, Store(tmp_path / "b"), group=False)
    assert len(r1.computed) == len(r2.computed) == len(ms) and not r1.failed
    ta = Store(tmp_path / "a").table().drop(columns=["wall_time"]).sort_values(["key", "replica"])
    tb = Store(tmp_path / "b").table().drop(columns=["wall_time"]).sort_values(["key", "replica"])
    assert ta.reset_index(drop=True).equals(tb.reset_index(drop=True))
    for s in ms:
        a, b = Store(tmp_path / "a").load(s.key()), Store(tmp_path / "b").load(s.key())
        fa, fb = a.arrays(), b.arrays()
        assert fa.keys() == fb.keys() and all(np.array_equal(fa[k], fb[k]) for k in fa)
        assert a.trace().equals(b.trace())
    assert run_sweep(ms, Store(tmp_path / "a")).computed == []  # resume: nothing left


def test_grouping_asks_select_engine_and_restates_no_names(monkeypatch):
    """The one rule: an algorithm that is plain GD under another name groups (before: only the name
    "gd" did), and grouping follows select_engine's decision whatever the names say."""
    import overparam.experiments.grouping as grouping

    sub = [spec(**{"algorithm.name": "gd_subspace"}, init_seed=s) for s in (0, 1)]
    assert group_key(sub[0]) is not None and group_key(sub[0]) == group_key(sub[1])
    grouping._DECISIONS.clear()
    monkeypatch.setattr(grouping, "select_engine", lambda *a, **k: None)
    assert group_key(spec()).startswith(PREFIX)  # one trajectory at most
    grouping._DECISIONS.clear()
