"""Li–Ma–Zhang Fig. 1 (final errors versus α) and the claims that read it: claim 1 (the train–test
gap narrows as α decreases) and claim 6 (Thm 1.1's α√d/κ² bound at small α).

Fig. 1 quick mode: d ∈ {20, 40} with r = 1 and m = 5dr, 10⁴ steps. What shapes Fig. 1 is the ratio of
m to the D = d(d+1)/2 symmetric degrees of freedom: the full d ∈ {100, 200} with r = 5 have m/D = 0.50
and 0.25, and d ∈ {20, 40} with r = 1 have 0.48 and 0.24.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...experiments.spec import RunSpec
from .._shared import (
    ERROR_BAR_LABELS,
    colors,
    error_bar,
    fit_line,
    kendall_tau,
    mode,
    new_figure,
    replica_traces,
    save,
    summaries,
    title,
    truth_stats,
    value_at,
)
from ..base import Context, Figure, Outcome, Threshold, claim
from .settings import CLAIM_TRIALS, ERROR_BAR, ETA, PAPER, STEP_LABEL, TRIALS, claim_specs_of, sensing_spec
from .theory import thm11_error_bound, thm11_horizon

FIG1_ALPHAS = [10 ** (-k / 2) for k in range(7)]  # 1, 10^-0.5, …, 10^-3 (the x-axis ticks of Fig. 1)
FIG1_STEPS = 10_000
#: Claim 6 reads the α ≤ 10^-1.5 part of Fig. 1's grid, where every run has escaped and settled
#: (the escape takes ≈ log(1/α)/η ≤ 2,800 of the 10⁴ steps).
CLAIM6_MAX_ALPHA = 10**-1.5
#: Claim 6: the bound's implied constant C(α) must not grow as α decreases — C at the smallest α at
#: most this factor times C at the largest α ≤ 10^-1.5 — and fall with α (Kendall τ(log α, log C) ≥ 0.6).
CLAIM6_GROWTH_TOL = 1.1
CLAIM6_TAU = 0.6


def _dims(quick: bool) -> tuple[tuple[int, ...], int]:
    return ((20, 40), 1) if quick else ((100, 200), 5)


def fig1_specs(quick: bool, trials: int = TRIALS) -> list[RunSpec]:
    dims, r = _dims(quick)
    return [sensing_spec(d, r, trial=t, steps=FIG1_STEPS, alphas=FIG1_ALPHAS, figure="li2018-fig1")
            for d in dims for t in range(trials)]


#: Claims 1 and 6: Fig. 1's runs over the claims' trials (:data:`~.settings.CLAIM_TRIALS`).
claim1_specs = claim_specs_of(fig1_specs)


def fig1_table(ctx: Context, specs=fig1_specs):
    """Final train/test error per (d, α): mean and error bars over the trials (of ``specs``)."""
    import pandas as pd

    df = summaries(ctx, ctx.specs(specs))
    rows = []
    for (d, alpha), g in df.groupby(["problem.d", "init.alpha"]):
        row = {"d": int(d), "alpha": float(alpha), "trials": len(g), "m": int(g["problem.m"].iloc[0]),
               "r": int(g["problem.r"].iloc[0])}
        for name in ("train_error", "test_error"):
            c, lo, hi = error_bar(g[name].to_numpy(), ERROR_BAR)
            row.update({name: c, f"{name}_lo": lo, f"{name}_hi": hi})
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["d", "alpha"], ascending=[True, False]).reset_index(drop=True)


def fig1_plot(ctx: Context, out_dir: Path) -> list[Path]:
    tab = fig1_table(ctx)
    fig, (ax,) = new_figure()
    groups = list(tab.groupby("d"))
    for color, (d, g) in zip(colors(len(groups)), groups, strict=True):
        m = int(g["m"].iloc[0])
        for name, label, marker, ls in (("train_error", "train", "o", "--"), ("test_error", "test", "s", "-")):
            ax.errorbar(g["alpha"], g[name], yerr=[g[f"{name}_lo"].clip(upper=0.999 * g[name]), g[f"{name}_hi"]],
                        marker=marker, ls=ls, color=color, capsize=3, label=f"{label}, d={d}, m={m}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_xaxis()
    ax.set_xlabel(r"initialization $\alpha$ ($U_0=\alpha I$)")
    ax.set_ylabel(r"relative error (train $\|\mathcal{A}(X) - y\| / \|y\|$," "\n" r"test $\|X - X_\star\|_F / \|X_\star\|_F$)")
    r = int(tab["r"].iloc[0])
    dims = tuple(int(d) for d in tab["d"].unique())
    title(ax, f"Li–Ma–Zhang Fig. 1 ({mode(ctx.quick)}): d ∈ {dims}, r = {r}, m = 5dr, {FIG1_STEPS} steps, "
              f"{STEP_LABEL}")
    ax.legend(title=f"error bars: {ERROR_BAR_LABELS[ERROR_BAR]} ({TRIALS})")
    ax.grid(True, which="both", alpha=0.3)
    return save(fig, out_dir, "li2018-fig1")


def _setting(ctx: Context, extra: str = "") -> str:
    dims, r = _dims(ctx.quick)
    return (f"d ∈ {dims}, r = {r}, m = 5dr, U₀ = αI, {STEP_LABEL}, {FIG1_STEPS} steps, {CLAIM_TRIALS[ctx.quick]} trials "
            f"(data seeds){extra}, "
            f"{mode(ctx.quick)} mode")


@claim(
    id="li2018-claim1", paper=PAPER, figure="li2018-fig1", specs=claim1_specs,
    kind="experiment", source={"section": "App. B, Fig. 1",
                     "quote": "Figure 1 shows that the gap between the training and test error narrows down as α decreases."},
    statement="The gap between training and test error narrows as the initialization α decreases (Fig. 1).",
    paper_value="qualitative: the gap narrows as α decreases (no numbers given)",
    criterion="gap = ratio test/train of the trial means. Reproduced when, for every d, the ratio at α = 10⁻³ is "
              "below a tenth of the ratio at α = 1 and falls with α (Kendall τ(log α, log ratio) ≥ 0.6); not "
              "reproduced otherwise.",
    thresholds={"narrowing": Threshold(10, low=3, high=30, reason="'narrows' is a factor, not a stated size: half a "
                                       "decade either side of a tenth"),
                "tau": Threshold(0.6, low=0.4, high=0.8, reason="'falls with α': from a clear majority of pairs "
                                 "ordered to nearly all")},
)
def claim1(ctx: Context) -> Outcome:
    tab = fig1_table(ctx, claim1_specs)
    measured = {}
    ok = True
    for d, g in tab.groupby("d"):
        ratio = (g["test_error"] / g["train_error"]).to_numpy()
        alpha = g["alpha"].to_numpy()
        tau = kendall_tau(np.log(alpha), np.log(ratio))
        lo, hi = ratio[np.argmin(alpha)], ratio[np.argmax(alpha)]
        measured[f"test/train at alpha=1, d={d}"] = float(hi)
        measured[f"test/train at alpha=1e-3, d={d}"] = float(lo)
        measured[f"kendall tau(log alpha, log ratio), d={d}"] = tau
        ok &= bool(lo < hi / ctx.threshold("narrowing") and tau >= ctx.threshold("tau"))
    return Outcome(measured=measured, verdict="reproduced" if ok else "not reproduced", setting=_setting(ctx),
                   note="The paper gives no numbers; the verdict is on the direction only.")


def _slopes_over_horizon(ctx: Context, d: int) -> dict[str, float]:
    """Log–log slope of the trial-mean test error on α ≤ 10^-1.5 at T/4, T/2 and T (Fig. 1's traces)."""
    specs = [s for s in ctx.specs(claim1_specs) if s.problem.params["d"] == d]
    per_alpha: dict[float, list] = {}
    for spec in specs:
        for rep, rows in replica_traces(ctx, spec):
            per_alpha.setdefault(float(rep["init.alpha"]), []).append(rows)
    alphas = sorted(a for a in per_alpha if a <= CLAIM6_MAX_ALPHA * (1 + 1e-9))
    out = {}
    for frac, label in ((0.25, "T/4"), (0.5, "T/2"), (1.0, "T")):
        step = frac * FIG1_STEPS
        test = [np.mean([value_at(rows, "test_error", step) for rows in per_alpha[a]]) for a in alphas]
        out[label] = fit_line(np.log(alphas), np.log(test))[0]
    return out


@claim(
    id="li2018-claim6", paper=PAPER, figure="li2018-fig1", specs=claim1_specs,
    kind="theorem", source={"section": "Thm 1.1 (§1.1)",
                     "quote": "The theorem above shows that gradient descent can provide an algorithmic regularization so that "
                     "the generalization error depends on the size of the initialization α, instead of the number of "
                     "parameters."},
    statement="Thm 1.1: for small α, ‖U_TU_Tᵀ − X⋆‖_F² ≲ α√d/κ² for every T with κ log(d/α)/η ≲ T ≲ "
              "1/(η√dκα) (an upper bound with an unspecified constant).",
    paper_value="‖U_TU_Tᵀ − X⋆‖_F² ≲ α√d/κ² (constant not given; the paper reports no measured number)",
    criterion="C(α) = ‖U_TU_Tᵀ − X⋆‖_F² / (α√d/κ²), the constant the bound needs at α (trial means; κ, ‖X⋆‖_F of "
              "the actual X⋆), over Fig. 1's α ≤ 10^-1.5 at T = 10⁴. Reproduced when, for every d, C does not grow "
              f"as α decreases: C at α = 10⁻³ ≤ {CLAIM6_GROWTH_TOL} × C at α = 10^-1.5 and Kendall τ(log α, log C) ≥ "
              f"{CLAIM6_TAU}; partly reproduced when C at 10⁻³ ≤ {CLAIM6_GROWTH_TOL} × C at 10^-1.5 but not "
              "monotonically; not reproduced when C grows as α decreases. The largest C is reported as the bound's "
              "constant. The log–log slope of the test error in α, and how it changes with the horizon, are "
              "measurements, not judged.",
    criterion_revised="before: 'test error ∝ α at small α, far below α√d', judged by |slope − 1| ≤ 0.25 of "
                      "log(test) on log α over α ≤ 10^-1.5 and ‖U_TU_Tᵀ − X⋆‖_F² ≤ 0.1 × α√d/κ² (constant set to "
                      "1) at every α ≤ 10^-1.5; after the full run gave 0.17 at α = 10^-1.5, d = 200, the bound part "
                      "was loosened to 0.1 × the bound at α = 10⁻³ only, plus a falling ratio / after: 'test error "
                      "∝ α' is not a statement of the paper and a constant set to 1 is arbitrary, so the criterion "
                      "states Thm 1.1 and judges its α-dependence, with the constant reported.",
    thresholds={"growth": Threshold(CLAIM6_GROWTH_TOL, low=1.0, high=1.5, reason="'C does not grow': from no "
                                    "growth at all to a growth well inside the scatter of the trials"),
                "tau": Threshold(CLAIM6_TAU, low=0.4, high=0.8, reason="'monotonically': from a clear majority of "
                                 "pairs ordered to nearly all")},
)
def claim6(ctx: Context) -> Outcome:
    specs = ctx.specs(claim1_specs)
    tab = fig1_table(ctx, claim1_specs)
    measured: dict = {}
    versus: dict = {}
    verdicts = []
    for d, g in tab.groupby("d"):
        small = g[g["alpha"] <= CLAIM6_MAX_ALPHA * (1 + 1e-9)]
        alpha, test = small["alpha"].to_numpy(), small["test_error"].to_numpy()
        stats = truth_stats(next(s for s in specs if s.problem.params["d"] == d), ctx)
        # the theorem bounds the squared absolute error ‖UUᵀ − X⋆‖_F² = (relative error · ‖X⋆‖_F)²
        C = (test * stats.frobenius) ** 2 / np.array([thm11_error_bound(a, d, stats.kappa) for a in alpha])
        i_min, i_max = np.argmin(alpha), np.argmax(alpha)
        tau = kendall_tau(np.log(alpha), np.log(C))
        grows = C[i_min] > ctx.threshold("growth") * C[i_max]
        verdicts.append("not reproduced" if grows else "reproduced" if tau >= ctx.threshold("tau")
                        else "partly reproduced")
        window = [a for a in alpha if thm11_horizon(a, d, ETA, stats.kappa)[0] <= FIG1_STEPS
                  <= thm11_horizon(a, d, ETA, stats.kappa)[1]]
        measured[f"d={d}: C(alpha) for alpha = {', '.join(f'{a:.2g}' for a in alpha)}"] = [float(c) for c in C]
        measured[f"d={d}: largest C over alpha <= 10^-1.5 (the bound's constant)"] = float(np.max(C))
        measured[f"d={d}: kendall tau(log alpha, log C)"] = tau
        measured[f"d={d}: alphas with T = 1e4 inside Thm 1.1's window (constants 1, kappa = {stats.kappa:.3g})"] = \
            [float(a) for a in window]
        slopes = _slopes_over_horizon(ctx, int(d))
        measured[f"d={d}: slope d log(test)/d log(alpha) at T/4, T/2, T"] = [slopes[k] for k in ("T/4", "T/2", "T")]
        versus[f"constant of ≲ α√d/κ², d={d}"] = {"paper": "not given", "ours": float(np.max(C))}
    verdict = ("not reproduced" if "not reproduced" in verdicts else
               "partly reproduced" if "partly reproduced" in verdicts else "reproduced")
    return Outcome(
        measured=measured, verdict=verdict, versus=versus, setting=_setting(ctx, ", α ≤ 10^-1.5"),
        note="Thm 1.1 is an upper bound with an unspecified constant, so only its α-dependence can fail: C(α) "
             "must not grow as α → 0. A relative test error ∝ α^s gives C ∝ α^(2s−1); the fitted slopes s (rows "
             "'slope … at T/4, T/2, T') are measurements: a slope that changes with the horizon is not a property "
             "of the dynamics. Verdict change from the old table: 'reproduced' on a different claim "
             "(test ∝ α, with a slope criterion); see criterion_revised.",
    )


FIGURES = [Figure("li2018-fig1", PAPER, "Choice of initialization: final errors versus α", fig1_specs, fig1_plot,
                  setting=("Paper (App. B): symmetric Gaussian sensing, d ∈ {100, 200}, r = 5, m = 5dr, X⋆ = U⋆U⋆ᵀ with "
                           "unit-norm Gaussian columns; GD (Eq. 5) from U₀ = αI, α from 1 down to 10⁻³, η = 0.0025, 10⁴ "
                           "steps, 3 trials resampling the A_i; relative train and test errors. Quick mode: d ∈ {20, 40} "
                           "with r = 1 (the same ratios m/D, D = d(d+1)/2)."),
                  paper_reports=("The gap between the training and the test error narrows as α decreases (no numbers in the "
                                 "text; the y-axis spans 10⁻⁴ to 10¹)."))]
CLAIMS = [claim1, claim6]
