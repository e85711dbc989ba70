"""003 Thm 1.2(i)'s capture condition rank(U₀) = O(m/(d log d)) against Example 1.1's runs: a sweep
of the init rank at ‖U₀‖_F = 1 (the norm at which Fig. 2 shows the rank effect), the figure
``eftekhari2021-capture`` and claim 6.

For Example 1.1, m/(d ln d) = 240/(30 ln 30) ≈ 2.35. The theorem is a sufficient condition with an
unspecified constant; the paper's reading is that it "reflects the true limitations of implicit bias
that we numerically identified in Example 1.1". The claim compares the largest init rank that
recovers X♮ in the runs with 2.35, and reports the stored LICQ check (Assumption 3.1(ii)) at the
planted factor, where the Jacobian has rank 2d − 1 = 59 < m (notes-003 §4.4(1)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...experiments.computations import Computation
from ...experiments.spec import RunSpec
from .._shared import mode, new_figure, save, summaries, title
from ..base import Context, Figure, Outcome, Threshold, claim
from .computations import licq_check
from .example import RANK_METRICS, RECOVERED
from .settings import DATA_SEED, PAPER, R_TRUE, STEP_LABEL, TRIALS, D, M, example_spec, half_std_bar, problem, steps
from .theory import capture_rank

SWEEP_NORM = 1.0


def sweep_ranks(quick: bool) -> tuple[int, ...]:
    return (1, 2, 3, 4, 6, 10, 30) if quick else (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30)


#: Claim 6's data seeds (X♮ and 𝒜 drawn anew; seed 0 is the capture figure's).
CLAIM6_SEEDS = (0, 1, 2, 3, 4)


def capture_specs(quick: bool, data_seed: int = DATA_SEED) -> list[RunSpec]:
    extra = {} if data_seed == DATA_SEED else {"data_seed": data_seed, "truth_seed": data_seed}
    return [example_spec(norm=SWEEP_NORM, ranks=sweep_ranks(quick), n_steps=steps(quick),
                         figure=f"{PAPER}-capture", metrics=RANK_METRICS, **extra)]


def claim6_specs(quick: bool) -> list[RunSpec]:
    """The capture sweep on each data seed of :data:`CLAIM6_SEEDS` (X♮ and 𝒜 both drawn anew)."""
    return [spec for seed in CLAIM6_SEEDS for spec in capture_specs(quick, seed)]


def licq_computations(quick: bool) -> list[Computation]:
    params = {k: v for k, v in problem().items() if k != "name"}
    return [licq_check.spec(params=params, data_seed=DATA_SEED, ranks=[2, 4, 8, 30], seed=0)]


def sweep_table(ctx: Context, recovered: float = RECOVERED, specs=capture_specs):
    """Per init rank: mean ± ½ std, min, max of the final test error over every trial of ``specs``
    (the figure's runs, or claim 6's on several data seeds), and whether every trial is ≤ ``recovered``."""
    df = summaries(ctx, ctx.specs(specs)).rename(columns={"init.rank": "rank", "init_seed": "trial"})
    rows = []
    for r, g in df.groupby("rank"):
        test = g["test_error_sq"].to_numpy(dtype=float)
        mean, half = half_std_bar(test)
        rows.append({"rank": int(r), "mean": mean, "half_std": half, "max": float(test.max()),
                     "min": float(test.min()), "recovered": bool((test <= recovered).all())})
    import pandas as pd

    return pd.DataFrame(rows).sort_values("rank").reset_index(drop=True)


def recovery_limit(tab) -> int | None:
    """The largest swept r₀ ≥ rank X♮ such that every swept rank in [rank X♮, r₀] recovers (None if rank X♮ fails)."""
    limit = None
    for _, row in tab[tab["rank"] >= R_TRUE].iterrows():
        if not row["recovered"]:
            break
        limit = int(row["rank"])
    return limit


def capture_plot(ctx: Context, out_dir: Path) -> list[Path]:
    full = sweep_table(ctx)
    tab = full[full["rank"] >= R_TRUE]
    below = full[full["rank"] < R_TRUE]
    fig, (ax,) = new_figure(height=4.6)
    lo = np.maximum(tab["mean"] - tab["half_std"], 1e-300)
    ax.errorbar(tab["rank"], tab["mean"], yerr=[tab["mean"] - lo, tab["half_std"]], marker="o", capsize=3,
                label="final test error\n" r"$\|U_KU_K^\top - X_\natural\|_F^2$ (mean ± ½ std, 3 trials)")
    if len(below):  # r₀ < rank X♮: a rank-r₀ U cannot fit X♮; any small value is round-off growth (claim 5)
        ax.scatter(below["rank"], np.maximum(below["mean"], 1e-300), marker="x", color="#D55E00", zorder=3,
                   label="r₀ < rank X♮: float64 round-off growth,\nnot a recovery (exact arithmetic: rank "
                         "stays r₀; claim 5)")
    c = capture_rank(M, D)
    ax.axvline(c, color="k", ls="--", lw=1, label=f"m/(d ln d) = {c:.2f}\n(Thm 1.2(i), constant 1)")
    ax.axhline(RECOVERED, color="#009E73", ls=":", lw=1, label=f"'recovered' line {RECOVERED:g}")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xticks(list(full["rank"]))
    ax.set_xticklabels([str(r) for r in full["rank"]])
    ax.set_xlabel(r"init rank $r_0 = \mathrm{rank}(U_0)$")
    ax.set_ylabel("final test error")
    ax.grid(True, alpha=0.3)
    fig.legend(loc="outside lower center", frameon=False)  # below the axes: off the data
    title(ax, f"003 capture condition against runs ({mode(ctx.quick)}): Example 1.1, d = p = {D}, m = {M}, "
              f"rank X♮ = {R_TRUE}, " r"$\|U_0\|_F$" f" = {SWEEP_NORM:g}, η = 1e-4, K = {steps(ctx.quick)}, {STEP_LABEL}")
    return save(fig, out_dir, f"{PAPER}-capture")


@claim(
    id=f"{PAPER}-claim6", paper=PAPER, figure=f"{PAPER}-capture", specs=claim6_specs, computations=licq_computations,
    kind="theorem", source={"section": "§1.1 (after Thm 1.2)",
                     "quote": "we must in turn select rank $(U_0)$  to be relatively small, i.e., rank $(U_0) = O(m/(d \\log "
                     "d))$ . In this way, Theorem 1.2 reflects the true limitations of implicit bias that we "
                     "numerically identified in Example 1.1."},
    statement="Thm 1.2(i): implicit bias towards X♮ needs rank(U₀) = O(m/(d log d)); 'Theorem 1.2 reflects the true "
              "limitations of implicit bias that we numerically identified in Example 1.1'.",
    paper_value="rank(U₀) = O(m/(d log d)) = O(2.35) for Example 1.1 (our evaluation, natural log, constant 1); "
                "no measured number",
    criterion=f"Init-rank sweep at ‖U₀‖_F = 1 (3 trials per rank, {len(CLAIM6_SEEDS)} data seeds); r_max = the largest "
              "swept r₀ ≥ 2 such that every "
              f"swept rank in [2, r₀] recovers (final test error ≤ {RECOVERED:g} in every trial); c = m/(d ln d) = "
              f"{capture_rank(M, D):.2f}. Reproduced when rank 2 recovers and r_max ≤ 2c (the observed limit is "
              "within a factor 2 of the condition); partly reproduced when rank 2 recovers but r_max > 2c (the "
              "condition is conservative: runs recover at ranks it does not cover; r_max/c reported); not "
              "reproduced when rank 2 (≤ c) fails. The LICQ check at U♮ (Jacobian rank vs m, σ_m) is reported. The "
              "'recovered' line has no value in the paper: the verdict is evaluated over its range [1e-10, 1e-4] "
              "and on each data seed, and r_max is reported at both ends (inconclusive when they disagree).",
    criterion_revised="before: one data seed, the 'recovered' line 1e-8 alone / after: 5 data seeds, r_max and the "
                      "verdict reported over the line's range [1e-10, 1e-4]. Why: the verdict depends on the line "
                      "(at 1e-4 rank 3 counts as recovered and r_max grows), so a single value hid the spread.",
    thresholds={"recovered": Threshold(RECOVERED, low=1e-10, high=1e-4, reason="'implicitly biased towards X♮': a "
                                       "final ‖UUᵀ − X♮‖_F² from near round-off (1e-10) to 1e-4 of ‖X♮‖_F² ≈ 0.5"),
                "factor": Threshold(2.0, low=1.5, high=3.0, reason="O(m/(d log d)) has no constant: the observed "
                                    "limit within a factor 1.5–3 of the condition")},
)
def claim6(ctx: Context) -> Outcome:
    tab = sweep_table(ctx, ctx.threshold("recovered"), claim6_specs)
    c = capture_rank(M, D)
    r_max = recovery_limit(tab)
    lo, hi = claim6.thresholds["recovered"].low, claim6.thresholds["recovered"].high
    r_max_range = {f"{x:g}": recovery_limit(sweep_table(ctx, x, claim6_specs)) for x in (lo, RECOVERED, hi)}
    seeds = sorted({sp.data_seed for sp in ctx.specs(claim6_specs)})
    measured = {
        "m/(d ln d)": c,
        "r_max (largest recovering init rank)": r_max,
        "r_max at 'recovered' line 1e-10 / 1e-8 / 1e-4": list(r_max_range.values()),
        f"final test error per init rank (mean of {3 * len(seeds)})": {
            int(r): float(f"{v:.3g}") for r, v in zip(tab["rank"], tab["mean"], strict=True)},
    }
    lics = ctx.computations(licq_computations)  # reported, on one data seed: absent from another seed's view alone
    lic = ctx.result(lics[0]) if lics else None
    if lic is not None:
        measured.update({
            "LICQ at U♮: Jacobian rank / m / bound 2d−1": [lic["planted"]["rank"], lic["planted"]["m"],
                                                             lic["planted"]["bound"]],
            "LICQ at U♮: σ_m(Dg(U♮))": lic["planted"]["sigma_m"],
            "LICQ at random rank 8 / 30: Jacobian rank": [lic["random_rank_8"]["rank"],
                                                          lic["random_rank_30"]["rank"]],
            "‖𝒜‖ (m × d² spectral norm)": lic["operator_norm"],
        })
    if r_max is None:
        verdict = "not reproduced"
    elif r_max <= ctx.threshold("factor") * c:
        verdict = "reproduced"
    else:
        verdict = "partly reproduced"
    licq_text = ("" if lic is None else
                 f"The theorem's hypotheses are not met literally on Example 1.1: Dg has rank {lic['planted']['rank']} "
                 f"< m = {lic['planted']['m']} at U♮ (σ_m ≈ {lic['planted']['sigma_m']:.1e}), so σ_m(ℳ_b) = 0 and the "
                 "capture radius (6) is zero unless X♮ is infinitesimally perturbed (Remark 3.4). ")
    note = (f"{licq_text}The comparison is of the rank "
            "scale only. Test error grows continuously with r₀; 'recovered' is the line "
            f"{RECOVERED:g}. A rank-1 init (< rank X♮, outside the theorem) can still end at X♮: floating-point "
            "round-off outside row(U₀) is amplified until U_t has rank ≥ 2 (claim 7; in exact arithmetic it stays rank 1 "
            "with test error ≈ 0.17, claim 5). The 'recovered' line has no value in the paper; r_max at its ends "
            "1e-10 / 1e-8 / 1e-4 is reported, and the verdict is inconclusive when they disagree.")
    versus = {"largest init rank with recovery": {"paper": f"O(m/(d log d)) ≈ {c:.2f} (constant unspecified)",
                                                  "ours": r_max},
              "r_max over the 'recovered' line [1e-10, 1e-4]": {"paper": "no line given",
                                                                 "ours": "–".join(dict.fromkeys(str(v) for v in
                                                                                                r_max_range.values()))}}
    return Outcome(measured=measured, verdict=verdict, note=note, versus=versus,
                   setting=f"Example 1.1 (d = {D}, m = {M}, rank 2), ‖U₀‖_F = {SWEEP_NORM:g}, η = 1e-4, "
                           f"K = {steps(ctx.quick)}, init ranks {sweep_ranks(ctx.quick)}, {TRIALS} trials, data seeds "
                           f"{', '.join(map(str, seeds))}, {mode(ctx.quick)} mode")


FIGURES = [Figure(f"{PAPER}-capture", PAPER, "Final test error against init rank at ‖U₀‖_F = 1 (capture condition)",
                  capture_specs, capture_plot, licq_computations,
                  setting=("Not a figure of the paper: Example 1.1 at ‖U₀‖_F = 1 (where Fig. 2 shows the rank effect), the "
                           "final test error over a sweep of the init rank; beside it, the stored LICQ check at the planted "
                           "factor (Jacobian rank 2d − 1 = 59 < m). The rank-1 init (below rank X♮ = 2) is drawn apart (×): in "
                           "exact arithmetic U_t keeps rank 1 and cannot fit X♮ (test error ≈ 0.17, claim 5); its small "
                           "float64 value is round-off growth outside row(U₀), not a recovery."),
                  paper_reports=("Thm 1.2(i): GD is captured by X♮ when rank(U₀) = O(m/(d log d)) ≈ 2.35 here (constant "
                                 "unspecified); the paper reads this as the limitation its Example 1.1 shows."))]
CLAIMS = [claim6]
