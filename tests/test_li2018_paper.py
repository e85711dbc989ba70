"""000 (Li, Ma, Zhang 2018) reproduction package: specs of every figure and claim, the quick sizes,
the claim declarations, the full-mode code path of Figs. 1–2 on shrunken settings, claim 8's stored
computation, and (slow) the whole quick reproduction."""

import json
import math

import pytest

from overparam.cli import main
from overparam.experiments.claims import VERDICTS
from overparam.experiments.computations import run_computations
from overparam.experiments.store import Store
from overparam.papers import papers, resolve_targets
from overparam.papers.base import Context
from overparam.papers.li2018 import baselines, dynamics, fig1, lemma_a1, network
from overparam.papers.li2018.diagnostics import truncation_bias_rank_one
from overparam.papers.li2018.theory import lemma_a1_delta, lemma_a1_samples


def _cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code, capsys.readouterr()


def test_every_figure_and_claim_is_declared_with_specs_in_both_modes():
    paper = papers()["li2018"]
    assert [f.id for f in paper.figures] == [f"li2018-fig{i}" for i in range(1, 6)]
    assert [c.id for c in paper.claims] == [f"li2018-claim{i}" for i in range(1, 12)]
    fig_ids = {f.id for f in paper.figures}
    for c in paper.claims:
        assert c.statement and c.paper_value and c.criterion, c.id
        assert c.figure is None or c.figure in fig_ids
    for quick in (True, False):
        for item in (*paper.figures, *paper.claims):
            specs = item.specs(quick)
            keys = [s.key() for s in specs]
            assert len(keys) == len(set(keys)), item.id  # no spec listed twice
            for s in specs:
                assert s.tags["paper"] == "li2018" and s.dtype == "float64"


def test_figures_pair_with_claims_by_declared_id_and_runs_are_shared():
    keys = lambda fn, q: {s.key() for s in fn(q)}  # noqa: E731
    assert keys(dynamics.fig3_specs, True) == keys(dynamics.fig2_specs, True)
    assert keys(dynamics.fig3_specs, False).isdisjoint(keys(dynamics.fig2_specs, False))
    trials = dynamics.fig2_specs(False)
    assert [s.data_seed for s in trials] == [0, 1, 2]
    assert {s.problem.params["truth_seed"] for s in trials} == {0}
    expected = {"li2018-fig1": {"li2018-claim1", "li2018-claim6"}, "li2018-fig2": {"li2018-claim2"},
                "li2018-fig3": {"li2018-claim3"}, "li2018-fig4": {"li2018-claim4"}, "li2018-fig5": {"li2018-claim5"}}
    for fig_id, claim_ids in expected.items():
        _, claims, _ = resolve_targets([fig_id])
        assert {c.id for c in claims} == claim_ids


def test_full_settings_follow_the_paper():
    fig2 = dynamics.fig2_specs(False)[0]
    assert fig2.steps == 20_000 and fig2.algorithm.params == {"eta": 0.0025, "grad_scale": 0.5}
    assert [r["init.alpha"] for r in fig2.replicas][:2] == [1.0, 1e-3]
    fig3 = dynamics.fig3_specs(False)[0]
    assert fig3.steps == 100_000 and fig3.problem.params["d"] == 200 and fig3.problem.params["m"] == 5000
    fig4 = baselines.fig4_specs(False)
    assert {(s.problem.params["d"], s.problem.params["m"] // s.problem.params["d"]) for s in fig4} == \
        {(d, k) for d in (100, 150) for k in range(5, 40, 5)}
    pgd = [s for s in fig4 if s.algorithm.name == "projected_gd"][0]
    assert pgd.problem.params["normalization"] == "1/m" and pgd.param.name == "direct"
    assert pgd.target_train_error == 1e-3 and pgd.steps == 10_000
    # Fig. 5 panel (c): Gaussian sensing at Fig. 5's own sizes, d = 100, r = 5, m = 2500 in full mode
    sensing = [s for s in network.fig5_specs(False) if s.problem.name == "matrix_sensing"]
    assert len(sensing) == 3 and {(s.problem.params["d"], s.problem.params["r"], s.problem.params["m"])
                                  for s in sensing} == {(100, 5, 2500)}


def test_fig4_sizes_are_under_determined_in_both_modes():
    for quick in (True, False):
        for s in baselines.fig4_specs(quick):
            d, m = s.problem.params["d"], s.problem.params["m"]
            assert m < d * (d + 1) // 2, (quick, d, m)


def test_claim9_control_changes_only_the_algorithm():
    specs = network.claim9_specs(True)
    alg1 = next(s for s in specs if s.algorithm.name == "truncated_rescaled_gd" and s.algorithm.params["tau"] == 2.0
                and s.problem.params["m"] == 20 * 40 * 2 and s.data_seed == 0)
    controls = [s for s in specs if s.algorithm.name == "gd" and s.init.params["alpha"] == network.CLAIM9_ALPHA
                and s.data_seed == 0]
    assert sorted(s.steps for s in controls) == [alg1.steps, network.CLAIM9_LONG * alg1.steps]
    for c in controls:
        assert c.problem == alg1.problem and c.init == alg1.init and c.data_seed == alg1.data_seed


def test_lemma_a1_formulas():
    assert lemma_a1_samples(100, lemma_a1_delta(1e6, 100)) == pytest.approx(1e6, rel=1e-6)
    assert truncation_bias_rank_one(4 * math.log(100)) < 0.01 < truncation_bias_rank_one(3 * math.log(100))


def test_claim8_checks_lemma_a1_at_finite_m(tmp_path, monkeypatch):
    """The stored computations (3 seeds here): the sup deviation falls with m, the 2X alternative never fits;
    the verdict judges the rate and the identity term on every seed, and the size (which needs the
    paper's unknown constants) is reported without deciding it."""
    monkeypatch.setattr(lemma_a1, "CLAIM8_SEEDS", (0, 1, 2))  # the test's cost: three of the quick seeds
    store = Store(tmp_path)
    comps = lemma_a1.claim8_computations(True)
    assert len({c.key() for c in comps}) == len(lemma_a1.CLAIM8_SEEDS) >= 3
    rep = run_computations(comps, store)
    assert rep.computed and not rep.failed
    claim = lemma_a1.claim8.check(Context(store, quick=True))
    assert claim.verdict in VERDICTS and claim.criterion and claim.criterion_revised
    Ds = next(v for k, v in claim.measured.items() if k.startswith("sup deviation D(m)"))
    assert len(Ds) == 3 and all(D[-1] < D[0] / 4 for D in Ds)
    controls = claim.measured["min over PSD X of ||op(X) - 2X|| (RIP-like alternative), over all m, per seed"]
    assert min(controls) > 0.5
    slopes = claim.measured["log-log slope of D on m where D < 1, per seed"]
    assert all(-0.7 <= s <= -0.3 for s in slopes)  # the rate holds at the nominal band on every seed
    # the size fails by the constants-1 reading, and yet the verdict is the rate's and the identity term's
    sizes = next(v for k, v in claim.measured.items() if k.startswith("D at Thm 1.2's m"))
    assert min(sizes) > claim.measured["delta needed 1/(sqrt(r) log^2 d) (constants 1; reported)"]
    assert claim.stability["verdicts"]["nominal"] == "reproduced"
    assert claim.measured["verdict per seed"] == ["reproduced"] * 3
    assert claim.stability["seeds"] == 3 and set(claim.stability["verdicts"]) >= {"seed 0", "seed 1", "seed 2"}
    # the final verdict is the stable one: reproduced, or inconclusive with the spread named
    assert claim.verdict == "reproduced" or (claim.verdict == "inconclusive" and claim.stability["spread"])
    assert "size constant" not in claim.stability["thresholds"]


def test_full_mode_code_path_of_figs_1_and_2(tmp_path, capsys, monkeypatch):
    """`overparam reproduce li2018-fig1 li2018-fig2` in full mode, with the sizes shrunk so that it runs in
    seconds: the full-mode branches (two d for Fig. 1, Fig. 2's d and α) draw and check end to end."""
    monkeypatch.setattr(fig1, "_dims", lambda quick: ((12, 16), 2))
    monkeypatch.setattr(fig1, "FIG1_STEPS", 1500)
    monkeypatch.setattr(dynamics, "FIG2_D", {True: 40, False: 16})
    monkeypatch.setattr(dynamics, "FIG2_R", {True: 1, False: 1})
    monkeypatch.setattr(dynamics, "FIG2_STEPS", 2500)
    code, out = _cli(["reproduce", "li2018-fig1", "li2018-fig2", "--store", str(tmp_path / "s"),
                      "--out", str(tmp_path / "o"), "--workers", "1", "--quiet"], capsys)
    assert code == 0, out.err
    for fig in ("li2018-fig1", "li2018-fig2"):
        assert (tmp_path / "o" / f"{fig}.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "o" / "claims.json").read_text())
    assert data["mode"] == "full"
    verdicts = {c["id"]: c["verdict"] for c in data["claims"]}
    assert set(verdicts) == {"li2018-claim1", "li2018-claim2", "li2018-claim6"}
    assert set(verdicts.values()) <= set(VERDICTS)
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
    assert set(claims) == {f"li2018-claim{i}" for i in range(1, 12)}  # claim 11: the extension
    for c in claims.values():
        assert c["verdict"] in VERDICTS
        assert c["measured"] and c["paper_value"] and c["note"] and c["criterion"]
    assert claims["li2018-claim2"]["verdict"] == "partly reproduced"  # 6.1 against the paper's ≈ 10⁻¹
    assert not Store(tmp_path / "s").failures()


def test_claim10_small_alpha_gd_approaches_the_minimum_trace_solution(tmp_path, monkeypatch):
    """Claim 10 in quick mode: the stored convex solution and the GD runs over α, a verdict (issue 17)."""
    pytest.importorskip("cvxpy")
    from overparam.experiments import run_sweep
    from overparam.papers.li2018 import convex

    monkeypatch.setattr(convex, "CLAIM10_SEEDS", (0, 1, 2))  # the test's cost: three of the five seeds
    store = Store(tmp_path)
    run_sweep(convex.claim10_specs(True), store, workers=1)
    assert run_computations(convex.claim10_computations(True), store).computed
    claim = convex.claim10.check(Context(store, quick=True))
    assert claim.verdict in VERDICTS and claim.criterion_revised
    assert claim.stability["seeds"] == len(convex.CLAIM10_SEEDS) >= 3
    dists = next(v for k, v in claim.measured.items() if k.startswith("||X_GD - X_nuc||"))
    assert len(dists) == 3 and all(d[-1] < d[0] / 100 for d in dists)  # α from 10⁻¹ to 10⁻⁵, every seed
    assert max(claim.measured["||X_nuc - X*||_F/||X*||_F per seed"]) < 1e-5


def test_without_the_convex_extra_fig4_and_claim10_leave_the_convex_program_out(tmp_path, monkeypatch):
    from overparam.papers.li2018 import convex

    monkeypatch.setattr("overparam.baselines.convex.convex_available", lambda: False)
    assert baselines.fig4_computations(True) == [] and convex.claim10_computations(True) == []
    claim = convex.claim10.check(Context(Store(tmp_path), quick=True))
    assert claim.verdict == "inconclusive" and "overparam[convex]" in claim.note


def test_claim11_small_alpha_gd_is_not_the_minimum_trace_solution_below_the_threshold(tmp_path, capsys, monkeypatch):
    """Claim 11 (extension) on a tiny instance (d = 12, r = 1, m = 18, 3 data seeds): the verdict follows
    the declared criterion from the per-seed gaps, and claim 10's statement names where it is tested."""
    pytest.importorskip("cvxpy")
    from overparam.papers.li2018 import convex

    monkeypatch.setattr(convex, "CLAIM11_DIMS", {True: 12, False: 12})
    monkeypatch.setattr(convex, "CLAIM11_STEPS", {True: 8000, False: 8000})
    monkeypatch.setattr(convex, "CLAIM11_SEEDS", (0, 1, 2))
    specs = convex.claim11_specs(True)
    assert [s.data_seed for s in specs] == [0, 1, 2] and all(s.problem.params["m"] == 18 for s in specs)
    code, out = _cli(["reproduce", "li2018-claim11", "--quick", "--store", str(tmp_path / "s"),
                      "--out", str(tmp_path / "o"), "--workers", "1", "--quiet"], capsys)
    assert code == 0, out.err
    (c,) = json.loads((tmp_path / "o" / "claims.json").read_text())["claims"]
    assert c["kind"] == "extension" and c["stability"]["seeds"] == 3
    gap = next(v for k, v in c["measured"].items() if k.startswith("||X_GD - X_nuc||"))
    d_nuc = c["measured"]["||X_nuc - X*||_F/||X*||_F per seed"]
    assert len(gap) == 3
    nominal = c["stability"]["verdicts"]["nominal"]
    if min(d_nuc) < 0.1:
        assert nominal == "inconclusive"
    elif min(gap) >= 0.1:
        assert nominal == "reproduced"
    elif max(gap) <= 0.01:
        assert nominal == "not reproduced"
    else:
        assert nominal == "partly reproduced"
    assert "m = 5dr, where X_nuc = X⋆" in convex.claim10.statement
