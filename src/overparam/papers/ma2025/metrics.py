"""Metrics of 004 (Ma, Liang, Fattahi 2025), registered as ``ma2025.<name>`` when the registry first looks
up a ``ma2025.*`` name (the names below, ``ma2025_<name>``, are the legacy aliases specs use). Regions,
projections and rates are in :mod:`.regions`.

Plain metrics (functions of the snapshot at a logged step):

* ``ma2025_residual`` — ‖r_t‖ = dist(x_t, M), the residual of the signal–residual decomposition;
* ``ma2025_dist`` — dist(x_t, 𝒳_M), the distance to the M-solution set (needs the truth);
* ``ma2025_error`` — ‖g(x_t) − X⋆‖ (Frobenius for matrices, ℓ₂ for vectors; absolute).

The stateful diagnostic :class:`DeviationTracker` (outputs of the same names) follows any run:

* ``ma2025_Gamma`` — Γ_t = Σ_{s<t} η γ(x_s) (Eq. 127's cumulative deviation rate, γ with the Def. 5
  weights (3/2, 1/2) of :data:`.regions.GAMMA_WEIGHTS`);
* ``ma2025_Gamma1`` — the same sum with the first-order rate γ₋ − γ₊ (weights (1, 1));
* ``ma2025_rsum`` — Σ_{s<t} η ‖r_s‖ (Eq. 127's ρ-term is (ρ/2) times this);
* ``ma2025_gamma`` — the last γ computed; ``ma2025_r0`` — ‖r‖ one step after the run's first
  perturbation event (zero init has r = 0 before it, so the log-ratio of (127) starts there; NaN in
  a run without perturbation, e.g. IPGD+'s plain-GD stage).

γ needs the dense Hessian at the signal, so it is computed every ``every`` steps and the sums are
Riemann sums with weight ``every``·η (notes pitfall 7); ``every`` is the diagnostic's setting,
:data:`GAMMA_EVERY`, chosen per figure through the metric name suffix: ``ma2025_Gamma`` etc. use
the tracker with ``every = GAMMA_EVERY``. Steps whose residual is exactly 0 contribute nothing
(γ is undefined there).
"""

from __future__ import annotations

import math

import torch

from ...metrics import Diagnostic, Snapshot, diagnostic_metrics, metric
from ...objective import Objective
from . import problems  # noqa: F401  (registers the ma2025_* problems)
from .regions import GAMMA_WEIGHTS, deviation_rates, flat_norm, region_kind, signal_residual, solution_distance

#: γ is evaluated every this many steps (Riemann sum ×GAMMA_EVERY). 5 keeps the escape phase
#: (≈ 100–400 steps) resolved while a dense Hessian costs ≈ 0.01–0.3 s here.
GAMMA_EVERY = 5


def _r(snap_or_problem) -> int:
    prob = getattr(snap_or_problem, "problem", snap_or_problem)
    if prob.r is None:
        raise ValueError("the ma2025 metrics need the problem's true rank / sparsity r")
    return int(prob.r)


@metric("ma2025.residual", legacy="ma2025_residual")
def residual(snap: Snapshot) -> torch.Tensor:
    """‖r_t‖ = ‖x_t − P_M(x_t)‖ = dist(x_t, M) (regions in :mod:`.regions`)."""
    kind = region_kind(snap.param)
    _, res = signal_residual(kind, snap.theta, _r(snap))
    return flat_norm(res)


@metric("ma2025.dist", needs_truth=True, legacy="ma2025_dist")
def dist(snap: Snapshot) -> torch.Tensor:
    """dist(x_t, 𝒳_M): Procrustes for UUᵀ, balanced-Procrustes (an upper bound) for UVᵀ, coordinatewise
    for the Hadamard problems (:func:`.regions.solution_distance`)."""
    return solution_distance(region_kind(snap.param), snap.theta, snap.problem)


@metric("ma2025.error", needs_truth=True, legacy="ma2025_error")
def error(snap: Snapshot) -> torch.Tensor:
    """‖g(x_t) − X⋆‖ (absolute; Frobenius or ℓ₂)."""
    from ...metrics import _truth_error_sq

    return _truth_error_sq(snap).sqrt()


class DeviationTracker(Diagnostic):
    """Γ_t, the first-order Γ_t, Σ η‖r_t‖ and ‖r₀‖ along a run (module docstring)."""

    name = "ma2025_deviation"
    outputs = ("ma2025_Gamma", "ma2025_Gamma1", "ma2025_rsum", "ma2025_gamma", "ma2025_r0")
    #: state entries ``init`` determines and the run never changes (a snapshot leaves them out:
    #: :mod:`overparam.snapshot`)
    snapshot_static = ("obj",)

    def __init__(self, every: int = GAMMA_EVERY, weights: tuple[float, float] = GAMMA_WEIGHTS):
        self.every, self.weights = int(every), weights

    def init(self, objective, theta, algorithm):
        R = theta[0].shape[0]
        z = torch.zeros(R, dtype=torch.float64)
        return {"obj": Objective(objective.problem, objective.param), "kind": region_kind(objective.param),
                "r": _r(objective.problem), "Gamma": z.clone(), "Gamma1": z.clone(), "rsum": z.clone(),
                "gamma": torch.full((R,), math.nan, dtype=torch.float64),
                "r0": torch.full((R,), math.nan, dtype=torch.float64), "perturbed": torch.zeros(R, dtype=torch.bool)}

    def update(self, state, t, theta, out, objective):
        st = dict(state)
        if out.step_size is None:
            raise ValueError("the ma2025 deviation diagnostics need a descent step (η) from the algorithm")
        eta = out.step_size[0].detach().double().cpu()
        if t % self.every == 0:
            rates = deviation_rates(st["obj"], st["kind"], tuple(p.detach() for p in theta), st["r"])
            gam = torch.nan_to_num(rates.gamma(self.weights).double().cpu(), nan=0.0)
            first = torch.nan_to_num(rates.first_order.double().cpu(), nan=0.0)
            w = eta * self.every
            st["Gamma"] = st["Gamma"] + w * gam
            st["Gamma1"] = st["Gamma1"] + w * first
            st["rsum"] = st["rsum"] + w * rates.residual.double().cpu()
            st["gamma"] = rates.gamma(self.weights).double().cpu()
        hit = [i for i, kind, _ in out.events if kind == "perturbation"]
        if hit:
            idx = torch.tensor(sorted(set(hit)))
            first_time = idx[~st["perturbed"][idx]]
            if first_time.numel():
                _, res = signal_residual(st["kind"], tuple(p.detach() for p in out.theta), st["r"])
                n = flat_norm(res).double().cpu()
                st["r0"] = st["r0"].clone()
                st["r0"][first_time] = n[first_time]
                st["perturbed"] = st["perturbed"].clone()
                st["perturbed"][first_time] = True
        return st

    def read(self, state, snap):
        return {"ma2025_Gamma": state["Gamma"], "ma2025_Gamma1": state["Gamma1"], "ma2025_rsum": state["rsum"],
                "ma2025_gamma": state["gamma"], "ma2025_r0": state["r0"]}

    def select(self, state, keep):
        k = keep.cpu()
        out = dict(state)
        for name in ("Gamma", "Gamma1", "rsum", "gamma", "r0", "perturbed"):
            out[name] = state[name][k]
        return out


DEVIATION = DeviationTracker()
diagnostic_metrics(DEVIATION, names={o: "ma2025." + o.removeprefix("ma2025_") for o in DEVIATION.outputs}, docs={
    "ma2025_Gamma": "Γ_t = Σ_{s<t} η γ(x_s), γ = (3/2)γ₋ − (1/2)γ₊ at the signal along the residual (004 Def. 5, "
                    "Eq. 127; every GAMMA_EVERY steps, Riemann sum).",
    "ma2025_Gamma1": "Σ_{s<t} η (γ₋ − γ₊)(x_s): the first-order cumulative rate.",
    "ma2025_rsum": "Σ_{s<t} η ‖r_s‖ (Eq. 127's ρ-term is ρ/2 times this).",
    "ma2025_gamma": "the last deviation rate γ(x) computed (NaN where ‖r‖ = 0).",
    "ma2025_r0": "‖r‖ one step after the first perturbation (the base of Eq. 127's log ratio).",
})
