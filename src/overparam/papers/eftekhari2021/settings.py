"""Settings every Eftekhari–Zygalakis (003) figure shares, and the spec builders.

Example 1.1 (notes-003 §5.1): d = p = 30, X♮ ⪰ 0 of rank 2 with tr X♮ = 1, m = 4·rank·d = 240
measurements with symmetric A_i whose upper triangle (diagonal included) is i.i.d. N(0, 1) and
**no** 1/√m scaling (``ensemble = "triu"``, ``sensing_scale = 1``), noiseless b = 𝒜(X♮). X♮ and 𝒜
are fixed; the 3 trials differ only in U₀ (``init_seed`` 0, 1, 2 as replicas of one spec).

Choices where the paper is silent (each a constant here, so a parameter of the specs built from it):

* **X♮ generator** — ``truth = "gaussian"``, ``truth_norm = "trace"``: X♮ = WWᵀ/tr(WWᵀ) with W ∈
  ℝ^{30×2} i.i.d. N(0, 1) ("randomly generate" a PSD rank-2 matrix of unit trace).
* **Loss and step** — G(U) = ⅛‖𝒜(UUᵀ) − b‖² (``normalization = "1/8"``, the paper's (training
  error)); the paper's η multiplies ∇‖𝒜(UUᵀ) − b‖² = 8∇G (Eq. 3), so ``grad_scale = 8``:
  U ← U − 8η∇G(U) = (I − 4η𝒜*(𝒜(UUᵀ) − b))U.
* **Init** — ``low_rank(rank, norm, spectrum="gaussian")``: U₀ = LRᵀ·ρ/‖LRᵀ‖_F with Gaussian
  L ∈ ℝ^{d×r₀}, R ∈ ℝ^{p×r₀}, on the sphere ‖U₀‖_F = ρ (notes §3.2).
* **The two init ranks** — ``RANKS = (2, 30)``: rank X♮ = 2 (≈ m/(d ln d) = 2.35, the theory's
  "low rank") and d = 30 (full rank, the high-rank init Fig. 5 restarts from).
* **Iterations** — not given; ``STEPS = 20_000`` in full mode (every rank-2 run reaches test error
  ≈ 1e-30 by step 2,000 at ‖U₀‖_F ≤ 1), 3,000 in quick mode.
* **"Terminates when the training error reaches machine precision"** (Fig. 2 caption) — no exact
  rule is given; ``MACHINE_PRECISION = None`` runs every trial for the whole budget (a relative train
  error value here becomes the spec's ``target_train_error``).
* **Error bars** — the paper's: mean ± half of the standard deviation over the 3 trials
  (:func:`half_std_bar`; ddof = 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...experiments.spec import RunSpec

PAPER = "eftekhari2021"
D = 30
R_TRUE = 2
M = 4 * R_TRUE * D  # 240
TRUTH_SEED = 0
DATA_SEED = 0
#: Fig. 5: "the setup is identical to Example 1.1, but the random data is fresh".
FRESH_SEED = 1
TRIALS = 3
RANKS = (2, 30)
ETA = 1e-4
GRAD_SCALE = 8.0
MACHINE_PRECISION: float | None = None
NORMS = {"fig1": 1e-3, "fig2": 1.0, "fig3": 1e3}


def steps(quick: bool) -> int:
    return 3_000 if quick else 20_000


#: How every title states the step convention.
STEP_LABEL = "Eq. 3: U←U−η∇‖A(UUᵀ)−b‖² (grad_scale 8 on G=⅛‖·‖²)"
ERROR_BAR_LABEL = "mean ± ½ std over 3 trials (U₀ only)"


def problem(seed: int = DATA_SEED, truth_seed: int = TRUTH_SEED, m: int = M, d: int = D) -> dict[str, Any]:
    """Example 1.1's sensing problem (module docstring)."""
    return {"name": "matrix_sensing", "d": d, "r": R_TRUE, "m": m, "truth": "gaussian", "truth_norm": "trace",
            "ensemble": "triu", "sensing_scale": 1.0, "normalization": "1/8", "truth_seed": truth_seed}


def example_spec(*, norm: float, ranks=RANKS, trials: int = TRIALS, n_steps: int, figure: str, eta: float = ETA,
                 data_seed: int = DATA_SEED, truth_seed: int = TRUTH_SEED, metrics=(), log_every: int | None = None,
                 recipe: dict[str, Any] | None = None, tags: dict[str, str] | None = None, **extra) -> RunSpec:
    """GD (3) from rank-r₀ inits of norm ``norm``: one replica per (rank, trial), trial = init_seed."""
    reps = [(r, t) for r in ranks for t in range(trials)]
    data: dict[str, Any] = {
        "problem": problem(data_seed, truth_seed),
        "param": {"name": "symmetric"},
        "algorithm": {"name": "gd", "eta": eta, "grad_scale": GRAD_SCALE},
        "init": {"name": "low_rank", "spectrum": "gaussian", "norm": norm},
        "steps": n_steps,
        "data_seed": data_seed,
        "metrics": ["train_error_sq", "test_error_sq", *metrics],
        "log": {"points": 60, "every": log_every or max(1, n_steps // 100)},
        "replicas": {"init.rank": [r for r, _ in reps], "init_seed": [t for _, t in reps]},
        "tags": {"paper": PAPER, "figure": figure, **(tags or {})},
        **({"target_train_error": MACHINE_PRECISION} if MACHINE_PRECISION else {}),
        **extra,
    }
    if recipe is not None:
        data["recipe"] = recipe
    return RunSpec.parse(data)


def half_std_bar(values) -> tuple[float, float]:
    """(mean, half std) over trials: the paper's "average ± half of the standard deviation"."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), (0.5 * float(v.std(ddof=1)) if v.size > 1 else 0.0)
