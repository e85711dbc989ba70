"""Papers are packages, discovered: each exposes PAPER; planned papers are listed; paper metrics register
on ``import overparam``; stored computations are keyed by their settings and cached atomically."""

from __future__ import annotations

import json

import pytest

import overparam  # noqa: F401 - registers paper metrics
from overparam import registry
from overparam.experiments.computations import Computation, computation, run_computations
from overparam.experiments.store import Store
from overparam.papers import papers, resolve_targets
from overparam.papers.base import Context, Outcome, claim
from overparam.papers.li2018 import lemma_a1

ALL_PAPERS = {"li2018", "rajaraman2023", "jiang2023", "eftekhari2021", "ma2025"}


def test_papers_are_discovered_from_their_packages():
    """Every package is found; implemented papers come first (by id), planned ones after, and
    reproduce's pending list names exactly the planned ones."""
    found = papers()
    assert set(found) == ALL_PAPERS and found["li2018"].implemented
    flags = [p.implemented for p in found.values()]
    assert flags == sorted(flags, reverse=True)
    assert list(found) == sorted(k for k in found if found[k].implemented) + sorted(k for k in found
                                                                                     if not found[k].implemented)
    _, _, pending = resolve_targets(None)
    assert set(pending) == {k for k, p in found.items() if not p.implemented}


def test_paper_metrics_register_on_import():
    assert {"nn_population_error", "nn_population_error_rel"} <= set(registry.names("metric"))
    import overparam.metrics as core

    assert not hasattr(core, "nn_population_error")  # it lives in the paper's package


def test_a_claim_is_declared_once():
    @claim(id="demo-claim1", paper="demo", statement="S", paper_value="P", criterion="C", figure="demo-fig1",
           source={"quote": "the paper's words", "section": "§1"}, kind="experiment")
    def check(ctx):
        return Outcome(measured={"x": 1.0}, verdict="partly reproduced", versus={"x": {"paper": "2", "ours": 1.0}})

    c = check.check(Context(store=None, quick=True))
    assert (c.id, c.statement, c.criterion, c.figure, c.verdict) == ("demo-claim1", "S", "C", "demo-fig1",
                                                                    "partly reproduced")
    assert (c.kind, c.source["section"], c.stability["stable"]) == ("experiment", "§1", True)
    with pytest.raises(ValueError):
        Outcome(measured={}, verdict="sort of")


CALLS = []


@computation("test.square", version=1)
def square(*, x: float, seed: int) -> dict:
    CALLS.append(x)
    return {"y": x * x, "seed": seed}


def test_stored_computation_is_keyed_by_settings_and_cached(tmp_path):
    store = Store(tmp_path)
    a, b = square.spec(x=3.0, seed=0), square.spec(x=3.0, seed=1)
    assert a.key() != b.key() and a.key() == square.spec(seed=0, x=3.0).key()
    bumped = Computation(a.fn, a.module, 2, a.settings)
    assert bumped.key() != a.key()  # a new version invalidates stored results
    rep = run_computations([a, a, b], store)
    assert (rep.total, len(rep.computed), rep.skipped) == (2, 2, 0) and len(CALLS) == 2
    rep = run_computations([a, b], store)
    assert (len(rep.computed), rep.skipped) == (0, 2) and len(CALLS) == 2  # cache hit, nothing recomputed
    assert a.load(store) == {"y": 9.0, "seed": 0}
    path = a.path(store)
    assert path.parent.name == a.key()[:2] and path.parent.parent.name == "computations"
    meta = json.loads((path / "computation.json").read_text())
    assert meta["fn"] == "test.square" and meta["settings"] == {"x": 3.0, "seed": 0}
    assert not (tmp_path / "computations" / "tmp").exists()
    assert Computation.from_json(a.to_json()) == a


def test_paper_computations_run_in_a_spawned_pool(tmp_path):
    """Workers import the function's module by name: the pool path stores the same result as serial."""
    comp = lemma_a1.claim8_computations(True)[0]
    small = Computation(comp.fn, comp.module, comp.version, {**comp.settings, "m_grid": [200, 800], "n_random": 1,
                                                            "ascent_steps": 0})
    other = Computation(comp.fn, comp.module, comp.version, {**small.settings, "seed": 1})
    rep = run_computations([small, other], Store(tmp_path / "pool"), workers=2)
    assert not rep.failed and len(rep.computed) == 2
    run_computations([small], Store(tmp_path / "serial"))
    assert small.load(Store(tmp_path / "pool")) == small.load(Store(tmp_path / "serial"))
