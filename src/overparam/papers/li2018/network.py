"""Li–Ma–Zhang Fig. 5 and claims 5, 9: the quadratic-activation network and Algorithm 1.

The network y = ‖U⋆ᵀx‖² (x ~ N(0, I)) is rank-one sensing A_i = x_i x_iᵀ (problem
``quadratic_network``); its test error is the relative Frobenius error of UUᵀ, as in every figure of
App. B, and the exact population risk 2‖Δ‖_F² + (tr Δ)² is recorded beside it.

Choices where the paper is silent (module constants):

* **Fig. 5's setting** — ``FIG5_PROBLEM = "quadratic_network"``: the section introduces the experiment
  as "on the quadratic neural network setting" (d = 100, r = 5, m = 5dr = 2,500, U₀ = I, float64).
  The detailed paragraph could also be read as Gaussian matrix sensing (notes-000 §3.2); panel (c)
  runs that reading — full-batch GD from U₀ = I on Gaussian sensing — at Fig. 5's own sizes (d = 100,
  r = 5, m = 2,500 in full mode; the quick sizes in quick mode), labelled as such.
* **SGD step** — 8×10⁻⁵ = 0.8/d² at d = 100 (the per-sample curvature is ~d²); quick mode keeps
  η·d² = 0.8. Batch 1, drawn uniformly with replacement, Eq. 5's convention (grad_scale = ½) as for GD.
* **GD step** — not given; η = 0.0025, the step of every other GD experiment.
* **Iterations** — not given; SGD 10⁶ (400 epochs), GD 10⁵ (full); quick 3×10⁴ (75 epochs) and 10⁴. Every
  run stops early once the train error is ≤ 10⁻⁷ (the level the paper reports).
* **Claim 9** — Algorithm 1 as printed (grad_scale s = 1 on M_tU, the convention of Eq. 5), η = 0.0025,
  U₀ = 10⁻³·I, τ known (= ‖U⋆‖_F² = r exactly for unit-norm columns) and, separately, the mean label;
  m = ``CLAIM9_M_FACTOR`` · dr = 20dr, since Thm 1.2 asks for Õ(dr⁵κ⁶) samples and at Fig. 5's
  m = 5dr Algorithm 1 does not converge (that run is reported too). The paper has no Algorithm 1
  experiment. Controls on the same data (m = 20dr): plain GD from the *same* small initialization
  (one variable changed: the algorithm; the step U ← U − ηM_tU, i.e. Eq. 5's grad_scale = ½, is
  Algorithm 1's step without truncation and rescaling) at the same budget and at 10× the budget
  (quick mode: trial 0 only at 10×, for cost), and GD from U₀ = I (the old comparison, which changes
  the initialization too).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ... import figstyle
from ...experiments.errors import SpecError
from ...experiments.spec import RunSpec
from .._shared import (
    colors,
    fit_line,
    log_bands,
    mode,
    new_figure,
    replica_traces,
    save,
    suptitle,
    title,
    truth_stats,
)
from ..base import Context, Figure, Outcome, Threshold, claim
from .settings import ETA, GRAD_SCALE, PAPER, STEP_LABEL, TRIALS, run_spec, sensing_spec
from .theory import thm12_error_bound

FIG5_PROBLEM = "quadratic_network"
FIG5_D = {True: 40, False: 100}
FIG5_R = {True: 2, False: 5}
FIG5_SGD_ETA_D2 = 0.8  # η_SGD · d²
FIG5_SGD_STEPS = {True: 30_000, False: 1_000_000}
FIG5_GD_STEPS = {True: 10_000, False: 100_000}
FIG5_TARGET = 1e-7
#: claim 5's "large test error": a relative Frobenius error of at least 10%.
CLAIM5_LARGE = 0.1
FIG5_METRICS = ("train_error", "test_error", "nn_population_error_rel")

CLAIM9_M_FACTOR = 20
CLAIM9_ALPHA = 1e-3
CLAIM9_STEPS = {True: 4_000, False: 6_000}  # escape ≈ log(1/α)/(2ηλ_min) ≈ 2,000 steps at d = 100
CLAIM9_LONG = 10  # the control's long budget, in multiples of CLAIM9_STEPS
#: Claim 9's trials (data seeds): five in quick mode, where a trial costs ≈ 11 s (five runs) and its long
#: control ≈ 19 s; the paper's three in full mode (d = 100: minutes a run).
CLAIM9_TRIALS = {True: 5, False: TRIALS}
#: The trials that run the long control: every one, so that each data seed alone is evaluable.
CLAIM9_LONG_TRIALS = CLAIM9_TRIALS
CLAIM9_GRAD_SCALE = 1.0
#: "recovers": relative test error ≤ 1%; the control "does not" when ≥ 10× Algorithm 1's and > 1%.
CLAIM9_RECOVERY = 1e-2
CLAIM9_GAP = 10.0


def _qn(d: int, r: int, m: int) -> dict:
    return {"name": FIG5_PROBLEM, "d": d, "r": r, "m": m, "truth": "gaussian_unit_columns"}


def _fig5_own_specs(quick: bool, trials: int = TRIALS) -> list[RunSpec]:
    d, r = FIG5_D[quick], FIG5_R[quick]
    init = {"name": "scaled_identity", "alpha": 1.0}
    out = []
    for t in range(trials):
        out.append(run_spec(_qn(d, r, 5 * d * r), "symmetric",
                            {"name": "sgd", "eta": FIG5_SGD_ETA_D2 / d**2, "batch_size": 1, "replacement": True,
                             "grad_scale": GRAD_SCALE}, init, trial=t, steps=FIG5_SGD_STEPS[quick],
                            figure="li2018-fig5", metrics=FIG5_METRICS, target_train_error=FIG5_TARGET))
        out.append(run_spec(_qn(d, r, 5 * d * r), "symmetric", {"name": "gd", "eta": ETA, "grad_scale": GRAD_SCALE},
                            init, trial=t, steps=FIG5_GD_STEPS[quick], figure="li2018-fig5", metrics=FIG5_METRICS,
                            target_train_error=FIG5_TARGET))
    return out


def _fig5_sensing_specs(quick: bool, trials: int = TRIALS) -> list[RunSpec]:
    """Panel (c): GD from U₀ = I on Gaussian sensing at Fig. 5's own d, r, m and GD budget."""
    d, r = FIG5_D[quick], FIG5_R[quick]
    return [sensing_spec(d, r, trial=t, steps=FIG5_GD_STEPS[quick], alphas=[1.0], figure="li2018-fig5",
                         target_train_error=FIG5_TARGET, log_points=100)
            for t in range(trials)]


def fig5_specs(quick: bool, trials: int = TRIALS) -> list[RunSpec]:
    """SGD and GD from U₀ = I on the quadratic network, and GD from U₀ = I on Gaussian sensing (same sizes)."""
    return _fig5_own_specs(quick, trials) + _fig5_sensing_specs(quick, trials)


#: Claim 5's trials (data seeds): five in quick mode, where a trial costs ≈ 10 s (SGD for 3×10⁴ steps and two
#: GD runs; the first three are Fig. 5's own runs); Fig. 5's three in full mode (SGD for 10⁶ steps at d = 100).
CLAIM5_TRIALS = {True: 5, False: TRIALS}


def claim5_specs(quick: bool) -> list[RunSpec]:
    """Claim 5: Fig. 5's runs over :data:`CLAIM5_TRIALS` trials."""
    return fig5_specs(quick, CLAIM5_TRIALS[quick])


def _groups(ctx: Context, trials: int = TRIALS) -> dict[str, list]:
    """Trace rows per series: 'sgd', 'gd' (quadratic network), 'sensing' (Gaussian sensing, U₀ = I), over
    ``trials`` trials (the figure's; a claim passes its own)."""
    out: dict[str, list] = {"sgd": [], "gd": [], "sensing": []}
    for spec in ctx.specs(lambda q: _fig5_own_specs(q, trials)):
        for rep, rows in replica_traces(ctx, spec):
            out[spec.algorithm.name].append((rep, rows))
    for spec in ctx.specs(lambda q: _fig5_sensing_specs(q, trials)):
        out["sensing"].extend(replica_traces(ctx, spec))
    return out


def fig5_plot(ctx: Context, out_dir: Path) -> list[Path]:
    groups = _groups(ctx)
    d, r = FIG5_D[ctx.quick], FIG5_R[ctx.quick]
    m = 5 * d * r
    fig, axes = new_figure(ncols=3)
    titles = {"sgd": f"(a) quadratic network, SGD batch 1, η={FIG5_SGD_ETA_D2 / d**2:.2g}\nd={d}, r={r}, m={m}, "
                     "Eq. 5 step",
              "gd": f"(b) quadratic network, GD\nd={d}, r={r}, m={m}, {STEP_LABEL}",
              "sensing": f"(c) Gaussian matrix sensing, GD\nd={d}, r={r}, m={m}, {STEP_LABEL}"}
    c_train, c_test = colors(2)
    for ax, key in zip(axes, ("sgd", "gd", "sensing"), strict=True):
        runs = [rows for _, rows in groups[key]]
        for name, label, ls, color in (("train_error", "train", "--", c_train), ("test_error", "test", "-", c_test)):
            steps, mid, lo, hi = log_bands(runs, name)
            sel = steps >= 1
            ax.plot(steps[sel], mid[sel], ls=ls, color=color, label=f"{label} error")
            ax.fill_between(steps[sel], lo[sel], hi[sel], color=color, alpha=0.18, lw=0)
        ax.axhline(FIG5_TARGET, color="gray", lw=0.8, ls=":", label="10⁻⁷ (paper's train level;\nruns stop there)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Number of iterations")
        ax.set_ylabel("relative error")
        title(ax, titles[key])
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("relative error")
    axes[0].legend(title=figstyle.wrap(f"{figstyle.SEED_BAND_LABEL} ({TRIALS})", 26))
    suptitle(fig, f"Li–Ma–Zhang Fig. 5 ({mode(ctx.quick)}): from U₀ = I, each panel labelled by its setting")
    return save(fig, out_dir, "li2018-fig5")


def _decay_exponent(rows, name: str) -> float:
    """Slope of log(value) on log(step) over the last decade of logged steps (−1: a 1/t decay)."""
    s, v = rows["step"].to_numpy(), rows[name].to_numpy()
    sel = (s >= s[-1] / 10) & (s > 0)
    return fit_line(np.log(s[sel]), np.log(v[sel]))[0] if sel.sum() >= 2 else math.nan


@claim(
    id="li2018-claim5", paper=PAPER, figure="li2018-fig5", specs=claim5_specs,
    kind="experiment", source={"section": "App. B, Fig. 5",
                     "quote": "Figure 5(a) shows that despite the training error decreases to 10−7, the test error remains "
                     "large. … Figure 5(b) shows that gradient descent also gets stuck at a point with large test "
                     "error, despite the training error being less than 10−7."},
    statement="SGD (batch 1) and GD from U₀ = I, in the quadratic network setting, fit the training data to a "
              "train error below 10⁻⁷ but keep a large test error (Fig. 5).",
    paper_value="train error < 10⁻⁷ (SGD and GD) with a test error that 'remains large'",
    criterion=f"trial means at the end. Reproduced when QN SGD and QN GD both end with train ≤ 10⁻⁷ and relative "
              f"test error ≥ {CLAIM5_LARGE}; partly reproduced when at least one of QN SGD, QN GD and Gaussian-sensing "
              "GD at Fig. 5's sizes (the other reading of the setting) does, but not both QN series; not reproduced "
              "when none does.",
    criterion_revised="before: the same test on the two QN series only, with the sensing reading taken from Fig. 2's "
                      "runs (d = 200 in full mode) and reported, not judged / after: panel (c) runs at Fig. 5's own "
                      "sizes and counts for 'partly reproduced' (only some settings agree).",
    thresholds={"train": Threshold(FIG5_TARGET, low=FIG5_TARGET, high=FIG5_TARGET,
                                   reason="the paper's own number ('the training error being less than 10−7')"),
                "large": Threshold(CLAIM5_LARGE, low=0.03, high=0.3, reason="'remains large' against a starting "
                                   "relative error of order 1: from 3 % to 30 %")},
)
def claim5(ctx: Context) -> Outcome:
    groups = _groups(ctx, CLAIM5_TRIALS[ctx.quick])
    measured: dict = {}
    passes = {}
    finals = {}
    for key, label in (("sgd", "QN SGD"), ("gd", "QN GD"), ("sensing", "Gaussian-sensing GD")):
        reps = groups[key]
        train = float(np.mean([rep["train_error"] for rep, _ in reps]))
        test = float(np.mean([rep["test_error"] for rep, _ in reps]))
        steps = int(np.max([rep["stop_step"] for rep, _ in reps]))
        measured[f"{label}: train / test error at the end"] = [train, test]
        measured[f"{label}: steps run"] = steps
        measured[f"{label}: decay exponent of train, test over the last decade"] = [
            float(np.mean([_decay_exponent(rows, "train_error") for _, rows in reps])),
            float(np.mean([_decay_exponent(rows, "test_error") for _, rows in reps]))]
        passes[key] = train <= ctx.threshold("train") and test >= ctx.threshold("large")
        finals[key] = (train, test)
    verdict = ("reproduced" if passes["sgd"] and passes["gd"] else
               "partly reproduced" if any(passes.values()) else "not reproduced")
    d, r = FIG5_D[ctx.quick], FIG5_R[ctx.quick]
    return Outcome(
        measured=measured, verdict=verdict,
        versus={"QN SGD train error": {"paper": "< 1e-7", "ours": finals["sgd"][0]},
                "QN GD train error": {"paper": "< 1e-7", "ours": finals["gd"][0]},
                "QN test error": {"paper": "'remains large'", "ours": [finals["sgd"][1], finals["gd"][1]]}},
        setting=f"d = {d}, r = {r}, m = {5 * d * r}, U₀ = I, float64; quadratic network: SGD η = {FIG5_SGD_ETA_D2}/d² "
                f"for {FIG5_SGD_STEPS[ctx.quick]} steps, GD η = {ETA} for {FIG5_GD_STEPS[ctx.quick]} steps; Gaussian "
                f"sensing GD η = {ETA} for {FIG5_GD_STEPS[ctx.quick]} steps (all Eq. 5 convention, stop at train ≤ "
                f"10⁻⁷); {CLAIM5_TRIALS[ctx.quick]} trials (data seeds), {mode(ctx.quick)} mode",
        note="In the network the identity term of Lemma A.1 (E M_t = 2Δ + tr(Δ) I) acts as weight decay while "
             "tr(UUᵀ) > ‖U⋆‖_F², so from U₀ = I the spurious directions shrink and train and test error fall together "
             "(decay exponents above): the opposite of 'stuck at a point with large test error'. In Gaussian sensing "
             f"at the same sizes (m/D ≈ {5 * d * r / (d * (d + 1) / 2):.2f}) GD from I ends at train "
             f"{finals['sensing'][0]:.2g}, test {finals['sensing'][1]:.3g}. SGD was not run in the sensing reading.",
    )


def _alg1(tau) -> dict:
    return {"name": "truncated_rescaled_gd", "eta": ETA, "grad_scale": CLAIM9_GRAD_SCALE, "tau": tau}


def claim9_specs(quick: bool) -> list[RunSpec]:
    d, r = FIG5_D[quick], FIG5_R[quick]
    big, small = CLAIM9_M_FACTOR * d * r, 5 * d * r
    small_init = {"name": "scaled_identity", "alpha": CLAIM9_ALPHA}
    plain_gd = {"name": "gd", "eta": ETA, "grad_scale": GRAD_SCALE}
    out = []
    for t in range(CLAIM9_TRIALS[quick]):
        kw = dict(trial=t, steps=CLAIM9_STEPS[quick], figure="li2018-claim9",
                  metrics=(*FIG5_METRICS, "truncated_fraction"), log_points=60)
        out.append(run_spec(_qn(d, r, big), "symmetric", _alg1(float(r)), small_init, **kw))
        out.append(run_spec(_qn(d, r, big), "symmetric", _alg1("mean_label"), small_init, **kw))
        out.append(run_spec(_qn(d, r, small), "symmetric", _alg1(float(r)), small_init, **kw))
        out.append(run_spec(_qn(d, r, big), "symmetric", plain_gd, {"name": "scaled_identity", "alpha": 1.0},
                            **{**kw, "metrics": FIG5_METRICS}))
        # the control: plain GD from the same small initialization on the same data
        out.append(run_spec(_qn(d, r, big), "symmetric", plain_gd, small_init, **{**kw, "metrics": FIG5_METRICS}))
        if t < CLAIM9_LONG_TRIALS[quick]:
            out.append(run_spec(_qn(d, r, big), "symmetric", plain_gd, small_init,
                                **{**kw, "metrics": FIG5_METRICS, "steps": CLAIM9_LONG * CLAIM9_STEPS[quick]}))
    return out


def _series(spec: RunSpec, d: int, r: int, base_steps: int) -> str:
    a = spec.algorithm.params
    m_fac = spec.problem.params["m"] // (d * r)
    if spec.algorithm.name == "gd":
        start = "U0=I" if spec.init.params["alpha"] == 1.0 else f"U0={CLAIM9_ALPHA:g}I"
        budget = "" if spec.steps == base_steps else f", {spec.steps // base_steps}x budget"
        return f"GD from {start} (m={m_fac}dr{budget})"
    return f"Alg. 1, tau={'known' if a['tau'] != 'mean_label' else 'mean label'} (m={m_fac}dr)"


@claim(
    id="li2018-claim9", paper=PAPER, figure=None, specs=claim9_specs,
    kind="theorem", source={"section": "Thm 1.2 (§1.2)",
                     "quote": "Given Õ(dr5κ6) examples, a variant of gradient descent (Algorithm 1 in Section A) … returns a "
                     "solution with generalization error at most O(dκα)"},
    statement="Thm 1.2: Algorithm 1 (truncated loss + rescaling) from a small initialization αI learns the "
              "quadratic network, generalization error O(dκα) after Õ(dr⁵κ⁶) samples, where GD from U₀ = I does "
              "not (Fig. 5). The paper has no Algorithm 1 experiment; this runs one, with plain GD from the same "
              "initialization on the same data as the control.",
    paper_value="Thm 1.2: generalization error O(dκα) after Õ(dr⁵κ⁶) samples (no experiment in the paper)",
    criterion=f"final relative test errors, trial means, m = {CLAIM9_M_FACTOR}dr. Reproduced when Algorithm 1 "
              f"(τ known) ends ≤ {CLAIM9_RECOVERY} and plain GD from the same α on the same data ends ≥ "
              f"{CLAIM9_GAP:g}× higher and > {CLAIM9_RECOVERY} at the same budget, and still > {CLAIM9_RECOVERY} at "
              f"{CLAIM9_LONG}× the budget (the algorithm, not the initialization, makes the difference); partly "
              f"reproduced when Algorithm 1 ends ≤ {CLAIM9_RECOVERY} but the control comes within {CLAIM9_GAP:g}× of "
              f"it or reaches ≤ {CLAIM9_RECOVERY} at either budget (Thm 1.2's conclusion holds; the gap to GD from "
              f"U₀ = I is the initialization's); not reproduced when Algorithm 1 ends > {CLAIM9_RECOVERY}.",
    criterion_revised="before: 'Algorithm 1 (τ known) ≤ 0.01 and GD from U₀ = I ≥ 10× that and > 0.01', which "
                      "confounds algorithm and initialization / after: the control (plain GD from the same "
                      "small initialization, same data, same and 10× budget) added, written before the run that "
                      "gave this verdict.",
    thresholds={"recovery": Threshold(CLAIM9_RECOVERY, low=3e-3, high=3e-2, reason="'learns the network': a "
                                      "relative test error of 0.3–3 %, far below the ≈ 1 at the start"),
                "gap": Threshold(CLAIM9_GAP, low=3.0, high=30.0, reason="'does not learn' relative to Algorithm 1: "
                                 "half a decade either side of a factor 10")},
)
def claim9(ctx: Context) -> Outcome:
    specs = ctx.specs(claim9_specs)
    d, r = FIG5_D[ctx.quick], FIG5_R[ctx.quick]
    base = CLAIM9_STEPS[ctx.quick]
    stats = truth_stats(specs[0], ctx)
    if abs(stats.trace - r) > 1e-9:  # "known τ = r" relies on unit-norm columns: ‖U⋆‖_F² = tr X⋆ = r
        raise SpecError(f"claim 9: tr X⋆ = {stats.trace} ≠ r = {r}; the known-τ spec no longer matches the truth")
    groups: dict[str, list] = {}
    for spec in specs:
        groups.setdefault(_series(spec, d, r, base), []).extend(replica_traces(ctx, spec))
    measured: dict = {}
    finals = {}
    for key, reps in groups.items():
        test = float(np.mean([rep["test_error"] for rep, _ in reps]))
        train = float(np.mean([rep["train_error"] for rep, _ in reps]))
        finals[key] = test
        measured[f"{key}: train / test error ({len(reps)} trials)"] = [train, test]
    m20 = f"m={CLAIM9_M_FACTOR}dr"
    gd_I, control = f"GD from U0=I ({m20})", f"GD from U0={CLAIM9_ALPHA:g}I ({m20})"
    control_long = f"GD from U0={CLAIM9_ALPHA:g}I ({m20}, {CLAIM9_LONG}x budget)"
    for key in (gd_I, control, control_long):
        measured[f"{key}: test-error decay exponent over the last decade"] = float(
            np.mean([_decay_exponent(rows, "test_error") for _, rows in groups[key]]))
    alg = finals[f"Alg. 1, tau=known ({m20})"]
    ctl, ctl_long = finals[control], finals[control_long]
    abs_sq = (alg * stats.frobenius) ** 2
    bound = thm12_error_bound(CLAIM9_ALPHA, d, stats.kappa)
    measured["Alg. 1 (tau known) ||UU^T - X*||_F^2 / (d kappa alpha)"] = abs_sq / bound
    rec = ctx.threshold("recovery")
    if alg > rec:
        verdict = "not reproduced"
    elif ctl >= ctx.threshold("gap") * alg and ctl > rec and ctl_long > rec:
        verdict = "reproduced"
    else:
        verdict = "partly reproduced"
    return Outcome(
        measured=measured, verdict=verdict,
        versus={"Alg. 1 error ‖UUᵀ−X⋆‖_F²": {"paper": f"O(dκα) = {bound:.3g}·C", "ours": abs_sq},
                "plain GD from the same αI, same budget / 10×": {"paper": "no experiment", "ours": [ctl, ctl_long]}},
        setting=f"quadratic network d = {d}, r = {r}, m = {CLAIM9_M_FACTOR}dr (and 5dr), Alg. 1: s = 1, η = {ETA}, "
                f"U₀ = {CLAIM9_ALPHA:g}·I, R = 2τ log d; plain GD: η = {ETA} (Eq. 5, Alg. 1's step without truncation "
                f"and rescaling) from U₀ = {CLAIM9_ALPHA:g}·I and from U₀ = I; {base} steps each, the control also "
                f"{CLAIM9_LONG * base} ({CLAIM9_LONG_TRIALS[ctx.quick]} trial(s)); "
                f"{CLAIM9_TRIALS[ctx.quick]} trials (data seeds), {mode(ctx.quick)} mode",
        note="The control changes one variable (the algorithm) against Algorithm 1; GD from U₀ = I changes the "
             "initialization too. Verdict change from the old table: 'reproduced' there, on the confounded "
             "comparison with GD from U₀ = I. Further caveats: with τ estimated by the mean label Algorithm 1 stalls "
             "at an error set by |τ̂ − τ| (the rescaling's fixed point needs ‖U‖_F² = τ̂), and at Fig. 5's m = 5dr it "
             "does not converge.",
    )


FIGURES = [Figure("li2018-fig5", PAPER, "From U₀ = I: SGD and GD on the quadratic network, GD on Gaussian sensing",
                  fig5_specs, fig5_plot,
                  setting=("Paper: the quadratic network y = ‖U⋆ᵀx‖² (rank-one sensing A_i = x_ix_iᵀ), d = 100, r = 5, m = "
                           "5dr = 2,500, U₀ = I; (a) SGD with batch 1 and η = 8×10⁻⁵, (b) full-batch GD (step and "
                           "iterations not given). Ours: GD η = 0.0025; SGD 10⁶ and GD 10⁵ steps (quick 3×10⁴ and 10⁴, η·d² "
                           "kept); panel (c): GD from U₀ = I on Gaussian sensing at the same sizes, the other reading of "
                           "the setting."),
                  paper_reports=("Both SGD and GD from U₀ = I drive the training error below 10⁻⁷ while the test error "
                                 "remains large: they get stuck at a point that does not generalize."))]
CLAIMS = [claim5, claim9]
