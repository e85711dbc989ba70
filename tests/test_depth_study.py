"""The depth study (overparam.studies.depth): the rank measures on matrices where they are known, GD on
X itself (N = 1) leaving the unobserved entries at their initial values, and a tiny study end to end
(stored, read back, figure, resume computing nothing)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from overparam.experiments.errors import SpecError
from overparam.experiments.execute import build, execute
from overparam.experiments.store import Store
from overparam.studies import depth as dp
from overparam.studies.depth.measures import unobserved_mask
from overparam.studies.depth.specs import convex_available


def _orthogonal(n: int, seed: int = 0) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q


@pytest.mark.parametrize("spectrum, erank", [
    ([3.0], 1.0),                       # rank one
    ([2.0, 2.0, 2.0, 0.0, 0.0], 3.0),   # k equal singular values: k
    ([0.5] * 6, 6.0),                   # a multiple of an orthogonal matrix: d
    ([1.0, 1.0, 2.0], math.exp(1.5 * math.log(2.0))),  # p = (1/4, 1/4, 1/2): H = 1.5 log 2
])
def test_effective_rank_and_numerical_rank_on_known_matrices(spectrum, erank):
    n = len(spectrum)
    X = _orthogonal(n, 1) @ np.diag(spectrum) @ _orthogonal(n, 2).T
    s = np.linalg.svd(X, compute_uv=False)
    assert dp.effective_rank(s) == pytest.approx(erank, rel=1e-9)
    assert dp.effective_rank(1e-7 * s) == pytest.approx(erank, rel=1e-9)  # scale-free
    assert dp.numerical_rank(s, 1e-2) == sum(v > 1e-2 * max(spectrum) for v in spectrum)


def test_rank_measures_of_zero_and_a_decaying_spectrum():
    assert math.isnan(dp.effective_rank(np.zeros(4))) and dp.numerical_rank(np.zeros(4), 0.1) == 0
    s = np.array([1.0, 0.3, 0.05, 0.001])
    assert [dp.numerical_rank(s, t) for t in (0.5, 0.1, 0.01, 1e-4)] == [1, 2, 3, 4]
    assert 1.0 < dp.effective_rank(s) < 3.0


def test_unobserved_error_ignores_the_observed_entries():
    X_star = np.arange(12, dtype=float).reshape(3, 4) + 1.0
    rows, cols = np.array([0, 1, 2]), np.array([0, 1, 2])
    X = X_star.copy()
    X[rows, cols] += 100.0  # wrong on Ω only: no unobserved error
    assert dp.unobserved_error(X, X_star, rows, cols) == 0.0
    mask = unobserved_mask((3, 4), rows, cols).numpy()
    assert mask.sum() == 9 and not mask[rows, cols].any()
    assert dp.unobserved_error(np.zeros((3, 4)), X_star, rows, cols) == pytest.approx(1.0)


def test_end_to_end_multiplies_the_factors_in_order():
    rng = np.random.default_rng(0)
    W1, W2, W3 = (rng.standard_normal((1, 4, 4)) for _ in range(3))
    np.testing.assert_allclose(dp.end_to_end({"W1": W1, "W2": W2, "W3": W3}), W3 @ W2 @ W1)
    np.testing.assert_array_equal(dp.end_to_end({"X": W1}), W1)


GRID = dp.Grid(d=8, r=1, entries=(16, 40), depths=(1, 2, 3), seeds=2, scale=1e-3, eta=0.1,
               budget=dp.Budget(steps=1500, target_train_error=1e-4), label="test")


def _theta0(b):
    """θ₀ of a built one-replica spec, drawn as ``run`` draws it."""
    return b.init(b.param, b.problem.shape, seeds=[int(b.run_kwargs["init_seed"])], device=torch.device("cpu"),
                  dtype=torch.float64, problem=b.problem)


def test_depth_one_is_gd_on_x_and_leaves_the_unobserved_entries_at_init():
    spec = dp.run_spec(GRID, 1, 16, 0)
    assert spec.param.name == "direct"
    b = build(spec)
    X0 = _theta0(b)[0][0]
    res = execute(spec)
    X = res.theta[0][0]
    op = b.problem.operator
    mask = unobserved_mask((8, 8), op.rows, op.cols)
    assert torch.equal(X[mask], X0[mask])  # untouched, to the bit
    X_star = b.problem.truth()
    assert (X - X_star)[~mask].norm() / X_star[~mask].norm() < 1e-4  # Ω fitted to the target
    assert abs(torch.linalg.matrix_norm(X0).item() - GRID.scale) < 1e-12
    assert dp.unobserved_error(X, X_star, op.rows, op.cols) > 0.99


def test_deeper_init_is_balanced_with_the_same_end_to_end_scale():
    for depth in (2, 3):
        spec = dp.run_spec(GRID, depth, 16, 0)
        b = build(spec)
        W = [w[0] for w in _theta0(b)]
        X0 = dp.end_to_end({f"W{j + 1}": w[None].numpy() for j, w in enumerate(W)})[0]
        assert np.linalg.norm(X0) == pytest.approx(GRID.scale, rel=1e-12)
        for lo, hi in zip(W, W[1:]):
            assert (hi.T @ hi - lo @ lo.T).abs().max() < 1e-15


def test_bad_grids_name_the_field():
    for kwargs, field in [({"entries": (0,)}, "grid.entries"), ({"depths": (0, 2)}, "grid.depths"),
                          ({"r": 9}, "grid.r"), ({"seeds": 0}, "grid.seeds"), ({"scale": -1.0}, "grid.scale"),
                          ({"rank_fraction": 1.0}, "grid.rank_fraction")]:
        with pytest.raises(SpecError, match=field):
            dp.Grid(**{"d": 8, "r": 1, "entries": (16,), **kwargs})


TINY = dp.Grid(d=8, r=1, entries=(40,), depths=(1, 3), seeds=1, scale=1e-3, eta=0.3, nuclear=False,
               budget=dp.Budget(steps=400, target_train_error=1e-3, check_target_factor=1.0), label="test")


def test_tiny_study_stores_reads_back_and_resumes_computing_nothing(tmp_path):
    store = Store(tmp_path / "store")
    first = dp.run(grid=TINY, store=store, out=tmp_path / "out", figure=False)  # the figure: test_figures.py
    assert first.runs_total == first.runs_computed == 4 and not first.failed  # 2 runs + their budget check
    assert list(first.summary["method"]) == ["depth 1", "depth 3"] and set(first.summary["trials"]) == {1}
    for name in ("summary_csv", "outcomes_csv", "budget_csv", "json"):
        assert first.files[name].is_file() and first.files[name].stat().st_size > 0
    payload = json.loads(first.files["json"].read_text())
    assert payload["grid"]["dof"] == 15 and payload["budget_check"]["compared"] == 2
    # 2× the steps with the same target: both runs stop at the target at the same step, same numbers
    assert payload["budget_check"]["both_converged"] == 2
    assert payload["budget_check"]["max_change_unobserved_error"] == 0.0
    t = first.summary.set_index("method")
    # N = 1 leaves Ωᶜ at its tiny init (error ≈ 1); depth 3 completes the rank-one X⋆ from 40 of 64 entries
    assert t.loc["depth 1", "median_unobserved_error"] > 0.99 and t.loc["depth 1", "median_numerical_rank"] > 3
    assert t.loc["depth 3", "median_unobserved_error"] < 2e-2 and t.loc["depth 3", "median_numerical_rank"] == 1
    # the effective rank read from the stored factors is the run's own recorded metric
    recorded = store.load(dp.run_spec(TINY, 3, 40, 0).key()).summary[0]["effective_rank"]
    assert t.loc["depth 3", "median_effective_rank"] == pytest.approx(recorded, rel=1e-9)
    second = dp.run(grid=TINY, store=store, out=tmp_path / "out", figure=False)
    assert second.runs_computed == 0
    pd.testing.assert_frame_equal(first.summary, second.summary)


@pytest.mark.skipif(convex_available() is not None, reason="needs cvxpy")
def test_nuclear_norm_reference_interpolates_and_reports_its_spectrum(tmp_path):
    from overparam.experiments.computations import run_computations

    store = Store(tmp_path / "store")
    comp = dp.nuclear_norm_spec(TINY, 40, 0)
    assert not run_computations([comp], store).failed
    res = comp.load(store)
    s = np.array(res["singular_values"])
    assert res["status"].startswith("optimal") and len(s) == 8
    # X⋆ (‖X⋆‖_* = ‖X⋆‖_F = 1, rank one) is feasible, so the minimizer's nuclear norm is at most 1
    assert s.sum() <= 1.0 + 1e-6
    row = dp.outcomes(store, [("nuclear norm", 0, 40, 0, comp)], TINY.rank_fraction).iloc[0]
    assert row["effective_rank"] == pytest.approx(dp.effective_rank(s))
    assert row["numerical_rank"] == dp.numerical_rank(s, TINY.rank_fraction) >= 1
    assert 0 < row["unobserved_error"] == pytest.approx(res["unobserved_error"])
