"""The runs of the depth study (deep matrix factorization on matrix completion) and the convex
reference, each as stored work for one trial.

Instance (problem ``matrix_completion``, exactly m observed entries Ω drawn without replacement from
the trial's ``data_seed``): X⋆ = U⋆V⋆ᵀ with U⋆, V⋆ ∈ ℝ^{d×r} i.i.d. N(0, 1) (Arora, Cohen, Hu, Luo
2019's ground truth: Gaussian factors), rescaled to ‖X⋆‖_F = √r (theirs: ‖X⋆‖_F = d, entries of
RMS 1; the errors below are relative and the effective rank is scale-free, so the scale only sets
the units of η and the init scale). Loss L(X) = 1/(2p) ‖P_Ω(X − X⋆)‖_F², p = m/d² (the library's
completion normalization; its gradient (1/p) P_Ω(X − X⋆) is an unbiased estimate of X − X⋆).

Model and algorithm, the same for every depth (plain GD, η = ``grid.eta``, no momentum or adaptive
step):

=====  ====================  ===============================================================
N      param                 init (‖X₀‖_F = ``grid.scale`` for every depth)
=====  ====================  ===============================================================
1      ``direct`` (θ = X)    X₀ = s·Z/‖Z‖_F, Z i.i.d. N(0, 1) (init ``gaussian``, Frobenius)
≥ 2    ``deep(depth=N)``     balanced (init ``balanced``): A = s·Z/‖Z‖_F = UΣVᵀ, W₁ = Σ^{1/N}Vᵀ,
       (hidden width d)      W_j = Σ^{1/N} (1 < j < N), W_N = UΣ^{1/N}; W_{j+1}ᵀW_{j+1} = W_jW_jᵀ,
                             W_N⋯W₁ = A, every layer the same scale (singular values σ_i(A)^{1/N})
=====  ====================  ===============================================================

So every depth starts from the same distribution of end-to-end matrices (a Gaussian matrix of
Frobenius norm s); only the factorization differs. This is the balanced initialization of Arora,
Cohen, Golowich, Hu (ICLR 2019, Procedure 1), which Arora et al. 2019 assume in their analysis
(§3); their public experiment code draws every layer i.i.d. N(0, (s_e^{1/N}/√d)²) with s_e = 10⁻³
the "average magnitude of entries" (only approximately balanced; its ``orthogonal`` option,
W_j = (s_e√d)^{1/N}·Q_j with Q_j orthogonal, is exactly balanced) and trains with an adaptive
step (``GroupRMSprop``, learning rate 10⁻³ or 3·10⁻⁴) to a mean squared training error of 10⁻⁶;
we use plain GD, as the issue asks.

N = 1: GD on X with this loss changes only the observed entries (the gradient (1/p)P_Ω(X − X⋆) is
zero off Ω), so the unobserved entries stay at their initial values: the known failure of
un-factorized GD at completion (its unobserved-entry error is ‖P_Ωᶜ(X₀ − X⋆)‖/‖P_Ωᶜ X⋆‖ ≈ 1).

Recorded: ``train_error``, ``test_error`` (‖X − X⋆‖_F/‖X⋆‖_F, all entries) and ``effective_rank``
at 20 log-spaced steps; the final factors (``final.npz``) give the end-to-end matrix, from which
:mod:`.measures` reads the unobserved-entry error and the ranks.

Convex reference: min ‖X‖_* s.t. X_ij = X⋆_ij on Ω (``overparam.baselines.nuclear_norm``,
Clarabel) as a stored computation, keyed by its settings; it returns the singular values and the
errors of its solution.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ...experiments.computations import Computation, computation
from ...experiments.spec import RunSpec
from .grid import Grid

STUDY = "depth"
METRICS = ["train_error", "test_error", "effective_rank"]
LOG_POINTS = 20
SOLVER = "CLARABEL"


def problem(d: int, r: int, m: int) -> dict[str, Any]:
    """The shared instance (module docstring): d × d completion, Gaussian-factor X⋆ with ‖X⋆‖_F = √r, m entries."""
    return {"name": "matrix_completion", "d1": d, "d2": d, "r": r, "m": m, "truth": "gaussian",
            "truth_norm": "frobenius", "truth_scale": math.sqrt(r)}


def param(depth: int) -> dict[str, Any]:
    return {"name": "direct"} if depth == 1 else {"name": "deep", "depth": depth}


def init(depth: int, scale: float) -> dict[str, Any]:
    if depth == 1:
        return {"name": "gaussian", "scale": scale, "normalize": "frobenius"}
    return {"name": "balanced", "scale": scale}


def run_spec(grid: Grid, depth: int, m: int, seed: int, *, further: bool = False) -> RunSpec:
    """The GD run of depth ``depth`` on trial ``seed`` with m observed entries, with the grid's budget,
    or (``further``) trained further for the budget check: 2× the steps and the training-error
    target divided by ``budget.check_target_factor``."""
    b = grid.budget
    return RunSpec.parse({
        "problem": problem(grid.d, grid.r, m), "param": param(depth),
        "algorithm": {"name": "gd", "eta": grid.eta}, "init": init(depth, grid.scale),
        "steps": 2 * b.steps if further else b.steps, "data_seed": seed,
        "metrics": list(METRICS), "log": {"points": LOG_POINTS},
        "target_train_error": b.target_train_error / b.check_target_factor if further else b.target_train_error,
        "tags": {"study": STUDY, "depth": str(depth), "grid": grid.label},
    })


@computation("depth.nuclear_norm", version=1)
def nuclear_norm_trial(*, problem: dict[str, Any], data_seed: int, solver: str = SOLVER,
                       device: str = "cpu") -> dict[str, Any]:
    """min ‖X‖_* s.t. P_Ω(X) = P_Ω(X⋆) on the trial's instance: the singular values of the solution,
    its relative error on the unobserved entries and on all entries, and the solver's report."""
    import torch

    from ...baselines import nuclear_norm
    from ...experiments.spec import validate_component
    from .measures import unobserved_error

    prob = validate_component("problem", problem).build("problem", data_seed=data_seed, dtype="float64",
                                                       device=device)
    t0 = time.perf_counter()
    res = nuclear_norm(prob, eps=0.0, solver=solver, psd=False)
    wall = time.perf_counter() - t0
    X = torch.as_tensor(res.X, dtype=torch.float64)
    X_star = prob.truth().to("cpu", torch.float64)
    solved = bool(torch.isfinite(X).all())
    out: dict[str, Any] = {"status": str(res.status), "solver": str(res.solver), "wall_time_s": wall,
                           "solve_time_s": None if res.solve_time_s is None else float(res.solve_time_s),
                           "singular_values": None, "unobserved_error": None, "test_error": None}
    if solved:
        op = prob.operator
        out["singular_values"] = [float(s) for s in torch.linalg.svdvals(X)]
        out["unobserved_error"] = float(unobserved_error(X, X_star, op.rows.cpu(), op.cols.cpu()))
        out["test_error"] = float(torch.linalg.matrix_norm(X - X_star) / torch.linalg.matrix_norm(X_star))
    return out


def nuclear_norm_spec(grid: Grid, m: int, seed: int) -> Computation:
    return nuclear_norm_trial.spec(label=f"{STUDY}.nuclear_norm d={grid.d} r={grid.r} m={m} seed={seed}",
                                   problem=problem(grid.d, grid.r, m), data_seed=seed, solver=SOLVER)


def convex_available() -> str | None:
    """None when the convex reference can run here, else why not (one line)."""
    try:
        import cvxpy  # noqa: F401
    except ImportError:
        return "the convex reference needs cvxpy; install the extra: pip install 'overparam[convex]'"
    return None


__all__ = ["METRICS", "STUDY", "convex_available", "init", "nuclear_norm_spec", "nuclear_norm_trial", "param",
           "problem", "run_spec"]
