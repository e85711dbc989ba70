"""000 (Li, Ma, Zhang 2018) reproduction module: specs of every figure and claim, the full-mode code
path of Figs. 1–2 on shrunken settings, claim 8 (no runs), and (slow) the whole quick reproduction."""

import json

import pytest

from overparam.cli import main
from overparam.experiments.store import Store
from overparam.papers import PAPERS, li2018, li2018_baselines, li2018_dynamics, resolve_targets
from overparam.papers.base import Context


def _cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code, capsys.readouterr()


def test_every_figure_and_claim_is_registered_with_specs_in_both_modes():
    paper = PAPERS["li2018"]
    assert [f.id for f in paper.figures] == [f"li2018-fig{i}" for i in range(1, 6)]
    assert [c.id for c in paper.claims] == [f"li2018-claim{i}" for i in range(1, 10)]
    for quick in (True, False):
        for item in (*paper.figures, *paper.claims):
            specs = item.specs(quick)
            keys = [s.key() for s in specs]
            assert len(keys) == len(set(keys)), item.id  # no spec listed twice
            for s in specs:
                assert s.tags["paper"] == "li2018" and s.dtype == "float64"


def test_runs_are_shared_where_settings_coincide():
    """Fig. 3 quick is Fig. 2 quick's α = 10⁻² replica; claims 1 and 6 read Fig. 1; Fig. 5 shows Fig. 2's
    α = 1 runs; the three trials resample {A_i} for one X⋆."""
    keys = lambda fn, q: {s.key() for s in fn(q)}  # noqa: E731
    assert keys(li2018_dynamics.fig3_specs, True) == keys(li2018_dynamics.fig2_specs, True)
    assert keys(li2018_dynamics.fig3_specs, False).isdisjoint(keys(li2018_dynamics.fig2_specs, False))
    by_id = {c.id: c for c in PAPERS["li2018"].claims}
    assert by_id["li2018-claim6"].specs is li2018.fig1_specs
    fig5 = {f.id: f for f in PAPERS["li2018"].figures}["li2018-fig5"]
    assert keys(li2018_dynamics.fig2_specs, True) <= keys(fig5.specs, True)
    trials = li2018_dynamics.fig2_specs(False)
    assert [s.data_seed for s in trials] == [0, 1, 2]
    assert {s.problem.params["truth_seed"] for s in trials} == {0}
    _, claims, _ = resolve_targets(["li2018-fig1"])
    assert {c.id for c in claims} == {"li2018-claim1", "li2018-claim6"}


def test_full_settings_follow_the_paper():
    fig2 = li2018_dynamics.fig2_specs(False)[0]
    assert fig2.steps == 20_000 and fig2.algorithm.params == {"eta": 0.0025, "grad_scale": 0.5}
    assert [r["init.alpha"] for r in fig2.replicas][:2] == [1.0, 1e-3]
    fig3 = li2018_dynamics.fig3_specs(False)[0]
    assert fig3.steps == 100_000 and fig3.problem.params["d"] == 200 and fig3.problem.params["m"] == 5000
    fig4 = li2018_baselines.fig4_specs(False)
    assert {(s.problem.params["d"], s.problem.params["m"] // s.problem.params["d"]) for s in fig4} == \
        {(d, k) for d in (100, 150) for k in range(5, 40, 5)}
    pgd = [s for s in fig4 if s.algorithm.name == "projected_gd"][0]
    assert pgd.problem.params["normalization"] == "1/m" and pgd.param.name == "direct"
    assert pgd.target_train_error == 1e-3 and pgd.steps == 10_000


def test_claim8_lemma_a1_monte_carlo_quick(tmp_path):
    claim = li2018.li2018_network.claim8(Context(Store(tmp_path), quick=True))
    assert claim.verdict == "reproduced"
    zs = [v for k, v in claim.measured.items() if "z-score" in k]
    assert len(zs) == 3 and all(z[0] <= 4 and z[1] >= 10 for z in zs)


def test_full_mode_code_path_of_figs_1_and_2(tmp_path, capsys, monkeypatch):
    """`overparam reproduce li2018-fig1 li2018-fig2` in full mode, with the sizes shrunk so that it runs in
    seconds: the full-mode branches (two d for Fig. 1, Fig. 2's d and α) draw and check end to end."""
    monkeypatch.setattr(li2018, "_dims", lambda quick: ((12, 16), 2))
    monkeypatch.setattr(li2018, "FIG1_STEPS", 1500)
    monkeypatch.setattr(li2018_dynamics, "FIG2_D", {True: 40, False: 16})
    monkeypatch.setattr(li2018_dynamics, "FIG2_R", {True: 1, False: 1})
    monkeypatch.setattr(li2018_dynamics, "FIG2_STEPS", 2500)
    code, out = _cli(["reproduce", "li2018-fig1", "li2018-fig2", "--store", str(tmp_path / "s"),
                      "--out", str(tmp_path / "o"), "--workers", "1", "--quiet"], capsys)
    assert code == 0, out.err
    for fig in ("li2018-fig1", "li2018-fig2"):
        assert (tmp_path / "o" / f"{fig}.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "o" / "claims.json").read_text())
    assert data["mode"] == "full"
    verdicts = {c["id"]: c["verdict"] for c in data["claims"]}
    assert set(verdicts) == {"li2018-claim1", "li2018-claim2", "li2018-claim6"}
    assert len(list((tmp_path / "s" / "runs").glob("*/*"))) == 6 + 3


@pytest.mark.slow
def test_quick_reproduction_end_to_end(tmp_path, capsys):
    """`overparam reproduce li2018 --quick` on a fresh store: every figure drawn, every claim checked."""
    code, out = _cli(["reproduce", "li2018", "--quick", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"),
                      "--quiet"], capsys)
    assert code == 0, out.err
    for i in range(1, 6):
        assert (tmp_path / "o" / f"li2018-fig{i}.png").stat().st_size > 10_000
        assert (tmp_path / "o" / f"li2018-fig{i}.pdf").exists()
    data = json.loads((tmp_path / "o" / "claims.json").read_text())
    claims = {c["id"]: c for c in data["claims"]}
    assert set(claims) == {f"li2018-claim{i}" for i in range(1, 10)}
    for c in claims.values():
        assert c["verdict"] in ("reproduced", "not reproduced", "inconclusive")
        assert c["measured"] and c["paper_value"] and c["note"]
    assert not Store(tmp_path / "s").failures()
