"""Every operator, parameterization and GD/SGD on ``device="cuda"`` agrees with the CPU.

Skipped cleanly without a GPU. The checks are written against a ``device`` argument; the CUDA tests
call them with ``"cuda"`` and compare with the same computation on the CPU.
"""

import pytest
import torch

import overparam as op
from overparam.operators import (
    EntrySampling,
    GaussianDesign,
    GaussianSensing,
    IdentityOperator,
    MatrixFreeGaussianSensing,
    RankOneSensing,
)

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

D64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}


def _g(seed):
    return torch.Generator().manual_seed(seed)


def _operators():
    return [
        ("gauss-packed", GaussianSensing.sample(60, (6, 6), seed=1, packed=True)),
        ("gauss-general", GaussianSensing.sample(60, (5, 7), seed=2, packed=False, ensemble="raw")),
        ("matrix-free", MatrixFreeGaussianSensing(60, (6, 6), seed=1, packed=True, block_rows=16)),
        ("rank-one", RankOneSensing.sample(50, 6, seed=4)),
        ("entries", EntrySampling.sample((9, 7), seed=5, p=0.4)),
        ("entries-sym", EntrySampling.sample((8, 8), seed=6, p=0.5, symmetric=True)),
        ("identity", IdentityOperator((5, 4))),
        ("identity-sym", IdentityOperator((5, 5), symmetric=True)),
        ("design", GaussianDesign.sample(12, 9, seed=7)),
    ]


OPS = _operators()
IDS = [n for n, _ in OPS]


def _input(op_, R, seed):
    X = torch.randn((R, *op_.in_shape), generator=_g(seed), dtype=D64)
    return 0.5 * (X + X.mT) if op_.symmetric_domain else X


def _close(a, b):
    assert a.device.type == "cuda", a.device
    assert torch.allclose(a.cpu(), b, **TOL), float((a.cpu() - b).abs().max())


@pytest.mark.parametrize("name,op_", OPS, ids=IDS)
def test_operator_products_on_cuda_equal_cpu(name, op_):
    gpu = op_.to("cuda")
    assert gpu.device.type == "cuda"
    R = 3
    X = _input(op_, R, 1)
    w = torch.randn(R, op_.m, generator=_g(2), dtype=D64)
    y = torch.randn(op_.m, generator=_g(3), dtype=D64)
    _close(gpu.forward(X.cuda()), op_.forward(X))
    _close(gpu.adjoint(w.cuda()), op_.adjoint(w))
    z, G, rsq = gpu.forward_adjoint(X.cuda(), y.cuda(), 0.7)
    z0, G0, rsq0 = op_.forward_adjoint(X, y, 0.7)
    _close(z, z0)
    _close(G.dense(), G0.dense())
    _close(rsq, rsq0)
    idx = torch.randint(0, op_.m, (R, 4), generator=_g(4))
    _close(gpu.select(idx.cuda()).forward(X.cuda()), op_.select(idx).forward(X))
    if len(op_.in_shape) == 2:
        d1, d2 = op_.in_shape
        L = torch.randn(R, d1, 3, generator=_g(5), dtype=D64)
        Rf = L if op_.symmetric_domain else torch.randn(R, d2, 3, generator=_g(6), dtype=D64)
        _close(gpu.forward_factored(L.cuda(), Rf.cuda()), op_.forward_factored(L, Rf))
        Lg, Rg = L.cuda(), (L.cuda() if Rf is L else Rf.cuda())
        zf, Gf, _ = gpu.forward_factored_adjoint(Lg, Rg, y.cuda(), 0.7)
        zf0, Gf0, _ = op_.forward_factored_adjoint(L, Rf, y, 0.7)
        _close(zf, zf0)
        _close(Gf.mm(Rg), Gf0.mm(Rf))
        _close(Gf.tmm(Lg), Gf0.tmm(L))
        Gg, Gc = gpu.gradient(w.cuda()), op_.gradient(w)
        B = torch.randn(R, d2, 3, generator=_g(7), dtype=D64)
        Bt = torch.randn(R, d1, 3, generator=_g(8), dtype=D64)
        _close(Gg.mm(B.cuda()), Gc.mm(B))
        _close(Gg.tmm(Bt.cuda()), Gc.tmm(Bt))


def _problems():
    return [
        ("sensing", op.problems.matrix_sensing(d=6, r=2, m=80, data_seed=1), op.params.Symmetric()),
        ("sensing-free", op.problems.matrix_sensing(d=6, r=2, m=80, data_seed=1, operator="matrix_free"),
         op.params.Symmetric()),
        ("asym-sensing", op.problems.asymmetric_sensing(d1=5, d2=6, r=2, m=80, data_seed=1), op.params.Asymmetric()),
        ("completion", op.problems.matrix_completion(d1=12, d2=10, r=2, p=0.5, data_seed=1), op.params.Asymmetric(k=4)),
        ("factorization", op.problems.matrix_factorization(d1=8, d2=6, r=2, data_seed=1), op.params.Asymmetric()),
        ("difference", op.problems.matrix_sensing(d=6, r=2, m=80, data_seed=1), op.params.Difference()),
        ("deep", op.problems.matrix_factorization(d1=5, d2=5, r=2, data_seed=1), op.params.DeepProduct(depth=3)),
        ("direct", op.problems.matrix_sensing(d=5, r=2, m=60, data_seed=1), op.params.Direct()),
        ("quadratic-net", op.problems.quadratic_network(d=6, r=2, m=120, data_seed=1), op.params.Symmetric()),
        ("hadamard", op.problems.sparse_regression(n=40, d=20, k=3, data_seed=1), op.params.Hadamard()),
    ]


PROBLEMS = _problems()
PIDS = [n for n, *_ in PROBLEMS]


@pytest.mark.parametrize("name,prob,param", PROBLEMS, ids=PIDS)
@pytest.mark.parametrize("algo", ["gd", "sgd"])
def test_runs_on_cuda_equal_cpu(name, prob, param, algo):
    """The same run (two replicas) on both devices; SGD batches are drawn on the CPU either way."""
    alg = op.algorithms.gd(eta=0.01) if algo == "gd" else op.algorithms.sgd(eta=0.01, batch_size=4)
    kw = {"init": op.init.gaussian(scale=[0.1, 0.2]), "steps": 20, "init_seed": [0, 1], "algo_seed": [2, 3]}
    cpu = op.run(prob, param, alg, **kw)
    gpu = op.run(prob, param, alg, device="cuda", **kw)
    assert gpu.info["device"].startswith("cuda")
    assert gpu.status == cpu.status
    for a, b in zip(gpu.theta, cpu.theta, strict=True):
        assert torch.allclose(a.cpu(), b, rtol=1e-9, atol=1e-12)
    for metric in ("loss", "train_error"):
        assert abs(gpu.final(metric) - cpu.final(metric)).max() <= 1e-9 * (1 + abs(cpu.final(metric)).max())


def test_float32_sensing_on_cuda_matches_cpu():
    prob = op.problems.matrix_sensing(d=8, r=2, m=120, data_seed=2)
    kw = {"init": op.init.scaled_identity(alpha=[1e-2, 1e-1]), "steps": 30, "dtype": "float32"}
    alg = op.algorithms.gd(eta=0.01, grad_scale=0.5)
    cpu = op.run(prob, op.params.Symmetric(), alg, **kw)
    gpu = op.run(prob, op.params.Symmetric(), alg, device="cuda", **kw)
    assert gpu.theta[0].dtype == torch.float32
    assert torch.allclose(gpu.theta[0].cpu(), cpu.theta[0], rtol=1e-4, atol=1e-6)


def test_problem_factories_place_everything_on_cuda():
    prob = op.problems.matrix_completion(d1=10, d2=10, r=2, p=0.5, data_seed=3, device="cuda")
    assert prob.y.device.type == "cuda" and prob.operator.device.type == "cuda"
    assert all(t.device.type == "cuda" for t in prob.truth_factors)
    theta = op.init.gaussian(scale=0.1)(op.params.Asymmetric(k=3), prob.shape, seeds=[0],
                                        device=torch.device("cuda"), dtype=D64)
    ev = op.Objective(prob, op.params.Asymmetric(k=3)).evaluate(theta)
    assert ev.loss.device.type == "cuda" and all(g.device.type == "cuda" for g in ev.grad)
