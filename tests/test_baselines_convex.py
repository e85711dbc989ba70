"""The convex baseline: nuclear-norm / minimum-trace programs on problems with known answers."""

from __future__ import annotations

import sys

import pytest
import torch

import overparam as op
from overparam.baselines import ConvexError, nuclear_norm
from overparam.baselines import convex as convex_mod
from overparam.errors import OverparamError

pytest.importorskip("cvxpy")


def rel(A: torch.Tensor, B: torch.Tensor) -> float:
    return float((A - B).norm() / B.norm())


def test_psd_sensing_recovers_the_truth_exactly():
    # d = 12, r = 2: m = 60 < d(d+1)/2 = 78 (not determined by the linear system alone), well above
    # the r(2d − r)/2-ish degrees of freedom: the minimum-trace PSD solution is X⋆ (Recht et al. 2010).
    prob = op.problems.matrix_sensing(d=12, r=2, m=60, data_seed=0)
    res = nuclear_norm(prob)
    assert res.psd and res.solved and res.solver == "CLARABEL"
    assert res.X.dtype == torch.float64 and tuple(res.X.shape) == (12, 12)
    assert rel(res.X, prob.truth()) < 1e-5
    assert res.objective == pytest.approx(float(torch.trace(prob.truth())), rel=1e-6)
    assert res.solve_time_s > 0


def test_psd_program_with_too_few_measurements_is_feasible_psd_and_beats_the_truth():
    # m = 12 ≪ the degrees of freedom: X⋆ is feasible, so the minimum trace is at most tr X⋆,
    # and the solution is PSD and fits y, but it is not X⋆.
    prob = op.problems.matrix_sensing(d=12, r=2, m=12, data_seed=1)
    res = nuclear_norm(prob)
    assert res.solved
    assert res.objective <= float(torch.trace(prob.truth())) + 1e-6
    assert float(torch.linalg.eigvalsh(0.5 * (res.X + res.X.T)).min()) > -1e-6
    assert float((prob.operator.forward(res.X) - prob.y).abs().max()) < 1e-5 * float(prob.y.abs().max())
    assert rel(res.X, prob.truth()) > 1e-2


def test_nuclear_norm_on_asymmetric_sensing_recovers_the_truth():
    prob = op.problems.asymmetric_sensing(d1=10, d2=8, r=2, m=70, data_seed=0)  # dof r(d1+d2−r) = 32
    res = nuclear_norm(prob)
    assert not res.psd and res.solved
    assert rel(res.X, prob.truth()) < 1e-5
    nuc = float(torch.linalg.matrix_norm(prob.truth(), "nuc"))
    assert res.objective == pytest.approx(nuc, rel=1e-6)


def test_psd_false_on_a_psd_problem_solves_the_nuclear_norm_program():
    prob = op.problems.matrix_sensing(d=10, r=1, m=40, data_seed=2)
    res = nuclear_norm(prob, psd=False)
    assert not res.psd and res.solved
    assert rel(res.X, prob.truth()) < 1e-5


def test_completion_constraints_are_the_observed_entries():
    prob = op.problems.matrix_completion(d1=10, d2=12, r=1, p=0.8, data_seed=0)
    res = nuclear_norm(prob)
    assert not res.psd and res.solved
    Xs = prob.truth()
    assert float((res.X[prob.operator.rows, prob.operator.cols] - Xs[prob.operator.rows, prob.operator.cols])
                 .abs().max()) < 1e-6
    assert rel(res.X, Xs) < 1e-5


def test_symmetric_completion_uses_trace_minimization():
    prob = op.problems.matrix_completion(d1=20, d2=20, r=2, p=0.5, symmetric=True, data_seed=0)
    res = nuclear_norm(prob)
    assert res.psd and res.solved
    assert rel(res.X, prob.truth()) < 1e-5


def test_factorization_returns_the_observed_matrix():
    prob = op.problems.matrix_factorization(d1=8, d2=6, r=2, noise=0.1, data_seed=0)
    res = nuclear_norm(prob)
    assert res.solved
    assert rel(res.X, prob.references["X_obs"]) < 1e-7


def test_noise_aware_program_keeps_the_residual_within_eps():
    sigma, m = 0.01, 60
    prob = op.problems.matrix_sensing(d=12, r=2, m=m, noise=sigma, data_seed=0)
    eps = 1.2 * sigma * m**0.5
    res = nuclear_norm(prob, eps=eps)
    assert res.solved and res.eps == eps
    assert float((prob.operator.forward(res.X) - prob.y).norm()) <= eps * (1 + 1e-6)
    # the noise-aware solution is as good as the noise allows, and shrinks (trace below tr X⋆)
    assert rel(res.X, prob.truth()) < 0.1
    assert res.objective < float(torch.trace(prob.truth()))


def test_matrix_free_and_stored_operators_give_the_same_solution():
    a = op.problems.matrix_sensing(d=10, r=1, m=40, data_seed=3)
    b = op.problems.matrix_sensing(d=10, r=1, m=40, data_seed=3, operator="matrix_free")
    assert rel(nuclear_norm(a).X, nuclear_norm(b).X) < 1e-6


def test_from_arrays_and_scs():
    prob0 = op.problems.asymmetric_sensing(d1=6, d2=5, r=1, m=30, data_seed=4)
    A = prob0.operator.dense_matrix().reshape(30, 6, 5)
    prob = op.problems.from_arrays(A=A, y=prob0.y, X_star=prob0.truth())
    res = nuclear_norm(prob, solver="scs")
    assert res.solver == "SCS" and res.solved and not res.psd
    assert rel(res.X, prob0.truth()) < 1e-3


def test_psd_detection_from_the_truth():
    assert convex_mod.is_psd_problem(op.problems.matrix_sensing(d=6, r=1, m=10))
    assert not convex_mod.is_psd_problem(op.problems.asymmetric_sensing(d1=6, d2=6, r=1, m=10))
    assert convex_mod.is_psd_problem(op.problems.matrix_factorization(d1=6, d2=6, r=1, symmetric=True))


@pytest.mark.parametrize("call, field", [
    (lambda: nuclear_norm(op.problems.matrix_sensing(d=71, r=1, m=5, operator="matrix_free")), "d <= 70"),
    (lambda: nuclear_norm(op.problems.matrix_factorization(d1=121, d2=121, r=1, symmetric=True), solver="SCS"),
     "d <= 120"),
    (lambda: nuclear_norm(op.problems.asymmetric_sensing(d1=41, d2=40, r=1, m=5, operator="matrix_free")),
     "d1·d2 <= 1600"),
    (lambda: nuclear_norm(op.problems.sparse_regression(n=10, d=20, k=2)), "vector problem"),
    (lambda: nuclear_norm(op.problems.matrix_sensing(d=6, r=1, m=10), solver="MOSEK"), "solver"),
    (lambda: nuclear_norm(op.problems.matrix_sensing(d=6, r=1, m=10), eps=-1.0), "eps"),
    (lambda: nuclear_norm(op.problems.asymmetric_sensing(d1=6, d2=5, r=1, m=10), psd=True), "square"),
])
def test_bad_input_is_a_clear_error(call, field):
    with pytest.raises(ConvexError, match=field) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, OverparamError)


def test_missing_cvxpy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cvxpy", None)  # import cvxpy now raises ImportError
    with pytest.raises(ConvexError, match=r"pip install 'overparam\[convex\]'"):
        nuclear_norm(op.problems.matrix_sensing(d=6, r=1, m=10))
