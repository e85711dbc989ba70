"""Settings every figure of 001 (Rajaraman, Devvrit, Mokhtari, Ramchandran 2023) shares, the choices
made where the paper is silent (it gives no experimental hyper-parameter at all), and the spec
builders. A constant here is a parameter of the specs built from it: changing one changes the keys.

Choices and reasons (notes-001 §§2–7):

* **Ground truth** — U⋆ Gaussian d × r rescaled to ‖U⋆‖_op = 1 (``truth = "gaussian"``,
  ``truth_norm = "spectral"``: ‖X⋆‖_op = 1): every theorem assumes σ₁⋆ = 1 and the absolute pruning
  threshold 2√β presumes that scale.
* **Losses** — population: ‖UUᵀ − X⋆‖_F² exactly (``matrix_factorization``, identity operator,
  ``normalization = "1"``; eq. 2 without the constant σ²); finite sample: (1/n) Σ_i (⟨A_i, UUᵀ⟩ − y_i)²
  (eq. 1, ``normalization = "1/m"``) with A_i = (G_i + G_iᵀ)/2, G_i entries N(0, 1), so that
  E⟨A_i, X⟩² = ‖X‖_F² as the RIP (eq. 15) and eq. 2 require (the text's N(0, 1/d) would divide the
  population loss by d; notes-001 §2.1).
* **Step convention** — ``GRAD_SCALE = 1/4``: η multiplies (UUᵀ − X⋆)U + (λ/4)∇R_β, the analysis'
  convention (Thm 8: η ≤ 1/8 keeps ‖U‖_op ≤ 3). Only the time scale depends on it.
* **Initialization** — U₀ entries i.i.d. N(0, α²) (Thm 1's small random init).
* **λ, β** — the theory's β = c_β σ_r⋆²/r and λ = c_λ σ_r⋆³/√(kr) with unknown constants are guidance
  only; the values used and their implied constants are in each figure module, with a sensitivity
  grid in :mod:`.sensitivity`.
"""

from __future__ import annotations

from typing import Any

from ...experiments.spec import RunSpec
from ...recipes import prune_threshold
from .algorithm import RECIPE

PAPER = "rajaraman2023"
GRAD_SCALE = 0.25
STEP_LABEL = "η on (UUᵀ−X⋆)U + (λ/4)∇R_β (grad_scale ¼)"
TRUTH = {"truth": "gaussian", "truth_norm": "spectral"}
#: The threshold given to an unregularized (λ = 0) replica so that "pruning" keeps every column: the
#: vanilla run is then plain GD on the same data, init and budget (one variable changed: λ).
NO_PRUNE = 1e-12


def population_problem(d: int, r: int) -> dict[str, Any]:
    """‖UUᵀ − X⋆‖_F² (eq. 2), computed exactly through the identity operator."""
    return {"name": "matrix_factorization", "d1": d, "d2": d, "r": r, "symmetric": True, "normalization": "1",
            **TRUTH}


def sensing_problem(d: int, r: int, n: int, noise: float = 0.0) -> dict[str, Any]:
    """(1/n) Σ_i (⟨A_i, UUᵀ⟩ − y_i)² (eq. 1), y_i = ⟨A_i, X⋆⟩ + σ ε_i, A_i symmetrized N(0, 1)."""
    return {"name": "matrix_sensing", "d": d, "r": r, "m": n, "ensemble": "sym", "normalization": "1/m",
            "noise": float(noise), **TRUTH}


def pipeline_spec(problem: dict[str, Any], *, k: int, lams: list[float], betas: list[float] | float,
                  alphas: list[float] | float, eta: float, steps: int, finetune_steps: int, figure: str,
                  data_seed: int = 0, init_seeds: list[int] | None = None, lanczos_steps: int = 0,
                  metrics=("test_error_sq",), log_points: int = 150, **extra) -> RunSpec:
    """Algorithm 1 (recipe ``rajaraman2023.algorithm1``), one replica per λ (zipped with the per-replica
    β, α and init seeds); a λ = 0 replica gets the threshold ``NO_PRUNE`` (plain GD throughout)."""
    R = len(lams)
    betas = betas if isinstance(betas, list) else [betas] * R
    alphas = alphas if isinstance(alphas, list) else [alphas] * R
    thr = [NO_PRUNE if lam == 0 else prune_threshold(b) for lam, b in zip(lams, betas, strict=True)]
    reps: dict[str, Any] = {"regularizer.lam": [float(x) for x in lams], "regularizer.beta": [float(b) for b in betas],
                            "init.scale": [float(a) for a in alphas], "recipe.threshold": thr}
    if init_seeds is not None:
        reps["init_seed"] = list(init_seeds)
    return RunSpec.parse({
        "problem": problem, "param": {"name": "symmetric", "k": k},
        "algorithm": {"name": "gd", "eta": eta, "grad_scale": GRAD_SCALE},
        "init": {"name": "gaussian", "scale": alphas[0]},
        "regularizer": {"name": "group_lasso", "lam": float(lams[0]), "beta": float(betas[0])},
        "recipe": {"name": RECIPE, "finetune_steps": finetune_steps, "lanczos_steps": lanczos_steps,
                   "threshold": thr[0]},
        "steps": steps, "data_seed": data_seed, "metrics": list(metrics), "log": {"points": log_points},
        "replicas": reps, "tags": {"paper": PAPER, "figure": figure}, **extra,
    })
