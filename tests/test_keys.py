"""Every stored run keeps its key: the spec hashes of every paper's quick and full runs and stored
computations (per figure and claim) and of the phase-transition study's trials, as recorded at
bd2f461 (``tests/data/spec_keys_bd2f461.json``, before the namespaced names ``<id>.<name>``), are
exactly those the current code builds; and a spec written with the new names has the key of the
same spec written with the legacy names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overparam import registry
from overparam.experiments import RunSpec
from overparam.papers import papers

RECORDED = json.loads((Path(__file__).parent / "data" / "spec_keys_bd2f461.json").read_text())


def current_paper_keys(quick: bool) -> dict[str, dict[str, list[str]]]:
    out = {}
    mode = "quick" if quick else "full"
    for pid, p in papers().items():
        for item in [*p.figures, *p.claims]:
            out[f"{mode}/{pid}/{item.id}"] = {"runs": sorted({s.key() for s in item.specs(quick)}),
                                              "computations": sorted({c.key() for c in item.computations(quick)})}
    return out


#: Figures and claims whose runs changed on purpose after bd2f461, with the reason (the runs of every
#: other figure and claim keep their bd2f461 keys). Each entry must really have changed, so the list
#: cannot outlive its reason.
CHANGED = {
    "jiang2023-fig1": "quick mode runs 20,000 steps so that the figure reaches the overfitting (quick only)",
    "jiang2023-claim2": "its own runs: Fig. 1's on data seeds 0-4 (quick) / 0-2 (full), seeds > 0 at 3,000 steps",
    "jiang2023-claim9": "its own runs: Fig. 1's and the rules' on data seeds 0-4 (quick) / 0-2 (full)",
    "jiang2023-claim1": "its own runs on data seeds 0-4 (the ordering judged on five seeds)",
    "jiang2023-fig2a": "init scales written to 12 significant digits: sigma_1's last bits, and so the key, differed "
                       "between an Intel Xeon and an AMD EPYC",
    "jiang2023-fig2b": "init scales written to 12 significant digits (as Fig. 2a)",
    "jiang2023-claim3": "its own runs: Fig. 2b's on data seeds 0-4 (quick) / 0-2 (full)",
    "jiang2023-fig3": "5 X per point in quick mode (data seeds 0-4) (quick only)",
    "jiang2023-claim4": "reads jiang2023-fig3 (quick only)",
    "jiang2023-claim5": "reads jiang2023-fig3 (quick only)",
    "jiang2023-claim6": "reads jiang2023-fig3 (quick only)",
    "jiang2023-claim7": "reads jiang2023-fig3 (quick only)",
    "jiang2023-claim8": "reads jiang2023-fig3 (quick only)",
    "rajaraman2023-claim2": "its own runs: data seeds 1-4 (quick) / 1-2 (full) at claim 1's population size beside Fig. 1's",
    "rajaraman2023-claim4": "its own runs: the n >= 5kd regime on data seeds 0-2 beside Fig. 2's",
    "rajaraman2023-claim6": "its own runs: data seeds 1-4 on the alpha = 1e-3 half of the grid",
    "ma2025-fig2": "r' = r + 1, r + 2 and d (a slight over-parameterization), PGD perturbing through its budget",
    "ma2025-fig4": "one fixed (d, r', p) for every panel",
    "ma2025-fig5": "quick mode draws u⊙v too (quick only)",
    "ma2025-fig6": "reads ma2025-fig4's instances",
    "ma2025-claim1": "its own runs: ma2025-fig2's on data seeds 0-4",
    "ma2025-claim2": "its own runs: 1,500 GD steps after IPGD on data seeds 0-4",
    "ma2025-claim3": "reads ma2025-fig4, and Fig. 4's sensing instances on data seeds 1-4 (quick) / 1-2 (full)",
    "ma2025-claim4": "the radius sweep on data seeds 0-4",
    "ma2025-claim5": "reads claim 2's runs (five data seeds, the GD phase the fit needs)",
    "eftekhari2021-claim5": "Lemma C.1 tested in exact arithmetic (a factored-GD computation) on five seeds (quick) / "
                            "three (full)",
    "eftekhari2021-claim6": "five data seeds",
    "eftekhari2021-claim1": "five data seeds",
    "eftekhari2021-claim2": "five data seeds",
    "eftekhari2021-claim3": "five data seeds",
    "eftekhari2021-claim4": "fresh data seeds 1-5 (quick) / 1-3 (full)",
    "li2018-claim8": "data seeds 0-4 (quick) / 0-2 (full) and m = 51,200 added to the quick grid",
    "li2018-claim10": "data seeds 0-4",
    "li2018-claim1": "reads li2018-fig1's runs over five trials (data seeds 0-4) (quick only)",
    "li2018-claim6": "reads li2018-fig1's runs over five trials (data seeds 0-4) (quick only)",
    "li2018-claim2": "reads li2018-fig2's runs over five trials (data seeds 0-4) (quick only)",
    "li2018-claim3": "reads li2018-fig3's runs over five trials (data seeds 0-4) (quick only)",
    "li2018-claim7": "five trials (data seeds 0-4) (quick only)",
    "li2018-claim4": "reads li2018-fig4's runs over five trials (data seeds 0-4) (quick only)",
    "li2018-claim5": "reads li2018-fig5's runs over five trials (data seeds 0-4) (quick only)",
    "li2018-claim9": "five trials (data seeds 0-4), each with its long control (quick only)",
}
#: Figures and claims added after bd2f461.
ADDED = {"li2018-claim11", "eftekhari2021-claim7"}


@pytest.mark.parametrize("quick", [True, pytest.param(False, marks=pytest.mark.slow)], ids=["quick", "full"])
def test_every_papers_runs_and_computations_keep_their_keys(quick):
    """(Full mode builds ~2,500 specs: marked slow.)"""
    now = current_paper_keys(quick)
    recorded = {k: v for k, v in RECORDED["papers"].items() if k.startswith("quick/" if quick else "full/")}
    item = lambda k: k.rsplit("/", 1)[1]  # noqa: E731
    assert sorted(k for k in now if item(k) not in ADDED) == sorted(recorded), "the figures/claims of the papers changed"
    assert {item(k) for k in now if k not in recorded} == ADDED
    changed = {item(k) for k in recorded if now[k] != recorded[k]}
    assert not changed - set(CHANGED), f"keys changed for: {', '.join(sorted(changed - set(CHANGED)))}"
    # quick-only entries may not change in full mode; every other entry must have changed
    quick_only = {k for k, why in CHANGED.items() if "(quick only)" in why}
    expected = set(CHANGED) - (set() if quick else quick_only)
    assert expected <= changed, f"listed as changed but unchanged: {', '.join(sorted(expected - changed))}"


#: Methods added to the phase-transition study after bd2f461 (new runs, new keys), with the reason.
STUDY_METHODS_ADDED = {
    "gd_tiny": "GD at alpha = 1e-12 beside alpha = 1e-6: at the boundary GD's outcome is set by alpha, not the budget",
}


def test_the_studys_trials_keep_their_keys():
    from overparam.studies.phase_transition import FULL, QUICK, plan

    now: dict[str, list[str]] = {}
    for label, grid in (("quick", QUICK), ("full", FULL)):
        for method, _r, _x, _m, _seed, item in plan(grid):
            now.setdefault(f"{label}/phase_transition/{method}", []).append(item.key())
    added = {k: v for k, v in now.items() if k.rsplit("/", 1)[1] in STUDY_METHODS_ADDED}
    assert {k.rsplit("/", 1)[1] for k in added} == set(STUDY_METHODS_ADDED)
    assert {k: sorted(v) for k, v in now.items() if k not in added} == RECORDED["studies"]
    old = {key for keys in RECORDED["studies"].values() for key in keys}
    assert not old & {key for keys in added.values() for key in keys}  # new runs, not renamed old ones


BASE = {"param": {"name": "symmetric", "k": 6}, "algorithm": {"name": "gd", "eta": 0.1},
        "init": {"name": "scaled_identity", "alpha": 0.01}, "steps": 10}


@pytest.mark.parametrize("legacy,new", [
    ({"problem": {"name": "ma2025_sensing", "d": 6, "m": 40, "symmetric": True}, "metrics": ["ma2025_residual", "ma2025_Gamma"]},
     {"problem": {"name": "ma2025.sensing", "d": 6, "m": 40, "symmetric": True}, "metrics": ["ma2025.residual", "ma2025.Gamma"]}),
    ({"problem": {"name": "matrix_sensing", "d": 6, "r": 1, "m": 40}, "metrics": ["subspace_sin", "M_norm"]},
     {"problem": {"name": "matrix_sensing", "d": 6, "r": 1, "m": 40}, "metrics": ["li2018.subspace_sin", "li2018.M_norm"]}),
])
def test_new_and_legacy_names_give_one_key(legacy, new):
    a, b = RunSpec.parse({**BASE, **legacy}), RunSpec.parse({**BASE, **new})
    assert a.key() == b.key()
    assert a.canonical() != b.canonical()  # the spec keeps the names it was written with


def test_jiang2023_stop_alias_keeps_the_key():
    prob = {"name": "jiang2023_model_free", "m": 8, "n": 8, "r": 2, "rank": 2}
    stop = {"name": "jiang2023_spectral_count", "r": 2}
    base = {"param": {"name": "asymmetric", "k": 4}, "algorithm": {"name": "gd", "eta": 0.1},
            "init": {"name": "gaussian", "scale": 0.01}, "steps": 10}
    a = RunSpec.parse({**base, "problem": prob, "stops": [stop]})
    b = RunSpec.parse({**base, "problem": {**prob, "name": "jiang2023.model_free"},
                       "stops": [{**stop, "name": "jiang2023.spectral_count"}]})
    assert a.key() == b.key()
    assert registry.legacy_name("stop", "jiang2023.spectral_count") == "jiang2023_spectral_count"


def test_a_specs_init_scales_do_not_carry_the_cpus_last_bits():
    """jiang2023's init scales come from σ_1 and ‖X‖_F of the data (BLAS, LAPACK): the spec holds them
    to 12 significant digits, so that its key is the same on every CPU."""
    from overparam.papers.jiang2023.settings import SCALE_DIGITS

    p = papers()["jiang2023"]
    scales = [x for quick in (True, False) for item in [*p.figures, *p.claims] for s in item.specs(quick)
              for rep in (s.replicas or ()) for x in [rep.get("init.scale")] if x is not None]
    assert scales and all(float(f"{x:.{SCALE_DIGITS}g}") == x for x in scales)
