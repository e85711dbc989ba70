"""The iterative baselines on tiny well-posed instances: spectral init + known-rank GD, ScaledGD,
ScaledGD(λ) from small random init, mirror descent with early stopping, deep factorization."""

from __future__ import annotations

import pytest
import torch

import overparam as op
from overparam.backend import BackendError, threads
from overparam.baselines import spectral, spectral_estimate, spectral_matrix, truncated_svd
from overparam.baselines.compare import scaled_gd_versus_gd
from overparam.experiments import RunSpec
from overparam.experiments.execute import execute
from overparam.stops import metric_crossing

ORTHO = {"truth": "orthonormal", "kappa": 2.0, "data_seed": 0}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny problems: one thread (on a loaded 2-core machine, thread hand-offs dominate small products)."""
    with threads(1):
        yield


def sensing():
    return op.problems.matrix_sensing(d=20, r=2, m=200, **ORTHO)  # m < d(d+1)/2 = 210


def completion():
    return op.problems.matrix_completion(d1=30, d2=24, r=2, p=0.4, **ORTHO)


def rel(A: torch.Tensor, B: torch.Tensor) -> float:
    return float((A - B).norm() / B.norm())


# -- spectral initialization and the truncated SVD ------------------------------------------------------


def test_truncated_svd_is_the_best_rank_k_approximation():
    Y = torch.randn(9, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    S = torch.linalg.svdvals(Y)
    X2 = truncated_svd(Y, 2)
    assert torch.linalg.matrix_rank(X2) == 2
    assert float((Y - X2).norm()) == pytest.approx(float(S[2:].norm()), rel=1e-12)  # Eckart–Young


def test_back_projection_is_unbiased():
    # E[(1/m) Σ y_i A_i] = X⋆ for the "sym" ensemble: with m = 20 000 measurements of a 4 × 4 matrix the
    # average is within a few percent (a wrong ν, e.g. 2m or m/2, is off by 50–100 %).
    prob = op.problems.matrix_sensing(d=4, r=1, m=20_000, data_seed=1)
    assert rel(spectral_matrix(prob), prob.truth()) < 0.05
    scaled = op.problems.matrix_sensing(d=4, r=1, m=20_000, data_seed=1, sensing_scale=0.5)
    assert rel(spectral_matrix(scaled), scaled.truth()) < 0.05
    # completion with every entry observed: P_Ω(X⋆)/p = X⋆ exactly; factorization: Y = X_obs
    full = op.problems.matrix_completion(d1=6, d2=5, r=2, p=1.0, data_seed=0)
    assert rel(spectral_matrix(full), full.truth()) < 1e-14
    fact = op.problems.matrix_factorization(d1=6, d2=5, r=2, noise=0.1, data_seed=0)
    assert rel(spectral_matrix(fact), fact.references["X_obs"]) < 1e-14


def test_spectral_factors_are_the_top_k_part():
    fact = op.problems.matrix_factorization(d1=8, d2=6, r=2, noise=0.05, data_seed=0)
    F, G = spectral(fact, 3, symmetric=False)
    assert rel(F @ G.T, truncated_svd(fact.references["X_obs"], 3)) < 1e-12
    assert torch.allclose(F.T @ F, G.T @ G, atol=1e-12)  # balanced: F₀ᵀF₀ = G₀ᵀG₀ = Σ_k
    assert rel(spectral_estimate(fact), truncated_svd(fact.references["X_obs"], 2)) < 1e-12  # 002's baseline
    sym = op.problems.matrix_sensing(d=8, r=2, m=60, data_seed=0)
    (U,) = spectral(sym, 3, symmetric=True)
    Y = spectral_matrix(sym)
    lam, V = torch.linalg.eigh(0.5 * (Y + Y.T))
    top = (V[:, -3:] * lam[-3:].clamp(min=0)) @ V[:, -3:].T
    assert U.shape == (8, 3) and rel(U @ U.T, top) < 1e-12


def test_spectral_init_from_a_spec_gives_every_replica_the_same_start():
    spec = RunSpec.parse({"problem": {"name": "matrix_sensing", "d": 8, "r": 1, "m": 40},
                          "param": {"name": "symmetric", "k": 1}, "algorithm": {"name": "gd", "eta": 0.05},
                          "init": {"name": "spectral"}, "steps": 0, "metrics": ["test_error"],
                          "replicas": {"init_seed": [0, 1]}})
    res = execute(spec)
    prob = op.problems.matrix_sensing(d=8, r=1, m=40)
    (U,) = spectral(prob, 1, symmetric=True)
    for r in range(2):
        assert torch.allclose(res.theta_of(r)["U"], U)


@pytest.mark.parametrize("param, problem, match", [
    (op.params.DeepProduct(depth=3), lambda: op.problems.matrix_sensing(d=6, r=1, m=20), "applies to params"),
    (op.params.Symmetric(k=1), lambda: op.problems.quadratic_network(d=6, r=1, m=20), "rank-one"),
])
def test_spectral_init_bad_use_is_a_clear_error(param, problem, match):
    with pytest.raises(BackendError, match=match):
        op.run(problem(), param, op.algorithms.gd(eta=0.01), init=op.init.spectral(), steps=1)


def test_an_init_that_reads_the_problem_refuses_to_run_without_it():
    with pytest.raises(BackendError, match="reads the problem"):
        op.init.spectral()(op.params.Symmetric(k=1), (4, 4), seeds=[0], device=torch.device("cpu"),
                           dtype=torch.float64)


# -- known rank from the spectral init: GD and ScaledGD ---------------------------------------------------


def _to_tolerance(prob, param, alg, init, steps, tol=1e-6):
    res = op.run(prob, param, alg, init=init, steps=steps, metrics=["test_error"],
                 stops=[metric_crossing("test_error", below=tol)])
    return res.stop_step[0], float(res.final("test_error")[0])


@pytest.mark.parametrize("make, param, gd_eta, grad_scale", [
    (sensing, op.params.Symmetric(k=2), 0.15, 0.5),       # 1/(2m) loss: exact ∇_U = 2M U, ScaledGD on M U
    (completion, op.params.Asymmetric(k=2), 0.3, 1.0),
])
def test_known_rank_gd_and_scaled_gd_from_spectral_init(make, param, gd_eta, grad_scale):
    prob = make()
    n_gd, err_gd = _to_tolerance(prob, param, op.algorithms.gd(eta=gd_eta), op.init.spectral(), 3000)
    n_sgd, err_sgd = _to_tolerance(prob, param, op.algorithms.scaled_gd(eta=0.5, grad_scale=grad_scale),
                                   op.init.spectral(), 3000)
    assert err_gd <= 1e-6 and err_sgd <= 1e-6
    assert n_sgd < n_gd  # preconditioning removes the κ = 2 (σ₁/σ_r of X⋆) slow-down of the smallest direction


def test_factorization_gd_and_scaled_gd_reach_the_truncated_svd():
    # Noisy factorization: the global minimizer of ½‖FGᵀ − X_obs‖² with k = r is SVD_r(X_obs) (002's baseline);
    # the spectral init is that point, and GD / ScaledGD from a random init converge to it.
    prob = op.problems.matrix_factorization(d1=12, d2=10, r=2, noise=0.01, **ORTHO)
    target = truncated_svd(prob.references["X_obs"], 2)
    param = op.params.Asymmetric(k=2)
    start = op.run(prob, param, op.algorithms.gd(eta=0.3), init=op.init.spectral(), steps=0)
    assert rel(param.to_matrix(tuple(t for t in start.theta)).squeeze(0), target) < 1e-12
    for alg, steps in ((op.algorithms.gd(eta=0.3), 400), (op.algorithms.scaled_gd(eta=0.5), 60)):
        res = op.run(prob, param, alg, init=op.init.gaussian(scale=0.3), init_seed=1, steps=steps)
        X = param.to_matrix(tuple(res.theta)).squeeze(0)
        assert rel(X, target) < 1e-6, alg.describe()


# -- over-parameterized ScaledGD(λ) from small random init ------------------------------------------------


def test_scaled_gd_lambda_from_small_random_init_is_kappa_free():
    # Xu et al. 2023: k > r, X₀ = αG (α tiny), λ ∝ σ_min(X⋆) (here λ = σ_r). Iterations to 1e-6 barely move
    # with κ, those of over-parameterized GD from the same init grow with κ (σ_r = 1/κ: a slower direction).
    rows = scaled_gd_versus_gd(kappas=(1.0, 10.0), steps=5000)
    for row in rows:
        assert row["scaled_gd"] is not None and row["gd"] is not None, row
        assert row["scaled_gd_error"] <= 1e-6 and row["gd_error"] <= 1e-6
    one, ten = rows
    assert ten["gd"] > 3 * one["gd"] and ten["scaled_gd"] < 1.5 * one["scaled_gd"] and ten["scaled_gd"] < ten["gd"]


# -- mirror descent (Wu & Rebeschini 2021) ------------------------------------------------------------------


def test_mirror_descent_entropy_on_psd_and_hypentropy_on_indefinite():
    prob = op.problems.matrix_sensing(d=12, r=2, m=60, truth="orthonormal", data_seed=0)  # m < 78
    res = op.run(prob, op.params.Direct(), op.algorithms.mirror_descent(eta=0.5),
                 init=op.init.scaled_identity(alpha=[1e-2, 1e-6]), steps=1500, metrics=["test_error"])
    err = res.final("test_error")
    assert err[1] < 1e-2 and err[1] < err[0] / 2  # small X₀ = αI: close to X⋆ (the minimum-trace solution)
    L = prob.truth_factors[0]
    X_ind = L[:, :1] @ L[:, :1].T - L[:, 1:] @ L[:, 1:].T           # eigenvalues +1, −1
    A = prob.operator.dense_matrix().reshape(60, 12, 12)
    ind = op.problems.from_arrays(A=A, y=prob.operator.forward(X_ind), X_star=X_ind, r=2)
    res = op.run(ind, op.params.Direct(), op.algorithms.mirror_descent(eta=0.5, mirror="hypentropy", beta=1e-6),
                 init=op.init.zero(), steps=3000, metrics=["test_error"])
    assert res.final("test_error")[0] < 0.02  # 0.011 measured; slower than the entropy from αI (sublinear)


def test_mirror_descent_with_early_stopping_on_noisy_measurements():
    spec = RunSpec.parse({"problem": {"name": "matrix_sensing", "d": 10, "r": 1, "m": 50, "noise": 0.3},
                          "param": "direct", "algorithm": {"name": "mirror_descent", "eta": 0.2},
                          "init": {"name": "scaled_identity", "alpha": 1e-6}, "steps": 1500,
                          "metrics": ["test_error"], "recipe": {"name": "early_stopping"}})
    res = execute(spec)
    (ev,) = [e for e in res.events if e["kind"] == "early_stop"]
    frame = res.trace.to_frame()
    last = frame[frame.step == frame.step.max()].test_error.iloc[0]
    assert ev["chosen_step"] < 1500 and ev["value"] < 0.8 * last  # stopping early beats fitting the noise


# -- deep matrix factorization (Arora, Cohen, Hu, Luo 2019) ----------------------------------------------


@pytest.mark.parametrize("prob, eta, tol", [
    (lambda: op.problems.asymmetric_sensing(d1=16, d2=12, r=2, m=150, data_seed=0), 0.2, 0.01),
    (lambda: op.problems.matrix_completion(d1=20, d2=16, r=2, p=0.5, truth="orthonormal", data_seed=0), 0.3, 0.01),
])
def test_deep_factorization_from_balanced_small_init(prob, eta, tol):
    # N = 3, X = W₃W₂W₁ from the balanced init with ‖X₀‖_F = 10⁻³, non-square X (Arora et al. use general
    # Gaussian sensing: with the symmetric operator of matrix_sensing the skew part of W₃W₂W₁ is unobserved
    # and decays only slowly — relative error still ≈ 0.06 after 3000 steps at d = 16).
    res = op.run(prob(), op.params.DeepProduct(depth=3), op.algorithms.gd(eta=eta), init=op.init.balanced(scale=1e-3),
                 steps=3000, metrics=["test_error", "effective_rank"])
    frame = res.trace.to_frame()
    assert frame.effective_rank.iloc[0] > 8                       # Gaussian end-to-end X₀: a flat spectrum
    assert abs(frame.effective_rank.iloc[-1] - 2.0) < 0.1         # X⋆: two equal singular values
    assert frame.test_error.iloc[-1] < tol
