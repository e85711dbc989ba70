"""Papers are packages, discovered: each exposes PAPER, laid out the same way (figures.py, metrics.py);
planned papers are listed; a paper's names ``<id>.<name>`` register when its namespace is first looked
up (legacy names are aliases); stored computations are keyed by their settings and cached atomically."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import overparam
from overparam import registry
from overparam.experiments.computations import Computation, computation, run_computations
from overparam.experiments.store import Store
from overparam.papers import papers, resolve_targets
from overparam.papers.base import Context, Figure, Outcome, claim
from overparam.papers.li2018 import lemma_a1

PAPERS_DIR = Path(overparam.__file__).parent / "papers"
#: every paper package, read from the directory (not from the discovery under test): nothing to edit
#: when a paper is added
ALL_PAPERS = {p.name for p in PAPERS_DIR.iterdir() if (p / "__init__.py").is_file() and not p.name.startswith("_")}


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


def test_the_papers_are_the_packages():
    assert len(ALL_PAPERS) >= 5 and "li2018" in ALL_PAPERS
    assert set(registry.namespaces()) == ALL_PAPERS


@pytest.mark.parametrize("pid", sorted(ALL_PAPERS))
def test_every_paper_package_has_the_same_layout(pid):
    """``figures.py`` lists FIGURES and CLAIMS (PAPER is built from them), ``metrics.py`` holds the
    paper's registrations, every registered name of the paper is ``<id>.<name>``."""
    pkg = importlib.import_module(f"overparam.papers.{pid}")
    figs = importlib.import_module(f"overparam.papers.{pid}.figures")
    assert (PAPERS_DIR / pid / "metrics.py").is_file() and (PAPERS_DIR / pid / "settings.py").is_file()
    assert pkg.PAPER.id == pid
    assert [f.id for f in pkg.PAPER.figures] == [f.id for f in figs.FIGURES]
    assert [c.id for c in pkg.PAPER.claims] == [c.id for c in figs.CLAIMS]
    assert all(isinstance(f, Figure) and f.paper == pid for f in figs.FIGURES)
    assert all(c.paper == pid for c in figs.CLAIMS)
    mine = [(kind, n) for kind in registry.KINDS for n, fn in registry._TABLES[kind].items()
            if getattr(fn, "__module__", "").startswith(f"overparam.papers.{pid}.")
            or getattr(getattr(fn, "fn", None), "__module__", "").startswith(f"overparam.papers.{pid}.")]
    assert all(n.startswith(f"{pid}.") for _, n in mine), mine


def test_paper_names_are_namespaced_and_legacy_names_are_aliases():
    assert {"li2018.nn_population_error", "li2018.nn_population_error_rel", "li2018.subspace_sin",
            "ma2025.Gamma", "jiang2023.err_Xr", "eftekhari2021.row_leakage"} <= set(registry.names("metric"))
    assert "nn_population_error" not in registry.names("metric")  # listed once, under its namespaced name
    m = registry.get("metric", "subspace_sin")  # a legacy name: same metric, its trace column keeps the name
    assert m.name == "subspace_sin" and m.diagnostic is registry.get("metric", "li2018.subspace_sin").diagnostic
    assert registry.get("problem", "ma2025_sensing") is registry.get("problem", "ma2025.sensing")
    assert registry.get("stop", "jiang2023_spectral_count") is registry.get("stop", "jiang2023.spectral_count")
    import overparam.metrics as core

    assert not hasattr(core, "nn_population_error")  # it lives in the paper's package
    with pytest.raises(registry.RegistryError, match="accepted: .*li2018.subspace_sin"):
        registry.get("metric", "li2018.no_such_metric")


LAZY = """
import sys
import overparam
from overparam import registry
def loaded():
    ids = set(registry.namespaces())
    return sorted({m.split('.')[2] for m in sys.modules if m.startswith('overparam.papers.')} & ids)
assert loaded() == [], loaded()
for name in {names}:
    registry.get('metric', name)
    print(' '.join(loaded()))
"""


@pytest.mark.parametrize("names,loads", [
    (["ma2025.residual", "jiang2023.err_Xr", "li2018.subspace_sin", "rajaraman2023.op_norm"],
     ["ma2025", "jiang2023 ma2025", "jiang2023 li2018 ma2025", "jiang2023 li2018 ma2025 rajaraman2023"]),
    (["ma2025_residual"], ["ma2025"])])  # a legacy name loads its paper too
def test_a_namespace_is_loaded_on_first_lookup_and_no_other(names, loads):
    """In a fresh interpreter no paper is loaded; each lookup of ``<id>.name`` then loads that paper's
    registrations and no other (the printed set grows by exactly one id per lookup)."""
    src = str(Path(overparam.__file__).parents[1])
    out = subprocess.run([sys.executable, "-c", LAZY.replace("{names}", repr(names))], capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": src})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines() == loads


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
