"""The sizes beside each verdict (:mod:`overparam.experiments.sizes`)."""

from __future__ import annotations

from overparam.experiments import RunSpec
from overparam.experiments.computations import Computation
from overparam.experiments.sizes import claim_sizes, collect, describe
from tiny import tiny_spec


def test_one_value_a_few_and_many():
    assert describe({"d": [20], "r": [1, 2], "m": [100, 200, 400, 800, 1600]}) == \
        "d = 20, r ∈ {1, 2}, m = 100…1600 (5 values)"
    assert collect([{"d": 20, "m": 100, "eta": 0.1}, {"d": 40, "m": 100, "r": True}]) == {"d": [20, 40], "m": [100]}


def test_a_claims_runs_and_computations():
    a = RunSpec.parse(tiny_spec())
    b = RunSpec.parse({**tiny_spec(), "problem": {**tiny_spec()["problem"], "m": 2 * a.problem.params["m"]}})
    d, r, m = (a.problem.params[k] for k in ("d", "r", "m"))
    assert claim_sizes([a, b]) == f"d = {d}, r = {r}, m ∈ {{{m}, {2 * m}}}"
    comp = Computation(fn="f", module="m", version=1, settings={"params": {"d": 7, "r": 1}, "m_grid": [10, 20]})
    assert claim_sizes([], [comp]) == "d = 7, r = 1, m ∈ {10, 20}"
