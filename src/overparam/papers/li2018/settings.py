"""Settings every Li–Ma–Zhang (000) figure shares, and the spec builders.

Constants here are the choices every figure shares; each figure module adds its own. A constant is
a parameter of the specs built from it, so changing one changes the spec keys (and reruns).
"""

from __future__ import annotations

from typing import Any

from ...experiments.spec import RunSpec

PAPER = "li2018"
#: App. B's step size for every GD experiment (η = 0.0025).
ETA = 0.0025
#: The experiments' step is applied to the paper's own update (Eq. 5), U ← (I − ηM_t)U, which is half
#: the exact gradient of the 1/(2m) loss of Eq. (1): grad_scale = ½. The paper never says which it
#: used; the exact-gradient convention (grad_scale = 1) only rescales time by 2 (notes-000 §5.6, §7.1).
GRAD_SCALE = 0.5
#: Mean ± one standard deviation over the trials (the paper shows "error bars" without saying which;
#: ``"minmax"`` is the alternative, see :func:`overparam.papers._shared.error_bar`).
ERROR_BAR = "std"
#: "For the same X⋆, we repeat the experiment three times, by resampling {A_i}": truth_seed is fixed,
#: data_seed = trial.
TRIALS = 3
TRUTH_SEED = 0
#: Trials (data seeds) of the claims that read a figure's runs: in full mode the figure's three (a full
#: run costs minutes); in quick mode five — the figure's three and two more — because a quick run costs
#: seconds and a verdict must hold on ≥ 5 data seeds where it is that cheap. The figures keep the
#: paper's three trials.
CLAIM_TRIALS = {True: 5, False: TRIALS}


def claim_specs_of(fn):
    """The claims' specs of figure spec builder ``fn(quick, trials)``: its runs over
    :data:`CLAIM_TRIALS` trials (the first :data:`TRIALS` are the figure's own runs, same keys)."""
    return lambda quick: fn(quick, trials=CLAIM_TRIALS[quick])


#: How every title states the step: "step size 0.0025" applied to Eq. 5.
STEP_LABEL = f"η={ETA}, Eq. 5 step U←(I−ηM)U"


def sensing_spec(d: int, r: int, *, trial: int, steps: int, alphas: list[float], figure: str,
                 grad_scale: float = GRAD_SCALE, eta: float = ETA, m: int | None = None,
                 metrics=("train_error", "test_error"), log_points: int = 100, log_every: int | None = None,
                 algorithm: str = "gd", problem: dict[str, Any] | None = None, **extra) -> RunSpec:
    """Factorized GD from U₀ = αI on 000's sensing problem (m = 5dr by default), one replica per α.

    Measurements A_i = (Q_i + Q_iᵀ)/2 (footnote 3), the 1/(2m) loss of Eq. (1), truth U⋆ with unit-norm
    Gaussian columns (App. B) fixed by ``TRUTH_SEED``; ``problem`` overrides problem settings."""
    prob = {"name": "matrix_sensing", "d": d, "r": r, "m": m or 5 * d * r,
            "truth": "gaussian_unit_columns", "truth_seed": TRUTH_SEED, **(problem or {})}
    data = {
        "problem": prob,
        "param": {"name": "symmetric"},
        "algorithm": {"name": algorithm, "eta": eta, "grad_scale": grad_scale},
        "init": {"name": "scaled_identity", "basis": "identity"},
        "steps": steps,
        "data_seed": trial,
        "metrics": list(metrics),
        "log": {"points": log_points, "every": log_every},
        "replicas": {"init.alpha": list(alphas)},
        "tags": {"paper": PAPER, "figure": figure},
        **extra,
    }
    return RunSpec.parse(data)


def run_spec(problem: dict[str, Any], param: str, algorithm: dict[str, Any], init: dict[str, Any], *, trial: int,
             steps: int, figure: str, metrics=("train_error", "test_error"), log_points: int = 100,
             log_every: int | None = None, **extra) -> RunSpec:
    """A general spec of this paper (truth fixed by ``TRUTH_SEED``, data_seed = trial)."""
    data = {
        "problem": {"truth_seed": TRUTH_SEED, **problem},
        "param": {"name": param},
        "algorithm": algorithm,
        "init": init,
        "steps": steps,
        "data_seed": trial,
        "metrics": list(metrics),
        "log": {"points": log_points, "every": log_every},
        "tags": {"paper": PAPER, "figure": figure},
        **extra,
    }
    return RunSpec.parse(data)
