"""Shared settings and helpers of the Li–Ma–Zhang (000) reproduction (see :mod:`overparam.papers.li2018`).

Constants here are the choices every figure shares; each figure module adds its own. A constant is
a parameter of the specs built from it, so changing one changes the spec keys (and reruns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..experiments.errors import SpecError
from ..experiments.spec import RunSpec
from ..problems.truth import low_rank_truth
from .base import Context

PAPER = "li2018"
#: App. B's step size for every GD experiment (η = 0.0025).
ETA = 0.0025
#: The experiments' step is applied to the paper's own update (Eq. 5), U ← (I − ηM_t)U, which is half
#: the exact gradient of the 1/(2m) loss of Eq. (1): grad_scale = ½. The paper never says which it
#: used; the exact-gradient convention (grad_scale = 1) only rescales time by 2 (notes-000 §5.6, §7.1).
GRAD_SCALE = 0.5
#: Mean ± one standard deviation over the trials (the paper shows "error bars" without saying which;
#: ``"minmax"`` is the alternative, see :func:`overparam.papers.common.error_bar`).
ERROR_BAR = "std"
#: "For the same X⋆, we repeat the experiment three times, by resampling {A_i}": truth_seed is fixed,
#: data_seed = trial.
TRIALS = 3
TRUTH_SEED = 0


def mode(quick: bool) -> str:
    return "quick" if quick else "full"


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


@dataclass(frozen=True)
class TruthStats:
    """Spectral facts of a spec's X⋆ (regenerated from its truth seed; cheap, no operator)."""

    eigenvalues: np.ndarray  # the r nonzero eigenvalues, decreasing
    frobenius: float
    trace: float
    X_star: torch.Tensor

    @property
    def spectral(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def kappa(self) -> float:
        return float(self.eigenvalues[0] / self.eigenvalues[-1])


def truth_stats(spec: RunSpec) -> TruthStats:
    """X⋆ of a spec's problem and its spectrum, exactly as the problem factory draws it."""
    p = spec.problem.params
    d, r = p["d"], p["r"]
    seed = p.get("truth_seed")
    seed = spec.data_seed if seed is None else seed
    L, _ = low_rank_truth((d, d), r, seed=seed, psd=True, kind=p.get("truth", "gaussian_unit_columns"),
                          kappa=p.get("kappa", 1.0), spectrum=p.get("spectrum"), norm=p.get("truth_norm"),
                          scale=p.get("truth_scale", 1.0))
    X = L @ L.T
    ev = torch.linalg.eigvalsh(X).flip(0)[:r].numpy()
    return TruthStats(ev, float(X.norm()), float(torch.trace(X)), X)


def replica_traces(ctx: Context, spec: RunSpec) -> list[tuple[dict[str, Any], Any]]:
    """``[(replica settings + summary, trace rows of that replica)]`` for one stored spec."""
    if not ctx.store.has(spec.key()):
        raise SpecError(f"run {spec.key()} ({spec.tags.get('figure', spec.problem.name)}) is not in the store; "
                        "run `overparam reproduce` for this target first")
    run = ctx.store.load(spec.key())
    tr = run.trace()
    out = []
    for rep in run.summary:
        rows = tr[tr["replica"] == rep["replica"]].sort_values("step").reset_index(drop=True)
        out.append((rep, rows))
    return out
