"""003 (Eftekhari, Zygalakis 2021) reproduction package: the loss/step convention against finite
differences and the paper's explicit update, the Jacobian (adjoint, directional derivative, rank bound),
the toy torus of Fig. 4, the rank metrics, GD and Algorithm 1 on tiny problems with known answers, the
specs against the paper's settings, and the whole package end to end on shrunken budgets."""

import json

import numpy as np
import pytest
import torch

import overparam as op
from overparam.cli import main
from overparam.experiments.claims import VERDICTS
from overparam.experiments.execute import execute
from overparam.experiments.spec import RunSpec
from overparam.papers import papers, resolve_targets
from overparam.papers.eftekhari2021 import capture, example, restarts, settings
from overparam.papers.eftekhari2021.metrics import NUMRANK_RTOL, numerical_rank
from overparam.papers.eftekhari2021.theory import (
    capture_rank,
    jacobian,
    jacobian_rank_bound,
    licq,
    toy_manifold,
    toy_problem,
    toy_violation,
)


def _tiny(d=6, m=60, seed=0):
    p = {k: v for k, v in settings.problem(seed, seed, m=m, d=d).items() if k != "name"}
    return op.problems.matrix_sensing(**p, data_seed=seed, dtype="float64")


def _dense_A(prob):
    return prob.operator.adjoint(torch.eye(prob.m, dtype=torch.float64))


# -- the problem, the loss and the step convention -----------------------------------------------------


def test_example_problem_follows_the_paper():
    prob = _tiny(d=settings.D, m=settings.M)
    A = _dense_A(prob)
    assert torch.equal(A, A.mT)  # symmetric A_i
    X = prob.truth()
    assert float(torch.trace(X)) == pytest.approx(1.0, abs=1e-12)
    assert int(torch.linalg.matrix_rank(X)) == 2 and float(torch.linalg.eigvalsh(X).min()) > -1e-12
    # upper triangle i.i.d. N(0, 1), no 1/sqrt(m): off-diagonal and diagonal variances ≈ 1
    iu = torch.triu_indices(30, 30, 1)
    assert float(A[:, iu[0], iu[1]].var()) == pytest.approx(1.0, abs=0.05)
    assert float(torch.diagonal(A, dim1=-2, dim2=-1).var()) == pytest.approx(1.0, abs=0.1)
    assert torch.allclose(prob.y, (A * X).sum((-2, -1)))
    assert prob.info["normalization"] == "1/8"


def test_gradient_is_half_adjoint_times_u_and_matches_finite_differences():
    prob = _tiny()
    A = _dense_A(prob)
    g = torch.Generator().manual_seed(1)
    U = torch.randn(1, 6, 6, generator=g, dtype=torch.float64)
    obj = op.objective.Objective(prob, op.params.Symmetric())
    ev = obj.evaluate((U,))
    r = (A * (U[0] @ U[0].T)).sum((-2, -1)) - prob.y
    G = lambda V: 0.125 * float(((A * (V @ V.T)).sum((-2, -1)) - prob.y).square().sum())  # noqa: E731
    assert float(ev.loss[0]) == pytest.approx(G(U[0]), rel=1e-12)
    grad = 0.5 * torch.einsum("i,ijk->jk", r, A) @ U[0]  # ∇G = ½ 𝒜*(r) U (Eq. 28)
    assert torch.allclose(ev.grad[0][0], grad, rtol=1e-10, atol=1e-10)
    D = torch.randn(6, 6, generator=g, dtype=torch.float64)
    h = 1e-6
    fd = (G(U[0] + h * D) - G(U[0] - h * D)) / (2 * h)
    assert float((grad * D).sum()) == pytest.approx(fd, rel=1e-6)


def test_one_gd_step_is_the_papers_update():
    """gd(eta, grad_scale=8) on G = ⅛‖·‖² is Eq. (3): U₁ = (I − 4η𝒜*(𝒜(U₀U₀ᵀ) − b))U₀."""
    prob = _tiny()
    A = _dense_A(prob)
    eta = 1e-4
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=eta, grad_scale=settings.GRAD_SCALE),
                 init=op.init.low_rank(rank=3, norm=1.0), steps=1, metrics=["train_error_sq"])
    U0 = op.init.low_rank(rank=3, norm=1.0)(op.params.Symmetric(), (6, 6), seeds=[0], device=torch.device("cpu"),
                                           dtype=torch.float64)[0][0]
    r = (A * (U0 @ U0.T)).sum((-2, -1)) - prob.y
    U1 = (torch.eye(6, dtype=torch.float64) - 4 * eta * torch.einsum("i,ijk->jk", r, A)) @ U0
    assert torch.allclose(res.theta_list[0][0], U1, rtol=1e-12, atol=1e-14)


# -- the Jacobian (a new operator) ---------------------------------------------------------------------


def test_jacobian_adjoint_directional_derivative_and_rank_bound():
    prob = _tiny(d=5, m=40)
    A = _dense_A(prob)
    g = torch.Generator().manual_seed(2)
    U = torch.randn(5, 5, generator=g, dtype=torch.float64)
    J = jacobian(A, U)
    D = torch.randn(5, 5, generator=g, dtype=torch.float64)
    w = torch.randn(40, generator=g, dtype=torch.float64)
    # adjoint: ⟨J vec Δ, w⟩ = ⟨Δ, 𝒜*(w) U⟩ (Eq. 11)
    lhs = float(w @ (J @ D.reshape(-1)))
    rhs = float((D * (torch.einsum("i,ijk->jk", w, A) @ U)).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12)
    # directional derivative of g(U) = ½(𝒜(UUᵀ) − b): Dg(U)[Δ] = 𝒜(ΔUᵀ) (Eq. 10)
    gfun = lambda V: 0.5 * ((A * (V @ V.T)).sum((-2, -1)) - prob.y)  # noqa: E731
    h = 1e-6
    fd = (gfun(U + h * D) - gfun(U - h * D)) / (2 * h)
    assert torch.allclose(J @ D.reshape(-1), fd, rtol=1e-6, atol=1e-6)
    for k in (1, 2, 3):
        Uk = torch.randn(5, k, generator=g, dtype=torch.float64) @ torch.randn(k, 5, generator=g, dtype=torch.float64)
        assert licq(A, Uk)["rank"] == min(40, jacobian_rank_bound(5, k))
    assert jacobian_rank_bound(30, 2) == 59
    assert capture_rank(240, 30) == pytest.approx(2.3521, abs=1e-4)


# -- Fig. 4 --------------------------------------------------------------------------------------------


def test_toy_torus_has_zero_training_error_and_contains_the_planted_orbit():
    for seed in range(5):
        toy = toy_problem(seed)
        assert toy_violation(toy, toy_manifold(toy, 30, 30)) < 1e-12
        a = 0.7
        U = np.array([[toy.x[0] * np.cos(a), toy.x[0] * np.sin(a)], [toy.x[1] * np.cos(a), toy.x[1] * np.sin(a)]])
        assert np.allclose(toy.measure(U), toy.b)


# -- metrics -------------------------------------------------------------------------------------------


def test_numerical_rank_and_row_leakage():
    Q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    s = torch.tensor([1.0, 1e-3, 1e-9, 1e-12, 0.0, 0.0], dtype=torch.float64)
    U = Q * s
    assert int(numerical_rank(U)) == 3 and NUMRANK_RTOL == 1e-10
    assert int(numerical_rank(U, rtol=1e-6)) == 2
    prob = _tiny()
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=2e-4, grad_scale=8.0),
                 init=op.init.low_rank(rank=[2, 3, 6], norm=0.5), init_seed=[0, 1, 2], steps=300,
                 metrics=["eftekhari2021_numerical_rank", "eftekhari2021_row_leakage", "test_error_sq"])
    rk = res.trace.last("eftekhari2021_numerical_rank", 3)
    assert list(rk) == [2, 3, 6]
    assert float(np.nanmax(res.trace.columns["eftekhari2021_row_leakage"])) < 1e-12


# -- algorithms on tiny problems with known answers --------------------------------------------------------


def test_gd_from_a_rank_two_init_recovers_the_planted_matrix():
    prob = _tiny(d=6, m=60)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=2e-4, grad_scale=8.0),
                 init=op.init.low_rank(rank=2, norm=0.5), steps=4000, metrics=["test_error_sq", "train_error_sq"])
    assert res.final("test_error_sq")[0] < 1e-16


def test_fig3_literal_setting_diverges_and_is_reported():
    spec = example.fig3_literal_specs(True)[0].with_overrides(steps=5)
    res = execute(spec)
    assert set(res.status) == {"diverged"} and max(res.stop_step) <= 2


def test_restarts_literal_keeps_restarting_and_terminating_stops():
    """Algorithm 1 on a d = 12 instance of Example 1.1's kind: the printed test keeps firing on a good
    rank-2 run (ρ₀ keeps halving); the terminating extension recovers X♮."""
    def spec(mode):
        return RunSpec.parse({
            "problem": settings.problem(0, 0, m=100, d=12), "param": {"name": "symmetric"},
            "algorithm": {"name": "gd", "eta": 2e-5, "grad_scale": 8.0},
            "init": {"name": "low_rank", "rank": 12, "norm": 4.0}, "steps": 6000, "data_seed": 0,
            "metrics": ["train_error_sq", "test_error_sq"], "log": {"points": 30},
            "recipe": {"name": "restarts", "window": 100, "tau": 0.998, "rank_step": 3, "factor": 0.5,
                       "min_rank": 2, "mode": mode}})
    lit, term = execute(spec("literal")), execute(spec("terminating"))
    lit_r = [e for e in lit.events if e["kind"] == "restart"]
    term_r = [e for e in term.events if e["kind"] == "restart"]
    assert term_r[-1]["rank"] == 2 and sum(e["rank"] == 2 for e in term_r) == 1
    assert sum(e["rank"] == 2 for e in lit_r) >= 2  # r₀ = r reached, and the test still fires
    assert term.final("test_error_sq")[0] < 1e-8 < lit.final("test_error_sq")[0]


# -- specs ---------------------------------------------------------------------------------------------


def test_declared_figures_claims_and_settings():
    paper = papers()["eftekhari2021"]
    assert [f.id for f in paper.figures] == [f"eftekhari2021-fig{i}" for i in range(1, 6)] + ["eftekhari2021-capture"]
    assert [c.id for c in paper.claims] == [f"eftekhari2021-claim{i}" for i in range(1, 8)]
    for c in paper.claims:
        assert c.statement and c.paper_value and c.criterion
    for quick in (True, False):
        for item in (*paper.figures, *paper.claims):
            keys = [s.key() for s in item.specs(quick)]
            assert len(keys) == len(set(keys)), item.id
            for s in item.specs(quick):
                assert s.tags["paper"] == "eftekhari2021" and s.dtype == "float64"
                assert s.algorithm.params["grad_scale"] == 8.0
                assert s.problem.params["ensemble"] == "triu" and s.problem.params["normalization"] == "1/8"
    f2 = example.fig2_specs(False)[0]
    assert f2.algorithm.params["eta"] == 1e-4 and f2.init.params["norm"] == 1.0 and f2.steps == 20_000
    assert [r["init.rank"] for r in f2.replicas] == [2, 2, 2, 30, 30, 30]
    assert [r["init_seed"] for r in f2.replicas] == [0, 1, 2, 0, 1, 2]
    lit, stable = example.fig3_specs(False)
    assert lit.algorithm.params["eta"] == 1e-4 and stable.algorithm.params["eta"] == example.ETA_STABLE
    assert lit.problem == stable.problem and lit.init == stable.init and lit.replicas == stable.replicas
    gd, literal, term = restarts.fig5_specs(False)
    assert gd.recipe is None and gd.init == literal.init == term.init and gd.problem == literal.problem
    assert gd.problem.params["truth_seed"] == settings.FRESH_SEED != settings.TRUTH_SEED
    assert literal.recipe.params == {"window": 100, "tau": 0.998, "rank_step": 3, "factor": 0.5, "min_rank": 2,
                                     "mode": "literal", "history": "literal"}
    assert term.recipe.params["mode"] == "terminating"
    assert gd.algorithm.params["eta"] == 5e-6 and gd.init.params == {"rank": 30, "norm": 10.0, "spectrum": "gaussian"}
    _, claims, _ = resolve_targets(["eftekhari2021-fig5"])
    assert {c.id for c in claims} == {"eftekhari2021-claim4"}


def test_claim5_exact_arithmetic_keeps_the_rank_and_a_rank_one_init_cannot_fit_x():
    """Lemma C.1 in emulated exact arithmetic: the full GD step never leaves row(U₀), the iterate keeps
    rank r₀, and a rank-1 iterate ends no closer to the rank-2 X♮ than its best rank-1 fit (λ₂²)."""
    from overparam.papers.eftekhari2021.computations import factored_gd

    params = {k: v for k, v in settings.problem(d=6, m=48).items() if k != "name"}
    res = factored_gd(params=params, data_seed=0, ranks=[1, 2], trials=2, norm=1.0, eta=2e-3, grad_scale=8.0,
                      steps=400, check_every=1, seed=0)
    prob = op.registry.get("problem", "matrix_sensing")(**params, data_seed=0, dtype="float64", device="cpu")
    lam2 = float(torch.linalg.eigvalsh(prob.truth())[-2])
    for r0, rows in res.items():
        for row in rows:
            assert row["max_step_leakage"] <= 1e-12
            assert row["rank_exact"] <= int(r0)
    assert all(row["test_error_exact"] >= lam2 ** 2 * (1 - 1e-9) for row in res["1"])
    assert all(row["test_error_exact"] < 1e-3 * lam2 ** 2 for row in res["2"])


def test_claim5_tests_the_lemma_and_claim7_reports_the_float64_growth_apart():
    from overparam.papers.eftekhari2021 import ranks

    assert ranks.claim5.kind == "theorem" and ranks.claim7.kind == "extension"
    assert ranks.claim5.computations(True) and not ranks.claim5.specs(True)
    assert len({c.settings["data_seed"] for c in ranks.exact_computations(True)}) >= 3
    inc = {"r0 < rank X♮": 2, "r0 ≥ rank X♮": 0}
    leak = {"r0 < rank X♮": 0.6, "r0 ≥ rank X♮": 1e-15}
    assert ranks.float64_verdict(inc, leak, 1e-8) == "reproduced"  # the rank-1 growth is the finding
    assert ranks.float64_verdict({**inc, "r0 ≥ rank X♮": 1}, leak, 1e-8) == "not reproduced"
    assert ranks.float64_verdict({**inc, "r0 < rank X♮": 0}, leak, 1e-8) == "partly reproduced"


def test_claim6_spans_five_data_seeds_and_declares_the_recovered_range():
    assert capture.capture_specs(True)[0].key() == capture.claim6_specs(True)[0].key()  # the figure's runs kept
    seeds = {s.data_seed: s.problem.params["truth_seed"] for s in capture.claim6_specs(True)}
    assert set(seeds) == {0, 1, 2, 3, 4} and all(seeds[s] == s for s in (1, 2, 3, 4))
    t = capture.claim6.thresholds["recovered"]
    assert t.low <= 1e-10 and t.high >= 1e-4 and t.value == 1e-8
    assert "1e-4" in capture.claim6.criterion


def test_claims_1_to_4_span_several_data_seeds_and_the_figures_keep_their_runs():
    """Claims 1–3 read Example 1.1's figures on data seeds 0–4 (X♮ and 𝒜 drawn from the seed), claim 4
    Fig. 5 on three fresh seeds; each figure's own runs are those of its first seed, unchanged."""
    for claim, fig, n in ((example.claim1, None, 3), (example.claim2, example.fig2_specs, 1),
                          (example.claim3, example.fig3_specs, 2), (restarts.claim4, restarts.fig5_specs, 3)):
        specs = claim.specs(True)
        seeds = {s.data_seed for s in specs}
        assert len(seeds) >= 3 and all(s.problem.params["truth_seed"] == s.data_seed for s in specs), claim.id
        if fig is not None:
            assert {s.key() for s in fig(True)} <= {s.key() for s in specs}
            assert len(specs) == n * len(seeds)
        assert "data seeds" in claim.criterion or "instances" in claim.criterion
    assert len(example.claim1.specs(True)) == 3 * 5


def test_claim1_separation_is_judged_seed_by_seed():
    """A norm is 'separated' only when every data seed separates its own trials: pooled trials that overlap
    across seeds do not matter, one seed that overlaps does."""
    import pandas as pd

    def df(rank2, rank30):
        rows = [{"data_seed": s, "rank": r, "trial": t, "test_error_sq": v}
                for s, (a, b) in enumerate(zip(rank2, rank30, strict=True))
                for r, vals in ((2, a), (30, b)) for t, v in enumerate(vals)]
        return pd.DataFrame(rows)

    ok = example._by_seed(df([[1e-3, 2e-3], [1e-1, 2e-1]], [[1e-2, 2e-2], [1.0, 2.0]]), "test_error_sq")
    assert all(t[2].max() < t[30].min() for t in ok.values())  # seed 1's rank 2 is above seed 0's rank 30: fine
    bad = example._by_seed(df([[1e-3, 3e-2], [1e-1, 2e-1]], [[1e-2, 2e-2], [1.0, 2.0]]), "test_error_sq")
    assert not all(t[2].max() < t[30].min() for t in bad.values())


# -- end to end on shrunken budgets ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shrunk(tmp_path_factory):
    """`overparam reproduce eftekhari2021` (full-mode code path: 14-rank sweep, K of Fig. 5) with every
    budget shrunk so that it runs in seconds."""
    mp = pytest.MonkeyPatch()
    for mod in (example, capture):
        mp.setattr(mod, "steps", lambda quick: 200)
    mp.setattr(restarts, "steps", lambda quick: 500)
    mp.setattr(example, "CLAIM_SEEDS", (0, 1))  # two data seeds: the per-seed path at a third less cost
    mp.setattr(restarts, "CLAIM4_SEEDS", {True: (1,), False: (1,)})  # Fig. 5's seed alone: its runs are the costly ones
    mp.setattr(capture, "CLAIM6_SEEDS", (0, 1, 2))  # three of the capture sweep's five data seeds: the test's cost
    root = tmp_path_factory.mktemp("e2021")
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "eftekhari2021", "--store", str(root / "s"), "--out", str(root / "o"), "--workers", "1",
              "--quiet"])
    mp.undo()
    return exc.value.code, root


def test_shrunk_reproduction_draws_every_figure_and_checks_every_claim(shrunk):
    code, root = shrunk
    assert code == 0
    for fig in [f"fig{i}" for i in range(1, 6)] + ["capture"]:
        assert (root / "o" / f"eftekhari2021-{fig}.png").stat().st_size > 10_000
        assert (root / "o" / f"eftekhari2021-{fig}.pdf").exists()
    data = json.loads((root / "o" / "claims.json").read_text())
    claims = {c["id"]: c for c in data["claims"]}
    assert set(claims) == {f"eftekhari2021-claim{i}" for i in range(1, 8)}
    for c in claims.values():
        assert c["verdict"] in VERDICTS and c["measured"] and c["criterion"] and c["note"]
    c3 = claims["eftekhari2021-claim3"]["measured"]
    assert c3["literal η = 1e-4: statuses"] == ["diverged"]
    c4 = claims["eftekhari2021-claim4"]["measured"]
    assert all(n >= 1 for n in c4["literal: restarts (trials)"])
