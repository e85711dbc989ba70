"""001 (Rajaraman, Devvrit, Mokhtari, Ramchandran 2023): the losses with their constants, the gradient of
L + λR_β against finite differences and the closed form, Lanczos against dense eigenvalues, Algorithm 1
(recipe) on tiny problems with known answers, the paper's metrics, its declarations, and (slow) the
whole quick reproduction."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import overparam as op
from overparam.experiments import RunSpec
from overparam.experiments.execute import execute
from overparam.objective import Objective
from overparam.papers import papers, resolve_targets
from overparam.papers.rajaraman2023 import fig1, fig2, sensitivity
from overparam.papers.rajaraman2023.algorithm import algorithm1, hessian_min_eig, lanczos_extremes
from overparam.papers.rajaraman2023.common import frac_at_least
from overparam.papers.rajaraman2023.settings import (
    NO_PRUNE,
    pipeline_spec,
    population_problem,
    sensing_problem,
)
from overparam.papers.rajaraman2023.theory import (
    implied_constants,
    noise_floors,
    population_loss,
    theory_parameters,
)
from overparam.registry import get


def _problem(table, seed=0):
    t = dict(table)
    name = t.pop("name")
    return get("problem", name)(**t, data_seed=seed, dtype="float64")


def _objective(prob, lam, beta, k):
    param = op.params.Symmetric(k=k)
    reg = get("regularizer", "group_lasso")(lam=lam, beta=beta).bind(1, prob.device, prob.dtype, param)
    return Objective(prob, param, reg)


def test_population_loss_is_exactly_the_frobenius_error_and_truth_has_unit_spectral_norm():
    prob = _problem(population_problem(6, 2))
    U = torch.randn(1, 6, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    obj = Objective(prob, op.params.Symmetric(k=4))
    Xs = prob.X_star
    assert float(torch.linalg.matrix_norm(Xs, ord=2)) == pytest.approx(1.0, rel=1e-12)
    want = float(((U[0] @ U[0].T - Xs) ** 2).sum())
    assert float(obj.evaluate((U,)).loss[0]) == pytest.approx(want, rel=1e-12)


def test_empirical_loss_is_eq1_with_symmetrized_unit_variance_measurements():
    prob = _problem(sensing_problem(5, 2, 40, noise=0.1))
    A = prob.operator.dense_matrix()  # (m, d, d) symmetric A_i
    U = torch.randn(1, 5, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    X = U[0] @ U[0].T
    res = torch.einsum("mij,ij->m", A.reshape(40, 5, 5), X) - prob.y
    obj = Objective(prob, op.params.Symmetric(k=3))
    assert float(obj.evaluate((U,)).loss[0]) == pytest.approx(float((res**2).mean()), rel=1e-12)
    Asq = A.reshape(40, 5, 5)
    assert torch.allclose(Asq, Asq.transpose(1, 2))


def test_gradient_of_loss_plus_group_lasso_matches_closed_form_and_finite_differences():
    """∇(‖UUᵀ − X⋆‖² + λR_β) = 4(UUᵀ − X⋆)U + λ U D, D_ii = (‖u_i‖² + 2β)/(‖u_i‖² + β)^{3/2} (Lemmas 39, 42)."""
    prob = _problem(population_problem(5, 2))
    lam, beta = 0.3, 0.05
    obj = _objective(prob, lam, beta, 4)
    U = torch.randn(1, 5, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    U[0, :, 3] *= 1e-2  # one small column (the weight-decay regime)
    g = obj.evaluate((U,)).grad[0][0]
    a = (U[0] ** 2).sum(0)
    D = (a + 2 * beta) / (a + beta) ** 1.5
    closed = 4 * (U[0] @ U[0].T - prob.X_star) @ U[0] + lam * U[0] * D
    assert torch.allclose(g, closed, atol=1e-12)
    V = torch.randn_like(U)
    h = 1e-6
    fd = (obj.evaluate((U + h * V,), grad=False).loss - obj.evaluate((U - h * V,), grad=False).loss) / (2 * h)
    assert float(fd[0]) == pytest.approx(float((g * V[0]).sum()), rel=1e-7)


def test_closed_form_population_loss_matches_the_dense_one():
    prob = _problem(population_problem(7, 2))
    U = torch.randn(2, 7, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    value, grad = population_loss(U, prob.truth_factors[0])
    ev = Objective(prob, op.params.Symmetric(k=5)).evaluate((U,))
    assert torch.allclose(value, ev.loss, rtol=1e-12)
    assert torch.allclose(grad, ev.grad[0], atol=1e-12)


def test_theory_parameters_and_implied_constants_invert_each_other():
    p = theory_parameters(0.6, 3, 20, c_beta=0.2, c_lambda=0.7)
    c = implied_constants(p["lam"], p["beta"], 0.6, 3, 20)
    assert c["c_beta"] == pytest.approx(0.2) and c["c_lambda"] == pytest.approx(0.7)
    assert noise_floors(0.1, 3, 20, 20, 100)["pruned"] == pytest.approx(0.006)


def test_lanczos_recovers_the_extreme_eigenvalues_of_a_known_matrix():
    g = torch.Generator().manual_seed(4)
    Q, _ = torch.linalg.qr(torch.randn(30, 30, generator=g, dtype=torch.float64))
    ev = torch.linspace(-2.0, 5.0, 30, dtype=torch.float64)
    A = Q @ torch.diag(ev) @ Q.T
    out = lanczos_extremes(lambda x: A @ x, 30, steps=30)
    assert out["lambda_min"] == pytest.approx(-2.0, abs=1e-10)
    assert out["lambda_max"] == pytest.approx(5.0, abs=1e-10)
    few = lanczos_extremes(lambda x: A @ x, 30, steps=12)
    assert few["lambda_min"] >= -2.0 - 1e-12  # a Ritz value is never below λ_min


def test_hessian_min_eig_matches_the_dense_hessian():
    prob = _problem(population_problem(4, 1))
    obj = _objective(prob, 0.1, 0.01, 3)
    U = torch.randn(1, 4, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 0.5

    def f(x):
        return obj.evaluate((x.reshape(1, 4, 3),), grad=False).loss[0]

    H = torch.autograd.functional.hessian(f, U.reshape(-1))
    dense = torch.linalg.eigvalsh(H)
    out = hessian_min_eig(obj, (U,), steps=12)
    assert out["lambda_min"] == pytest.approx(float(dense[0]), abs=1e-9)
    assert out["lambda_max"] == pytest.approx(float(dense[-1]), abs=1e-9)


def test_algorithm1_keeps_exactly_r_columns_and_fine_tunes_to_the_truth_on_a_tiny_population_problem():
    res = algorithm1(population_problem(8, 2), k=8, lam=[0.0, 0.05], beta=1e-2, eta=0.25, steps=1500,
                     finetune_steps=300, threshold=[NO_PRUNE, 0.2], init={"name": "gaussian", "scale": 1e-2},
                     lanczos_steps=20, metrics=("test_error_sq", "column_norms", "rajaraman2023.op_norm"))
    prune = {e["replica"]: e for e in res.events if e["kind"] == "prune"}
    sosp = {e["replica"]: e for e in res.events if e["kind"] == "sosp"}
    assert prune[0]["width"] == 8 and prune[1]["width"] == 2  # λ = 0: nothing pruned; λ > 0: exactly r
    assert prune[1]["step"] == 1500 and len(prune[1]["norms"]) == 8
    assert sosp[1]["op_norm"] <= 3 and "lambda_min" in sosp[1] and sosp[1]["grad_norm"] < 1e-2
    err = res.final("test_error_sq")
    assert err[1] < 1e-20  # the pruned d×r model converges to X⋆
    assert err[0] > 1e-8  # the unpruned small-init run keeps its bias
    tr = res.trace.to_frame()
    assert set(tr["stage"]) == {0, 1}
    assert res.theta_list[1][0].shape == (8, 2)


def test_algorithm1_trains_with_perturbed_gd_and_fine_tunes_with_plain_gd():
    res = algorithm1(population_problem(6, 1), k=4, lam=0.05, beta=1e-2, eta=0.25, steps=600, finetune_steps=100,
                     init={"name": "gaussian", "scale": 1e-3}, lanczos_steps=0,
                     perturbed={"radius": 1e-3, "g_thres": 1e-3, "escape_time": 50, "f_thres": 1e-12})
    widths = [e["width"] for e in res.events if e["kind"] == "prune"]
    assert widths == [1]
    assert res.final("test_error_sq")[0] < 1e-12


def test_algorithm1_is_prune_finetune_with_the_sosp_hook_and_gives_its_numbers():
    """One pipeline: Algorithm 1 is the built-in ``prune_finetune`` (fine-tuning with plain GD) plus the
    SOSP-certificate hook; the two recipes give the same trace, θ and prune events bit for bit, and
    Algorithm 1 adds one ``sosp`` event per replica before the prune."""
    from overparam.papers.rajaraman2023.algorithm import Algorithm1
    from overparam.recipes import PruneFinetune

    assert issubclass(Algorithm1, PruneFinetune) and "__call__" not in vars(Algorithm1)
    spec = pipeline_spec(sensing_problem(6, 1, 30), k=6, lams=[0.0, 0.02, 0.05], betas=[1e-3, 1e-3, 2e-3],
                         alphas=1e-2, eta=0.4, steps=300, finetune_steps=60, figure="t", lanczos_steps=6,
                         metrics=("test_error_sq", "column_norms"))
    data = spec.model_dump(mode="python")
    data["recipe"] = {"name": "prune_finetune", "finetune_steps": 60, "finetune_algorithm": "gd",
                      "threshold": spec.recipe.params["threshold"]}
    plain = RunSpec.parse(data)
    a, b = execute(spec), execute(plain)
    pd.testing.assert_frame_equal(a.trace.to_frame(), b.trace.to_frame(), check_exact=True)
    assert all(torch.equal(x, y) for ta, tb in zip(a.theta_list, b.theta_list, strict=True)
               for x, y in zip(ta, tb, strict=True))
    assert [e for e in a.events if e["kind"] != "sosp"] == b.events
    sosp = {e["replica"]: e for e in a.events if e["kind"] == "sosp"}
    assert sorted(sosp) == [0, 1, 2] and not any(e["kind"] == "sosp" for e in b.events)


def test_same_spec_gives_the_same_numbers():
    spec = pipeline_spec(sensing_problem(6, 1, 30), k=6, lams=[0.0, 0.02], betas=1e-3, alphas=1e-2, eta=0.4,
                         steps=200, finetune_steps=50, figure="t", lanczos_steps=5)
    a, b = execute(spec), execute(spec)
    assert np.array_equal(a.final("test_error_sq"), b.final("test_error_sq"))
    assert [e for e in a.events if e["kind"] == "sosp"] == [e for e in b.events if e["kind"] == "sosp"]


def test_paper_metrics_on_hand_made_factors():
    prob = _problem(population_problem(3, 1))
    U = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 1.0, 0.01], [0.0, 0.0, 0.0]]], dtype=torch.float64)
    snap = op.metrics.Snapshot(0, (U,), Objective(prob, op.params.Symmetric(k=3)))
    assert float(get("metric", "rajaraman2023.max_cos")(snap)[0]) == pytest.approx(1 / math.sqrt(2))
    assert float(get("metric", "rajaraman2023.op_norm")(snap)[0]) == pytest.approx(
        float(torch.linalg.matrix_norm(U[0], ord=2)))
    assert list(frac_at_least([1.0, 0.5, 0.2, 0.0], [0.0, 0.5, 0.9])) == [1.0, 0.5, 0.25]


def test_every_figure_and_claim_is_declared_with_specs_in_both_modes():
    paper = papers()["rajaraman2023"]
    assert [f.id for f in paper.figures] == ["rajaraman2023-fig1", "rajaraman2023-fig2", "rajaraman2023-sensitivity"]
    assert [c.id for c in paper.claims] == [f"rajaraman2023-claim{i}" for i in range(1, 7)]
    for quick in (True, False):
        for item in (*paper.figures, *paper.claims):
            specs = item.specs(quick)
            keys = [s.key() for s in specs]
            assert len(keys) == len(set(keys)), item.id
            for s in specs:
                assert s.dtype == "float64" and s.recipe.name == "rajaraman2023.algorithm1"
    full = fig1.fig1_specs(False)[0]
    assert full.problem.params["d1"] == 500 and full.param.params["k"] == 500 and full.problem.params["r"] == 4
    f2 = fig2.fig2_specs(False)
    assert {(s.problem.params["d"], s.problem.params["m"], s.param.params["k"]) for s in f2} == {(20, 100, 20)}
    assert {s.problem.params["noise"] for s in f2} == {0.0, 0.1} and len(f2) == 20
    _, claims, _ = resolve_targets(["rajaraman2023-fig2"])
    assert {c.id for c in claims} == {"rajaraman2023-claim3", "rajaraman2023-claim4", "rajaraman2023-claim5"}


def test_lambda_c_is_the_weight_decay_balance():
    # 4μ = 2λ/√β at λ = λ_c
    mu, beta = 0.4, 1e-2
    lc = sensitivity.lambda_c(mu, beta)
    assert 4 * mu == pytest.approx(2 * lc / math.sqrt(beta))


@pytest.mark.slow
def test_quick_reproduction_end_to_end(tmp_path):
    from overparam.reproduce import reproduce

    res = reproduce("rajaraman2023", quick=True, store=tmp_path / "s", out=tmp_path / "o", executor="pool", workers=2)
    assert len(res.claims) == 6
    assert {c.verdict for c in res.claims} <= {"reproduced", "partly reproduced", "not reproduced", "inconclusive"}
    for fig in ("rajaraman2023-fig1", "rajaraman2023-fig2", "rajaraman2023-sensitivity"):
        assert (tmp_path / "o" / f"{fig}.png").is_file()


def test_claim1_reports_the_noisy_runs_it_excludes(tmp_path, monkeypatch, capsys):
    """Claim 1 on a tiny setting (population d = k = 20, 2 init seeds; Fig. 2's data seeds 0 and 2): the
    verdict counts the population and noiseless seeds only, and the criterion and the measurements name
    Fig. 2's noisy runs (outside Thm 4's sample bound at n = 100) with their kept columns."""
    import json

    from overparam.cli import main
    from overparam.papers.rajaraman2023 import fig1, fig2

    monkeypatch.setattr(fig1, "_d", lambda quick: 20)
    monkeypatch.setattr(fig1, "_claim1_d", lambda quick: 20)
    monkeypatch.setattr(fig1, "CLAIM1_SEEDS", [0, 1])
    monkeypatch.setattr(fig1, "STEPS", 1500)
    # claim 2 reads Fig. 1 too: its own seeds are not needed here
    monkeypatch.setattr(fig1, "CLAIM2_SEEDS", {True: [0], False: [0]})
    monkeypatch.setattr(fig2, "SEEDS", [0, 2])
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "rajaraman2023-fig1", "rajaraman2023-claim1", "--quick", "--store",
              str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--workers", "1", "--quiet"])
    assert exc.value.code == 0, capsys.readouterr().err
    (c,) = [c for c in json.loads((tmp_path / "o" / "claims.json").read_text())["claims"]
            if c["id"] == "rajaraman2023-claim1"]
    assert "noisy runs" in c["criterion"] and "excluded" in c["criterion"] and c["criterion_revised"]
    m = c["measured"]
    noisy = next(v for k, v in m.items() if k.startswith("noisy finite sample"))
    assert len(noisy) == 2 and all(isinstance(w, (int, float)) for w in noisy)
    assert m["noisy: seeds keeping more than r"] == sum(w > fig2.R_TRUE for w in noisy)
    assert m["noisy: seeds keeping fewer than r"] == sum(w < fig2.R_TRUE for w in noisy)
    judged = m["population d=k=20, r=4: kept columns per init seed"] + \
        m["finite sample d=k=20, r=3, n=100: kept columns per data seed"]
    assert m["share of seeds with exactly r"] == pytest.approx(
        (sum(w == 4 for w in judged[:2]) + sum(w == 3 for w in judged[2:])) / len(judged))
    assert f"{m['noisy: seeds keeping more than r']} of 2 seeds keep more than r" in c["note"]


def test_claim2_judges_three_data_seeds_and_the_worst_decides(tmp_path, monkeypatch):
    """Claim 2 on a tiny setting (population d = k = 8, 150 steps): Fig. 1's run on data seed 0 and the
    claim's own runs on seeds 1, 2; the verdict is the worst seed's and is evaluated per seed."""
    from overparam.experiments.store import Store
    from overparam.papers.base import Context

    monkeypatch.setattr(fig1, "_d", lambda quick: 8)
    monkeypatch.setattr(fig1, "_claim1_d", lambda quick: 8)
    monkeypatch.setattr(fig1, "STEPS", 150)
    monkeypatch.setattr(fig1, "FINETUNE", 5)
    monkeypatch.setattr(fig1, "CLAIM2_SEEDS", {True: [0, 1, 2], False: [0, 1, 2]})  # three of the five: the test's cost
    store = Store(tmp_path / "s")
    specs = fig1.claim2_specs(True)
    assert sorted(s.data_seed for s in specs) == [0, 1, 2]
    for spec in specs:
        store.save(spec, execute(spec))
    c = fig1.claim2.check(Context(store=store, quick=True))
    per_seed = c.measured["verdict per data seed"]
    assert sorted(per_seed) == [0, 1, 2] and c.stability["seeds"] == 3
    order = ("not reproduced", "partly reproduced", "reproduced")
    assert c.stability["verdicts"]["nominal"] == next(v for v in order if v in per_seed.values())
    assert all(c.stability["verdicts"][f"seed {s}"] == v for s, v in per_seed.items())


def test_claim4_is_an_extension_judged_where_n_is_at_least_5kd():
    """§5.1 predicts no ratio: claim 4 is ours, judged on the direction in the n ≥ 5kd regime."""
    c = fig2.claim4
    assert c.kind == "extension" and "[23]" in c.source["quote"] and c.criterion_revised
    for quick in (True, False):
        w = fig2.wide_sizes(quick)
        assert w["ks"][0] == w["r"] and all(w["n"] >= 5 * k * w["d"] for k in w["ks"])
        specs = fig2.wide_specs(quick)
        assert {s.data_seed for s in specs} == set(fig2.WIDE_SEEDS) and len(fig2.WIDE_SEEDS) >= 3
        assert {s.problem.params["m"] for s in specs} == {w["n"]}
        assert {s.problem.params["noise"] for s in specs} == {fig2.NOISE}
    v = fig2.wide_verdict
    flat = {3: 1e-3, 5: 1e-3, 10: 1e-3}
    assert v({3: 1e-3, 5: 1.5e-3, 10: 2e-3}, {3: 1e-3, 5: 1.5e-3, 10: 2e-3}, growth=1.25, converged=0.02) == "reproduced"
    assert v({3: 1e-3, 5: 1.1e-3, 10: 1.2e-3}, {3: 1e-3, 5: 1.1e-3, 10: 1.2e-3}, growth=1.25,
             converged=0.02) == "partly reproduced"
    assert v(flat, flat, growth=1.25, converged=0.02) == "not reproduced"
    assert v({3: 1e-3, 10: 2e-3}, {3: 1e-3, 10: 2.2e-3}, growth=1.25, converged=0.02) == "inconclusive"  # still moving


def test_final_train_loss_recomputes_the_vanilla_training_loss(tmp_path):
    """Claim 4 reports vanilla's training loss against σ² (interpolation) from the stored U: it equals the
    loss the run recorded at its last step (λ = 0 replica: no penalty)."""
    from overparam.experiments.store import Store
    from overparam.papers.base import Context

    spec = pipeline_spec(sensing_problem(6, 1, 30, 0.1), k=4, lams=[0.0, 0.02], betas=1e-3, alphas=1e-2, eta=0.4,
                         steps=150, finetune_steps=50, figure="t", metrics=("loss", "test_error_sq"), log_points=10)
    store = Store(tmp_path / "s")
    store.save(spec, execute(spec))
    ctx = Context(store=store, quick=True)
    rows = store.load(spec.key()).trace()
    last = rows[rows["replica"] == 0].sort_values("step")["loss"].iloc[-1]
    assert fig2.final_train_loss(ctx, spec, 0) == pytest.approx(float(last), rel=1e-9)


def test_claim6_judges_three_data_seeds_on_the_zone_half_of_the_grid():
    specs = sensitivity.claim6_specs(True)
    assert [s.data_seed for s in specs] == [0, 1, 2, 3, 4] and specs[0] == sensitivity.sensitivity_specs(True)[0]
    assert all({r["init.scale"] for r in s.replicas} == {sensitivity.ALPHAS[0]} for s in specs[1:])
    lam = sensitivity.LAMS  # 0.005 … 0.32
    bv = sensitivity.boundary_verdict
    assert bv(lam, [4, 3, 3, 3, 0, 0, 0], lc=0.038, margin=1.5) == (True, True)
    assert bv(lam, [4, 3, 3, 2, 0, 0, 0], lc=0.038, margin=1.5) == (True, True)       # 0.04 lies inside the margin
    assert bv(lam, [4, 3, 2, 2, 0, 0, 0], lc=0.038, margin=1.5) == (False, True)      # 0.02 ≤ λ_c/1.5 loses one
    assert bv(lam, [3, 3, 3, 3, 3, 3, 3], lc=0.038, margin=1.5) == (False, False)     # never loses a direction
