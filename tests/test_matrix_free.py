"""The matrix-free Gaussian operator regenerates exactly the stored operator's rows and gives its results."""

import pytest
import torch

import overparam as op
from overparam.operators import GaussianSensing, MatrixFreeGaussianSensing

D64 = torch.float64
LAYOUTS = [(True, "sym", (7, 7)), (True, "triu", (7, 7)), (False, "raw", (5, 6)), (False, "sym", (6, 6))]


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _pair(packed, ensemble, shape, m=300, threads=2):
    stored = GaussianSensing.sample(m, shape, seed=3, packed=packed, ensemble=ensemble, block_rows=64)
    return stored, MatrixFreeGaussianSensing.like(stored, threads=threads)


def _input(shape, packed, R, seed):
    X = torch.randn(R, *shape, generator=_g(seed), dtype=D64)
    return X + X.mT if packed else X


@pytest.mark.parametrize("packed,ensemble,shape", LAYOUTS)
def test_rows_products_and_batches_equal_the_stored_operator(packed, ensemble, shape):
    stored, free = _pair(packed, ensemble, shape)
    assert free.nbytes == 0 and free.m == stored.m and free.symmetric_domain == stored.symmetric_domain
    assert torch.equal(free.materialize().A, stored.A)
    X = _input(shape, packed, 3, 1)
    w = torch.randn(3, stored.m, generator=_g(2), dtype=D64)
    y = torch.randn(stored.m, generator=_g(3), dtype=D64)
    assert torch.allclose(free.forward(X), stored.forward(X), rtol=1e-13, atol=1e-12)
    assert torch.allclose(free.adjoint(w), stored.adjoint(w), rtol=1e-13, atol=1e-12)
    z1, G1, r1 = free.forward_adjoint(X, y, 0.3)
    z2, G2, r2 = stored.forward_adjoint(X, y, 0.3)
    assert torch.allclose(r1, r2, rtol=1e-12)
    assert torch.allclose(z1, z2, rtol=1e-13, atol=1e-12)
    assert torch.allclose(G1.dense(), G2.dense(), rtol=1e-13, atol=1e-12)
    idx = torch.randint(0, stored.m, (3, 5), generator=_g(4))
    assert torch.equal(free.select(idx).A, stored.select(idx).A)


def test_results_do_not_depend_on_the_number_of_threads():
    _, one = _pair(True, "sym", (7, 7), threads=1)
    _, three = _pair(True, "sym", (7, 7), threads=3)
    X = _input((7, 7), True, 2, 5)
    y = torch.randn(300, generator=_g(6), dtype=D64)
    z1, G1, _ = one.forward_adjoint(X, y, 0.3)
    z3, G3, _ = three.forward_adjoint(X, y, 0.3)
    assert torch.equal(z1, z3) and torch.equal(G1.dense(), G3.dense())


@pytest.mark.parametrize("factory,kwargs", [
    (op.problems.matrix_sensing, {"d": 8, "r": 2, "m": 300}),
    (op.problems.asymmetric_sensing, {"d1": 6, "d2": 5, "r": 2, "m": 300}),
])
def test_a_50_step_gd_run_matches_the_stored_operator(factory, kwargs):
    stored = factory(**kwargs, data_seed=4)
    free = factory(**kwargs, data_seed=4, operator="matrix_free")
    assert isinstance(free.operator, MatrixFreeGaussianSensing) and free.info["operator"] == "matrix_free"
    assert torch.equal(free.y, stored.y)
    param = op.params.Symmetric() if len(kwargs) == 3 else op.params.Asymmetric()
    runs = [op.run(p, param, op.algorithms.gd(eta=0.05), init=op.init.gaussian(scale=[0.1, 0.3]), steps=50,
                   metrics=["loss", "train_error"]) for p in (stored, free)]
    for a, b in zip(runs[0].theta, runs[1].theta, strict=True):
        assert float((a - b).abs().max() / a.abs().max()) < 1e-12
    for r in range(2):
        (_, la), (_, lb) = runs[0].trace.series("loss", r), runs[1].trace.series("loss", r)
        assert abs(la - lb).max() / abs(la).max() < 1e-12
        assert la[-1] < 0.5 * la[0]  # the run actually moved


def test_moves_between_dtypes_and_keeps_its_rows():
    stored, free = _pair(True, "sym", (5, 5), m=100)
    f32 = free.to(dtype=torch.float32)
    assert f32.dtype == torch.float32 and f32.seed == free.seed
    assert torch.equal(f32.materialize().A, stored.A.to(torch.float32))
