"""Jiang–Chen–Ding Fig. 2 (§5.1): (a) sequential learning of the singular values, (b) convergence speed
versus the init size; claims 1 and 3.

250×200 X with ‖X‖_F = 1, k = 200, η = 0.5, theory init F₀, G₀ = ρ/(3√(m+n+k))·N(0, σ_1).

Choices where the paper is silent (module constants):

* **X of Fig. 2a** — two specs: the paper-literal "random rank-10 matrix" (a Gaussian product, whose
  σ_i are clustered, 0.40 → 0.23) and ours, rank 10 with σ_i ∝ 0.8^{i−1} and Haar singular vectors, on
  which the dips of ‖F_tG_tᵀ − X_s‖_F are visible (notes-002 §5). ρ = 10⁻⁶; every step logged.
* **Predicted learning times** — t_i = ln(σ_i/(k a²))/(2 ln(1 + ησ_i)), a = ρ√σ_1/(3√(m+n+k)) the init's
  entry std (:func:`.theory.learning_time`; a scalar-model heuristic of notes-002 §4.5, not the paper's):
  the step at which σ_i(F_tG_tᵀ) reaches σ_i(X)/2. Measured: the first step where it does.
* **Fig. 2b's ρ** — the text says small ρ ∈ {10⁻², 10⁻⁴, 10⁻⁶}, the caption {10⁻⁴, 10⁻⁶, 10⁻⁸}·‖X‖_F
  (‖X‖_F = 1); we run the union ∪ {1} (``FIG2B_RHOS``) on the paper-literal Gaussian rank-10 X.
* **Quick mode** — 100×80, k = 80 (the dynamics are dimension-free up to a log), 500 / 600 steps.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...experiments.spec import RunSpec
from .._shared import colors, mode, new_figure, replica_traces, save, suptitle, title
from ..base import Context, Figure, Outcome, Threshold, claim
from .settings import ETA_FIG12, PAPER, mf_spec, problem_facts, worst
from .theory import learning_time, theory_entry_std

FIG2A_RHO = 1e-6
FIG2A_TARGET = 4  # Fig. 2a's solid lines: X_1 … X_4
FIG2A_XS = {"gaussian_rank": {"generator": "gaussian_rank", "rank": 10},
            "geometric": {"generator": "geometric", "rank": 10, "decay": 0.8}}
FIG2B_RHOS = (1.0, 1e-2, 1e-4, 1e-6, 1e-8)
#: claim 1: measured/predicted learning time within [1/RATIO_TOL, RATIO_TOL] for every learned component.
RATIO_TOL = 1.25
#: claim 1: the data seeds (X drawn anew; seed 0 is Fig. 2a's X).
CLAIM1_SEEDS = (0, 1, 2, 3, 4)
#: claim 3: error levels between which the decay rate is measured, the speed-up factor required, and
#: the factor by which ρ = 1's local rate must fall from one doubling window of t to the next.
LEVELS = (1e-1, 1e-3)
SPEEDUP = 5.0
SUBLINEAR_DROP = 0.8
#: claim 3: the data seeds per mode (Fig. 2b's X is seed 0; X drawn anew for the others).
CLAIM3_SEEDS = {True: (0, 1, 2, 3, 4), False: (0, 1, 2)}


def _sizes(quick: bool) -> dict:
    if quick:
        return {"m": 100, "n": 80, "k": 80, "steps_a": 500, "steps_b": 600}
    return {"m": 250, "n": 200, "k": 200, "steps_a": 500, "steps_b": 1500}


def _fig2a_specs(quick: bool, data_seed: int) -> list[RunSpec]:
    s = _sizes(quick)
    return [mf_spec({"m": s["m"], "n": s["n"], "r": FIG2A_TARGET, **gen}, k=s["k"], eta=ETA_FIG12, rhos=[FIG2A_RHO],
                    convention="theory", steps=s["steps_a"], figure="jiang2023-fig2a", data_seed=data_seed,
                    metrics=("train_error_sq", "singular_values", "jiang2023_dist_Xs"), log={"every": 1})
            for gen in FIG2A_XS.values()]


def fig2a_specs(quick: bool) -> list[RunSpec]:
    """Fig. 2a's runs: one per X of :data:`FIG2A_XS`, data seed 0."""
    return _fig2a_specs(quick, 0)


def claim1_specs(quick: bool) -> list[RunSpec]:
    """Claim 1's runs: Fig. 2a's on each data seed of :data:`CLAIM1_SEEDS` (seed 0 is the figure's own)."""
    return [spec for seed in CLAIM1_SEEDS for spec in _fig2a_specs(quick, seed)]


def _fig2b_spec(quick: bool, seed: int = 0) -> RunSpec:
    s = _sizes(quick)
    return mf_spec({"m": s["m"], "n": s["n"], "r": FIG2A_TARGET, **FIG2A_XS["gaussian_rank"]}, k=s["k"],
                   eta=ETA_FIG12, rhos=list(FIG2B_RHOS), convention="theory", steps=s["steps_b"],
                   figure="jiang2023-fig2b", data_seed=seed, metrics=("train_error_sq",), log={"every": 5})


def fig2b_specs(quick: bool) -> list[RunSpec]:
    return [_fig2b_spec(quick)]


def claim3_specs(quick: bool) -> list[RunSpec]:
    """Claim 3's runs: Fig. 2b's on each data seed of :data:`CLAIM3_SEEDS` (seed 0 is the figure's own)."""
    return [_fig2b_spec(quick, seed) for seed in CLAIM3_SEEDS[quick]]


def _facts(spec: RunSpec) -> dict:
    return problem_facts(dict(spec.problem.params, name=spec.problem.name), spec.data_seed)


def learning_times(ctx: Context, specs=fig2a_specs) -> dict[str, dict]:
    """Per X of Fig. 2a (keyed by its name, and `` (seed s)`` for data seeds other than 0): σ_i(X), measured
    t_i (first step with σ_i(F_tG_tᵀ) ≥ σ_i/2), predicted t_i. ``specs``: the runs (Fig. 2a's or claim 1's)."""
    out = {}
    s = _sizes(ctx.quick)
    gens = {g["generator"]: name for name, g in FIG2A_XS.items()}
    for spec in ctx.specs(specs):
        name = gens[spec.problem.params["generator"]]
        if spec.data_seed:
            name = f"{name} (seed {spec.data_seed})"
        facts = _facts(spec)
        sig = np.array(facts["sigma_top"])
        (_, rows), = replica_traces(ctx, spec)
        S = np.stack(rows["singular_values"].to_numpy())
        steps = rows["step"].to_numpy()
        a = theory_entry_std(FIG2A_RHO, facts["sigma_1"], s["m"], s["n"], s["k"])
        meas, pred = [], []
        for i, si in enumerate(sig):
            hit = np.flatnonzero(S[:, i] >= si / 2)
            meas.append(float(steps[hit[0]]) if hit.size else math.nan)
            pred.append(learning_time(float(si), ETA_FIG12, s["k"], a))
        D = np.stack(rows["jiang2023_dist_Xs"].to_numpy())
        dips = [float(D[:, j].min() / np.sqrt((sig[: j + 1] ** 2).sum())) for j in range(FIG2A_TARGET)]
        out[name] = {"sigma": sig.tolist(), "measured": meas, "predicted": pred, "dips": dips,
                     "dip_steps": [int(steps[np.argmin(D[:, j])]) for j in range(FIG2A_TARGET)]}
    return out


def fig2a_plot(ctx: Context, out_dir: Path) -> list[Path]:
    s = _sizes(ctx.quick)
    lt = learning_times(ctx)
    fig, axes = new_figure(ncols=2)
    for ax, (name, spec) in zip(axes, zip(FIG2A_XS, ctx.specs(fig2a_specs), strict=True), strict=True):
        (_, rows), = replica_traces(ctx, spec)
        steps = rows["step"].to_numpy()
        S = np.stack(rows["singular_values"].to_numpy())
        D = np.stack(rows["jiang2023_dist_Xs"].to_numpy())
        sig = lt[name]["sigma"]
        cs = colors(10)
        for i in range(min(6, len(sig))):
            ax.plot(steps, S[:, i], ls="--", color=cs[i], lw=1, label=rf"$\sigma_{{{i + 1}}}(F_tG_t^\top)$" if i < 6 else None)
            ax.axvline(lt[name]["predicted"][i], color=cs[i], lw=0.6, ls=":")
        for j in range(FIG2A_TARGET):
            ax.plot(steps, D[:, j], ls="-", color=cs[j], lw=1.4, label=rf"$\|F_tG_t^\top - X_{{{j + 1}}}\|_F$")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 2)
        ax.set_xlabel("iteration $t$ (dotted: predicted $t_i$, heuristic)")
        ax.set_ylabel(r"$\sigma_i(F_tG_t^\top)$ (dashed)," "\n" r"$\|F_tG_t^\top - X_j\|_F$ (solid)")
        ax.set_title(f"X: {name.replace('_', ' ')}, rank 10 (σ₁ = {sig[0]:.2f}, σ₁₀ = {sig[9]:.2f})")
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=5)
    suptitle(fig, f"Jiang–Chen–Ding Fig. 2a ({mode(ctx.quick)}): {s['m']}×{s['n']}, " r"$\|X\|_F = 1$, "
                  f"k = {s['k']}, GD-M η = {ETA_FIG12}, theory init ρ = {FIG2A_RHO:g}")
    return save(fig, out_dir, "jiang2023-fig2a")


def fig2b_plot(ctx: Context, out_dir: Path) -> list[Path]:
    s = _sizes(ctx.quick)
    (spec,) = ctx.specs(fig2b_specs)
    fig, (ax,) = new_figure()
    for (_, rows), rho, c in zip(replica_traces(ctx, spec), FIG2B_RHOS, colors(len(FIG2B_RHOS)), strict=True):
        ax.plot(rows["step"], np.sqrt(rows["train_error_sq"].clip(lower=1e-300)), color=c,
                label=f"ρ = {rho:g}" + (" (moderate)" if rho == 1 else ""))
    ax.set_yscale("log")
    ax.set_xlabel("iteration $t$")
    ax.set_ylabel(r"$\|F_tG_t^\top - X\|_F$")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    title(ax, f"Jiang–Chen–Ding Fig. 2b ({mode(ctx.quick)}): Gaussian rank-10 X {s['m']}×{s['n']}, "
              r"$\|X\|_F = 1$, " f"k = {s['k']}, η = {ETA_FIG12}, theory init")
    return save(fig, out_dir, "jiang2023-fig2b")


def order_verdict(measured: np.ndarray, predicted: np.ndarray, tol: float) -> str:
    """Claim 1's verdict for one X: ``not reproduced`` when some t_{i+1} < t_i (a tie is Thm 4.1's ≤),
    else ``reproduced`` when every measured/predicted ratio lies in [1/tol, tol], else ``partly reproduced``."""
    m, pred = np.asarray(measured, float), np.asarray(predicted, float)
    if np.any(np.diff(m) < 0):
        return "not reproduced"
    r = m / pred
    return "reproduced" if bool(np.all((r >= 1 / tol) & (r <= tol))) else "partly reproduced"


@claim(
    id="jiang2023-claim1", paper=PAPER, figure="jiang2023-fig2a", specs=claim1_specs,
    kind="experiment", source={"section": "§5.1, Fig. 2a; Thm 4.1",
                     "quote": "As shown in Figure 2a, the top singular values  $\\sigma_i(F_t G_t^\\top)$  of the iterate grow "
                     "towards those of  $X$  sequentially at geometrically different rates."},
    statement="With a small init, GD-M learns the singular values of X one after another, larger ones first "
              "(\"sequentially at geometrically different rates\", Fig. 2a; Thm 4.1's T⁽¹⁾ ≤ … ≤ T⁽ʳ⁾).",
    paper_value="qualitative (no times given); Thm 4.1 orders the times (T⁽¹⁾ ≤ … ≤ T⁽ʳ⁾), constants unspecified",
    criterion=f"t_i = first step with σ_i(F_tG_tᵀ) ≥ σ_i(X)/2, i = 1..10 (those reached within the budget), "
              f"predicted t_i = ln(σ_i/(k a²))/(2 ln(1 + ησ_i)); both X of Fig. 2a, on each of "
              f"{len(CLAIM1_SEEDS)} data seeds. Reproduced when, for every X and seed, t_1 ≤ t_2 ≤ … (Thm 4.1's "
              f"order; a tie at an integer step is not a reversal) and every ratio measured/predicted lies in "
              f"[1/{RATIO_TOL}, {RATIO_TOL}]; partly reproduced when the order holds but some ratio does not; "
              "not reproduced when some t_{i+1} < t_i.",
    criterion_revised="before: the t_i increase strictly with i, on data seed 0 alone / after: t_1 ≤ t_2 ≤ … as "
                      "Thm 4.1 states it, on 5 data seeds. Why: the theorem orders the times with ≤, and on the "
                      "paper's own random rank-10 X neighbouring predicted times lie less than one step apart on "
                      "about a quarter of draws, so a tie at an integer step is what the theorem allows (the full "
                      "run had t_3 = t_4).",
    thresholds={"ratio": Threshold(RATIO_TOL, low=1.1, high=1.5, reason="the predicted times are a scalar-model "
                                   "heuristic, not the paper's: agreement within 10–50 %")},
)
def claim1(ctx: Context) -> Outcome:
    lt = learning_times(ctx, claim1_specs)
    measured, verdicts, ties, reversals = {}, [], [], []
    for name, d in lt.items():
        meas = np.array(d["measured"])
        ok = ~np.isnan(meas)
        m = meas[ok]
        pred = np.array(d["predicted"])[ok]
        ratios = m / pred
        sig_ok = np.array(d["sigma"])[ok]
        ties += [f"{name}: t_{i + 1} = t_{i + 2} = {m[i]:g} (σ ratio {sig_ok[i] / sig_ok[i + 1]:.3f}, predicted "
                 f"{pred[i + 1] - pred[i]:.1f} steps apart)" for i in np.flatnonzero(np.diff(m) == 0)]
        reversals += [f"{name}: t_{i + 2} = {m[i + 1]:g} < t_{i + 1} = {m[i]:g}" for i in np.flatnonzero(np.diff(m) < 0)]
        verdicts.append(order_verdict(m, pred, ctx.threshold("ratio")))
        measured[f"{name}: sigma_i(X)"] = [round(x, 4) for x in d["sigma"]]
        measured[f"{name}: measured t_i"] = m.tolist()
        measured[f"{name}: predicted t_i"] = [round(x, 1) for x in np.array(d["predicted"])[ok]]
        measured[f"{name}: ratio measured/predicted"] = [round(float(x), 3) for x in ratios]
        measured[f"{name}: components learned within budget"] = int(ok.sum())
        measured[f"{name}: min_t ‖F_tG_tᵀ − X_s‖_F/‖X_s‖_F, s = 1..4"] = [round(x, 4) for x in d["dips"]]
        measured[f"{name}: at steps"] = d["dip_steps"]
    measured["ties t_i = t_(i+1)"] = len(ties)
    measured["reversals t_(i+1) < t_i"] = len(reversals)
    verdict = ("not reproduced" if "not reproduced" in verdicts else
               "partly reproduced" if "partly reproduced" in verdicts else "reproduced")
    s = _sizes(ctx.quick)
    seeds = sorted({sp.data_seed for sp in ctx.specs(claim1_specs)})
    return Outcome(measured=measured, verdict=verdict,
                   setting=f"{s['m']}×{s['n']}, k = {s['k']}, η = 0.5, theory init ρ = 1e-6, {s['steps_a']} steps, "
                           f"X: Gaussian rank 10 and σ_i ∝ 0.8^(i−1), data seeds {', '.join(map(str, seeds))}, "
                           f"{mode(ctx.quick)} mode",
                   note="The predicted times are a scalar-model heuristic (notes-002 §4.5), not the paper's: Thm "
                        "4.1 only orders the times (≤) and bounds the last by O(log(κ/(δε))/(δησ_r)). The dips "
                        "(distance to X_s relative to ‖X_s‖_F) show whether early stopping near X_s would work. "
                        + ("Ties at integer steps (allowed by Thm 4.1's ≤): " + "; ".join(ties) + ". " if ties
                           else "No ties. ")
                        + ("Reversals: " + "; ".join(reversals) + "." if reversals else "No reversals."))


def decay_rates(ctx: Context, spec: RunSpec) -> dict[float, dict]:
    """Per ρ of one Fig. 2b run: crossing steps of the error levels, the rate ln(100)/(t_b − t_a), local
    rates of ln‖F_tG_tᵀ − X‖_F over t ∈ [T/8, T/4], [T/4, T/2], [T/2, T], and the final error."""
    T = spec.steps
    out = {}
    for (_, rows), rho in zip(replica_traces(ctx, spec), FIG2B_RHOS, strict=True):
        st = rows["step"].to_numpy()
        err = np.sqrt(np.clip(rows["train_error_sq"].to_numpy(), 1e-300, None))
        ta = next((int(t) for t, e in zip(st, err, strict=True) if e <= LEVELS[0]), None)
        tb = next((int(t) for t, e in zip(st, err, strict=True) if e <= LEVELS[1]), None)
        if ta is not None and tb is not None:
            rate, exact = math.log(LEVELS[0] / LEVELS[1]) / max(tb - ta, 1), True
        else:  # never reached level b: an upper bound on the rate
            rate, exact = math.log(LEVELS[0] / LEVELS[1]) / max(T - (ta or 0), 1), False
        local = []
        for lo, hi in ((T // 8, T // 4), (T // 4, T // 2), (T // 2, T)):
            e_lo = err[np.searchsorted(st, lo)]
            e_hi = err[min(np.searchsorted(st, hi), len(st) - 1)]
            local.append(float(math.log(e_lo / e_hi) / (hi - lo)))
        out[rho] = {"t_a": ta, "t_b": tb, "rate": rate, "rate_exact": exact, "local": local,
                    "final": float(err[-1])}
    return out


def claim3_verdict(rates: dict[float, dict], *, speedup: float, drop: float) -> str:
    """Claim 3 on one X (``rates`` from :func:`decay_rates`): ``fast`` when every small ρ reaches the lower
    level at a rate ≥ ``speedup`` × ρ = 1's, ``sublinear`` when ρ = 1's successive local rates each fall
    to ≤ ``drop`` × the previous; reproduced when both hold, partly when one does, else not reproduced."""
    mod = rates[1.0]
    fast = all(rates[r]["t_b"] is not None and rates[r]["rate"] >= speedup * mod["rate"] for r in rates if r != 1.0)
    loc = mod["local"]
    sub = all(loc[i + 1] <= drop * loc[i] for i in range(len(loc) - 1))
    return "reproduced" if fast and sub else "partly reproduced" if fast or sub else "not reproduced"


@claim(
    id="jiang2023-claim3", paper=PAPER, figure="jiang2023-fig2b", specs=claim3_specs,
    kind="experiment", source={"section": "§5.1, Fig. 2b",
                     "quote": "We see that using a small  $\\rho$  results in fast convergence to a small error level; moreover,"
                     " the convergence rate is geometric-like (before saturation)"},
    statement="Small init converges geometrically fast (before saturating at a small error level); moderate "
              "init ρ = 1 converges slowly (Fig. 2b).",
    paper_value="qualitative: small ρ 'geometric-like (before saturation)', moderate ρ slower",
    criterion=f"rate = ln(100)/(t(err ≤ {LEVELS[1]:g}) − t(err ≤ {LEVELS[0]:g})) with err = ‖F_tG_tᵀ − X‖_F (for "
              f"ρ = 1, if it never reaches {LEVELS[1]:g}, the bound with t = T). Sublinear: ρ = 1's local rates of "
              f"ln err over t ∈ [T/8, T/4], [T/4, T/2], [T/2, T] each ≤ {SUBLINEAR_DROP} × the previous. Per data "
              f"seed (5 quick, 3 full): reproduced when every small ρ reaches {LEVELS[1]:g} at a rate ≥ {SPEEDUP} × "
              "ρ = 1's and ρ = 1 is sublinear; partly reproduced when only one of the two holds; not reproduced "
              "otherwise. The claim's verdict is the worst seed's.",
    criterion_revised="before: on Fig. 2b's X alone (data seed 0) / after: on every one of 5 (quick) or 3 (full) "
                      "data seeds, the worst seed's verdict. Why: a verdict must not rest on one draw of X.",
    thresholds={"speedup": Threshold(SPEEDUP, low=3.0, high=10.0, reason="'fast' against 'slow': from 3× to an "
                                     "order of magnitude in rate"),
                "sublinear drop": Threshold(SUBLINEAR_DROP, low=0.7, high=0.9, reason="a rate that falls by "
                                            "10–30 % per doubling of t is no longer geometric")},
)
def claim3(ctx: Context) -> Outcome:
    specs = ctx.specs(claim3_specs)
    measured: dict = {"data seeds": [sp.data_seed for sp in specs]}
    verdicts = []
    for spec in specs:
        rates = decay_rates(ctx, spec)
        verdicts.append(claim3_verdict(rates, speedup=ctx.threshold("speedup"),
                                       drop=ctx.threshold("sublinear drop")))
        for rho, d in rates.items():
            measured.setdefault(f"rho={rho:g}: steps to 1e-1, 1e-3; rate, per seed", []).append(
                [d["t_a"], d["t_b"], round(d["rate"], 4)])
            measured.setdefault(f"rho={rho:g}: final ‖FGᵀ − X‖_F, per seed", []).append(d["final"])
        measured.setdefault("rho=1: local rates over [T/8,T/4], [T/4,T/2], [T/2,T], per seed", []).append(
            [round(x, 5) for x in rates[1.0]["local"]])
        measured.setdefault("rho=1: rate is exact (else an upper bound), per seed", []).append(rates[1.0]["rate_exact"])
    measured["verdict per seed"] = verdicts
    s = _sizes(ctx.quick)
    return Outcome(measured=measured, verdict=worst(verdicts),
                   setting=f"Gaussian rank-10 X {s['m']}×{s['n']}, ‖X‖_F = 1, k = {s['k']}, η = 0.5, theory init, "
                           f"ρ ∈ {FIG2B_RHOS}, T = {s['steps_b']}, data seeds "
                           f"{', '.join(str(x) for x in CLAIM3_SEEDS[ctx.quick])}, {mode(ctx.quick)} mode",
                   note="Saturation levels (final errors of small ρ) are reported, not judged; notes-002 measured "
                        "≈ 0.2ρ² at 250×200.")


FIGURES = [Figure("jiang2023-fig2a", PAPER, "Sequential learning of singular values", fig2a_specs, fig2a_plot,
                  setting=("Paper (§5.1): a random rank-10 X, 250×200, ‖X‖_F = 1, k = 200, ρ = 10⁻⁶, η = 0.5. Ours: the "
                           "paper-literal Gaussian-product X (clustered σ_i) and a rank-10 X with σ_i ∝ 0.8^(i−1), every "
                           "step logged; quick 100×80, k = 80."),
                  paper_reports=("The top singular values of F_tG_tᵀ grow towards those of X one after another, at "
                                 "geometrically different rates, and ‖F_tG_tᵀ − X_s‖_F dips in turn for s = 1, …, 4: "
                                 "stopping early there returns X_s (no numbers given).")),
           Figure("jiang2023-fig2b", PAPER, "Convergence speed versus init size", fig2b_specs, fig2b_plot,
                  setting=("Paper (§5.1): Fig. 2a's X, k and η; small ρ ∈ {10⁻², 10⁻⁴, 10⁻⁶} (text) or {10⁻⁴, 10⁻⁶, "
                           "10⁻⁸}·‖X‖_F (caption) against a moderate ρ = 1. Ours: the union {1, 10⁻², 10⁻⁴, 10⁻⁶, 10⁻⁸} on "
                           "the Gaussian rank-10 X; quick 100×80, k = 80."),
                  paper_reports=("‖F_tG_tᵀ − X‖_F against t: a small ρ converges fast, at a geometric-like rate, before "
                                 "saturating at a small error level; the moderate init is slower."))]
CLAIMS = [claim1, claim3]
