"""The run loop: replicas, determinism, divergence, stopping, logging."""

import numpy as np
import pytest
import torch

import overparam as op


@pytest.fixture(scope="module")
def sensing():
    return op.problems.matrix_sensing(d=12, r=2, m=100, data_seed=0)


def test_replicas_give_the_numbers_of_separate_runs(sensing):
    alphas = [1e-3, 1e-1, 1.0]
    kw = dict(steps=300, metrics=["loss", "train_error", "test_error", "singular_values"])
    algo = op.algorithms.gd(0.01, grad_scale=0.5)
    batched = op.run(sensing, op.params.Symmetric(), algo, init=op.init.scaled_identity(alpha=alphas), **kw)
    for r, a in enumerate(alphas):
        single = op.run(sensing, op.params.Symmetric(), algo, init=op.init.scaled_identity(alpha=a), **kw)
        torch.testing.assert_close(batched.theta[0][r], single.theta[0][0], rtol=1e-9, atol=1e-12)
        for name in ("loss", "train_error", "test_error"):
            _, vb = batched.trace.series(name, r)
            _, vs = single.trace.series(name, 0)
            np.testing.assert_allclose(vb, vs, rtol=1e-9, atol=1e-14)
    assert batched.replicas[1]["init.alpha"] == 1e-1


def test_random_init_replicas_follow_their_seeds(sensing):
    kw = dict(steps=50, metrics=["loss"])
    algo = op.algorithms.gd(0.01)
    batched = op.run(sensing, op.params.Symmetric(k=4), algo, init=op.init.gaussian(scale=0.1), init_seed=[3, 4], **kw)
    for r, s in enumerate([3, 4]):
        single = op.run(sensing, op.params.Symmetric(k=4), algo, init=op.init.gaussian(scale=0.1), init_seed=s, **kw)
        torch.testing.assert_close(batched.theta[0][r], single.theta[0][0], rtol=1e-9, atol=1e-12)


def test_same_settings_give_bit_identical_results(sensing):
    def once():
        return op.run(sensing, op.params.Symmetric(), op.algorithms.gd(0.01), init=op.init.gaussian(scale=0.01),
                      init_seed=7, steps=200, metrics=["loss", "test_error", "singular_values"])

    a, b = once(), once()
    assert torch.equal(a.theta[0], b.theta[0])
    for k in a.trace.columns:
        assert np.array_equal(a.trace.columns[k], b.trace.columns[k])


def test_diverging_replica_is_recorded_with_its_step_and_others_continue(sensing):
    res = op.run(sensing, op.params.Symmetric(), op.algorithms.gd([0.01, 5.0]), init=op.init.scaled_identity(alpha=1.0),
                 steps=200)
    assert res.status == ["completed", "diverged"]
    assert 0 < res.stop_step[1] < 200
    assert res.stop_step[0] == 200
    assert torch.isfinite(res.theta[0][1]).all()
    steps, loss = res.trace.series("loss", 1)
    assert np.isfinite(loss).all() and steps[-1] <= res.stop_step[1]
    assert any(e["kind"] == "diverged" and e["replica"] == 1 for e in res.events)


def test_target_train_error_stops_a_replica():
    prob = op.problems.matrix_sensing(d=5, r=1, m=80, data_seed=3)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(0.05), init=op.init.scaled_identity(alpha=[1e-2, 1e-6]),
                 steps=5000, target_train_error=1e-3)
    assert res.status == ["converged", "converged"]
    assert max(res.stop_step) < 5000
    assert any(e["kind"] == "converged" for e in res.events)
    assert (res.final("train_error") <= 1e-3).all()


def test_log_schedule_always_has_first_and_last_step():
    s = op.LogSchedule(points=20).steps(10_000)
    assert s[0] == 0 and s[-1] == 10_000 and len(s) <= 22
    assert np.all(np.diff(s) > 0)
    s = op.LogSchedule(points=0, every=25).steps(100)
    assert s.tolist() == [0, 25, 50, 75, 100]


def test_zero_steps_records_the_initial_point(sensing):
    res = op.run(sensing, op.params.Symmetric(), op.algorithms.gd(0.01), init=op.init.scaled_identity(alpha=1e-3),
                 steps=0)
    assert res.trace.columns["step"].tolist() == [0]
    assert res.status == ["completed"]


def test_metric_that_does_not_apply_is_a_clear_error():
    prob = op.problems.sparse_regression(n=10, d=20, k=2)
    with pytest.raises(ValueError, match="singular_values"):
        op.run(prob, op.params.Hadamard(), op.algorithms.gd(0.01), init=op.init.constant(alpha=0.1), steps=5,
               metrics=["singular_values"])


def test_per_replica_settings_must_agree_in_length(sensing):
    with pytest.raises(ValueError, match="replica counts disagree"):
        op.run(sensing, op.params.Symmetric(), op.algorithms.gd([0.1, 0.2]), init=op.init.scaled_identity(alpha=[1, 2, 3]),
               steps=3)


def test_trace_frame_has_one_row_per_replica_step(sensing):
    res = op.run(sensing, op.params.Symmetric(), op.algorithms.gd(0.01), init=op.init.scaled_identity(alpha=[0.1, 1.0]),
                 steps=100, metrics=["loss", "singular_values"], log=op.LogSchedule(points=10))
    df = res.trace.to_frame()
    assert set(df["replica"]) == {0, 1}
    assert len(df) == 2 * len(op.LogSchedule(points=10).steps(100))
    assert len(df["singular_values"].iloc[0]) == 12
