"""004 (Ma, Liang, Fattahi 2025): regions, projections, distances, deviation rates, the Γ diagnostic,
and the quick reproduction (one module-scoped reproduce; the claims' verdicts are reported, not asserted)."""

from __future__ import annotations

import math

import pytest
import torch

import overparam as op
from overparam.objective import Objective
from overparam.papers.ma2025 import regions as R
from overparam.papers.ma2025.problems import sparse_beta

torch.set_default_dtype(torch.float64)


def _sensing(symmetric=True, d=6, m=60, seed=0):
    return op.registry.get("problem", "ma2025_sensing")(d=d, m=m, symmetric=symmetric, data_seed=seed)


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# -- projections -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,shapes", [("symmetric", [(3, 6, 5)]), ("asymmetric", [(3, 6, 5), (3, 4, 5)]),
                                         ("uv", [(3, 9), (3, 9)]), ("uu-vv", [(3, 9), (3, 9)])])
def test_projection_is_idempotent_and_nearest(kind, shapes):
    r = 3
    theta = tuple(_rand(*s, seed=i) for i, s in enumerate(shapes))
    s = R.project(kind, theta, r)
    s2 = R.project(kind, s, r)
    for a, b in zip(s, s2, strict=True):
        assert torch.allclose(a, b, atol=1e-12)
    d_proj = R.flat_norm(tuple(p - q for p, q in zip(theta, s, strict=True)))
    for k in range(30):  # no random point of M (a projection of a random point) is nearer
        other = R.project(kind, tuple(q + 0.3 * _rand(*q.shape, seed=100 + k) for q in s), r)
        d_other = R.flat_norm(tuple(p - q for p, q in zip(theta, other, strict=True)))
        assert bool((d_proj <= d_other + 1e-12).all())


def test_sparse_projection_membership():
    u, v = _rand(2, 9, seed=1), _rand(2, 9, seed=2)
    su, sv = R.project("uv", (u, v), 3)
    assert torch.allclose(su.abs(), sv.abs()) and int((su != 0).sum(-1).max()) <= 3
    su, sv = R.project("uu-vv", (u, v), 3)
    assert float((su * sv).abs().max()) == 0.0 and int(((su != 0) | (sv != 0)).sum(-1).max()) <= 3


@pytest.mark.parametrize("symmetric", [True, False])
def test_low_rank_regions_are_closed_under_gd(symmetric):
    """Assumption 1: x ∈ M ⇒ x − η∇f(x) ∈ M (rank of U, or of the stacked [U; V], stays ≤ r)."""
    prob = _sensing(symmetric)
    param = op.params.Symmetric(k=5) if symmetric else op.params.Asymmetric(k=5)
    kind = "symmetric" if symmetric else "asymmetric"
    theta = R.project(kind, tuple(_rand(1, *s, seed=i) for i, s in enumerate(param.shapes(prob.shape))), 3)
    obj = Objective(prob, param)
    g = obj.evaluate(theta).grad
    new = tuple(p - 0.2 * q for p, q in zip(theta, g, strict=True))
    _, res = R.signal_residual(kind, new, 3)
    assert float(R.flat_norm(res)) < 1e-12


def test_hadamard_regions_are_closed_under_gd():
    prob = op.registry.get("problem", "ma2025_sparse")(n=30, d=12, k=3)
    for kind in ("uv", "uu-vv"):
        param = op.params.Hadamard(kind=kind)
        theta = R.project(kind, (_rand(1, 12, seed=3), _rand(1, 12, seed=4)), 3)
        g = Objective(prob, param).evaluate(theta).grad
        new = tuple(p - 0.1 * q for p, q in zip(theta, g, strict=True))
        assert float(R.flat_norm(R.signal_residual(kind, new, 3)[1])) < 1e-12


# -- distances to the solution set ---------------------------------------------------------------------


def test_symmetric_distance_is_zero_on_the_solution_orbit_and_exact_nearby():
    prob = _sensing(True)
    Us = R.low_rank_truth_factor(prob, "symmetric", 5)
    Q, _ = torch.linalg.qr(_rand(5, 5, seed=5))
    U = (Us @ Q).unsqueeze(0)
    assert float(R.solution_distance("symmetric", (U,), prob)) < 1e-12
    E = 1e-9 * _rand(1, 6, 5, seed=6)  # resolves distances far below √eps (no cancellation)
    got = float(R.solution_distance("symmetric", (U + E,), prob))
    assert 0 < got <= float(E.norm()) * (1 + 1e-6)


def test_asymmetric_distance_is_zero_on_unbalanced_solutions_and_matches_residual():
    prob = _sensing(False)
    X = prob.truth()
    P, s, Qh = torch.linalg.svd(X)
    G = torch.tensor([[2.0, 0.3, 0.0], [0.0, 0.7, 0.1], [0.0, 0.0, 1.5]])  # an unbalanced GL(3) factor
    U = torch.cat([P[:, :3] * s[:3].sqrt() @ G, torch.zeros(6, 2)], 1).unsqueeze(0)
    V = torch.cat([Qh[:3].T * s[:3].sqrt() @ torch.linalg.inv(G).T, torch.zeros(6, 2)], 1).unsqueeze(0)
    assert float(R.solution_distance("asymmetric", (U, V), prob)) < 1e-10
    # a residual orthogonal to the row space (column 5) gives distance = residual to first order
    U2, V2 = U.clone(), V.clone()
    U2[0, 0, 4] = 1e-6
    V2[0, 1, 4] = 2e-6
    d = float(R.solution_distance("asymmetric", (U2, V2), prob))
    res = float(R.flat_norm(R.signal_residual("asymmetric", (U2, V2), 3)[1]))
    assert abs(d - res) / res < 1e-4


def test_sparse_distance():
    beta = torch.tensor(sparse_beta(5) + [0.0, 0.0])
    assert sparse_beta(5) == [1.0, -0.8, 0.6, -0.4, 0.2]
    a = beta.abs().sqrt()
    u = torch.where(beta > 0, a, 0.0).unsqueeze(0)
    v = torch.where(beta < 0, -a, 0.0).unsqueeze(0)
    assert float(R.sparse_solution_distance("uu-vv", u, v, beta)) < 1e-15
    uu, vv = a.clone().unsqueeze(0), (torch.sign(beta) * a).unsqueeze(0)
    assert float(R.sparse_solution_distance("uv", -uu, -vv, beta)) < 1e-15


# -- Hessians and deviation rates ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sensing_sym", "sensing_asym", "completion", "one_bit", "sparse"])
def test_dense_hessian_matches_finite_differences(name):
    if name.startswith("sensing"):
        prob = _sensing(name == "sensing_sym", d=4, m=30)
        param = op.params.Symmetric(k=3) if name == "sensing_sym" else op.params.Asymmetric(k=3)
    elif name == "completion":
        prob = op.registry.get("problem", "ma2025_completion")(d=5, p=0.6, symmetric=True)
        param = op.params.Symmetric(k=3)
    elif name == "one_bit":
        prob = op.registry.get("problem", "ma2025_one_bit")(d=4, symmetric=False)
        param = op.params.Asymmetric(k=3)
    else:
        prob = op.registry.get("problem", "ma2025_sparse")(n=20, d=8, k=3)
        param = op.params.Hadamard(kind="uu-vv")
    obj = Objective(prob, param)
    theta = tuple(0.5 * _rand(2, *s, seed=i) for i, s in enumerate(param.shapes(prob.shape)))
    H = R.dense_hessians(obj, theta)
    D = H.shape[-1]
    assert torch.allclose(H, H.mT)
    v = [0.7 * _rand(2, *p.shape[1:], seed=10 + i) for i, p in enumerate(theta)]
    vflat = torch.cat([x.flatten(1) for x in v], -1)
    h = 1e-5
    gp = obj.evaluate(tuple(p + h * x for p, x in zip(theta, v, strict=True))).grad
    gm = obj.evaluate(tuple(p - h * x for p, x in zip(theta, v, strict=True))).grad
    fd = torch.cat([((a - b) / (2 * h)).flatten(1) for a, b in zip(gp, gm, strict=True)], -1)
    assert fd.shape[-1] == D
    assert torch.allclose((H @ vflat.unsqueeze(-1)).squeeze(-1), fd, atol=1e-6, rtol=1e-6)


def test_deviation_rates_identities():
    """γ₋, γ₊ ≥ 0; γ₋ − γ₊ = −⟨r, ∇²f(s) r⟩/‖r‖² (one HVP at the signal); Prop. 1's one-step bound."""
    prob = _sensing(True)
    param = op.params.Symmetric(k=5)
    obj = Objective(prob, param)
    theta = (0.6 * _rand(2, 6, 5, seed=7),)
    rates = R.deviation_rates(obj, "symmetric", theta, 3)
    assert bool((rates.gamma_minus >= 0).all() and (rates.gamma_plus >= 0).all())
    s, res = R.signal_residual("symmetric", theta, 3)
    Hr = obj.hvp(s, res)[0]
    first = -(Hr * res[0]).flatten(1).sum(-1) / (res[0] * res[0]).flatten(1).sum(-1)
    assert torch.allclose(rates.first_order, first, atol=1e-10)
    assert torch.allclose(rates.gamma(), 1.5 * rates.gamma_minus - 0.5 * rates.gamma_plus)


def test_prop1_one_step_growth_on_a_small_residual():
    """‖r_{t+1}‖ ≤ (1 + ηγ(x_t))‖r_t‖ + O(‖r‖²) near M (Prop. 1, closure holds exactly here)."""
    prob = _sensing(True)
    param = op.params.Symmetric(k=5)
    obj = Objective(prob, param)
    base = R.project("symmetric", (0.6 * _rand(1, 6, 5, seed=8),), 3)[0]
    x = base + 1e-7 * _rand(1, 6, 5, seed=9)
    eta = 0.05
    rates = R.deviation_rates(obj, "symmetric", (x,), 3)
    new = x - eta * obj.evaluate((x,)).grad[0]
    r0 = float(rates.residual)
    r1 = float(R.flat_norm(R.signal_residual("symmetric", (new,), 3)[1]))
    assert r1 <= (1 + eta * float(rates.gamma())) * r0 * (1 + 1e-6)
    assert abs(math.log(r1 / r0) / eta - float(rates.first_order)) < 0.1 + eta * float(rates.gamma_plus) ** 2


# -- the algorithm and the diagnostic on a tiny problem with a known answer ------------------------------------


@pytest.fixture(scope="module")
def tiny_run():
    prob = _sensing(True, d=6, m=60)
    alg = op.registry.get("algorithm", "ipgd")(eta=0.2, radius=1e-12, g_thres=1e-5, escape_time=300, f_thres=1e-8)
    return op.run(prob, op.params.Symmetric(k=6), alg, init=op.init.zero(), steps=1500, algo_seed=[0, 1],
                  metrics=["ma2025_residual", "ma2025_dist", "ma2025_error", "ma2025_Gamma", "ma2025_Gamma1",
                           "ma2025_rsum", "ma2025_r0"])


def test_ipgd_recovers_and_the_diagnostics_bound_the_residual(tiny_run):
    res = tiny_run
    assert res.status == ["terminated", "terminated"]
    df = res.trace.to_frame()
    for i in (0, 1):
        rows = df[df["replica"] == i].sort_values("step")
        last = rows.iloc[-1]
        assert last["ma2025_error"] < 1e-3  # near X⋆ = VΣVᵀ: IPGD returns an ε-SOSP (‖∇f‖ ≤ g_thres)
        assert last["ma2025_dist"] >= last["ma2025_residual"] * (1 - 1e-9)  # 𝒳_M ⊂ M
        r0 = rows["ma2025_r0"].dropna().iloc[0]
        Gamma = rows["ma2025_Gamma"].iloc[-1]
        log_ratio = math.log(last["ma2025_residual"] / r0)
        assert 0 < log_ratio <= Gamma  # Eq. 127 with the ρ-term dropped
        assert 0.3 < log_ratio / Gamma < 1.0


def test_region_kind_refuses_other_params():
    with pytest.raises(ValueError):
        R.region_kind(op.params.Direct() if hasattr(op.params, "Direct") else object())


def test_claim2_has_the_budget_and_the_seeds_it_needs_and_names_the_distances():
    """Claim 2 reads its own runs: the full GD phase (600 steps left the signal error above ‖r_T‖) on
    3 data seeds, and its criterion states the distance the code computes per problem kind."""
    from overparam.papers.ma2025 import figures as F
    from overparam.papers.ma2025.settings import PLAIN_STEPS

    specs = F.claim2_specs(True)
    assert len({s.data_seed for s in specs}) >= 3
    assert all(s.component_params("recipe")["plain_steps"] >= PLAIN_STEPS for s in specs)
    assert all("ma2025_dist" in s.metrics and "ma2025_residual" in s.metrics for s in specs)
    c = F.claim2.criterion
    assert "Procrustes" in c and "Sylvester" in c and "coordinatewise" in c and "balanced solutions" not in c
    assert {s.key() for s in F.fig4_specs(True)}.isdisjoint(s.key() for s in specs)  # the figure's runs untouched


def test_claim1_runs_slight_over_parameterization_and_pgd_perturbs_through_its_budget():
    """Claim 1: r' = r + 1, r + 2 and d on five data seeds (three in quick mode); PGD never returns early (a perturbation whenever
    the gradient is small and none in the last T steps), IPGD keeps its termination; the figure is seed 0."""
    from overparam.papers.ma2025 import figures as F

    specs = F.claim1_specs(True)
    assert len({s.data_seed for s in specs}) >= 3 and len({s.data_seed for s in F.claim1_specs(False)}) >= 5
    assert {s.component_params("param")["k"] for s in specs} == {3, 4, 5, F.sensing_instance(True).param["k"]}
    for s in specs:
        alg = s.component_params("algorithm")
        assert alg["terminate"] is (s.tags["arm"] == "IPGD")
        assert (alg["radius"] > 1e-6) is (s.tags["arm"] == "PGD")
    assert {s.data_seed for s in F.fig2_specs(True)} == {0}
    assert {s.key() for s in F.fig2_specs(True)} <= {s.key() for s in specs}
    assert "r + 1" in F.claim1.criterion and "last T steps" in F.claim1.criterion


def test_pgd_without_termination_perturbs_again_and_again():
    """The PGD arm on a tiny instance: with ``terminate = False`` it keeps perturbing every time the
    gradient is small and T steps have passed (several perturbations, the whole budget run); with termination
    it stops at the first perturbation that buys no decrease."""
    prob = _sensing(True, d=5, m=40)
    kw = dict(eta=0.2, radius=1e-2, g_thres=1e-3, escape_time=60, f_thres=1e-8)
    alg = op.registry.get("algorithm", "ipgd")
    free = op.run(prob, op.params.Symmetric(k=5), alg(**kw, terminate=False), init=op.init.zero(), steps=600)
    stop = op.run(prob, op.params.Symmetric(k=5), alg(**kw), init=op.init.zero(), steps=600)
    n_free = sum(e["kind"] == "perturbation" for e in free.events)
    n_stop = sum(e["kind"] == "perturbation" for e in stop.events)
    assert free.status == ["completed"] and n_free >= 3
    assert stop.status == ["terminated"] and n_stop < n_free


def _summary(stage0, stage1, perts, terminated=True):
    """A synthetic :class:`ReplicaSummary` from (steps, dist) of each stage (residual 1e-11 throughout)."""
    import numpy as np
    import pandas as pd

    from overparam.papers.ma2025.analysis import ReplicaSummary

    rows = pd.concat([pd.DataFrame({"step": st, "stage": k, "ma2025_dist": v, "ma2025_residual": 1e-11})
                      for k, (st, v) in enumerate((stage0, stage1))], ignore_index=True)
    end0 = int(stage0[0][-1])
    return ReplicaSummary("x", 0, 1e-15, "terminated" if terminated else "budget", end0, int(stage1[0][-1]), perts,
                          1.0, 1e-11, float(stage1[1][-1]), 0.0, 0.0, 0.0, 0.0, np.array([]), rows)


def test_claim5_fits_the_distance_on_the_kept_path_down_to_ten_residuals():
    """IPGD descends linearly to its last perturbation at t = 400, wanders in the discarded window (up to
    t = 900) and GD continues the descent from t = 400's iterate: on the kept path the fit is a line
    (R² ≈ 1) ending at 10·‖r_T‖; over the raw trace it is not."""
    import numpy as np

    from overparam.papers.ma2025.analysis import floor_rate, kept_path

    rate = 0.02  # decades per step
    t0 = np.arange(0, 901, 10)
    d0 = np.where(t0 <= 400, 10 ** (-rate * t0), 10 ** (-rate * 400) * 10 ** (0.01 * (t0 - 400)))
    t1 = np.arange(900, 2001, 10)
    d1 = np.maximum(10 ** (-rate * (400 + t1 - 900)), 1e-11)
    rep = _summary((t0, d0), (t1, d1), [0, 400])
    path = kept_path(rep)
    assert np.all(np.diff(path["step"].to_numpy()) >= 0) and path["step"].max() == 400 + 1100
    fit = floor_rate(path, hi=0.1, factor=10)
    assert abs(fit[0] - 100 * rate) < 1e-6 and fit[1] > 0.999 and 8.9 < fit[2] < 9.3
    raw = floor_rate(rep.rows.sort_values("step"), hi=0.1, factor=10)
    assert raw[1] < 0.9
    assert kept_path(_summary((t0, d0), (t1, d1), [0, 400], terminated=False))["step"].max() == 2000


def test_claim4_fits_each_of_five_data_seeds_and_claim3_reads_three():
    from overparam.papers.ma2025 import figures as F

    specs = F.claim4_specs(True)
    assert sorted(s.data_seed for s in specs) == [0, 1, 2, 3, 4]
    assert specs[0].key() == F.radius_specs(True)[0].key()  # the figure's (and Fig. 6's) run is seed 0
    assert all("ma2025_Gamma" not in s.metrics for s in specs[1:])
    c3 = F.claim3_specs(True)
    assert len({s.data_seed for s in c3}) >= 3 and {s.key() for s in F.fig6_specs(True)} <= {s.key() for s in c3}


# -- the quick reproduction --------------------------------------------------------------------------------


@pytest.mark.slow
def test_quick_reproduce(tmp_path):
    from overparam.reproduce import reproduce

    res = reproduce(["ma2025"], quick=True, store=tmp_path / "s", out=tmp_path / "o", executor="serial")
    verdicts = {c.id: c.verdict for c in res.claims}
    assert set(verdicts) == {f"ma2025-claim{i}" for i in range(1, 6)}
    assert all(v in ("reproduced", "partly reproduced", "not reproduced", "inconclusive") for v in verdicts.values())
