"""The stored work of the GLRL study: GD runs and GLRL runs (specs), the minimum-trace solutions and
GD's distance to GLRL's iterates over time (stored computations), all keyed by their settings.

* :func:`gd_specs` — GD from U₀ = αI (one replica per α) on each (m/(dr), data seed) of
  :class:`~.settings.MinTrace`; ``train_error`` and ``test_error`` at 20 log-spaced steps, the final
  U stored.
* :func:`min_trace_computations` — ``glrl_study.min_trace``: min tr X s.t. X ⪰ 0, 𝒜(X) = y on the same
  data (:func:`overparam.baselines.nuclear_norm`, Clarabel), X stored.
* :func:`glrl_specs` — the GLRL recipe (:mod:`overparam.recipes.glrl`) on each instance of
  :class:`~.settings.Follow`; its ``glrl_phase`` events hold the phase-end factors U_k.
* :func:`follow_computation` — ``glrl_study.follow``: GD from each α on the same instance, recording
  every ``log_every`` steps ‖X_GD(t) − X_k‖_F/‖X⋆‖_F for every GLRL iterate X_k (given as settings,
  read from the stored GLRL run) and ‖X_GD(t) − X⋆‖_F/‖X⋆‖_F.
"""

from __future__ import annotations

from typing import Any

from ...experiments.computations import Computation, computation
from ...experiments.spec import RunSpec
from .settings import ETA, GRAD_SCALE, STUDY, Follow, MinTrace

SOLVER = "CLARABEL"


def problem(d: int, r: int, m: int, kappa: float = 1.0) -> dict[str, Any]:
    """Symmetric PSD Gaussian sensing with a Haar-orthonormal X⋆ (the phase-transition instance for κ = 1)."""
    return {"name": "matrix_sensing", "d": d, "r": r, "m": m, "truth": "orthonormal", "kappa": kappa}


def m_of(s: MinTrace, ratio: float) -> int:
    return max(1, round(ratio * s.d))  # r = 1: m = round(m/(dr) · d)


def gd_spec(s: MinTrace, ratio: float, seed: int, label: str) -> RunSpec:
    return RunSpec.parse({
        "problem": problem(s.d, 1, m_of(s, ratio)), "param": {"name": "symmetric", "k": s.d},
        "algorithm": {"name": "gd", "eta": ETA, "grad_scale": GRAD_SCALE},
        "init": {"name": "scaled_identity"}, "replicas": {"init.alpha": list(s.alphas)},
        "steps": s.steps, "data_seed": seed, "metrics": ["train_error", "test_error"],
        "log": {"points": s.log_points}, "target_train_error": s.target_train_error,
        "tags": {"study": STUDY, "part": "min_trace", "mode": label},
    })


def gd_specs(s: MinTrace, label: str) -> list[tuple[float, int, RunSpec]]:
    """``(ratio, seed, spec)`` for every instance of the min-trace part."""
    return [(x, seed, gd_spec(s, x, seed, label)) for x in s.ratios for seed in s.seeds]


@computation("glrl_study.min_trace", version=1)
def min_trace(*, problem: dict[str, Any], data_seed: int, solver: str = SOLVER) -> dict[str, Any]:
    """min tr X s.t. X ⪰ 0, 𝒜(X) = y on the instance (``problem`` settings, ``data_seed``): X (nested
    lists, float64), ‖X − X⋆‖_F/‖X⋆‖_F (``test_error``), status, objective, solve time."""
    from ...baselines import nuclear_norm
    from ...experiments.spec import validate_component

    prob = validate_component("problem", problem).build("problem", data_seed=data_seed, dtype="float64",
                                                        device="cpu")
    res = nuclear_norm(prob, solver=solver)
    truth = prob.truth()
    rel = float((res.X - truth).norm() / truth.norm()) if res.solved else float("nan")
    return {"X": res.X.tolist(), "test_error": rel, "status": res.status, "objective": res.objective,
            "solve_time_s": res.solve_time_s}


def min_trace_computation(spec: RunSpec) -> Computation:
    return min_trace.spec(label=f"{STUDY} minimum-trace solution, m = {spec.problem.params['m']}, seed {spec.data_seed}",
                          problem={"name": spec.problem.name, **spec.problem.params}, data_seed=spec.data_seed)


def glrl_spec(f: Follow, seed: int, label: str) -> RunSpec:
    return RunSpec.parse({
        "problem": problem(f.d, f.r, f.m, f.kappa), "param": {"name": "symmetric", "k": f.d},
        "algorithm": {"name": "gd", "eta": ETA, "grad_scale": GRAD_SCALE}, "init": {"name": "zero"},
        "recipe": {"name": "glrl", "eps": f.eps, "tol": f.glrl_tol},
        "steps": f.glrl_steps, "data_seed": seed, "metrics": ["train_error", "test_error"],
        "log": {"points": 50}, "target_train_error": f.glrl_target,
        "tags": {"study": STUDY, "part": "glrl", "mode": label},
    })


def glrl_specs(f: Follow, label: str) -> list[tuple[int, RunSpec]]:
    return [(seed, glrl_spec(f, seed, label)) for seed in f.seeds]


@computation("glrl_study.follow", version=1)
def follow(*, problem: dict[str, Any], data_seed: int, alphas: list[float], steps: int, eta: float,
           grad_scale: float, log_every: int, iterates: list[list[list[float]]],
           target_train_error: float | None = None) -> dict[str, Any]:
    """GD from U₀ = αI (k = d, one replica per α) on the instance, recording at every ``log_every``-th
    step ‖X_GD(t) − X_k‖_F/‖X⋆‖_F for each GLRL iterate X_k (``iterates``: the phase-end factors U_k,
    so X_k = U_kU_kᵀ) and ‖X_GD(t) − X⋆‖_F/‖X⋆‖_F. Returns ``steps`` and per α ``distance``
    ([record][k]), ``test_error`` ([record]) and the train error at the stop."""
    import torch

    from ... import algorithms, init, params
    from ...experiments.spec import validate_component
    from ...metrics import Metric
    from ...run import run
    from ...schedule import LogSchedule

    prob = validate_component("problem", problem).build("problem", data_seed=data_seed, dtype="float64",
                                                        device="cpu")
    Xs = torch.stack([torch.as_tensor(U, dtype=torch.float64) @ torch.as_tensor(U, dtype=torch.float64).T
                      for U in iterates])  # (K, d, d)
    star = prob.truth()
    n_star = star.norm()

    def distances(snap) -> torch.Tensor:
        X = snap.param.to_matrix(snap.theta)  # (R, d, d)
        diff = X[:, None] - Xs[None]
        return torch.cat([diff.flatten(2).norm(dim=-1), (X - star).flatten(1).norm(dim=-1)[:, None]], 1) / n_star

    metric = Metric(name="glrl_distance", fn=distances, vector=True)
    res = run(prob, params.Symmetric(k=prob.shape[0]), algorithms.gd(eta=eta, grad_scale=grad_scale),
              init=init.scaled_identity(alpha=list(alphas)), steps=steps, metrics=[metric, "train_error"],
              log=LogSchedule(points=1, every=log_every), target_train_error=target_train_error)
    tr = res.trace.to_frame()
    out: dict[str, Any] = {"alphas": list(alphas), "runs": []}
    for i, a in enumerate(alphas):
        rows = tr[tr["replica"] == i].sort_values("step")
        vec = [list(map(float, v)) for v in rows["glrl_distance"]]
        out["runs"].append({"alpha": a, "steps": [int(s) for s in rows["step"]],
                            "distance": [v[:-1] for v in vec], "test_error": [v[-1] for v in vec],
                            "train_error": float(rows["train_error"].iloc[-1])})
    return out


def follow_computation(f: Follow, seed: int, iterates: list[Any]) -> Computation:
    return follow.spec(label=f"{STUDY} GD against GLRL, seed {seed}",
                       problem=problem(f.d, f.r, f.m, f.kappa), data_seed=seed, alphas=list(f.alphas), steps=f.steps,
                       eta=ETA, grad_scale=GRAD_SCALE, log_every=f.log_every,
                       iterates=[[list(map(float, row)) for row in U] for U in iterates],
                       target_train_error=f.target_train_error)


__all__ = ["follow", "follow_computation", "gd_spec", "gd_specs", "glrl_spec", "glrl_specs", "m_of", "min_trace",
           "min_trace_computation", "problem"]
