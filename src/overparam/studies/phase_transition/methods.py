"""The six methods of the phase-transition study, each as a builder of stored work for one trial.

Every method sees the same instance: symmetric PSD Gaussian sensing (problem ``matrix_sensing``,
000 §1.1) with y_i = ⟨A_i, X⋆⟩, A_i = (Q_i + Q_iᵀ)/2, Q_i i.i.d. N(0, 1), loss
L(X) = 1/(2m) Σ_i (⟨A_i, X⟩ − y_i)², and a well-conditioned planted X⋆ = U⋆U⋆ᵀ (U⋆ Haar-orthonormal,
``truth = "orthonormal"``, κ = 1, ‖X⋆‖ = 1), so that the boundary measures sample complexity, not
conditioning. Operator and X⋆ come from the trial's ``data_seed``.

=================  ===========================================================================
method             what runs (settings, and why)
=================  ===========================================================================
``gd``             small-init over-parameterized GD on X = UUᵀ, k = d, U₀ = αI with α = 1e-6,
                   U ← U − η M_t U with M_t = (1/m) Σ_i (⟨A_i, UUᵀ⟩ − y_i) A_i (000 Eq. 5;
                   ``grad_scale = ½`` on the 1/(2m) loss), η = 0.2. 000's α = 1e-3 stops GD at
                   another interpolant near the boundary (d = 10, r = 1, m = 15: relative error 0.24
                   against 0.006 with α = 1e-6). α = 1e-6 is itself not the small-α limit near the
                   boundary: at d = 30, r = 1, m = 45 it recovers 1/10 trials at 5,000 and at
                   20,000 steps, α = 1e-12 recovers 9/10 (the boundary is α-limited, not
                   budget-limited); GD's column is GD at α = 1e-6.
``gd_tiny``        the same GD from α = 1e-12 (``TINY_ALPHA``), beside ``gd``: GD nearer its
                   small-α limit (the runs of ``gd`` keep their keys; these are new runs).
``projected_gd``   X ← Π_PSD(X − η ∇L(X)) on θ = X (000 App. B's baseline), X₀ = 0, with the step
                   η = 1/(1 + √(D/m))², D = d(d+1)/2: the inverse of the largest eigenvalue of
                   𝒜*𝒜/m on symmetric matrices for a Gaussian 𝒜 (Marchenko–Pastur edge), so the
                   step is stable in every cell, including m < D.
``nuclear_norm``   min tr X s.t. X ⪰ 0, 𝒜(X) = y (the convex program of 000 and Gunasekar et al.),
                   ``overparam.baselines.nuclear_norm`` with cvxpy + Clarabel, as a stored
                   computation (keyed by its settings, cached, on every executor).
``scaled_gd``      ScaledGD(λ) (Xu, Shen, Ma, Tong, Chi 2023): U ← U − η M_t U (UᵀU + λI)⁻¹ with
                   k = d, a small Gaussian U₀ with ‖U₀‖_F = α = 1e-6, λ = 0.1 σ_r(X⋆) = 0.1
                   (their λ is a small constant times σ_r), η = 0.3.
``ipgd_plus``      IPGD+ (004, recipe ``perturbed_then_plain``) from U₀ = 0 with k = d, the settings
                   of :mod:`overparam.papers.ma2025.settings` (radius 1e-15, its thresholds and
                   escape time) and its step, η = 0.2 on 004's 1/(4m) loss, i.e. η = 0.1 here.
=================  ===========================================================================

The iterative methods record ``train_error`` and ``test_error`` (‖X − X⋆‖_F/‖X⋆‖_F) at 20
log-spaced steps; the final ``test_error`` decides recovery (:mod:`.grid`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ...experiments.computations import Computation, computation
from ...experiments.spec import RunSpec
from .grid import Grid

STUDY = "phase_transition"
METRICS = ["train_error", "test_error"]
LOG_POINTS = 20

ALPHA = 1e-6  # small init scale (GD: U₀ = αI; ScaledGD(λ): ‖U₀‖_F = α)
TINY_ALPHA = 1e-12  # the second GD column (``gd_tiny``)
GD_ETA = 0.2
SCALED_ETA, SCALED_LAM = 0.3, 0.1
IPGD_ETA = 0.1  # 004's η = 0.2 on its 1/(4m) loss is η = 0.1 on our 1/(2m) loss (the same update)
SOLVER = "CLARABEL"


def problem(d: int, r: int, m: int) -> dict[str, Any]:
    """The shared instance (module docstring): symmetric PSD Gaussian sensing, orthonormal X⋆, κ = 1."""
    return {"name": "matrix_sensing", "d": d, "r": r, "m": m, "truth": "orthonormal", "kappa": 1.0}


def projected_gd_eta(d: int, m: int) -> float:
    """η = 1/(1 + √(D/m))², D = d(d+1)/2 (module docstring)."""
    return 1.0 / (1.0 + math.sqrt(d * (d + 1) / 2 / m)) ** 2


def _tags(grid: Grid, method: str, study: str = STUDY) -> dict[str, str]:
    return {"study": study, "method": method, "grid": grid.label}


def _run(grid: Grid, method: str, d: int, r: int, m: int, seed: int, *, param: dict, algorithm: dict, init: dict,
         steps: int, replicas: dict | None = None, study: str = STUDY) -> RunSpec:
    data: dict[str, Any] = {
        "problem": problem(d, r, m), "param": param, "algorithm": algorithm, "init": init, "steps": steps,
        "data_seed": seed, "metrics": METRICS, "log": {"points": LOG_POINTS},
        "target_train_error": grid.budget.target_train_error, "tags": _tags(grid, method, study),
    }
    if replicas:
        data["replicas"] = replicas
    return RunSpec.parse(data)


def small_init_gd_spec(grid: Grid, r: int, m: int, seed: int, *, alpha: float | Sequence[float] = ALPHA,
                       steps: int | None = None, method: str = "gd", study: str = STUDY) -> RunSpec:
    """Small-init GD on X = UUᵀ, k = d, U₀ = αI, η = 0.2 (module docstring), for ``steps`` steps
    (default the grid's GD budget). A sequence of α runs one replica per α on the trial's one
    operator (``replicas.init.alpha``, the base ``init.alpha`` is the first α); the tags (``study``,
    ``method``) are not part of the run's identity."""
    d = grid.d
    alphas = [float(a) for a in alpha] if isinstance(alpha, Sequence) else None
    return _run(grid, method, d, r, m, seed, param={"name": "symmetric", "k": d},
                algorithm={"name": "gd", "eta": GD_ETA, "grad_scale": 0.5},
                init={"name": "scaled_identity", "alpha": alphas[0] if alphas else alpha},
                steps=grid.budget.gd if steps is None else steps,
                replicas={"init.alpha": alphas} if alphas else None, study=study)


def gd_spec(grid: Grid, r: int, m: int, seed: int) -> RunSpec:
    return small_init_gd_spec(grid, r, m, seed)


def gd_tiny_spec(grid: Grid, r: int, m: int, seed: int) -> RunSpec:
    return small_init_gd_spec(grid, r, m, seed, alpha=TINY_ALPHA, method="gd_tiny")


def projected_gd_spec(grid: Grid, r: int, m: int, seed: int) -> RunSpec:
    d = grid.d
    return _run(grid, "projected_gd", d, r, m, seed, param={"name": "direct"},
                algorithm={"name": "projected_gd", "eta": projected_gd_eta(d, m)},
                init={"name": "zero"}, steps=grid.budget.projected_gd)


def scaled_gd_spec(grid: Grid, r: int, m: int, seed: int) -> RunSpec:
    d = grid.d
    reps = {"init_seed": list(range(grid.replicas))} if grid.replicas > 1 else None
    return _run(grid, "scaled_gd", d, r, m, seed, param={"name": "symmetric", "k": d},
                algorithm={"name": "scaled_gd", "eta": SCALED_ETA, "lam": SCALED_LAM, "grad_scale": 0.5},
                init={"name": "gaussian", "scale": ALPHA, "normalize": "frobenius"}, steps=grid.budget.scaled_gd,
                replicas=reps)


#: 004's IPGD settings (radius, gradient threshold, escape time, decrease test; see
#: :mod:`overparam.papers.ma2025.settings` for the reasons), written here so that the study imports
#: no paper; with 004's default of three perturbation seeds when the grid sets no replicas.
IPGD_SETTINGS = {"radius": 1e-15, "g_thres": 1e-5, "escape_time": 500, "f_thres": 1e-8}
IPGD_SEEDS = 3


def ipgd_plus_spec(grid: Grid, r: int, m: int, seed: int) -> RunSpec:
    """IPGD+ (recipe ``perturbed_then_plain``: IPGD, then GD with the same η) from zero on this study's
    instance, with 004's IPGD settings and one perturbation seed per replica (the same spec 004's
    builder gives for these settings)."""
    d = grid.d
    alg = {"name": "ipgd", "eta": IPGD_ETA, "g_thres": IPGD_SETTINGS["g_thres"],
           "escape_time": IPGD_SETTINGS["escape_time"], "f_thres": IPGD_SETTINGS["f_thres"],
           "radius": IPGD_SETTINGS["radius"]}
    return RunSpec.parse({
        "problem": problem(d, r, m),
        "param": {"name": "symmetric", "k": d},
        "algorithm": alg,
        "init": {"name": "zero"},
        "recipe": {"name": "perturbed_then_plain", "plain_steps": grid.budget.ipgd_plain},
        "steps": grid.budget.ipgd,
        "data_seed": seed,
        "metrics": list(METRICS),
        "log": {"points": LOG_POINTS, "every": None},
        "replicas": {"algo_seed": list(range(grid.replicas or IPGD_SEEDS))},
        "tags": _tags(grid, "ipgd_plus"),
    })


# -- the convex program, as a stored computation -------------------------------------------------------


@computation("phase_transition.nuclear_norm", version=1)
def nuclear_norm_trial(*, problem: dict[str, Any], data_seed: int, solver: str = SOLVER,
                       device: str = "cpu") -> dict[str, Any]:
    """Solve min tr X s.t. X ⪰ 0, 𝒜(X) = y on the trial's instance; returns the relative error
    ‖X̂ − X⋆‖_F/‖X⋆‖_F (``test_error``), the solver's status, objective and time."""
    import torch

    from ...baselines import nuclear_norm
    from ...experiments.spec import validate_component

    prob = validate_component("problem", problem).build("problem", data_seed=data_seed, dtype="float64",
                                                       device=device)
    t0 = time.perf_counter()
    res = nuclear_norm(prob, eps=0.0, solver=solver, psd=True)
    wall = time.perf_counter() - t0
    X = torch.as_tensor(res.X, dtype=torch.float64)
    X_star = prob.truth().to("cpu", torch.float64)
    err = float(torch.linalg.matrix_norm(X - X_star) / torch.linalg.matrix_norm(X_star)) if X.numel() else math.nan
    return {"test_error": err if math.isfinite(err) else None, "status": str(res.status),
            "objective": None if res.objective is None or not math.isfinite(res.objective) else float(res.objective),
            "solve_time_s": float(res.solve_time_s) if res.solve_time_s is not None else None,
            "wall_time_s": wall, "solver": str(res.solver)}


def nuclear_norm_spec(grid: Grid, r: int, m: int, seed: int) -> Computation:
    comp = nuclear_norm_trial.spec(label=f"{STUDY}.nuclear_norm d={grid.d} r={r} m={m} seed={seed}",
                                   problem=problem(grid.d, r, m), data_seed=seed, solver=SOLVER)
    return comp


# -- the table of methods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    build: Callable[[Grid, int, int, int], RunSpec | Computation]

    @property
    def stored_as(self) -> str:
        return "computation" if self.name == "nuclear_norm" else "run"


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("gd", "small-init GD, α = 10⁻⁶", gd_spec),
    Method("gd_tiny", "small-init GD, α = 10⁻¹²", gd_tiny_spec),
    Method("projected_gd", "PSD-projected GD on X", projected_gd_spec),
    Method("nuclear_norm", "trace minimization (convex)", nuclear_norm_spec),
    Method("scaled_gd", "ScaledGD(λ), UUᵀ (k = d)", scaled_gd_spec),
    Method("ipgd_plus", "IPGD+ (004), UUᵀ (k = d)", ipgd_plus_spec),
)}


def convex_available() -> str | None:
    """None when the convex baseline can run here, else why not (one line)."""
    try:
        from ...baselines import nuclear_norm  # noqa: F401
    except ImportError as exc:
        return f"the convex baseline is not available ({exc}); install the extra: pip install 'overparam[convex]'"
    try:
        import cvxpy  # noqa: F401
    except ImportError:
        return "the convex baseline needs cvxpy; install the extra: pip install 'overparam[convex]'"
    return None


__all__ = ["METHODS", "Method", "convex_available", "nuclear_norm_spec", "nuclear_norm_trial", "problem",
           "projected_gd_eta", "small_init_gd_spec"]
