"""Li, Ma, Zhang (COLT 2018): algorithmic regularization in over-parameterized matrix sensing.

Settings from ``shared/papers/notes-000.md`` §5 (App. B of the paper). Choices where the paper is
silent, each kept as a module constant (and so a parameter of the specs):

* **Step convention** — ``GRAD_SCALE = 0.5``: the experiments' "step size 0.0025" is applied to the
  paper's own update (Eq. 5) U ← (I − η M_t) U with M_t = (1/m) Σ_i ⟨A_i, UUᵀ − X⋆⟩ A_i, which is
  half the exact gradient of the 1/(2m) loss of Eq. (1). ``grad_scale = 1`` (the exact gradient)
  only rescales time by 2 (notes-000 §5.6).
* **Error bars** — ``ERROR_BAR = "std"``: mean ± one standard deviation over the 3 trials (the
  paper does not say which; ``"minmax"`` is the alternative).
* **Quick mode** — same shape, smaller: d ∈ {40, 60} with r = 2 (so m = 5dr = 10d keeps m below
  the d(d+1)/2 symmetric degrees of freedom in the same proportion as d = 100, r = 5), 10⁴ steps.

Measurements: A_i = (Q_i + Q_iᵀ)/2 with Q_i i.i.d. N(0, 1) (footnote 3; stored packed), noiseless.
Ground truth: U⋆ ∈ ℝ^{d×r} Gaussian with unit-norm columns, X⋆ = U⋆U⋆ᵀ, fixed across the 3 trials
(``truth_seed = 0``); each trial resamples {A_i} (``data_seed`` = trial).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..experiments.claims import Claim
from ..experiments.spec import RunSpec
from .base import ClaimCheck, Context, Figure, Paper
from .common import error_bar, kendall_tau, new_figure, save, summaries

PAPER = "li2018"
ETA = 0.0025
GRAD_SCALE = 0.5
ERROR_BAR = "std"
TRIALS = 3
FIG1_ALPHAS = [10 ** (-k / 2) for k in range(7)]  # 1, 10^-0.5, …, 10^-3 (the x-axis ticks of Fig. 1)
FIG1_STEPS = 10_000


def _dims(quick: bool) -> tuple[tuple[int, ...], int]:
    return ((40, 60), 2) if quick else ((100, 200), 5)


def sensing_spec(d: int, r: int, *, trial: int, steps: int, alphas: list[float], figure: str,
                 grad_scale: float = GRAD_SCALE, eta: float = ETA, m: int | None = None,
                 metrics=("train_error", "test_error"), log_points: int = 100, **extra) -> RunSpec:
    """Factorized GD from U₀ = αI on 000's sensing problem, one replica per α."""
    data = {
        "problem": {"name": "matrix_sensing", "d": d, "r": r, "m": m or 5 * d * r,
                    "truth": "gaussian_unit_columns", "truth_seed": 0},
        "param": {"name": "symmetric"},
        "algorithm": {"name": "gd", "eta": eta, "grad_scale": grad_scale},
        "init": {"name": "scaled_identity", "basis": "identity"},
        "steps": steps,
        "data_seed": trial,
        "metrics": list(metrics),
        "log": {"points": log_points},
        "replicas": {"init.alpha": list(alphas)},
        "tags": {"paper": PAPER, "figure": figure},
        **extra,
    }
    return RunSpec.parse(data)


# -- Figure 1: choice of initialization -------------------------------------------------------------


def fig1_specs(quick: bool) -> list[RunSpec]:
    dims, r = _dims(quick)
    return [sensing_spec(d, r, trial=t, steps=FIG1_STEPS, alphas=FIG1_ALPHAS, figure="li2018-fig1")
            for d in dims for t in range(TRIALS)]


def fig1_table(ctx: Context):
    """Final train/test error per (d, α): mean and error bars over the trials."""
    df = summaries(ctx.store, ctx.specs(fig1_specs))
    rows = []
    for (d, alpha), g in df.groupby(["problem.d", "init.alpha"]):
        row = {"d": int(d), "alpha": float(alpha), "trials": len(g)}
        for name in ("train_error", "test_error"):
            c, lo, hi = error_bar(g[name].to_numpy(), ERROR_BAR)
            row.update({name: c, f"{name}_lo": lo, f"{name}_hi": hi})
        rows.append(row)
    import pandas as pd

    return pd.DataFrame(rows).sort_values(["d", "alpha"], ascending=[True, False]).reset_index(drop=True)


def fig1_plot(ctx: Context, out_dir: Path) -> list[Path]:
    tab = fig1_table(ctx)
    fig, (ax,) = new_figure()
    styles = {"train_error": ("training", "o", "--"), "test_error": ("test", "s", "-")}
    for d, g in tab.groupby("d"):
        for name, (label, marker, ls) in styles.items():
            ax.errorbar(g["alpha"], g[name], yerr=[g[f"{name}_lo"], g[f"{name}_hi"]], marker=marker, ls=ls,
                        capsize=3, label=f"d={d} {label}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_xaxis()
    ax.set_xlabel(r"initialization $\alpha$ ($U_0=\alpha I$)")
    ax.set_ylabel("Error")
    mode = "quick" if ctx.quick else "full"
    ax.set_title(f"Li–Ma–Zhang Fig. 1 ({mode}): {FIG1_STEPS} GD steps, η={ETA}")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return save(fig, out_dir, "li2018-fig1")


def claim1(ctx: Context) -> Claim:
    """The train–test gap narrows as α decreases (Fig. 1)."""
    tab = fig1_table(ctx)
    measured = {}
    ok = True
    taus = {}
    for d, g in tab.groupby("d"):
        ratio = (g["test_error"] / g["train_error"]).to_numpy()
        alpha = g["alpha"].to_numpy()
        tau = kendall_tau(np.log(alpha), np.log(ratio))
        taus[int(d)] = tau
        lo, hi = ratio[np.argmin(alpha)], ratio[np.argmax(alpha)]
        measured[f"test/train at alpha=1, d={d}"] = float(hi)
        measured[f"test/train at alpha=1e-3, d={d}"] = float(lo)
        measured[f"kendall tau(log alpha, log ratio), d={d}"] = tau
        ok &= bool(lo < hi / 10 and tau >= 0.6)
    dims, r = _dims(ctx.quick)
    return Claim(
        id="li2018-claim1", paper=PAPER, figure="li2018-fig1",
        statement="The gap between training and test error narrows as the initialization α decreases.",
        setting=f"d ∈ {dims}, r = {r}, m = 5dr, η = {ETA} (Eq. 5 convention), {FIG1_STEPS} steps, "
                f"{TRIALS} trials, {'quick' if ctx.quick else 'full'} mode",
        measured=measured,
        paper_value="qualitative: gap narrows as α decreases (no numbers given)",
        verdict="reproduced" if ok else "not reproduced",
        note="gap measured as the ratio test/train of the trial means; reproduced when the ratio at α = 10⁻³ is "
             "below a tenth of the ratio at α = 1 and decreases with α (Kendall τ ≥ 0.6) for every d.",
    )


FIGURES = [Figure("li2018-fig1", PAPER, "Choice of initialization: final errors versus α", fig1_specs, fig1_plot)]
CLAIMS = [ClaimCheck("li2018-claim1", PAPER, "Train–test gap narrows as α decreases", fig1_specs, claim1)]

PAPER_INFO = Paper(
    id=PAPER,
    title="Algorithmic Regularization in Over-parameterized Matrix Sensing and Neural Networks with "
          "Quadratic Activations",
    citation="Y. Li, T. Ma, H. Zhang. COLT 2018 (PMLR 75:2–47), arXiv:1712.09203",
    figures=FIGURES,
    claims=CLAIMS,
)
