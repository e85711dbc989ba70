"""The phase-transition study (overparam.studies.phase_transition): the quick grid's structure, the
50% boundary on tables with known answers, a tiny study that stores and then resumes computing
nothing, GD recovering at generous m and failing far below the counting line, and CLI errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from overparam.cli import main
from overparam.experiments import Store, execute
from overparam.experiments.computations import Computation
from overparam.experiments.errors import SpecError
from overparam.experiments.spec import RunSpec
from overparam.studies import phase_transition as pt
from overparam.studies.phase_transition.methods import gd_spec, projected_gd_eta


def test_quick_grid_structure():
    g = pt.QUICK
    assert (g.d, g.ranks, g.trials, g.threshold) == (10, (1, 2, 3), 4, 1e-2)
    assert g.ratios == tuple(sorted(g.ratios)) and len(g.ratios) >= 5
    assert g.methods == pt.METHOD_NAMES
    work = pt.plan(g)
    assert len(work) == len(g.methods) * len(g.ranks) * len(g.ratios) * g.trials
    for method, r, x, m, seed, item in work:
        assert m == round(x * g.d * r) and 0 <= seed < g.trials
        if method == "nuclear_norm":
            assert isinstance(item, Computation)
            assert item.settings["problem"] == pt.methods.problem(g.d, r, m) and item.settings["data_seed"] == seed
        else:
            assert isinstance(item, RunSpec) and item.data_seed == seed and item.problem.name == "matrix_sensing"
            assert (item.problem.params["d"], item.problem.params["r"], item.problem.params["m"]) == (g.d, r, m)
            assert item.tags["method"] == method and "test_error" in item.metrics
    keys = [item.key() for *_, item in work]
    assert len(set(keys)) == len(keys)  # no two trials are the same work
    by = {method: [item for meth, *_, item in work if meth == method] for method in g.methods}
    assert by["ipgd_plus"][0].recipe.name == "perturbed_then_plain" and by["ipgd_plus"][0].init.name == "zero"
    assert by["gd"][0].param.name == "symmetric" and by["gd"][0].param.params["k"] == g.d
    # GD at α = 1e-12 is GD at α = 1e-6 with only the init scale changed
    a, b = by["gd"][0], by["gd_tiny"][0]
    assert (a.init.params["alpha"], b.init.params["alpha"]) == (1e-6, 1e-12)
    assert (a.problem, a.algorithm, a.param, a.steps, a.data_seed) == (b.problem, b.algorithm, b.param, b.steps,
                                                                      b.data_seed)
    assert by["projected_gd"][0].param.name == "direct"
    assert by["scaled_gd"][0].algorithm.name == "scaled_gd"
    # every method sees the same instance in a trial: same problem settings and data seed
    cells = {(meth, r, m, s): item for meth, r, _, m, s, item in work}
    a, b = cells[("gd", 2, 30, 1)], cells[("ipgd_plus", 2, 30, 1)]
    assert a.problem == b.problem and a.data_seed == b.data_seed == 1
    # the reference lines in units of m/(dr)
    assert pt.information_line(10, 1) == pytest.approx(1.9) and pt.psd_dof_line(10, 1) == pytest.approx(1.0)
    assert pt.psd_dof_line(10, 3) * 10 * 3 == pytest.approx(10 * 3 - 3 * 2 / 2)
    # the projected-GD step is below 1/L for a Gaussian operator in every cell
    assert projected_gd_eta(10, 5) < projected_gd_eta(10, 55) < projected_gd_eta(10, 10_000) < 1


@pytest.mark.parametrize("probs, expected, bound", [
    ([0.0, 0.25, 0.75, 1.0], 2.5, "interpolated"),
    ([0.0, 0.0, 0.5, 1.0], 3.0, "interpolated"),  # reaching 1/2 exactly at a grid point
    ([0.0, 0.6, 0.4, 1.0], 3 + 0.1 / 0.6, "interpolated"),  # non-monotone: after the last point below 1/2
    ([0.5, 0.75, 1.0, 1.0], 1.0, "below"),
    ([0.0, 0.0, 0.25, 0.4], math.nan, "above"),
])
def test_crossing_on_known_curves(probs, expected, bound):
    value, got = pt.crossing([1.0, 2.0, 3.0, 4.0], probs)
    assert got == bound
    assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected)


def test_table_and_boundaries_on_a_synthetic_study():
    """Two methods, one rank, four ratios; errors chosen so that the probabilities are known."""
    rows = []
    errors = {  # per ratio, four trials
        "a": {1.0: [1, 1, 1, 1], 2.0: [1e-3, 1, 1, 1], 3.0: [1e-3, 1e-3, 1e-3, 1], 4.0: [1e-3] * 4},
        "b": {1.0: [1e-5, 1e-5, np.nan, 1], 2.0: [1e-5] * 4, 3.0: [1e-5] * 4, 4.0: [1e-5] * 4},
    }
    for method, per in errors.items():
        for ratio, errs in per.items():
            for t, e in enumerate(errs):
                rows.append({"method": method, "r": 2, "ratio": ratio, "m": int(ratio * 20), "trial": t,
                             "replica": 0, "status": "completed", "error": e})
    table = pt.recovery_table(pd.DataFrame(rows), threshold=1e-2)
    a = table[table["method"] == "a"].set_index("ratio")
    assert a["probability"].tolist() == [0.0, 0.25, 0.75, 1.0] and a["trials"].tolist() == [4] * 4
    b = table[table["method"] == "b"].set_index("ratio")
    assert b.loc[1.0, "recovered"] == 2 and b.loc[1.0, "probability"] == 0.5  # NaN (failed) is not recovered
    bounds = pt.boundaries(table, d=10).set_index("method")
    assert bounds.loc["a", "boundary_ratio"] == pytest.approx(2.5) and bounds.loc["a", "bound"] == "interpolated"
    assert bounds.loc["a", "boundary_m"] == pytest.approx(2.5 * 10 * 2)
    assert bounds.loc["b", "bound"] == "below" and bounds.loc["b", "boundary_ratio"] == 1.0
    assert bounds.loc["a", "information_ratio"] == pytest.approx(1.8)


def test_boundaries_at_three_thresholds_on_a_synthetic_study():
    """Errors chosen so that each threshold gives a known boundary: at 1e-2 every error below 1e-2
    counts, at 1e-3 only those below 1e-3, at 1e-5 only the 1e-6 ones."""
    errors = {1.0: [0.3, 0.3, 0.3, 0.3], 2.0: [5e-3, 5e-3, 5e-3, 0.3], 3.0: [1e-4, 1e-4, 5e-3, 5e-3],
              4.0: [1e-6, 1e-6, 1e-4, 1e-4]}
    rows = [{"method": "gd", "r": 1, "ratio": x, "m": int(x * 10), "trial": t, "replica": 0, "status": "completed",
             "error": e} for x, errs in errors.items() for t, e in enumerate(errs)]
    tb = pt.threshold_boundaries(pd.DataFrame(rows), d=10)
    assert pt.THRESHOLDS == (1e-2, 1e-3, 1e-5) and tb["threshold"].tolist() == [1e-2, 1e-3, 1e-5]
    got = tb.set_index("threshold")
    assert got.loc[1e-2, "boundary_ratio"] == pytest.approx(1.0 + 0.5 / 0.75)  # p = 0, .75, 1, 1
    assert got.loc[1e-3, "boundary_ratio"] == pytest.approx(3.0)  # p = 0, 0, .5, 1
    assert got.loc[1e-5, "boundary_ratio"] == pytest.approx(4.0) and got.loc[1e-5, "bound"] == "interpolated"
    assert got.loc[1e-3, "boundary_m"] == pytest.approx(30.0)
    assert list(got["boundary_ratio"]) == sorted(got["boundary_ratio"])  # stricter: never further left


def test_bad_grids_name_the_field():
    with pytest.raises(SpecError, match="grid.ratios"):
        pt.Grid(d=10, ranks=(1,), ratios=(0.0, 1.0), trials=1)
    with pytest.raises(SpecError, match="grid.ranks"):
        pt.Grid(d=10, ranks=(11,), ratios=(1.0,), trials=1)
    with pytest.raises(SpecError, match="methods"):
        pt.Grid(d=10, ranks=(1,), ratios=(1.0,), trials=1, methods=("gd", "nope"))
    with pytest.raises(SpecError, match="grid.threshold"):
        pt.Grid(d=10, ranks=(1,), ratios=(1.0,), trials=1, threshold=1.5)


def test_gd_recovers_at_generous_m_and_not_far_below_the_line():
    g = pt.Grid(d=8, ranks=(1,), ratios=(0.5, 5.0), trials=2, budget=pt.Budget(gd=2000), label="test")
    for seed in range(2):
        many = execute(gd_spec(g, 1, g.m(1, 5.0), seed))  # m = 40 > d(d+1)/2 = 36
        few = execute(gd_spec(g, 1, g.m(1, 0.5), seed))  # m = 4 < 8 degrees of freedom
        assert many.final("test_error")[0] < 1e-3
        assert few.final("test_error")[0] > 0.3


def test_tiny_study_stores_then_resumes_computing_nothing(tmp_path):
    methods = ("gd", "nuclear_norm") if pt.methods.convex_available() is None else ("gd",)
    g = pt.Grid(d=6, ranks=(1, 2), ratios=(0.75, 4.0), trials=2, methods=methods,
                budget=pt.Budget(gd=1500), label="test")
    store = Store(tmp_path / "store")
    first = pt.run(grid=g, store=store, out=tmp_path / "out")
    n_runs = 2 * 2 * 2
    assert first.runs_total == first.runs_computed == n_runs and not first.failed
    assert first.computations_computed == (n_runs if "nuclear_norm" in methods else 0)
    assert len(first.table) == len(methods) * 4
    assert set(first.table["trials"]) == {2}
    for name in ("png", "pdf", "table_csv", "boundaries_csv", "thresholds_csv", "json"):
        assert first.files[name].is_file() and first.files[name].stat().st_size > 0
    payload = json.loads(first.files["json"].read_text())
    assert payload["threshold"] == 1e-2 and len(payload["boundaries"]) == len(methods) * 2
    by_t = payload["boundaries_by_threshold"]
    assert len(by_t) == 3 * len(methods) * 2 and {row["threshold"] for row in by_t} == set(pt.THRESHOLDS)
    at_1e2 = first.threshold_boundaries[first.threshold_boundaries["threshold"] == 1e-2].reset_index(drop=True)
    pd.testing.assert_frame_equal(at_1e2[["method", "r", "boundary_ratio", "bound"]],
                                  first.boundaries[["method", "r", "boundary_ratio", "bound"]])
    # generous m recovers, m below the counting line does not (GD and the convex program)
    t = first.table.set_index(["method", "r", "ratio"])
    for method in methods:
        assert t.loc[(method, 1, 4.0), "probability"] == 1.0
        assert t.loc[(method, 2, 0.75), "probability"] == 0.0
    second = pt.run(grid=g, store=store, out=tmp_path / "out")
    assert second.runs_computed == 0 and second.computations_computed == 0
    pd.testing.assert_frame_equal(first.table, second.table)
    # the threshold is read, not stored: a stricter one recomputes nothing and recovers no more
    strict = pt.run(grid=g, store=store, out=tmp_path / "strict", threshold=1e-12)
    assert strict.runs_computed == 0 and (strict.table["recovered"] <= first.table["recovered"]).all()


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return (0 if info.value.code is None else int(info.value.code)), out, err


@pytest.mark.parametrize("args, names", [
    (["--methods", "gd,nope"], "methods"),
    (["--threshold", "2"], "grid.threshold"),
    (["--workers", "0"], "--workers"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, tmp_path, args, names):
    code, _, err = cli(capsys, "study", "phase-transition", "--quick", "--store", str(tmp_path / "s"),
                       "--out", str(tmp_path / "o"), *args)
    assert code == 2 and err.startswith("error:") and names in err and len(err.strip().splitlines()) == 1
