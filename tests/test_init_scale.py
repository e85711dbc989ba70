"""The init-scale study (overparam.studies.init_scale): the grid and its work (one batched GD run per
trial, the phase-transition study's trace-minimization solves with their keys), the boundary per
α and the budget check on tables whose answers are known, a tiny study end to end that stores and
then resumes computing nothing, and CLI errors."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from overparam.cli import main
from overparam.experiments import Store
from overparam.experiments.computations import Computation
from overparam.experiments.errors import SpecError
from overparam.experiments.spec import RunSpec
from overparam.studies import init_scale as isc
from overparam.studies import phase_transition as pt


def test_grid_and_plan_share_the_phase_transition_instances():
    g = isc.FULL
    assert (g.d, g.ranks, g.trials, g.steps) == (30, (1, 2, 3), 10, pt.FULL.budget.gd)
    assert len(g.alphas) >= 7 and max(g.alphas) == 1.0 and min(g.alphas) == 1e-12
    assert set(g.ratios) <= set(pt.FULL.ratios) and set(isc.QUICK.ratios) <= {0.5 + 0.25 * i for i in range(19)}
    q = isc.QUICK
    work = isc.plan(q)
    assert len(work) == 2 * len(q.ranks) * len(q.ratios) * q.trials  # one GD run and one solve per trial
    runs = [w for w in work if isinstance(w[-1], RunSpec)]
    spec = runs[0][-1]
    assert spec.n_replicas == len(q.alphas) and [rep["init.alpha"] for rep in spec.replicas] == list(q.alphas)
    assert spec.init.name == "scaled_identity" and spec.param.params["k"] == q.d and spec.steps == q.steps
    # the solves are the phase-transition study's own (same keys): a store that holds them is reused
    pt_solves = {item.key() for meth, *_, item in pt.plan(pt.QUICK) if meth == "nuclear_norm"}
    ours = {item.key() for *_, item in work if isinstance(item, Computation)}
    shared = {(r, x) for r, x, _ in q.cells()} & {(r, x) for r, x, _ in pt.QUICK.cells()}
    assert len(ours & pt_solves) == len(shared) * q.trials > 0
    # a GD run of one α on the same trial is the phase-transition's GD instance (problem, seed, settings)
    gd = pt.methods.gd_spec(pt.QUICK, 1, 10, 0)
    mine = next(item for meth, r, x, m, s, item in runs if (r, m, s) == (1, 10, 0))
    assert (mine.problem, mine.data_seed, mine.algorithm, mine.steps) == (gd.problem, gd.data_seed, gd.algorithm, gd.steps)
    # the budget check's runs differ only in their steps
    doubled = isc.plan(q, steps=2 * q.steps, convex=False)
    assert len(doubled) == len(runs) and all(w[-1].steps == 2 * q.steps for w in doubled)
    assert not {w[-1].key() for w in doubled} & {w[-1].key() for w in runs}


def test_bad_grids_name_the_field():
    with pytest.raises(SpecError, match="grid.alphas"):
        isc.ScaleGrid(d=6, ranks=(1,), ratios=(1.0,), alphas=(1.0, 0.0), trials=1)
    with pytest.raises(SpecError, match="grid.steps"):
        isc.ScaleGrid(d=6, ranks=(1,), ratios=(1.0,), alphas=(1.0,), trials=1, steps=0)
    with pytest.raises(SpecError, match="grid.ranks"):
        isc.ScaleGrid(d=6, ranks=(7,), ratios=(1.0,), alphas=(1.0,), trials=1)


def _outcomes(errors: dict[float, dict[float, list[float]]], r: int = 1) -> pd.DataFrame:
    rows = [{"method": "gd_alphas", "alpha": a, "r": r, "ratio": x, "m": int(x * 10 * r), "trial": t, "replica": 0,
             "status": "completed", "error": e}
            for a, per in errors.items() for x, errs in per.items() for t, e in enumerate(errs)]
    return pd.DataFrame(rows)


RATIOS = (1.0, 1.5, 2.0, 2.5, 3.0)


def test_boundary_per_alpha_and_the_budget_check_on_known_tables():
    ok, no = 1e-4, 0.3
    base = _outcomes({
        1e-2: {1.0: [no] * 4, 1.5: [no] * 4, 2.0: [no] * 4, 2.5: [ok, ok, no, no], 3.0: [ok] * 4},
        1e-12: {1.0: [no] * 4, 1.5: [ok, ok, ok, no], 2.0: [ok] * 4, 2.5: [ok] * 4, 3.0: [ok] * 4},
        1.0: {x: [math.nan] * 4 for x in RATIOS},  # diverged: never recovered
    })
    table = isc.recovery_table(base, 1e-2)
    assert table["alpha"].tolist()[:5] == [1.0] * 5  # largest α first
    bounds = isc.boundaries(table, d=10).set_index("alpha")
    assert bounds.loc[1e-2, "boundary_ratio"] == pytest.approx(2.5) and bounds.loc[1e-2, "bound"] == "interpolated"
    assert bounds.loc[1e-12, "boundary_ratio"] == pytest.approx(1.0 + 0.5 * 0.5 / 0.75)
    assert bounds.loc[1.0, "bound"] == "above"
    # positions on the grid, in cells
    assert isc.grid_position(2.5, "interpolated", RATIOS) == 3.0
    assert isc.grid_position(1.25, "interpolated", RATIOS) == 0.5
    assert isc.grid_position(math.nan, "above", RATIOS) == 5.0 and isc.grid_position(1.0, "below", RATIOS) == 0.0
    # doubling the budget: α = 1e-2 gains trials at 1.5 and 2.0 (boundary 2.5 → 1.5: two cells, fails);
    # α = 1e-12 gains one trial at 1.0 (less than a cell); α = 1 stays above the grid
    doubled = _outcomes({
        1e-2: {1.0: [no] * 4, 1.5: [ok, ok, ok, no], 2.0: [ok] * 4, 2.5: [ok] * 4, 3.0: [ok] * 4},
        1e-12: {1.0: [ok, no, no, no], 1.5: [ok] * 4, 2.0: [ok] * 4, 2.5: [ok] * 4, 3.0: [ok] * 4},
        1.0: {x: [math.nan] * 4 for x in RATIOS},
    })
    b2 = isc.boundaries(isc.recovery_table(doubled, 1e-2), d=10)
    check = isc.budget_shift(isc.boundaries(table, d=10), b2, RATIOS).set_index("alpha")
    assert check.loc[1e-2, "boundary_ratio_x2"] == pytest.approx(1.0 + 0.5 * 0.5 / 0.75)
    assert check.loc[1e-2, "shift_cells"] == pytest.approx(3.0 - 0.5 / 0.75) and not check.loc[1e-2, "ok"]
    assert check.loc[1e-12, "shift_cells"] == pytest.approx(0.5 / 0.75 - (0.5 - 0.25) / 0.75) and check.loc[1e-12, "ok"]
    assert check.loc[1.0, "shift_cells"] == 0.0 and check.loc[1.0, "ok"]
    changed = isc.changed_outcomes(base, doubled, 1e-2).set_index("alpha")
    assert changed.loc[1e-2, "changed"] == changed.loc[1e-2, "gained"] == 3 + 4 + 2
    assert changed.loc[1e-12, "gained"] == 2 and changed.loc[1.0, "changed"] == 0
    # trace minimization's boundary beside GD's (p = 0, 0, 1, 1, 1: at 1.75), and in the reading table
    tm = pd.DataFrame([{"method": "nuclear_norm", "r": 1, "ratio": x, "m": int(10 * x), "trial": t, "replica": 0,
                        "status": "optimal", "error": ok if x >= 2.0 else no} for x in RATIOS for t in range(4)])
    tm_bounds = pt.boundaries(pt.recovery_table(tm, 1e-2), d=10)
    both = isc.boundaries(table, d=10, trace_min=tm_bounds)
    assert set(both["trace_min_ratio"]) == {1.75} and set(both["trace_min_bound"]) == {"interpolated"}
    grid = isc.ScaleGrid(d=10, ranks=(1,), ratios=RATIOS, alphas=(1.0, 1e-2, 1e-12), trials=4)
    matrix = isc.boundary_matrix(both, grid).set_index("")
    assert matrix.loc["trace minimization", "r = 1"] == "1.75" and matrix.loc["GD, α = 1", "r = 1"] == "> 3"
    assert matrix.loc["GD, α = 0.01", "r = 1"] == "2.50" and matrix.loc["PSD count dr − r(r−1)/2", "r = 1"] == "1.00"
    # thresholds: the NaN α of trace minimization is kept as its own group
    rows = pt.threshold_boundaries(pd.concat([base.assign(method="gd"), tm.assign(alpha=math.nan)]), d=10,
                                   by=("method", "alpha", "r"))
    nuc = rows[rows["method"] == "nuclear_norm"].set_index("threshold")
    assert len(rows) == 3 * 4 and nuc.loc[1e-2, "boundary_ratio"] == nuc.loc[1e-3, "boundary_ratio"] == 1.75
    assert nuc.loc[1e-5, "bound"] == "above"  # its errors (1e-4) are not below 1e-5


def test_tiny_study_end_to_end_then_resumes_computing_nothing(tmp_path):
    """GD only (the solves are the phase-transition study's, tested there; their keys are tested
    above and the trace-minimization columns on a known table below)."""
    convex = False
    g = isc.ScaleGrid(d=6, ranks=(1,), ratios=(0.5, 4.0), alphas=(1.0, 1e-3, 1e-12), trials=1, steps=600,
                      convex=convex, label="test")
    store = Store(tmp_path / "store")
    first = isc.run(grid=g, store=store, out=tmp_path / "out", budget_check=True)
    assert first.runs_total == first.runs_computed == 2 * 2 and not first.failed  # cells × budgets (one trial)
    assert first.computations_computed == (2 if convex else 0)
    t = first.table.set_index(["alpha", "r", "ratio"])
    assert set(first.table["trials"]) == {1} and len(first.table) == 3 * 2
    for a in (1e-3, 1e-12):  # small init recovers at generous m, nobody below the counting line
        assert t.loc[(a, 1, 4.0), "probability"] == 1.0 and t.loc[(a, 1, 0.5), "probability"] == 0.0
    assert t.loc[(1.0, 1, 0.5), "probability"] == 0.0
    b = first.boundaries.set_index("alpha")
    assert b.loc[1e-12, "bound"] == "interpolated" and 0.5 < b.loc[1e-12, "boundary_ratio"] <= 4.0
    assert first.trace_min is None and "trace_min_ratio" not in first.boundaries
    assert first.budget_ok is not None and len(first.budget_check) == 3
    tb = first.threshold_boundaries  # GD per α and trace minimization (α NaN), at 1e-2, 1e-3, 1e-5
    assert sorted(set(tb["threshold"])) == [1e-5, 1e-3, 1e-2]
    assert len(tb) == 3 * 3
    at = tb[(tb["method"] == "gd") & (tb["threshold"] == 1e-2)].set_index("alpha")["boundary_ratio"]
    assert at.loc[1e-12] == b.loc[1e-12, "boundary_ratio"]
    for name in ("png", "pdf", "table_csv", "boundaries_csv", "budget_check_csv", "thresholds_csv", "json"):
        assert first.files[name].is_file() and first.files[name].stat().st_size > 0
    payload = json.loads(first.files["json"].read_text())
    assert payload["grid"]["alphas"] == [1.0, 1e-3, 1e-12] and len(payload["boundaries"]) == 3
    assert payload["budget_check"]["factor"] == 2 and len(payload["budget_check"]["rows"]) == 3
    second = isc.run(grid=g, store=store, out=tmp_path / "out", budget_check=True)
    assert second.runs_computed == 0 and second.computations_computed == 0
    pd.testing.assert_frame_equal(first.table, second.table)
    matrix = isc.boundary_matrix(second.boundaries, g)
    assert matrix.iloc[:3, 0].tolist() == ["GD, α = 1", "GD, α = 0.001", "GD, α = 1e-12"]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return (0 if info.value.code is None else int(info.value.code)), out, err


@pytest.mark.parametrize("args, names", [
    (["--threshold", "2"], "grid.threshold"),
    (["--workers", "0"], "--workers"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, tmp_path, args, names):
    code, _, err = cli(capsys, "study", "init-scale", "--quick", "--store", str(tmp_path / "s"),
                       "--out", str(tmp_path / "o"), *args)
    assert code == 2 and err.startswith("error:") and names in err and len(err.strip().splitlines()) == 1


def test_listed_as_a_study():
    from overparam.catalog import studies

    names = {s["name"]: s for s in studies()}
    assert names["init-scale"]["command"] == "overparam study init-scale"
    assert "init" in names["init-scale"]["summary"].lower()
