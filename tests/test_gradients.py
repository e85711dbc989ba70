"""Finite-difference checks of ∇f for every parameterization × loss (and the operators they meet)."""

import pytest
import torch

import overparam as op
from overparam.objective import Objective

D64 = torch.float64


def _problems():
    return {
        "sensing": op.problems.matrix_sensing(d=6, r=2, m=40, data_seed=1),
        "sensing-1/8": op.problems.matrix_sensing(d=6, r=2, m=40, data_seed=1, ensemble="triu", normalization="1/8"),
        "asym-sensing": op.problems.asymmetric_sensing(d1=5, d2=4, r=2, m=30, data_seed=2),
        "factorization": op.problems.matrix_factorization(d1=6, d2=5, r=2, noise=0.01, data_seed=3),
        "completion": op.problems.matrix_completion(d1=7, d2=6, r=2, p=0.5, data_seed=4),
        "sym-completion": op.problems.matrix_completion(d1=6, d2=6, r=2, p=0.5, symmetric=True, data_seed=4),
        "quadratic-net": op.problems.quadratic_network(d=5, r=2, m=40, data_seed=5),
        "one-bit": op.problems.one_bit_completion(d1=5, d2=4, r=2, data_seed=6),
        "one-bit-sampled": op.problems.one_bit_completion(d1=6, d2=5, r=2, p=0.6, data_seed=6),
        "sparse": op.problems.sparse_regression(n=15, d=8, k=3, data_seed=7),
    }


PROBLEMS = _problems()

CASES = [
    ("sensing", op.params.Symmetric(k=4)),
    ("sensing", op.params.Difference(k=3)),
    ("sensing", op.params.Direct()),
    ("sensing", op.params.DeepProduct(depth=3, width=4)),
    ("sensing-1/8", op.params.Symmetric()),
    ("asym-sensing", op.params.Asymmetric(k=3)),
    ("asym-sensing", op.params.DeepProduct(depth=2)),
    ("factorization", op.params.Asymmetric()),
    ("factorization", op.params.DeepProduct(depth=4, width=3)),
    ("completion", op.params.Asymmetric(k=3)),
    ("completion", op.params.DeepProduct(depth=3, width=3)),
    ("sym-completion", op.params.Symmetric(k=3)),
    ("sym-completion", op.params.Difference(k=2)),
    ("quadratic-net", op.params.Symmetric(k=3)),
    ("quadratic-net", op.params.Difference(k=2)),
    ("one-bit", op.params.Asymmetric(k=2)),
    ("one-bit-sampled", op.params.Asymmetric(k=2)),
    ("sparse", op.params.Hadamard("uu-vv")),
    ("sparse", op.params.Hadamard("uv")),
    ("sparse", op.params.Direct()),
]


@pytest.mark.parametrize("pname,param", CASES, ids=[f"{p}-{q.describe()}" for p, q in CASES])
def test_gradient_matches_finite_differences(pname, param):
    prob = PROBLEMS[pname]
    obj = Objective(prob, param)
    R = 2
    g = torch.Generator().manual_seed(0)
    theta = tuple(0.5 * torch.randn((R, *s), generator=g, dtype=D64) for s in param.shapes(prob.shape))
    ev = obj.evaluate(theta)
    direction = tuple(torch.randn(t.shape, generator=g, dtype=D64) for t in theta)
    h = 1e-6
    plus = obj.evaluate(tuple(t + h * v for t, v in zip(theta, direction)), grad=False).loss
    minus = obj.evaluate(tuple(t - h * v for t, v in zip(theta, direction)), grad=False).loss
    fd = (plus - minus) / (2 * h)
    analytic = sum((gr * v).flatten(1).sum(-1) for gr, v in zip(ev.grad, direction))
    assert torch.allclose(fd, analytic, rtol=1e-6, atol=1e-8), (fd, analytic)


@pytest.mark.parametrize("pname", ["sensing", "completion", "quadratic-net", "factorization"])
def test_minibatch_gradient_is_unbiased_rescaling(pname):
    """With every row in the batch, the mini-batch objective is the full objective."""
    prob = PROBLEMS[pname]
    param = op.params.Symmetric(k=3) if prob.operator.symmetric_domain or pname == "quadratic-net" else op.params.Asymmetric(k=3)
    if pname == "sensing":
        param = op.params.Symmetric(k=3)
    obj = Objective(prob, param)
    g = torch.Generator().manual_seed(1)
    theta = tuple(torch.randn((1, *s), generator=g, dtype=D64) for s in param.shapes(prob.shape))
    full = obj.evaluate(theta)
    rows = torch.arange(prob.m).unsqueeze(0)
    batch = obj.evaluate(theta, rows=rows)
    assert torch.allclose(full.loss, batch.loss, rtol=1e-12)
    for a, b in zip(full.grad, batch.grad):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
