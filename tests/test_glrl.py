"""Greedy low-rank learning (recipe ``glrl``, Li, Luo, Lyu 2021) and the GLRL study in quick mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import overparam as op
from overparam.errors import OverparamError
from overparam.experiments.claims import VERDICTS
from overparam.experiments.spec import RunSpec
from overparam.objective import Objective
from overparam.recipes import glrl, phase_iterates, run_recipe
from overparam.recipes.glrl import top_descent_direction

GD = dict(eta=0.2, grad_scale=0.5)


def _sensing(d=6, r=1, m=30, seed=0, **kw):
    return op.problems.matrix_sensing(d=d, r=r, m=m, truth="orthonormal", data_seed=seed, **kw)


def _glrl(prob, steps=2000, **kw):
    target = kw.pop("target_train_error", 1e-6)
    return run_recipe(glrl(**kw), prob, op.params.Symmetric(k=prob.shape[0]), op.algorithms.gd(**GD), init=None,
                      steps=steps, metrics=["train_error"], target_train_error=target)


def _events(res, kind):
    return [ev for ev in res.events if ev["kind"] == kind]


def _numpy_gradient(prob, X):
    """sym ∇f(X) = (1/m) Σ_i (⟨A_i, X⟩ − y_i) A_i from the operator's dense m × d² matrix, in NumPy."""
    A = prob.operator.dense_matrix().numpy()  # rows vec(A_i)
    m, d = A.shape[0], X.shape[0]
    res = A @ X.reshape(-1) - prob.y.numpy()
    M = (A.T @ res / m).reshape(d, d)
    return 0.5 * (M + M.T)


def test_rank_one_truth_is_learnt_in_one_phase():
    prob = _sensing(d=6, r=1, m=30)
    res = _glrl(prob)
    phases, stops = _events(res, "glrl_phase"), _events(res, "glrl_stop")
    assert [ev["rank"] for ev in phases] == [1] and stops[0]["reason"] == "target"
    (X1,) = phase_iterates(res.events)
    X_star = prob.truth().numpy()
    assert np.linalg.norm(X1 - X_star) / np.linalg.norm(X_star) < 1e-4
    assert res.theta_list[0][0].shape == (6, 1)  # the final factor has one column


def test_appended_direction_is_the_top_eigenvector_of_minus_the_gradient():
    prob = _sensing(d=6, r=2, m=40, kappa=3.0)
    U = torch.randn(6, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.3
    for V in (torch.zeros(6, 0, dtype=torch.float64), U):
        lam, v = top_descent_direction(prob, V)
        w, Q = np.linalg.eigh(-_numpy_gradient(prob, (V @ V.T).numpy()))
        assert lam == pytest.approx(w[-1], rel=1e-10)
        assert abs(float(np.dot(v.numpy(), Q[:, -1]))) == pytest.approx(1.0, abs=1e-10)
    # the recipe's first column is eps·v (one GD step on it only rescales it along v)
    lam0, v0 = top_descent_direction(prob, torch.zeros(6, 0, dtype=torch.float64))
    res = _glrl(prob, steps=1, eps=1e-4, max_rank=1)
    (U1,) = res.theta_list[0]
    u = U1[:, 0].numpy()
    assert abs(float(np.dot(u, v0.numpy()))) / np.linalg.norm(u) == pytest.approx(1.0, abs=1e-9)
    assert np.linalg.norm(u) == pytest.approx(1e-4 * (1 + GD["eta"] * lam0), rel=1e-6)
    assert _events(res, "glrl_phase")[0]["eigenvalue"] == pytest.approx(lam0)


def test_stop_rules_phase_convergence_max_rank_and_no_descent():
    # r = 2, max_rank = 1: one phase, ended by the phase rule (gradient small after escaping), not the budget
    prob = _sensing(d=6, r=2, m=40, kappa=3.0)
    res = _glrl(prob, steps=3000, max_rank=1, tol=1e-7)
    (phase,) = _events(res, "glrl_phase")
    assert phase["ended"] == "stopped:glrl_phase" and phase["end"] < 3000
    assert _events(res, "glrl_stop")[0]["reason"] == "max_rank"
    U = torch.as_tensor(np.asarray(phase["U"]))[None]
    grad = Objective(prob, op.params.Symmetric(k=1)).evaluate((U,)).grad[0]
    assert float(grad.norm()) <= 1e-7
    assert phase["loss"] < 0.5 * float(Objective(prob, op.params.Symmetric(k=1)).evaluate(
        (torch.zeros(1, 6, 1, dtype=torch.float64),), grad=False).loss[0])  # it escaped the saddle at 0
    # y = 𝒜(−I): −∇f(0) = (1/m) Σ y_i A_i has no positive eigenvalue, so GLRL stops at rank 0
    rng = np.random.default_rng(0)
    Q = rng.standard_normal((40, 4, 4))
    A = (Q + Q.transpose(0, 2, 1)) / 2
    y = np.einsum("ijk,jk->i", A, -np.eye(4))
    neg = op.problems.from_arrays(A=A, y=y, X_star=-np.eye(4))
    res = _glrl(neg, steps=10)
    assert _events(res, "glrl_phase") == [] and _events(res, "glrl_stop")[0]["reason"] == "no_descent"


def test_bad_inputs_are_one_line_errors():
    prob = _sensing()
    with pytest.raises(OverparamError, match="param must be 'symmetric'"):
        run_recipe(glrl(), prob, op.params.Asymmetric(k=3), op.algorithms.gd(**GD), init=None, steps=5)
    with pytest.raises(OverparamError, match="max_rank = 9"):
        _glrl(prob, steps=5, max_rank=9)
    with pytest.raises(OverparamError, match="escape"):
        glrl(escape=1.0)
    spec = {"problem": {"name": "matrix_sensing", "d": 4, "r": 1, "m": 12}, "param": {"name": "symmetric"},
            "algorithm": {"name": "gd", "eta": 0.2}, "init": {"name": "zero"}, "steps": 5,
            "recipe": {"name": "glrl", "rule": "hessian"}}
    with pytest.raises(OverparamError, match="rule"):
        RunSpec.parse(spec)


def test_glrl_runs_from_a_spec_and_is_listed(tmp_path):
    from overparam.catalog import BASELINES
    from overparam.experiments.execute import execute

    assert any(b["name"] == "glrl" for b in BASELINES)
    spec = RunSpec.parse({"problem": {"name": "matrix_sensing", "d": 5, "r": 1, "m": 20, "truth": "orthonormal"},
                          "param": {"name": "symmetric", "k": 5}, "algorithm": {"name": "gd", "eta": 0.2,
                                                                              "grad_scale": 0.5},
                          "init": {"name": "zero"}, "recipe": {"name": "glrl", "eps": 1e-6}, "steps": 2000,
                          "target_train_error": 1e-6, "metrics": ["train_error", "test_error"]})
    res = execute(spec)
    assert [ev["rank"] for ev in _events(res, "glrl_phase")] == [1]
    assert float(res.final("test_error")[0]) < 1e-4


def test_glrl_study_quick(tmp_path):
    from overparam.catalog import studies
    from overparam.studies.glrl import run

    assert "glrl" in [s["name"] for s in studies()]
    res = run(quick=True, store=tmp_path / "store", out=tmp_path / "out", figures=False)
    assert not res.failed and res.claim.verdict in VERDICTS and res.claim.kind == "extension"
    assert res.claim.stability["seeds"] == 3 and set(res.claim.stability["thresholds"]) == {"close", "apart",
                                                                                              "misses"}
    for name in ("claims_json", "claims_md", "json"):
        assert res.files[name].is_file(), name
    # GLRL at r = 2 has two phases, and GD from the smallest α meets X_1 before X_2
    assert res.glrl[0]["ranks"] == [1, 2] and res.glrl[0]["stop"] == "target"
    tiny = [c for c in res.closest if c["alpha"] == min(c["alpha"] for c in res.closest)][0]
    assert tiny["in_turn"] and tiny["closest"][1] < 1e-3



@pytest.mark.slow
def test_glrl_study_quick_resumes_and_draws(tmp_path):
    """A second call on the same store recomputes nothing and draws both figures."""
    from overparam.studies.glrl import run

    run(quick=True, store=tmp_path / "store", out=tmp_path / "out", figures=False)
    again = run(quick=True, store=tmp_path / "store", out=tmp_path / "out")
    assert again.runs_computed == 0 and again.computations_computed == 0
    assert again.files["follow_png"].is_file() and again.files["min_trace_png"].is_file()
