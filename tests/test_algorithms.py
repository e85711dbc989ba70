"""GD and SGD on tiny problems whose answer is known."""

import math

import numpy as np
import torch

import overparam as op
from overparam.losses import SquaredLoss
from overparam.operators import IdentityOperator
from overparam.problems import Problem

D64 = torch.float64


def test_gd_matches_the_closed_form_of_jiang2023_toy():
    """002 §3: F ← F − η(FFᵀ − X)F from F₀ = ρ√λ₁ I on X = diag(λ) decouples into
    f_{i,t+1} = f_{i,t}(1 + ηλ_i − η f_{i,t}²), and σ_i(FFᵀ) = f_i²."""
    lam = torch.tensor([1.0, 0.08], dtype=D64)
    X = torch.diag(lam)
    prob = Problem(IdentityOperator((2, 2), symmetric=True), X.reshape(-1), SquaredLoss(0.5), X_star=X, info={"r": 1})
    eta, rho, T = 0.3, 1e-3, 150
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta, grad_scale=0.5),
                 init=op.init.scaled_identity(alpha=rho * math.sqrt(lam[0])), steps=T,
                 metrics=["singular_values"], log=op.LogSchedule(points=0, every=1))
    f = np.full(2, rho * math.sqrt(lam[0]))
    expected = [np.sort(f**2)[::-1].copy()]
    for _ in range(T):
        f = f * (1 + eta * lam.numpy() - eta * f**2)
        expected.append(np.sort(f**2)[::-1].copy())
    steps, sv = res.trace.series("singular_values")
    assert np.array_equal(steps, np.arange(T + 1))
    np.testing.assert_allclose(np.stack(sv), np.stack(expected), rtol=1e-10, atol=1e-300)
    # sequential learning: the large eigenvalue is fitted first, the small one much later
    assert sv[60][0] > 0.9 * lam[0] and sv[60][1] < 1e-3


def test_full_width_factorization_converges_to_truth_plus_the_null_floor():
    """From U₀ = αI the r signal directions converge to X⋆ while the d − r null directions barely
    move (f ← f(1 − ηf²) stays ≈ α), so ‖UUᵀ − X⋆‖_F → √(d − r)·α² exactly to leading order."""
    d, r, alpha = 6, 2, 1e-3
    prob = op.problems.matrix_factorization(d1=d, d2=d, r=r, symmetric=True, truth="orthonormal", kappa=2.0)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(0.2), init=op.init.scaled_identity(alpha=alpha),
                 steps=1500, metrics=["test_error", "singular_values"])
    predicted = math.sqrt(d - r) * alpha**2 / float(prob.X_star.norm())
    assert abs(res.final("test_error")[0] / predicted - 1) < 1e-2
    sv = res.final("singular_values")[0]
    np.testing.assert_allclose(sv[:r], torch.linalg.svdvals(prob.X_star)[:r].numpy(), rtol=1e-9)
    f = alpha  # a null direction: f ← f − η·2f³ (gradient of ½‖UUᵀ − X‖² along it)
    for _ in range(1500):
        f = f - 0.2 * 2 * f**3
    np.testing.assert_allclose(sv[r:], f**2, rtol=1e-9)


def test_gd_recovers_sensing_truth_when_the_operator_is_injective():
    """m > d(d+1)/2: X⋆ is the unique solution; exact-rank GD converges to it linearly, and
    full-width GD from αI reaches it up to the null-direction floor of order α²."""
    prob = op.problems.matrix_sensing(d=5, r=1, m=80, data_seed=3)
    exact = op.run(prob, op.params.Symmetric(k=1), op.algorithms.gd(0.05), init=op.init.gaussian(scale=0.1),
                   steps=3000)
    assert exact.final("test_error")[0] < 1e-10
    assert exact.final("train_error")[0] < 1e-10
    full = op.run(prob, op.params.Symmetric(), op.algorithms.gd(0.05), init=op.init.scaled_identity(alpha=1e-4),
                  steps=3000)
    assert full.final("test_error")[0] < 1e-5


def test_hadamard_small_init_recovers_sparse_vector():
    """n < d: y = Xβ has many solutions; from u₀ = v₀ = α1 GD finds the sparse one (the tail of
    the approach is sublinear, so the check is at a fixed 1% after 4000 steps)."""
    prob = op.problems.sparse_regression(n=40, d=60, k=3, data_seed=1)
    res = op.run(prob, op.params.Hadamard("uu-vv"), op.algorithms.gd(0.1), init=op.init.constant(alpha=1e-6),
                 steps=4000)
    assert res.final("test_error")[0] < 1e-2
    ls = torch.linalg.lstsq(prob.operator.design, prob.y).solution  # the minimum-ℓ2 solution does not recover β⋆
    assert float((ls - prob.X_star).norm() / prob.X_star.norm()) > 0.3


def test_full_observation_completion_recovers_truth():
    prob = op.problems.matrix_completion(d1=8, d2=6, r=2, p=1.0)
    res = op.run(prob, op.params.Asymmetric(k=2), op.algorithms.gd(0.2), init=op.init.gaussian(scale=1e-2),
                 steps=2000)
    assert res.final("test_error")[0] < 1e-10


def test_quadratic_network_small_init_generalizes():
    """Rank-one measurements (not RIP): from αI the error settles at an α-dependent floor."""
    prob = op.problems.quadratic_network(d=5, r=1, m=400, data_seed=2)
    errs = []
    for alpha in (1e-2, 1e-4):
        res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(0.02), init=op.init.scaled_identity(alpha=alpha),
                     steps=3000)
        errs.append(res.final("test_error")[0])
    assert errs[1] < 1e-4 and errs[1] < errs[0] / 10


def test_sgd_with_full_batches_without_replacement_is_gd():
    prob = op.problems.matrix_sensing(d=5, r=1, m=30, data_seed=4)
    kw = dict(init=op.init.scaled_identity(alpha=0.1), steps=50, metrics=["loss", "test_error"])
    gd = op.run(prob, op.params.Symmetric(), op.algorithms.gd(0.01), **kw)
    sgd = op.run(prob, op.params.Symmetric(), op.algorithms.sgd(0.01, batch_size=30, replacement=False), **kw)
    torch.testing.assert_close(sgd.theta[0], gd.theta[0], rtol=1e-10, atol=1e-12)


def test_sgd_batch_one_converges_on_a_consistent_problem():
    prob = op.problems.matrix_sensing(d=4, r=1, m=60, data_seed=5)
    res = op.run(prob, op.params.Symmetric(k=1), op.algorithms.sgd(0.01, batch_size=1),
                 init=op.init.gaussian(scale=0.3), steps=20000, algo_seed=3)
    assert res.final("test_error")[0] < 1e-6


def test_sgd_replicas_use_their_own_streams():
    prob = op.problems.matrix_sensing(d=4, r=1, m=60, data_seed=5)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.sgd(0.01), init=op.init.scaled_identity(alpha=0.1),
                 steps=30, algo_seed=[1, 2, 1])
    assert not torch.equal(res.theta[0][0], res.theta[0][1])
    assert torch.equal(res.theta[0][0], res.theta[0][2])
