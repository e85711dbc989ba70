"""The compiled engines of ``run`` (overparam.engines) against the generic loop: same structure, same numbers to
round-off, same stops; the generic loop for everything it does not cover; bits independent of the
thread count."""

import numba
import numpy as np
import pytest
import torch

import overparam as op
from overparam.engines import select as engine_select
from overparam.engines.sym_packed import SymPackedEngine

METRICS = ["loss", "train_error", "test_error"]


@pytest.fixture(scope="module")
def sensing():
    return op.problems.matrix_sensing(d=12, r=2, m=100, data_seed=0, normalization="1/8")


@pytest.fixture(scope="module")
def factorization():
    return op.problems.matrix_factorization(d1=25, d2=20, r=3, data_seed=0)


def both(prob, param, algo, init, **kw):
    kw.setdefault("metrics", METRICS)
    generic = op.run(prob, param, algo, init=init, lean=False, **kw)
    fast = op.run(prob, param, algo, init=init, **kw)
    assert generic.info["engine"] == "generic"
    return generic, fast


def assert_same_run(a, b, rtol=1e-12):
    assert a.status == b.status
    assert a.stop_step == b.stop_step
    assert a.events == b.events
    assert a.replicas == b.replicas
    assert set(a.trace.columns) == set(b.trace.columns)
    for k in ("step", "replica"):
        assert np.array_equal(a.trace.columns[k], b.trace.columns[k])
    for k in METRICS:
        x, y = a.trace.columns[k], b.trace.columns[k]
        assert np.abs(x - y).max() <= rtol * np.abs(x).max(), k
    for ta, tb in zip(a.theta_list, b.theta_list, strict=True):
        for p, q in zip(ta, tb, strict=True):
            assert p.shape == q.shape
            assert (p - q).abs().max() <= rtol * p.abs().max()


@pytest.mark.parametrize("R", [1, 3, 8, 11])
def test_symmetric_packed_sensing_matches_the_generic_loop(sensing, R):
    alphas = list(np.logspace(-3, -0.5, R)) if R > 1 else 1e-2
    a, b = both(sensing, op.params.Symmetric(), op.algorithms.gd(eta=2e-4, grad_scale=8.0),
                op.init.scaled_identity(alpha=alphas), steps=400)
    assert b.info["engine"].startswith("symmetric×packed")
    assert_same_run(a, b)


def test_narrow_width_and_per_replica_steps(sensing):
    a, b = both(sensing, op.params.Symmetric(k=3), op.algorithms.gd(eta=[1e-4, 2e-4, 3e-4], grad_scale=8.0),
                op.init.gaussian(scale=0.01), init_seed=[1, 2, 3], steps=300)
    assert_same_run(a, b)


@pytest.mark.parametrize("R", [2, 9])
def test_divergence_and_target_stop_at_the_same_steps(sensing, R):
    etas = [1e-3] * R
    etas[0] = 5e-2  # diverges
    a, b = both(sensing, op.params.Symmetric(), op.algorithms.gd(eta=etas, grad_scale=8.0),
                op.init.scaled_identity(alpha=list(np.logspace(-3, -2, R))), steps=2000, target_train_error=1e-3)
    assert a.status[0] == "diverged" and "converged" in a.status
    assert_same_run(a, b, rtol=1e-10)


def test_asymmetric_factorization_matches_the_generic_loop(factorization):
    a, b = both(factorization, op.params.Asymmetric(), op.algorithms.gd(eta=0.05),
                op.init.gaussian(scale=[1e-3, 1e-1]), steps=300, target_train_error=0.2)
    assert b.info["engine"].startswith("asymmetric×identity")
    assert_same_run(a, b)


def test_factorization_with_per_block_and_per_replica_steps(factorization):
    a, b = both(factorization, op.params.Asymmetric(), op.algorithms.gd(eta={"F": [0.05, 0.02], "G": 0.03}),
                op.init.gaussian(scale=1e-2), init_seed=[0, 1], steps=200)
    assert_same_run(a, b)


def test_float32_runs_lean_and_agrees(sensing):
    p32 = sensing.to(dtype=torch.float32)
    a, b = both(p32, op.params.Symmetric(), op.algorithms.gd(eta=2e-4, grad_scale=8.0),
                op.init.scaled_identity(alpha=1e-2), steps=200)
    assert b.info["engine"] != "generic"
    assert a.status == b.status
    torch.testing.assert_close(a.theta[0], b.theta[0], rtol=1e-4, atol=1e-6)


def test_everything_else_takes_the_generic_loop(sensing):
    sym, gd = op.params.Symmetric(), op.algorithms.gd(eta=2e-4, grad_scale=8.0)
    ini = op.init.scaled_identity(alpha=1e-2)
    cases = [
        dict(param=sym, algo=op.algorithms.sgd(eta=1e-4, batch_size=5)),
        dict(param=sym, algo=gd, regularizer=op.regularizers.group_lasso(lam=1e-3, beta=1e-2)),
        dict(param=sym, algo=gd, stops=[op.stops.plateau(window=10, rtol=1e-3)]),
        dict(param=op.params.Difference(), algo=gd),
        dict(param=sym, algo=op.algorithms.proximal_gd(eta=1e-4, lam=1e-3)),
    ]
    for c in cases:
        res = op.run(sensing, c.pop("param"), c.pop("algo"), init=ini, steps=5, metrics=["loss"], **c)
        assert res.info["engine"] == "generic"
    big = op.problems.matrix_sensing(d=12, r=2, m=100, data_seed=0, operator="stored")
    assert big.operator.nbytes <= engine_select.base.MAX_BYTES  # and one above the bound:
    old = engine_select.base.MAX_BYTES
    try:
        engine_select.base.MAX_BYTES = 10
        assert op.run(big, sym, gd, init=ini, steps=3, metrics=["loss"]).info["engine"] == "generic"
    finally:
        engine_select.base.MAX_BYTES = old


def test_bits_do_not_depend_on_the_thread_count():
    prob = op.problems.matrix_sensing(d=30, r=3, m=240, data_seed=1, normalization="1/8")
    R = 24
    etas = [3e-5] * R
    etas[20] = 3e-2  # a replica of the last group diverges early: the other groups are replayed
    kw = dict(steps=120, metrics=["loss"], log=op.LogSchedule(points=3))

    def once(threads, rows):
        old = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            n = 5 if rows else R  # 5 replicas: the row layout; 24: replica lanes
            return op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=etas[-n:], grad_scale=8.0),
                          init=op.init.scaled_identity(alpha=list(np.logspace(-3, -1, n))), **kw)
        finally:
            numba.set_num_threads(old)

    for rows in (True, False):
        one, two = once(1, rows), once(min(2, numba.config.NUMBA_NUM_THREADS), rows)
        assert one.status == two.status and one.stop_step == two.stop_step
        assert "diverged" in one.status
        assert torch.equal(one.theta[0], two.theta[0])
        for k in one.trace.columns:
            assert np.array_equal(one.trace.columns[k], two.trace.columns[k])


def test_progress_is_reported_on_the_lean_path(sensing):
    seen = []
    op.run(sensing, op.params.Symmetric(), op.algorithms.gd(eta=2e-4, grad_scale=8.0),
           init=op.init.scaled_identity(alpha=1e-2), steps=500, metrics=["loss"], progress=lambda t, T: seen.append(t))
    assert seen[-1] == 500 and len(seen) >= 50 and seen == sorted(seen)


@pytest.fixture(scope="module")
def completion_step_inputs():
    from overparam.operators import EntrySampling

    entries = EntrySampling.sample((300, 260), seed=4, p=0.2)
    g = torch.Generator().manual_seed(5)
    L = torch.randn(300, 8, generator=g, dtype=torch.float64)
    R = torch.randn(260, 8, generator=g, dtype=torch.float64)
    y = torch.randn(entries.m, generator=g, dtype=torch.float64)
    return entries, L, R, y


def _fused_completion(entries, L, R, y, helpers, monkeypatch):
    from overparam.operators import _dense_kernels, _team

    monkeypatch.setattr(_dense_kernels, "SERIAL_WORK", 0)  # the team even for this small problem
    monkeypatch.setattr(_team, "helpers_for", lambda threads: helpers)
    z, G, rsq = entries.forward_factored_adjoint(L, R, y, 0.7)
    return z, G.mm(R), G.tmm(L), rsq


def test_completion_team_bits_do_not_depend_on_the_team(completion_step_inputs, monkeypatch):
    """The fused completion step claims its chunks one at a time (operators/_team): any number of
    threads gives the same bits, and the numbers of the unfused products to round-off."""
    entries, L, R, y = completion_step_inputs
    ref = _fused_completion(entries, L, R, y, 0, monkeypatch)
    for helpers in (1, 3):
        for _ in range(5):  # who runs which chunk varies from call to call
            out = _fused_completion(entries, L, R, y, helpers, monkeypatch)
            assert all(torch.equal(a, b) for a, b in zip(ref, out, strict=True))
    z0 = entries.forward_factored(L, R)
    G0 = entries.gradient(0.7 * (z0 - y))
    assert torch.allclose(ref[0], z0, rtol=1e-12, atol=1e-12)
    assert torch.allclose(ref[1], G0.mm(R), rtol=1e-12, atol=1e-12)
    assert torch.allclose(ref[2], G0.tmm(L), rtol=1e-12, atol=1e-12)
    assert torch.allclose(ref[3], ((z0 - y) ** 2).sum(), rtol=1e-12)


def test_completion_kernel_claims_each_chunk_once(completion_step_inputs):
    """A helper that starts after the work is claimed returns at once and writes nothing; a helper
    that runs alone (``last=False``) does every chunk and tile, and the caller then only waits."""
    from overparam.operators import _compiled, _kernels

    entries, L, R, y = completion_step_inputs
    crow, cols = entries.crow.numpy(), entries.cols.numpy()
    bounds = _kernels.chunk_bounds(crow)
    nch, (n1, k), n2 = bounds.shape[0] - 1, L.shape, R.shape[0]

    def buffers():
        return (np.zeros(4, dtype=np.int64), np.full(cols.shape[0], np.nan), np.full((n1, k), np.nan),
                np.full((nch, n2, k), np.nan), np.full(nch, np.nan), np.full(n2 * k, np.nan))

    def call(buf, last):
        ctr, z, GR, parts, rsq, GtL = buf
        _compiled.fused_step(ctr, crow, cols, bounds, L.numpy(), R.numpy(), y.numpy(), 0.7, z, GR, parts, rsq, GtL,
                             64, (0.0,) * k, last)

    alone = buffers()
    call(alone, False)
    ntile = -(-n2 * k // 64)
    assert list(alone[0]) == [nch + 1, nch, ntile + 1, ntile]  # each claimed once (+1: the claim that found none)
    late = buffers()
    late[0][:] = [nch, nch, ntile, ntile]
    call(late, True)
    assert all(np.isnan(a).all() for a in late[1:])
    ref = buffers()
    call(ref, True)
    for a, b in zip(alone[1:], ref[1:], strict=True):
        assert np.array_equal(a, b)


def test_a_logged_factorization_step_reuses_the_steps_product(factorization, monkeypatch):
    """Recording test_error at a logged step takes X = F Gᵀ from the step's own z (the identity
    operator's ``matrix_of``) instead of forming the product again; same numbers as to_matrix(θ)."""
    param = op.params.Asymmetric()
    calls = []
    to_matrix = type(param).to_matrix
    monkeypatch.setattr(type(param), "to_matrix", lambda self, theta: calls.append(1) or to_matrix(self, theta))
    res = op.run(factorization, param, op.algorithms.gd(eta=0.05), init=op.init.gaussian(scale=1e-2), steps=50,
                 metrics=["test_error", "test_error_sq"])
    assert res.info["engine"].startswith("asymmetric×identity")
    assert calls == []  # no logged step formed X again
    monkeypatch.undo()
    F, G = res.theta
    D = to_matrix(param, (F, G)) - factorization.X_star
    last = res.trace.columns["step"] == 50
    assert res.trace.columns["test_error_sq"][last][0] == pytest.approx(float((D * D).sum()), rel=1e-14)
    assert factorization.operator.matrix_of(torch.zeros(2, factorization.operator.m)).shape == (2, 25, 20)
    sym = op.operators.IdentityOperator((4, 4), symmetric=True)
    assert sym.matrix_of(torch.zeros(16)) is None  # it measures ½(X + Xᵀ), not X


def test_the_numba_segment_runs_torch_on_one_thread_and_restores_it(sensing, monkeypatch):
    """The symmetric × packed stepper runs torch at one intra-op thread (its torch work is a few
    small tensor operations; a second OpenMP thread only spins): the run's numbers are those of a
    run whose process is at one thread, and the process's count is restored afterwards."""
    from overparam.backend import threads

    kw = dict(steps=200, metrics=METRICS, init=op.init.scaled_identity(alpha=[1e-3, 1e-2]))
    algo = op.algorithms.gd(eta=2e-4, grad_scale=8.0)
    with threads(1):
        one = op.run(sensing, op.params.Symmetric(), algo, **kw)
    with threads(2):
        seen = []
        orig = SymPackedEngine.segment

        def spy(self, *a, **k):
            seen.append(torch.get_num_threads())
            return orig(self, *a, **k)

        monkeypatch.setattr(SymPackedEngine, "segment", spy)
        two = op.run(sensing, op.params.Symmetric(), algo, **kw)
        assert torch.get_num_threads() == 2
    assert seen and set(seen) == {1}
    assert two.info["engine"].startswith("symmetric×packed")
    assert torch.equal(one.theta[0], two.theta[0])
    for k in one.trace.columns:
        assert np.array_equal(one.trace.columns[k], two.trace.columns[k])
