"""Metrics against direct computations."""

import math

import pytest
import torch

import overparam as op
from overparam import params
from overparam.metrics import Snapshot, get_metric
from overparam.objective import Objective
from overparam.problems import Problem

D64 = torch.float64


def _snap(prob, param, theta):
    return Snapshot(0, theta, Objective(prob, param))


def test_relative_errors_follow_li2018_appendix_b():
    prob = op.problems.matrix_sensing(d=6, r=2, m=30, data_seed=0)
    U = torch.randn(1, 6, 6, generator=torch.Generator().manual_seed(1), dtype=D64)
    snap = _snap(prob, op.params.Symmetric(), (U,))
    X = U[0] @ U[0].T
    resid = prob.operator.forward(X) - prob.y
    assert torch.allclose(get_metric("train_error")(snap)[0], resid.norm() / prob.y.norm())
    assert torch.allclose(get_metric("train_error_sq")(snap)[0], resid.norm() ** 2)
    assert torch.allclose(get_metric("test_error")(snap)[0], (X - prob.X_star).norm() / prob.X_star.norm())
    assert torch.allclose(get_metric("test_error_sq")(snap)[0], (X - prob.X_star).norm() ** 2)


def test_factored_error_equals_dense_error():
    prob = op.problems.matrix_completion(d1=9, d2=7, r=2, p=0.5)
    no_dense = Problem(prob.operator, prob.y, prob.loss, X_star=None, truth_factors=prob.truth_factors, info=prob.info)
    g = torch.Generator().manual_seed(2)
    theta = (torch.randn(2, 9, 3, generator=g, dtype=D64), torch.randn(2, 7, 3, generator=g, dtype=D64))
    a = get_metric("test_error")(_snap(prob, op.params.Asymmetric(k=3), theta))
    b = get_metric("test_error")(_snap(no_dense, op.params.Asymmetric(k=3), theta))
    assert torch.allclose(a, b, rtol=1e-10)


def test_singular_values_from_factors_match_dense():
    prob = op.problems.asymmetric_sensing(d1=7, d2=5, r=2, m=20)
    g = torch.Generator().manual_seed(3)
    for param in (op.params.Asymmetric(k=3), op.params.Difference(k=2), op.params.DeepProduct(depth=3)):
        shape_prob = prob if not isinstance(param, op.params.Difference) else op.problems.matrix_sensing(d=6, r=1, m=10)
        theta = tuple(torch.randn((2, *s), generator=g, dtype=D64) for s in param.shapes(shape_prob.shape))
        sv = param.singular_values(theta)
        dense = torch.linalg.svdvals(param.to_matrix(theta))
        n = min(sv.shape[-1], dense.shape[-1])
        torch.testing.assert_close(sv[..., :n], dense[..., :n], rtol=1e-9, atol=1e-12)


def test_effective_rank_and_distance_to_best_rank_r():
    prob = op.problems.matrix_sensing(d=5, r=2, m=10)
    U = torch.diag(torch.tensor([2.0, 1.0, 0.5, 0.0, 0.0], dtype=D64)).unsqueeze(0)  # σ(UUᵀ) = 4, 1, 0.25
    snap = _snap(prob, op.params.Symmetric(), (U,))
    p = torch.tensor([4.0, 1.0, 0.25], dtype=D64) / 5.25
    assert math.isclose(float(get_metric("effective_rank")(snap)[0]), float(torch.exp(-(p * p.log()).sum())), rel_tol=1e-9)
    assert math.isclose(float(get_metric("dist_best_rank_r")(snap)[0]), 0.25, rel_tol=1e-12)
    ident = _snap(prob, op.params.Symmetric(), (torch.eye(5, dtype=D64).unsqueeze(0),))
    assert math.isclose(float(get_metric("effective_rank")(ident)[0]), 5.0, rel_tol=1e-12)
    norms = get_metric("column_norms")(snap)[0]
    assert torch.allclose(norms, torch.tensor([2.0, 1.0, 0.5, 0.0, 0.0], dtype=D64))


@pytest.mark.parametrize("param", [params.Symmetric(), params.Asymmetric(k=6), params.Difference(k=4)],
                         ids=["symmetric", "asymmetric", "difference"])
def test_a_replicas_spectrum_does_not_depend_on_its_batch(param):
    """σ(X) of a replica has the same bits alone, in a batch, and at another position of the batch
    (LAPACK through MKL computed a matrix of a batch at an offset of i·a·b elements of the batch's own
    copy, and on an AMD EPYC every other 7 × 7 matrix came out 1 ulp away from the same matrix alone:
    a segment's batched metrics then depended on how many logged steps it recorded at once)."""
    gen = torch.Generator().manual_seed(0)
    theta = tuple(torch.randn(9, *shape, generator=gen, dtype=torch.float64) for shape in param.shapes((7, 7)))
    batch = param.singular_values(theta)
    alone = torch.stack([param.singular_values(tuple(t[i:i + 1] for t in theta))[0] for i in range(9)])
    order = torch.tensor([4, 0, 8, 2, 6, 1, 3, 7, 5])
    shuffled = param.singular_values(tuple(t[order] for t in theta))
    assert torch.equal(batch, alone) and torch.equal(shuffled, batch[order])


def test_per_matrix_keeps_the_leading_dimensions():
    from overparam.params import per_matrix

    X = torch.randn(2, 3, 7, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert per_matrix(torch.linalg.svdvals, X).shape == (2, 3, 5)
    assert torch.equal(per_matrix(torch.linalg.svdvals, X[0, 0]), torch.linalg.svdvals(X[0, 0]))
    assert torch.equal(per_matrix(torch.linalg.svdvals, X)[1, 2], torch.linalg.svdvals(X[1, 2]))
