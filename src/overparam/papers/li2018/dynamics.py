"""Li–Ma–Zhang Figs. 2–3 and claims 2, 3, 7: long runs, no early stopping, escape time.

Choices where the paper is silent (each a module constant, so a parameter of the specs):

* **Fig. 2's d** — ``FIG2_D = 200`` (full) with r = 5, m = 5dr = 5,000 (m/D = 0.25, D = d(d+1)/2):
  Fig. 2 does not restate d; its α = 1 training error falls below 10⁻⁴ within 2×10⁴ steps, which
  happens at d = 200 (the α = 1 run fits the data linearly, to 10⁻¹⁴) but not at d = 100, where
  m/D ≈ 0.5 and the α = 1 training error stalls near 10⁻² (eigenvalues of UUᵀ pinned near 0 fit
  slowly; 0.047–0.065 at 10⁴ steps over the full Fig. 1 trials). Quick mode keeps m/D: d = 40, r = 1, m = 200
  (m/D = 0.24). No d with m = 5dr gives the paper's α = 1 test error "on the order of 10⁻¹": the part of
  I − X⋆ in the null space of the measurements, a fraction (D − m)/D of its squared norm, survives GD
  from U₀ = I, which predicts a relative test error ≈ 5.4 at d = 200 and ≈ 3.0 at d = 100
  (:func:`.theory.large_init_test_error`); it would need m ≈ D − 3. Claim 2's criterion judges
  this size too (notes-000 §5.6).
* **Fig. 2's extra replica** — α = 10⁻² runs beside α ∈ {1, 10⁻³} (replicas share the operator, so it
  is nearly free); the plot shows only the paper's two α. Fig. 3's quick variant reads it.
* **Fig. 3's d** — ``FIG3_DIMS = (200,)``: the only legend text that survives is "d=200". Full mode
  is 10⁵ steps at m = 5,000 (≈ 3–4 h per trial on one CPU core of a 2-core machine, measured from Fig. 2's per-step time).
* **Fig. 3 quick** — the α = 10⁻² replica of Fig. 2's quick runs (d = 40, r = 1, m = 200, the same
  m/D as the full d = 200; 2×10⁴ steps): the horizon is 11× the escape time and ≈ 3× Thm 1.1's
  guaranteed window 1/(η√dκα), so "the test error keeps decreasing" is still checked far past where
  the theorem stops promising anything.
* **Claim 7's setting** — X⋆ with all r eigenvalues 1 (``truth="orthonormal"``, κ = 1) and the
  exact-gradient convention (grad_scale = 1), where the predicted slope of the escape time in
  log(1/α) is one number, 1/log(1 + 2η) ≈ 1/(2η) = 200 (:func:`.theory.escape_slope`);
  α ∈ {10⁻¹, …, 10⁻⁶}; escape = first (interpolated) step with relative test error ≤ ½; the runs use
  ``gd_subspace`` so the S_t invariants of Thm 4.2 are reported beside it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ... import figstyle
from ...experiments.computations import Computation
from ...experiments.spec import RunSpec
from .._shared import (
    colors,
    error_bar,
    first_crossing,
    fit_line,
    mode,
    new_figure,
    replica_traces,
    save,
    title,
    truth_stats,
)
from ..base import Context, Figure, Outcome, Threshold, claim
from .computations import rip_estimate
from .settings import CLAIM_TRIALS, ERROR_BAR, ETA, PAPER, STEP_LABEL, TRIALS, claim_specs_of, sensing_spec
from .theory import escape_slope, large_init_test_error, thm11_horizon

FIG2_D = {True: 40, False: 200}
FIG2_R = {True: 1, False: 5}
FIG2_ALPHAS = [1.0, 1e-3]
FIG2_EXTRA_ALPHA = 1e-2
FIG2_STEPS = 20_000
FIG2_FROM = 500  # "points plotted from iteration 500 onward to simplify the scale of the y-axis"
FIG2_LOG_EVERY = 100

FIG3_ALPHA = 1e-2
FIG3_DIMS = (200,)
FIG3_R = 5
FIG3_STEPS = 100_000
#: Claim 3: after the escape, the test error may not rise by more than this relative amount between
#: logged points (float64 round-off is ~1e-16; anything above 1e-6 is a real increase).
CLAIM3_RISE_TOL = 1e-6

#: Claim 2: "train error below 10⁻⁴" and "test error on the order of 10⁻¹", read as within half a
#: decade of 10⁻¹ (10^-1.5 … 10^-0.5); a test error above 10^-1.5 is "large" (the direction).
CLAIM2_TRAIN = 1e-4
CLAIM2_TEST = 1e-1

CLAIM7_D = {True: 40, False: 100}
CLAIM7_R = {True: 2, False: 5}
CLAIM7_ALPHAS = [10.0**-k for k in range(1, 7)]
CLAIM7_GRAD_SCALE = 1.0
CLAIM7_THRESHOLD = 0.5
CLAIM7_STEPS = {True: 3_500, False: 3_500}
CLAIM7_LOG_EVERY = 10
#: reproduced when the fitted slope is within this relative distance of 1/log(1 + 2sη) and R² ≥ 0.99
CLAIM7_SLOPE_TOL = 0.15
CLAIM7_RIP_SAMPLES = 50


# -- Figure 2 -----------------------------------------------------------------------------------------------


def fig2_specs(quick: bool, trials: int = TRIALS) -> list[RunSpec]:
    d, r = FIG2_D[quick], FIG2_R[quick]
    return [sensing_spec(d, r, trial=t, steps=FIG2_STEPS, alphas=[*FIG2_ALPHAS, FIG2_EXTRA_ALPHA],
                         figure="li2018-fig2", log_points=50, log_every=FIG2_LOG_EVERY)
            for t in range(trials)]


#: Claim 2: Fig. 2's runs over the claims' trials (:data:`~.settings.CLAIM_TRIALS`).
claim2_specs = claim_specs_of(fig2_specs)


def _curves(ctx: Context, specs: list[RunSpec]):
    """{α: (steps, {metric: (mean, lo, hi)}, trial rows)} over the trials of ``specs`` (same steps in each)."""
    per_alpha: dict[float, list] = {}
    for spec in specs:
        for rep, rows in replica_traces(ctx, spec):
            per_alpha.setdefault(float(rep["init.alpha"]), []).append(rows)
    out = {}
    for alpha, runs in per_alpha.items():
        steps = runs[0]["step"].to_numpy()
        curves = {}
        for name in ("train_error", "test_error"):
            vals = np.stack([r[name].to_numpy() for r in runs])
            bars = [error_bar(vals[:, j], ERROR_BAR) for j in range(vals.shape[1])]
            curves[name] = tuple(np.array(x) for x in zip(*bars, strict=True))
        out[alpha] = (steps, curves, runs)
    return out


def _stack(runs, name: str):
    """trials × steps values of ``name`` (the trials share their logged steps)."""
    return np.stack([r[name].to_numpy() for r in runs])


def fig2_plot(ctx: Context, out_dir: Path) -> list[Path]:
    specs = ctx.specs(fig2_specs)
    curves = _curves(ctx, specs)
    fig, (ax,) = new_figure()
    for color, alpha in zip(colors(len(FIG2_ALPHAS)), FIG2_ALPHAS, strict=True):
        steps, _, runs = curves[alpha]
        sel = steps >= FIG2_FROM
        for name, label, ls in (("test_error", "test", "-"), ("train_error", "train", "--")):
            figstyle.seed_band(ax, steps[sel] / 100, _stack(runs, name)[:, sel], color=color, ls=ls,
                               label=rf"{label}, $\alpha$ = {alpha:g}")
    ax.axhline(CLAIM2_TRAIN, color="gray", lw=0.8, ls=":", label="10⁻⁴ (paper's α = 1 train level)")
    ax.set_yscale("log")
    ax.set_xlabel(r"Number of iterations ($\times 10^2$)")
    ax.set_ylabel("relative error")
    d, r = FIG2_D[ctx.quick], FIG2_R[ctx.quick]
    title(ax, f"Li–Ma–Zhang Fig. 2 ({mode(ctx.quick)}): d = {d}, r = {r}, m = {5 * d * r}, {STEP_LABEL}")
    fig.legend(loc="outside lower center", ncols=3, title=f"{figstyle.SEED_BAND_LABEL} ({TRIALS})")
    ax.grid(True, which="both", alpha=0.3)
    return save(fig, out_dir, "li2018-fig2")


@claim(
    id="li2018-claim2", paper=PAPER, figure="li2018-fig2", specs=claim2_specs,
    kind="experiment", source={"section": "App. B, Fig. 2",
                     "quote": "When α = 1.0, despite the training error decreases below 10−4, the test error remains to be on "
                     "the order of 10−1."},
    statement="With α = 1 the training error falls below 10⁻⁴ while the test error stays on the order of 10⁻¹ "
              "(Fig. 2).",
    paper_value="α = 1: train < 10⁻⁴, test ≈ 10⁻¹ (Fig. 2's y-axis spans 10⁻⁴ … 10⁻¹)",
    criterion="α = 1 trial means at the last step. Reproduced when train < 10⁻⁴ and 10^-1.5 ≤ test ≤ 10^-0.5 "
              "(within half a decade of the paper's 10⁻¹); partly reproduced when train < 10⁻⁴ and test > 10^-0.5 "
              "(the direction — fits the data, does not generalize — holds, the stated size does not); not "
              "reproduced when train ≥ 10⁻⁴ or test < 10^-1.5.",
    criterion_revised="before: 'train < 10⁻⁴ and test ≥ 10⁻¹' (one-sided: it cannot fail on the size of the test "
                      "error; reproduced, the size discrepancy only in the note) / after: the test error bounded from "
                      "both sides, written before the run that gave this verdict.",
    thresholds={"train": Threshold(CLAIM2_TRAIN, low=CLAIM2_TRAIN, high=CLAIM2_TRAIN,
                                   reason="the paper's own number ('decreases below 10−4')"),
                "test band (decades)": Threshold(0.5, low=0.3, high=1.0, reason="'on the order of 10−1': from a "
                                                 "factor 2 to a full decade either side")},
)
def claim2(ctx: Context) -> Outcome:
    specs = ctx.specs(claim2_specs)
    curves = _curves(ctx, specs)
    steps, c, _ = curves[1.0]
    train, test = float(c["train_error"][0][-1]), float(c["test_error"][0][-1])
    d, r = FIG2_D[ctx.quick], FIG2_R[ctx.quick]
    m = 5 * d * r
    pred = large_init_test_error(d, m, truth_stats(specs[0], ctx).X_star)
    train_line, band = ctx.threshold("train"), ctx.threshold("test band (decades)")
    crossed = first_crossing(steps, c["train_error"][0], train_line)
    _, c_small, _ = curves[1e-3]
    lo, hi = CLAIM2_TEST * 10**-band, CLAIM2_TEST * 10**band
    if train >= train_line or test < lo:
        verdict = "not reproduced"
    elif test <= hi:
        verdict = "reproduced"
    else:
        verdict = "partly reproduced"
    measured = {
        "alpha=1 train error at end": train,
        "alpha=1 test error at end": test,
        "alpha=1 predicted test error (null-space part of I - X*)": pred,
        "alpha=1 step where train < 1e-4": crossed if crossed is not None else "not reached",
        "alpha=1e-3 train / test error at end": [float(c_small["train_error"][0][-1]),
                                                 float(c_small["test_error"][0][-1])],
    }
    D = d * (d + 1) // 2
    return Outcome(
        measured=measured, verdict=verdict,
        decisive="α=1 train error" if train >= train_line else "α=1 test error",
        versus={"α=1 train error": {"paper": "< 1e-4", "ours": train},
                "α=1 test error": {"paper": "≈ 1e-1", "ours": test}},
        setting=f"d = {d}, r = {r}, m = 5dr = {m}, U₀ = αI, {STEP_LABEL}, {FIG2_STEPS} steps, "
                f"{CLAIM_TRIALS[ctx.quick]} trials (data seeds; means), {mode(ctx.quick)} mode",
        note=f"Our α = 1 test error is {test:.3g}, not ≈ 10⁻¹ (verdict change from the old table: 'reproduced' under "
             "the one-sided criterion). GD from U₀ = I keeps the component of I − X⋆ in the null space of the "
             f"m = {m} measurements, a fraction (D − m)/D = {1 - m / D:.2f} of the D = d(d+1)/2 symmetric "
             f"directions, which predicts {pred:.3g}; with m = 5dr no d gives 10⁻¹ (it would take m ≈ D − 3), so "
             "the paper's Fig. 2 must have used another m or error definition. Fig. 2's d is not stated; this runs "
             "at m/D ≈ 0.25 (d = 200, r = 5 in full mode), where the α = 1 run fits the data linearly.",
    )


# -- Figure 3 -----------------------------------------------------------------------------------------------


def fig3_specs(quick: bool, trials: int = TRIALS) -> list[RunSpec]:
    if quick:
        return fig2_specs(True, trials)  # the α = 10⁻² replica of Fig. 2's quick runs (module docstring)
    return [sensing_spec(d, FIG3_R, trial=t, steps=FIG3_STEPS, alphas=[FIG3_ALPHA], figure="li2018-fig3",
                         log_points=200, log_every=1000)
            for d in FIG3_DIMS for t in range(trials)]


#: Claim 3: Fig. 3's runs over the claims' trials (:data:`~.settings.CLAIM_TRIALS`).
claim3_specs = claim_specs_of(fig3_specs)


def _fig3_curves(ctx: Context, specs_fn=fig3_specs):
    specs = ctx.specs(specs_fn)
    by_d: dict[int, list[RunSpec]] = {}
    for s in specs:
        by_d.setdefault(s.problem.params["d"], []).append(s)
    return {d: (_curves(ctx, ss)[FIG3_ALPHA], ss[0]) for d, ss in by_d.items()}


def fig3_plot(ctx: Context, out_dir: Path) -> list[Path]:
    fig, (ax,) = new_figure()
    items = list(_fig3_curves(ctx).items())
    for color, (d, ((steps, _, runs), spec)) in zip(colors(len(items)), items, strict=True):
        sel = steps >= 1
        r, m = spec.problem.params["r"], spec.problem.params["m"]
        figstyle.seed_band(ax, steps[sel], _stack(runs, "test_error")[:, sel], color=color,
                           label=f"test error, d = {d}, r = {r}, m = {m}")
        kappa = truth_stats(spec, ctx).kappa
        _, hi_t = thm11_horizon(FIG3_ALPHA, d, ETA, kappa)
        ax.axvline(hi_t, color=color, ls=":", lw=1,
                   label=rf"Thm 1.1 window end $1/(\eta\sqrt{{d}}\kappa\alpha)$, d = {d}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Number of iterations")
    ax.set_ylabel(r"relative test error $\|X - X_\star\|_F / \|X_\star\|_F$")
    steps_total = FIG2_STEPS if ctx.quick else FIG3_STEPS
    title(ax, f"Li–Ma–Zhang Fig. 3 ({mode(ctx.quick)}): U₀ = {FIG3_ALPHA:g}·I, {steps_total} steps, {STEP_LABEL}")
    ax.legend(title=f"{figstyle.SEED_BAND_LABEL} ({TRIALS})")
    ax.grid(True, which="both", alpha=0.3)
    return save(fig, out_dir, "li2018-fig3")


@claim(
    id="li2018-claim3", paper=PAPER, figure="li2018-fig3", specs=claim3_specs,
    kind="experiment", source={"section": "App. B, Fig. 3",
                     "quote": "We keep gradient descent running for 105 iterations, to see if test error keeps decreasing or "
                     "diverges at some point. Figure 3 confirms that test error goes down gradually."},
    statement="With U₀ = 0.01·I the test error keeps going down over 10⁵ iterations (no early stopping needed; "
              "Fig. 3).",
    paper_value="test error decreases gradually through 10⁵ iterations (d = 200); no numbers given",
    criterion=f"Reproduced when, in every trial, the test error never rises by more than a relative "
              f"{CLAIM3_RISE_TOL:g} between logged steps after twice the escape time (first step with test error "
              "≤ ½), and the trial-mean test error at the last step is below its value at a tenth of the run; not "
              "reproduced otherwise.",
    thresholds={"rise": Threshold(CLAIM3_RISE_TOL, low=1e-9, high=1e-3, reason="a rise counts from round-off "
                                  "level wiggles up to a 0.1 % rise between logged steps"),
                "escape level": Threshold(0.5, low=0.25, high=0.75, reason="where the escape from the "
                                          "initialization ends: any level well between 1 (start) and the floor"),
                "after escape": Threshold(2, low=1.5, high=4, reason="how long after the escape the test error must "
                                          "stop rising")},
)
def claim3(ctx: Context) -> Outcome:
    measured: dict = {}
    ok = True
    settings = []
    for d, ((steps, c, runs), spec) in _fig3_curves(ctx, claim3_specs).items():
        kappa = truth_stats(spec, ctx).kappa
        _, horizon = thm11_horizon(FIG3_ALPHA, d, ETA, kappa)
        worst_rise = 0.0
        for rows in runs:  # every trial on its own, not just the mean
            s, e = rows["step"].to_numpy(), rows["test_error"].to_numpy()
            t_esc = first_crossing(s, e, ctx.threshold("escape level"))
            if t_esc is None:
                ok = False
                continue
            after = e[s >= ctx.threshold("after escape") * t_esc]
            worst_rise = max(worst_rise, float(np.max(after[1:] / after[:-1] - 1)) if after.size > 1 else 0.0)
        mean = c["test_error"][0]
        T = int(steps[-1])
        e_10 = float(mean[steps <= T // 10][-1])
        e_end = float(mean[-1])
        measured[f"d={d}: test error at T/10, T"] = [e_10, e_end]
        measured[f"d={d}: largest relative rise between logged steps after 2x escape"] = worst_rise
        measured[f"d={d}: T / Thm 1.1 horizon 1/(eta sqrt(d) kappa alpha)"] = T / horizon
        ok &= worst_rise <= ctx.threshold("rise") and e_end < e_10
        settings.append(f"d = {d}, r = {spec.problem.params['r']}, m = {spec.problem.params['m']}, T = {T}")
    return Outcome(
        measured=measured, verdict="reproduced" if ok else "not reproduced",
        setting="; ".join(settings) + f", {STEP_LABEL}, {CLAIM_TRIALS[ctx.quick]} trials (data seeds), "
                                       f"{mode(ctx.quick)} mode",
        note="The paper gives no numbers. Quick mode runs 2×10⁴ steps at d = 40 (module docstring), already several "
             "times past Thm 1.1's guaranteed window.",
    )


# -- claim 7: escape time linear in log(1/α) ---------------------------------------------------------------


def claim7_specs(quick: bool) -> list[RunSpec]:
    d, r = CLAIM7_D[quick], CLAIM7_R[quick]
    return [sensing_spec(d, r, trial=t, steps=CLAIM7_STEPS[quick], alphas=CLAIM7_ALPHAS, figure="li2018-claim7",
                         grad_scale=CLAIM7_GRAD_SCALE, algorithm="gd_subspace", log_points=0,
                         log_every=CLAIM7_LOG_EVERY,
                         metrics=("test_error", "subspace_E_norm", "subspace_sigma_min", "subspace_sin"),
                         problem={"truth": "orthonormal", "kappa": 1.0})
            for t in range(CLAIM_TRIALS[quick])]


def claim7_computations(quick: bool) -> list[Computation]:
    """The sampled (4r)-RIP constant of trial 0's operator (a lower bound on δ)."""
    spec = claim7_specs(quick)[0]
    p = spec.problem.params
    return [rip_estimate.spec(label="li2018-claim7 RIP estimate", problem=spec.problem.name, params=dict(p),
                              data_seed=spec.data_seed, rank=min(4 * p["r"], p["d"]), samples=CLAIM7_RIP_SAMPLES,
                              seed=0, psd=False, device="cpu")]


@claim(
    id="li2018-claim7", paper=PAPER, figure=None, specs=claim7_specs, computations=claim7_computations,
    kind="theorem", source={"section": "Thm 4.1 (§4)",
                     "quote": "As a consequence, for T1 = Θ((κ log( dα))/η), we already have"},
    statement="The number of iterations to recover grows linearly in log(1/α), with slope ≈ 1/(2η) in the "
              "exact-gradient convention (Thm 4.2: T ≈ κ log(d/α)/η).",
    paper_value="T ≈ κ log(d/α)/η up to constants; population dynamics: slope 1/log(1 + 2η) ≈ 1/(2η) = 200",
    criterion=f"escape step = first (log-interpolated) step where the relative test error ≤ {CLAIM7_THRESHOLD}. "
              "Reproduced when every α escapes, the least-squares line of escape step on log(1/α) has R² ≥ 0.99 "
              f"and its slope is within ±{CLAIM7_SLOPE_TOL:.0%} of 1/log(1 + 2η); partly reproduced when the line "
              "fits (R² ≥ 0.99) but the slope is off; not reproduced otherwise.",
    thresholds={"escape level": Threshold(CLAIM7_THRESHOLD, low=0.25, high=0.75, reason="where the escape ends: "
                                          "any level well between 1 (start) and the floor"),
                "R2": Threshold(0.99, low=0.98, high=0.995, reason="'linear': a line through six α leaves 1–2 % of "
                                "the variance to trial scatter"),
                "slope tolerance": Threshold(CLAIM7_SLOPE_TOL, low=0.1, high=0.25, reason="the population slope "
                                             "ignores the finite-m start; ±10–25 % is a plausible agreement")},
)
def claim7(ctx: Context) -> Outcome:
    specs = ctx.specs(claim7_specs)
    esc: dict[float, list[float]] = {}
    e_ratio = 0.0
    sin_max = 0.0
    for spec in specs:
        for rep, rows in replica_traces(ctx, spec):
            a = float(rep["init.alpha"])
            s, e = rows["step"].to_numpy(), rows["test_error"].to_numpy()
            t = first_crossing(s, e, ctx.threshold("escape level"))
            esc.setdefault(a, []).append(math.nan if t is None else t)
            phase1 = rows[(rows["step"] <= (t or s[-1])) & rows["subspace_E_norm"].notna()]
            e_ratio = max(e_ratio, float((phase1["subspace_E_norm"] / a).max()))
            sin_max = max(sin_max, float(phase1["subspace_sin"].max()))
    alphas = sorted(esc)
    T = np.array([np.mean(esc[a]) for a in alphas])
    finite = np.isfinite(T)
    x = np.log(1 / np.array(alphas))
    d, r = CLAIM7_D[ctx.quick], CLAIM7_R[ctx.quick]
    pred = escape_slope(ETA, 1.0, CLAIM7_GRAD_SCALE)
    measured: dict = {f"escape step at alpha = {', '.join(f'{a:g}' for a in alphas)} (mean of trials)":
                      [float(t) for t in T]}
    if finite.sum() >= 3:
        slope, _, r2 = fit_line(x[finite], T[finite])
        fits = bool(finite.all()) and r2 >= ctx.threshold("R2")
        verdict = ("reproduced" if fits and abs(slope / pred - 1) <= ctx.threshold("slope tolerance") else
                   "partly reproduced" if fits else "not reproduced")
    else:
        slope, r2, verdict = math.nan, math.nan, "not reproduced"
    rips = ctx.computations(claim7_computations)  # trial 0's operator: absent from another seed's view alone
    rip = ctx.result(rips[0]) if rips else {"delta": math.nan}
    measured.update({
        "fitted slope dT/dlog(1/alpha)": slope,
        "predicted slope 1/log(1+2 eta)": pred,
        "1/(2 eta)": 1 / (2 * ETA),
        "fit R^2": r2,
        "max ||E_t||/alpha before escape (Thm 4.2 (20): <= 4)": e_ratio,
        "max sin(Z_t, U*) before escape": sin_max,
        "sampled RIP constant (rank 4r, trial 0), lower bound on delta": rip["delta"],
    })
    return Outcome(
        measured=measured, verdict=verdict,
        versus={"slope dT/dlog(1/α)": {"paper": "≈ 1/(2η) = 200 (population)", "ours": slope},
                "‖E_t‖/α before escape": {"paper": "≤ 4 (Thm 4.2 (20))", "ours": e_ratio}},
        setting=f"d = {d}, r = {r}, m = 5dr, X⋆ with all eigenvalues 1 (κ = 1), U₀ = αI, α ∈ 10^-1 … 10^-6, "
                f"exact gradient (grad_scale = 1), η = {ETA}, {CLAIM_TRIALS[ctx.quick]} trials (data seeds), "
                f"{mode(ctx.quick)} mode",
        note="The S_t quantities come from the gd_subspace tracker (the proof's adaptive subspace), reported for "
             "Thm 4.2 (19)–(20), not part of the verdict: at m = 5dr the sampled RIP constant (a stored computation) "
             "is far above Thm 4.2's δ ≤ c/(κ³√r log² d), and ‖E_t‖ grows well past the theorem's 4α before the "
             "escape (while staying orders of magnitude below the signal).",
    )


FIGURES = [
    Figure("li2018-fig2", PAPER, "Long runs from α = 1 and α = 10⁻³: train and test error", fig2_specs, fig2_plot,
           setting=("Paper: U₀ = αI with α ∈ {1, 10⁻³}, η = 0.0025, 2×10⁴ steps, mean of 3 runs; d is not restated. Ours: d "
                    "= 200, r = 5, m = 5,000 (full); d = 40, r = 1, m = 200 (quick, the same m/D); an extra α = 10⁻² "
                    "replica feeds Fig. 3's quick variant."),
           paper_reports=("From α = 1 the training error falls below 10⁻⁴ while the test error stays on the order of 10⁻¹; "
                          "from α = 10⁻³ both errors become small.")),
    Figure("li2018-fig3", PAPER, "Test error over a very long run from α = 0.01", fig3_specs, fig3_plot,
           setting=("Paper: U₀ = 0.01·I with Fig. 1's parameters (m = 5dr, r = 5, η = 0.0025), d = 200 (the surviving "
                    "legend), 10⁵ steps, no early stopping. Quick mode: the α = 10⁻² replica of Fig. 2's quick runs (d = "
                    "40, r = 1, m = 200, 2×10⁴ steps)."),
           paper_reports=("The test error goes down gradually from ≈ 1 and does not rise again: no early stopping is "
                          "needed.")),
]
CLAIMS = [claim2, claim3, claim7]
