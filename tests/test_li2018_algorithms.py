"""000 (Li, Ma, Zhang 2018): the paper's algorithms and proof diagnostics on tiny problems with known answers.

Projected GD on the PSD cone, Algorithm 1 (truncated, rescaled GD for the quadratic network), the
adaptive-subspace tracker S_t, GD in the paper's Eq.-5 convention, Lemma A.1, the RIP estimate and
the theory formulas.
"""

import math

import numpy as np
import pytest
import torch

import overparam as op
from overparam.algorithms.projected import psd_projection
from overparam.algorithms.quadratic_net import truncated_loss, truncated_M
from overparam.backend import threads
from overparam.objective import Objective
from overparam.papers.li2018 import diagnostics, theory

D64 = torch.float64


def _dense_M(prob, X):
    """M = (1/m) Σ_i (⟨A_i, X⟩ − y_i) A_i from the operator's dense matrix (independent path)."""
    A = prob.operator.dense_matrix()  # (m, d²): rows vec(A_i)
    d = prob.shape[0]
    res = A @ X.reshape(-1) - prob.y
    return (res @ A).reshape(d, d) / prob.m


# -- PSD projection and projected GD -------------------------------------------------------------------


def test_psd_projection_known_answer_and_skew_part_dropped():
    Y = torch.tensor([[3.0, 1.0], [-1.0, -2.0]], dtype=D64)  # sym(Y) = diag(3, -2)
    np.testing.assert_allclose(psd_projection(Y).numpy(), np.diag([3.0, 0.0]), atol=1e-14)
    P = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=D64)  # already PSD: unchanged
    np.testing.assert_allclose(psd_projection(P).numpy(), P.numpy(), atol=1e-14)


def test_psd_projection_is_the_nearest_psd_matrix():
    """Π(Y) is PSD and satisfies the projection's variational inequality ⟨Y − Π(Y), S − Π(Y)⟩ ≤ 0 for
    every PSD S, i.e. it is the Frobenius-nearest PSD matrix (batched over a leading axis)."""
    g = torch.Generator().manual_seed(0)
    Y = torch.randn(5, 7, 7, generator=g, dtype=D64)
    P = psd_projection(Y)
    assert torch.allclose(P, P.mT)
    assert float(torch.linalg.eigvalsh(P).min()) > -1e-12
    for _ in range(20):
        B = torch.randn(5, 7, 3, generator=g, dtype=D64)
        S = B @ B.mT
        inner = ((0.5 * (Y + Y.mT) - P) * (S - P)).sum((-2, -1))
        assert float(inner.max()) <= 1e-10
        assert bool(((Y - P).norm(dim=(-2, -1)) <= (Y - S).norm(dim=(-2, -1)) + 1e-12).all())


def test_projected_gd_one_step_matches_the_formula():
    """X₁ = Π_PSD(X₀ − η ∇f(X₀)) with f(X) = (1/m) Σ(⟨A_i, X⟩ − y_i)², ∇f = (2/m) Σ r_i A_i."""
    prob = op.problems.matrix_sensing(d=5, r=1, m=12, normalization="1/m", data_seed=2)
    X0 = 0.3 * torch.eye(5, dtype=D64)
    eta = 0.05
    res = op.run(prob, op.params.Direct(), op.algorithms.projected_gd(eta), theta0=(X0[None],), steps=1,
                 metrics=["train_error"])
    expected = psd_projection(X0 - eta * 2.0 * _dense_M(prob, X0))
    np.testing.assert_allclose(res.theta[0][0].numpy(), expected.numpy(), atol=1e-13)


def test_projected_gd_without_projection_is_plain_gd_on_X():
    prob = op.problems.matrix_sensing(d=6, r=2, m=15, normalization="1/m", data_seed=3)
    kw = dict(init=op.init.zero(), steps=50, metrics=["test_error"])
    a = op.run(prob, op.params.Direct(), op.algorithms.projected_gd(0.01, projection="none"), **kw)
    b = op.run(prob, op.params.Direct(), op.algorithms.gd(0.01), **kw)
    assert torch.equal(a.theta[0], b.theta[0])


def test_projected_gd_recovers_psd_truth_when_measurements_determine_it():
    """m > d(d+1)/2: X⋆ is the only solution; PGD from X₀ = 0 converges to it, stays PSD, and the
    run stops on the train-error target (000 Fig. 4's stopping rule)."""
    prob = op.problems.matrix_sensing(d=5, r=2, m=60, normalization="1/m", data_seed=4)
    res = op.run(prob, op.params.Direct(), op.algorithms.projected_gd(0.02), init=op.init.zero(), steps=5000,
                 metrics=["train_error", "test_error"], target_train_error=1e-8)
    assert res.status == ["converged"]
    assert res.final("test_error")[0] < 1e-6
    assert float(torch.linalg.eigvalsh(res.theta[0][0]).min()) >= -1e-12


def test_projected_gd_rejects_a_factored_parameterization():
    prob = op.problems.matrix_sensing(d=4, r=1, m=10)
    with pytest.raises(ValueError, match="param must be 'direct'"):
        op.run(prob, op.params.Symmetric(), op.algorithms.projected_gd(0.01), init=op.init.zero(), steps=1)


# -- GD in 000's conventions ----------------------------------------------------------------------------


def test_eq5_convention_is_U_minus_eta_M_U_and_exact_convention_is_twice_that():
    """On the 1/(2m) loss (Eq. 1), grad_scale = ½ gives Eq. 5, U₁ = (I − ηM₀)U₀, and grad_scale = 1
    the exact gradient step U₁ = U₀ − 2ηM₀U₀, with M₀ = (1/m) Σ ⟨A_i, U₀U₀ᵀ − X⋆⟩ A_i."""
    prob = op.problems.matrix_sensing(d=6, r=2, m=20, data_seed=5)
    g = torch.Generator().manual_seed(1)
    U0 = torch.randn(6, 4, generator=g, dtype=D64)  # width k = 4 between r and d
    M0 = _dense_M(prob, U0 @ U0.T)
    eta = 0.01
    for s, factor in ((0.5, 1.0), (1.0, 2.0)):
        res = op.run(prob, op.params.Symmetric(k=4), op.algorithms.gd(eta, grad_scale=s), theta0=(U0[None],),
                     steps=1, metrics=["loss"])
        np.testing.assert_allclose(res.theta[0][0].numpy(), (U0 - factor * eta * M0 @ U0).numpy(), atol=1e-12)


def test_small_orthogonal_init_of_any_width_recovers_the_truth():
    """U₀ = αB with B a random orthogonal matrix (Thm 1.1 allows any orthonormal B), widths k = r … d:
    GD from a small init recovers X⋆ on an injective instance to the α-level floor."""
    prob = op.problems.matrix_sensing(d=6, r=2, m=60, data_seed=6, truth="orthonormal", kappa=2.0)
    for k in (2, 4, 6):
        res = op.run(prob, op.params.Symmetric(k=k), op.algorithms.gd(0.05, grad_scale=0.5),
                     init=op.init.scaled_identity(alpha=1e-4, basis="orthogonal"), steps=4000,
                     metrics=["test_error"])
        assert res.final("test_error")[0] < 1e-4, k


# -- Algorithm 1 (quadratic network) ---------------------------------------------------------------------


def _qn(d=6, r=2, m=80, seed=7):
    return op.problems.quadratic_network(d=d, r=r, m=m, data_seed=seed, truth_seed=0)


def test_truncated_loss_gradient_matches_finite_differences():
    """With the mask 1{ŷ_i ≤ R} locally constant, ∇f̃(U) = 4 M_t U for f̃ = (1/m) Σ(ŷ_i − y_i)² 1{ŷ_i ≤ R}
    (the literal gradient is grad_scale s = 4 in Algorithm 1's convention)."""
    prob = _qn()
    obj = Objective(prob, op.params.Symmetric())
    g = torch.Generator().manual_seed(2)
    U = 0.5 * torch.randn(1, 6, 6, generator=g, dtype=D64)
    z = obj.measure((U,))[0]
    R = float(torch.quantile(z, 0.7))  # truncates ~30% of the samples
    gap = float((z - R).abs().min())
    _, M, mask, _ = truncated_M(U, obj, R)
    assert 0 < int((~mask).sum()) < prob.m
    grad = 4.0 * M.mm(U)
    V = torch.randn(1, 6, 6, generator=g, dtype=D64)
    h = 1e-6
    assert gap > 1e-3  # the mask cannot flip within ±h·V
    fd = (truncated_loss(U + h * V, obj, R) - truncated_loss(U - h * V, obj, R)) / (2 * h)
    np.testing.assert_allclose(float(fd[0]), float((grad * V).sum()), rtol=1e-7)


def test_algorithm1_step_is_bias_corrected_sensing_gd_eq25():
    """Eq. 25: Ũ/(1 − ηs c_t) = (I − ηs/(1 − ηs c_t) · (M_t − c_t I)) U_t, c_t = ‖U_t‖_F² − τ."""
    prob = _qn()
    g = torch.Generator().manual_seed(3)
    U0 = 0.3 * torch.randn(6, 6, generator=g, dtype=D64)
    eta, s, tau = 0.01, 2.0, 1.7
    alg = op.algorithms.truncated_rescaled_gd(eta, grad_scale=s, tau=tau, R=1e9)
    res = op.run(prob, op.params.Symmetric(), alg, theta0=(U0[None],), steps=1, metrics=["loss"])
    M = torch.zeros(6, 6, dtype=D64)
    x = prob.operator.x
    for i in range(prob.m):  # the paper's sum, one rank-one term at a time
        xi = x[i]
        M += (float(xi @ U0 @ U0.T @ xi) - float(prob.y[i])) * torch.outer(xi, xi) / prob.m
    c = float((U0 * U0).sum()) - tau
    expected = (torch.eye(6, dtype=D64) - eta * s / (1 - eta * s * c) * (M - c * torch.eye(6, dtype=D64))) @ U0
    np.testing.assert_allclose(res.theta[0][0].numpy(), expected.numpy(), atol=1e-12)


def test_algorithm1_depends_on_eta_and_scale_only_through_their_product():
    """One consistent scale: (η, s) and (η s / s', s') give identical iterates (s = 1 paper, s = 4 literal)."""
    prob = _qn()
    kw = dict(init=op.init.scaled_identity(alpha=1e-2), steps=200, metrics=["test_error"])
    a = op.run(prob, op.params.Symmetric(), op.algorithms.truncated_rescaled_gd(0.01, grad_scale=1.0, tau=2.0), **kw)
    b = op.run(prob, op.params.Symmetric(), op.algorithms.truncated_rescaled_gd(0.0025, grad_scale=4.0, tau=2.0), **kw)
    torch.testing.assert_close(a.theta[0], b.theta[0], rtol=1e-12, atol=1e-14)


def test_algorithm1_full_truncation_is_pure_rescaling():
    """With R below every ŷ_i all samples are dropped: M_t = 0 and U_{t+1} = U_t / (1 − ηs(‖U_t‖_F² − τ))."""
    prob = _qn()
    U0 = 0.5 * torch.eye(6, dtype=D64)
    eta, tau = 0.05, 2.0
    res = op.run(prob, op.params.Symmetric(), op.algorithms.truncated_rescaled_gd(eta, tau=tau, R=1e-9),
                 theta0=(U0[None],), steps=3, metrics=["truncated_fraction", "trace_gap"],
                 log=op.LogSchedule(points=0, every=1))
    U = U0.clone()
    for _ in range(3):
        U = U / (1 - eta * (float((U * U).sum()) - tau))
    np.testing.assert_allclose(res.theta[0][0].numpy(), U.numpy(), rtol=1e-13)
    _, frac = res.trace.series("truncated_fraction")
    assert np.allclose(frac, 1.0)  # at every step, including the final point T (a metric of θ_T)
    _, gap = res.trace.series("trace_gap")
    assert gap[0] == pytest.approx(6 * 0.25 - tau)


def test_algorithm1_resolves_tau_and_R():
    prob = _qn(d=10)
    trunc = op.algorithms.TruncatedGradient
    alg = op.algorithms.truncated_rescaled_gd(0.01)
    tau, R = alg.piece(trunc).resolve(prob)
    assert tau == pytest.approx(float(prob.y.mean()))
    assert R == pytest.approx(2.0 * tau * math.log(10))
    assert op.algorithms.truncated_rescaled_gd(0.01, tau=3.0, R=7.0).piece(trunc).resolve(prob) == (3.0, 7.0)


def test_algorithm1_guards_a_nonpositive_denominator():
    """U₀ = I in d = 30 with τ = 2: 1 − η(‖U₀‖_F² − τ) = 1 − 0.05·28 < 0 → a clear error naming eta."""
    prob = op.problems.quadratic_network(d=30, r=2, m=50, data_seed=1)
    alg = op.algorithms.truncated_rescaled_gd(0.05, tau=2.0)
    with pytest.raises(ValueError, match=r"algorithm\.eta: .*denominator.*accepted: eta < .* = 0\.0357"):
        op.run(prob, op.params.Symmetric(), alg, init=op.init.scaled_identity(alpha=1.0), steps=5)


def test_algorithm1_recovers_the_teacher_from_a_small_init():
    """Many samples (m = 100 d r), known τ = ‖U⋆‖_F² = r (unit-norm columns): Algorithm 1 from
    U₀ = 10⁻³ I recovers U⋆U⋆ᵀ; the exact population risk 2‖Δ‖_F² + (tr Δ)² goes to ~0."""
    prob = op.problems.quadratic_network(d=8, r=2, m=1600, data_seed=2, truth_seed=1)
    with threads(1):  # small rank-one products: one BLAS thread avoids thread wake-up costs on a busy machine
        res = op.run(prob, op.params.Symmetric(), op.algorithms.truncated_rescaled_gd(0.01, tau=2.0),
                     init=op.init.scaled_identity(alpha=1e-3), steps=3000,
                     metrics=["test_error", "nn_population_error_rel", "truncated_fraction"])
    assert res.final("test_error")[0] < 1e-3
    assert res.final("nn_population_error_rel")[0] < 1e-5


# -- the adaptive subspace S_t ---------------------------------------------------------------------------


SUB_METRICS = ["subspace_E_norm", "subspace_sin", "subspace_sigma_min", "subspace_Z_norm", "M_norm", "test_error"]


def test_subspace_tracker_does_not_change_the_iterates():
    prob = op.problems.matrix_sensing(d=8, r=2, m=30, data_seed=1)
    kw = dict(init=op.init.scaled_identity(alpha=[1e-3, 1e-1]), steps=100, metrics=["test_error"])
    a = op.run(prob, op.params.Symmetric(), op.algorithms.gd(0.01, grad_scale=0.5), **kw)
    b = op.run(prob, op.params.Symmetric(), op.algorithms.gd_subspace(0.01, grad_scale=0.5), **kw)
    assert torch.equal(a.theta[0], b.theta[0])


def test_subspace_tracker_survives_replicas_stopping():
    """A replica that reaches the train-error target leaves the batch; the tracked bases follow it."""
    prob = op.problems.matrix_sensing(d=5, r=1, m=40, data_seed=2)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd_subspace([0.05, 0.005], grad_scale=0.5),
                 init=op.init.scaled_identity(alpha=1e-2), steps=1500, target_train_error=1e-3,
                 metrics=["train_error", "subspace_sin"], log=op.LogSchedule(points=0, every=50))
    assert res.status[0] == "converged" and res.status[1] == "completed"
    steps, sin = res.trace.series("subspace_sin", replica=1)
    assert steps[-1] == 1500 and np.isfinite(sin[:-1]).all()


def test_subspace_base_case_prop_d1():
    """Prop. D.1: from U₀ = αI, ‖E₀‖ = α = σ_min(U⋆ᵀZ₀) = ‖Z₀‖ and sin(Z₀, U⋆) = 0."""
    alpha = 1e-2
    prob = op.problems.matrix_sensing(d=8, r=2, m=30, data_seed=1)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd_subspace(0.01, grad_scale=0.5),
                 init=op.init.scaled_identity(alpha=alpha), steps=5, metrics=SUB_METRICS,
                 log=op.LogSchedule(points=0, every=1))
    row = res.trace.to_frame().iloc[0]
    assert row["subspace_E_norm"] == pytest.approx(alpha, rel=1e-12)
    assert row["subspace_sigma_min"] == pytest.approx(alpha, rel=1e-12)
    assert row["subspace_Z_norm"] == pytest.approx(alpha, rel=1e-12)
    assert row["subspace_sin"] < 1e-12
    # the tracker's ‖M_t‖ equals the generic metric computed from the problem, at θ₀
    M0 = _dense_M(prob, alpha**2 * torch.eye(8, dtype=D64))
    assert row["M_norm"] == pytest.approx(float(torch.linalg.matrix_norm(M0, ord=2)), rel=1e-10)
    # step T takes no step; its diagnostics come from the tracked Q_T (the diagnostic's state)
    last = res.trace.to_frame().iloc[-1]
    assert last["step"] == 5 and np.isfinite(last["subspace_E_norm"]) and np.isfinite(last["M_norm"])


def test_subspace_basis_follows_the_update_matrix():
    """S₁ = (I − ηM₀)S₀: the tracked basis spans (I − ηM₀)U⋆ exactly, and differs from span(U⋆)."""
    prob = op.problems.matrix_sensing(d=7, r=2, m=25, data_seed=8)
    alg = op.algorithms.gd(0.05, grad_scale=0.5)
    obj = Objective(prob, op.params.Symmetric())
    from overparam.algorithms import RunContext
    from overparam.papers.li2018.subspace import SubspaceTracker

    U0 = (0.2 * torch.eye(7, dtype=D64))[None]
    ctx = RunContext(R=1, algo_seeds=[0], device=torch.device("cpu"), dtype=D64, steps=1)
    tracker = SubspaceTracker()
    diag = tracker.init(obj, (U0,), alg)
    out, _ = alg.step(obj, (U0,), alg.init_state(obj, (U0,), ctx), 0)
    diag = tracker.update(diag, 0, (U0,), out, obj)
    Q1 = diag["Q"][0]
    U_star = diag["U_star"]
    V = (torch.eye(7, dtype=D64) - 0.05 * _dense_M(prob, U0[0] @ U0[0].T)) @ U_star
    np.testing.assert_allclose((Q1 @ (Q1.T @ V)).numpy(), V.numpy(), atol=1e-12)
    assert float(torch.linalg.matrix_norm(Q1 - U_star @ (U_star.T @ Q1), ord=2)) > 1e-4


def test_subspace_is_exactly_invariant_for_the_population_loss():
    """Full observation (𝒜 = identity, loss ½‖UUᵀ − X⋆‖_F²) from U₀ = αI: U_t stays a function of X⋆,
    so S_t = span(U⋆) (sin = 0) and ‖E_t‖ follows the null-direction recursion f ← f − 2ηs f³."""
    d, alpha, eta, s, T = 6, 1e-2, 0.1, 0.5, 60
    prob = op.problems.matrix_factorization(d1=d, d2=d, r=2, symmetric=True, truth="orthonormal", kappa=2.0)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd_subspace(eta, grad_scale=s),
                 init=op.init.scaled_identity(alpha=alpha), steps=T, metrics=SUB_METRICS,
                 log=op.LogSchedule(points=0, every=1))
    fr = res.trace.to_frame().iloc[:-1]
    assert float(fr["subspace_sin"].max()) < 1e-10
    f, expected = alpha, []
    for _ in range(T):
        expected.append(f)
        f = f - 2 * eta * s * f**3
    np.testing.assert_allclose(fr["subspace_E_norm"].to_numpy(), expected, rtol=1e-10)
    # the signal grows (Thm 4.2 (22)) while the error part does not (20)
    assert fr["subspace_sigma_min"].iloc[-1] > 10 * alpha
    assert float(fr["subspace_E_norm"].max()) <= alpha * (1 + 1e-12)


def test_subspace_metrics_follow_any_gd_run_but_not_sgd():
    """The tracker is a stateful diagnostic: plain gd gives the same numbers as the old gd_subspace
    name; SGD (no full gradient operator per step) is refused with a clear message."""
    prob = op.problems.matrix_sensing(d=5, r=1, m=12)
    kw = dict(init=op.init.scaled_identity(alpha=0.1), steps=20, metrics=["subspace_E_norm", "subspace_sin"])
    a = op.run(prob, op.params.Symmetric(), op.algorithms.gd(0.01), **kw)
    b = op.run(prob, op.params.Symmetric(), op.algorithms.gd_subspace(0.01), **kw)
    np.testing.assert_array_equal(a.trace.columns["subspace_E_norm"], b.trace.columns["subspace_E_norm"])
    with pytest.raises(ValueError, match="full-gradient"):
        op.run(prob, op.params.Symmetric(), op.algorithms.sgd(0.01), **kw)


# -- Lemma A.1, RIP estimate, population error, theory ----------------------------------------------------


def test_lemma_a1_monte_carlo_confirms_2X_plus_trace_and_rejects_alternatives():
    g = torch.Generator().manual_seed(4)
    B = torch.randn(6, 6, generator=g, dtype=D64)
    X = 0.5 * (B + B.T)  # indefinite, full rank
    chk = diagnostics.lemma_a1_monte_carlo(X, samples=200_000, seed=1)
    assert chk.rel_error < 5 * chk.noise and chk.rel_error < 0.02
    wrong = diagnostics.lemma_a1_monte_carlo(X, samples=200_000, seed=1, prediction=2 * X)  # RIP-like, no trace term
    assert wrong.z_score > 20
    # truncation at a large R barely changes the expectation (Lemma A.1 with R = Θ(log 1/δ))
    trunc = diagnostics.lemma_a1_monte_carlo(X, samples=200_000, seed=1, R=40.0)
    assert 0 < trunc.truncated_fraction < 0.01 and trunc.rel_error < 0.05


def test_rip_estimate_gaussian_is_near_isometric_rank_one_is_not():
    gauss = op.problems.matrix_sensing(d=10, r=1, m=2000, data_seed=1).operator
    est = diagnostics.rip_constant_estimate(gauss, rank=2, samples=100, seed=0)
    assert est.delta < 0.25 and est.ratio_min < 1 < est.ratio_max
    rank_one = op.problems.quadratic_network(d=10, r=1, m=2000, data_seed=1).operator
    psd = diagnostics.rip_constant_estimate(rank_one, rank=2, samples=100, seed=0, psd=True)
    assert psd.ratio_min > 1.5  # E⟨xxᵀ, X⟩² = 2‖X‖_F² + (tr X)² ≥ 2‖X‖_F² for PSD X: not RIP


def test_nn_population_error_metric_matches_the_formula_and_monte_carlo():
    prob = _qn(d=5, r=2, m=30)
    g = torch.Generator().manual_seed(5)
    U = 0.7 * torch.randn(1, 5, 5, generator=g, dtype=D64)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(1e-9), theta0=(U,), steps=0,
                 metrics=["nn_population_error"])
    Delta = U[0] @ U[0].T - prob.truth()
    formula = float(theory.quadratic_net_population_error(Delta))
    assert res.final("nn_population_error")[0] == pytest.approx(formula, rel=1e-9)
    x = torch.randn(400_000, 5, generator=g, dtype=D64)
    mc = float((((x @ Delta) * x).sum(-1) ** 2).mean())
    assert mc == pytest.approx(formula, rel=0.02)


def test_escape_steps_match_the_population_recursion():
    """Population GD along one eigen-direction, σ ← σ(1 + 2sη(λ − σ))², crosses λ/2 at the logistic
    prediction (to within a couple of percent, the discretization), and the slope in log(1/α) is
    escape_slope ≈ 1/(2sηλ)."""
    eta, lam, s = 0.0025, 0.8, 1.0

    def steps_to_half(alpha):
        sig, t = alpha**2, 0
        while sig < lam / 2:
            sig *= (1 + 2 * s * eta * (lam - sig)) ** 2
            t += 1
        return t

    for alpha in (1e-2, 1e-4):
        assert steps_to_half(alpha) == pytest.approx(theory.escape_steps(alpha, eta, lam, s), rel=0.02)
    slope = (steps_to_half(1e-5) - steps_to_half(1e-2)) / math.log(1e3)
    assert slope == pytest.approx(theory.escape_slope(eta, lam, s), rel=0.01)
    assert theory.escape_slope(eta, 1.0, 1.0) == pytest.approx(1 / (2 * eta), rel=0.01)


def test_large_init_prediction_matches_the_x_space_projection():
    """X⋆ + P_null(I − X⋆) is where X-space GD from I converges; its error averages to the formula."""
    d, m = 6, 10
    errs = []
    for seed in range(40):
        prob = op.problems.matrix_sensing(d=d, r=1, m=m, data_seed=seed, truth_seed=0)
        A = prob.operator.dense_matrix()  # (m, d²)
        v = (torch.eye(d, dtype=D64) - prob.truth()).reshape(-1)
        P_range = A.T @ torch.linalg.solve(A @ A.T, A)  # projection onto the row space (symmetric part)
        null = v - P_range @ v
        errs.append(float(null @ null))
    pred = theory.large_init_test_error(d, m, prob.truth())
    measured = math.sqrt(np.mean(errs)) / float(prob.truth().norm())
    assert measured == pytest.approx(pred, rel=0.1)


def test_fit_line_and_first_crossing():
    a, b, r2 = diagnostics.fit_line([0, 1, 2, 3], [1, 3, 5, 7])
    assert (a, b, r2) == (pytest.approx(2), pytest.approx(1), pytest.approx(1))
    expected = 10 + 10 * math.log(1.6) / math.log(4)  # log-linear interpolation between 0.8 and 0.2
    assert diagnostics.first_crossing([0, 10, 20], [1.0, 0.8, 0.2], 0.5) == pytest.approx(expected)
    assert diagnostics.first_crossing([0, 10], [1.0, 0.9], 0.5) is None


def test_theory_bounds_validate_inputs():
    assert theory.thm11_error_bound(1e-3, 100, 1.0) == pytest.approx(1e-2)
    lo, hi = theory.thm11_horizon(1e-3, 100, 0.0025)
    assert lo == pytest.approx(math.log(1e5) / 0.0025) and hi == pytest.approx(4e4)
    with pytest.raises(ValueError, match="alpha"):
        theory.thm11_error_bound(0.0, 100)
