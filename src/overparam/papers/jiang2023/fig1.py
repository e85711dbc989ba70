"""Jiang–Chen–Ding Fig. 1 (§1): algorithmic regularization under noise, and the stopping rules.

X = X♮ + E (250×200, X♮ rank 5 with ‖X♮‖_F = 1, E‖E‖ ≈ 2·10⁻³), GD-M with k = 200 from a small and a
moderate init; train error ‖F_tG_tᵀ − X‖_F (dashed), test error ‖F_tG_tᵀ − X♮‖_F (solid), √r‖E‖ (red).

Choices where the paper is silent (module constants):

* **ρ** — ``FIG1_RHOS = (1e-3, 1.0)`` in the Frobenius convention ‖F₀‖_F = ‖G₀‖_F = ρ‖X‖_F (the caption's
  "‖F₀‖_F ≪ ‖X♮‖_F" and "≍ ‖X♮‖_F"); η = 0.5 (§5.1's step; Fig. 1's is not given).
* **Horizon** — 10⁴ steps in full mode (noise directions grow at ≈ 1 + η‖E‖ per step, so overfitting
  shows after ~10⁴ steps; notes-002 §5); quick mode: 100×80, k = 80, 20,000 steps: the oracle minima of
  both inits lie before step 1,200, and the small init's test error climbs from 3.2e-3 to 8.8e-3 (train
  error → 0) only after ~5,000 steps, so a shorter quick run misses the overfitting the figure is about
  (1,500 steps before; the stopping rules' runs keep their 1,500).
* **X♮** — Gaussian product normalized to ‖X♮‖_F = 1 (spectrum not given in the paper).
* **Stopping rules** (ours, the paper has none; small init only, same X, same init, a budget of
  ``RULE_STEPS``): ``plateau`` (the built-in recipe rule: the loss fell by ≤ 10⁻⁴ relative over 50
  steps), ``discrepancy`` (stop at ‖F_tG_tᵀ − X‖_F² ≤ ŝ²mn with ŝ² = ‖X − X_r‖_F²/((m−r)(n−r)), a noise
  estimate from the observed X and the target rank only) and ``jiang2023_spectral_count`` (r leading
  singular values of F_tG_tᵀ converged to 10⁻³ over 20 steps while σ_{r+1} ≤ 0.1σ_r). Each is compared
  with the oracle (the iterate with the least test error, which knows X♮).
* **Data seeds of claims 2 and 9** — ``CLAIM_SEEDS`` (quick 0–4, full 0–2): seed 0 is the figure's run;
  the others run ``CLAIM_STEPS`` = 3,000 steps, enough for the claims, which read the oracle minima
  (on seed 0 they lie at t ≤ 1,501 in quick and t ≤ 1,196 in full), not the overfitting that follows.
  A seed whose moderate-init minimum falls in the last ``TAIL`` of its run is not judged (the minimum
  may lie beyond the horizon).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ... import figstyle
from ...experiments.spec import RunSpec
from .._shared import mode, new_figure, replica_traces, save, summaries, suptitle, title
from ..base import Context, Figure, Outcome, Threshold, claim
from .settings import ETA_FIG12, PAPER, events, mf_spec, oracle, problem_facts, worst

FIG1_RHOS = (1e-3, 1.0)
FIG1_RANK = 5
FIG1_NOISE_OP = 2e-3
RULES = ("plateau", "discrepancy", "spectral_count")
#: claim 2: the small init "reaches" X_r's test error within this factor; the moderate init "never
#: does" when its best test error is at least MODERATE_FACTOR times it.
SMALL_FACTOR = 1.05
MODERATE_FACTOR = 2.0
#: claim 9: a rule matches the oracle when its test error is at most this factor times the oracle's.
RULE_FACTOR = 1.1
#: claims 2 and 9: data seeds per mode (seed 0 is the figure's run); the other seeds' horizon; the last
#: share of a run in which a moderate-init minimum leaves that seed unjudged.
CLAIM_SEEDS = {True: (0, 1, 2, 3, 4), False: (0, 1, 2)}
CLAIM_STEPS = 3000
TAIL = 0.1


def _sizes(quick: bool) -> dict:
    if quick:
        return {"m": 100, "n": 80, "k": 80, "steps": 20_000, "rule_steps": 1500, "points": 200}
    return {"m": 250, "n": 200, "k": 200, "steps": 10_000, "rule_steps": 3000, "points": 300}


def _problem(quick: bool) -> dict:
    s = _sizes(quick)
    return {"m": s["m"], "n": s["n"], "r": FIG1_RANK, "generator": "planted_noise", "rank": FIG1_RANK,
            "noise_op_norm": FIG1_NOISE_OP}


METRICS = ("train_error_sq", "test_error", "jiang2023_err_Xr")


def _fig1_spec(quick: bool, seed: int = 0, steps: int | None = None) -> RunSpec:
    s = _sizes(quick)
    return mf_spec(_problem(quick), k=s["k"], eta=ETA_FIG12, rhos=list(FIG1_RHOS), convention="frobenius",
                   steps=steps or s["steps"], figure="jiang2023-fig1", data_seed=seed, metrics=METRICS,
                   log={"points": s["points"]}, recipe=oracle("test_error"))


def fig1_specs(quick: bool) -> list[RunSpec]:
    return [_fig1_spec(quick)]


def _rule_specs(quick: bool, seed: int) -> list[RunSpec]:
    s = _sizes(quick)
    prob = _problem(quick)
    facts = problem_facts({"name": "jiang2023_model_free", **prob}, seed)
    m, n, r = s["m"], s["n"], FIG1_RANK
    noise_energy = facts["tail_fro"] ** 2 * m * n / ((m - r) * (n - r))
    variants = {
        "plateau": {"recipe": {"name": "early_stopping", "rule": "plateau", "window": 50, "rtol": 1e-4}},
        "discrepancy": {"recipe": {"name": "early_stopping", "rule": "discrepancy", "noise_energy": noise_energy,
                                   "tau": 0.0}},
        "spectral_count": {"stops": [{"name": "jiang2023_spectral_count", "r": r, "window": 20, "rtol": 1e-3,
                                      "tau": 0.1}]},
    }
    return [mf_spec(prob, k=s["k"], eta=ETA_FIG12, rhos=[FIG1_RHOS[0]], convention="frobenius",
                    steps=s["rule_steps"], figure=f"jiang2023-fig1-rule-{rule}", data_seed=seed, metrics=METRICS,
                    log={"points": 50}, **variants[rule]) for rule in RULES]


def rule_specs(quick: bool) -> list[RunSpec]:
    """One spec per stopping rule: the small init of Fig. 1 on the same X."""
    return _rule_specs(quick, 0)


def claim_specs(quick: bool) -> list[RunSpec]:
    """Claims 2 and 9: per data seed of :data:`CLAIM_SEEDS`, Fig. 1's run (seed 0: the figure's own; the
    others :data:`CLAIM_STEPS` steps) and the three rule runs."""
    out = []
    for seed in CLAIM_SEEDS[quick]:
        out.append(_fig1_spec(quick, seed, None if seed == 0 else CLAIM_STEPS))
        out += _rule_specs(quick, seed)
    return out


def fig1_numbers(ctx: Context, specs=None) -> dict[int, dict]:
    """Per data seed: per init the oracle's step and test error; X_r's test error, √r‖E‖, each rule's stop,
    the run's horizon. ``specs``: the runs (default the figure's: seed 0)."""
    specs = ctx.specs(specs or _all_specs)
    out: dict[int, dict] = {}
    for spec in (sp for sp in specs if sp.tags["figure"] == "jiang2023-fig1"):
        facts = problem_facts(dict(spec.problem.params, name=spec.problem.name), spec.data_seed)
        ev = events(ctx, spec)
        nums = {"svd": facts["truncated_svd_test_error"], "red": math.sqrt(FIG1_RANK) * facts["noise_op"],
                "noise_fro": facts["noise_fro"], "steps": spec.steps, "inits": {}, "rules": {}}
        for (rep, rows), rho in zip(replica_traces(ctx, spec), FIG1_RHOS, strict=True):
            e = ev[int(rep["replica"])]
            nums["inits"][rho] = {"oracle_step": int(e["chosen_step"]), "oracle_test": float(e["value"]),
                                  "final_test": float(rows["test_error"].iloc[-1]),
                                  "final_train": float(np.sqrt(rows["train_error_sq"].iloc[-1]))}
        for rule in RULES:
            (rs,) = [sp for sp in specs if sp.data_seed == spec.data_seed
                     and sp.tags["figure"] == f"jiang2023-fig1-rule-{rule}"]
            row = summaries(ctx, [rs]).iloc[0]
            nums["rules"][rule] = {"step": int(row["stop_step"]), "test": float(row["test_error"]),
                                   "status": str(row["status"])}
        out[spec.data_seed] = nums
    return out


def fig1_plot(ctx: Context, out_dir: Path) -> list[Path]:
    (spec,) = ctx.specs(fig1_specs)
    nums = fig1_numbers(ctx)[spec.data_seed]
    s = _sizes(ctx.quick)
    fig, axes = new_figure(ncols=2, height=3.0)
    cols = {FIG1_RHOS[0]: figstyle.PALETTE[2], FIG1_RHOS[1]: figstyle.PALETTE[0]}
    for ax, zoom in zip(axes, (600, None), strict=True):
        for (_, rows), rho in zip(replica_traces(ctx, spec), FIG1_RHOS, strict=True):
            sel = rows if zoom is None else rows[rows["step"] <= zoom]
            lab = "small" if rho < 1 else "moderate"
            ax.plot(sel["step"], np.sqrt(sel["train_error_sq"]), ls="--", color=cols[rho],
                    label=rf"train $\|FG^\top - X\|_F$, {lab} $\rho$ = {rho:g}")
            ax.plot(sel["step"], sel["test_error"], ls="-", color=cols[rho],
                    label=rf"test $\|FG^\top - X_\natural\|_F$, {lab} $\rho$ = {rho:g}")
        ax.axhline(nums["red"], color=figstyle.PALETTE[1], lw=1, label=rf"$\sqrt{{r}}\|E\|$ = {nums['red']:.2e}")
        ax.axhline(nums["svd"], color="gray", ls=":", lw=1,
                   label=rf"truncated SVD $X_r$: {nums['svd']:.2e}")
        ax.axhline(nums["noise_fro"], color="gray", ls="-.", lw=1,
                   label=rf"$\|E\|_F$ = {nums['noise_fro']:.2e} (fitting $X$ exactly)")
        if zoom is None:
            for rule, mk in zip(RULES, ("v", "s", "D"), strict=True):
                rr = nums["rules"][rule]
                ax.plot([max(rr["step"], 1)], [rr["test"]], marker=mk, color="k", ls="none",
                        label=f"stop: {rule.replace('_', ' ')} (t = {rr['step']})")
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration $t$")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(r"error (absolute Frobenius; $\|X_\natural\|_F = 1$)")
    axes[1].set_ylabel(r"error (absolute Frobenius)")
    axes[0].set_title("first 600 iterations")
    title(axes[1], f"all {s['steps']} iterations, with the stopping rules' stops")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    suptitle(fig, f"Jiang–Chen–Ding Fig. 1 ({mode(ctx.quick)}): X = X♮ + E, {s['m']}×{s['n']}, rank(X♮) = 5, "
                  f"‖E‖ ≈ {FIG1_NOISE_OP:g}, k = {s['k']}, GD-M η = {ETA_FIG12}, " r"$\|F_0\|_F = \rho\|X\|_F$")
    return save(fig, out_dir, "jiang2023-fig1")


def _setting(ctx: Context) -> str:
    s = _sizes(ctx.quick)
    seeds = CLAIM_SEEDS[ctx.quick]
    return (f"X = X♮ + E, {s['m']}×{s['n']}, rank(X♮) = 5, ‖X♮‖_F = 1, E‖E‖ ≈ 2e-3, k = {s['k']}, η = 0.5, "
            f"‖F₀‖_F = ‖G₀‖_F = ρ‖X‖_F, ρ ∈ {FIG1_RHOS}, data seeds {', '.join(map(str, seeds))} (seed 0: the "
            f"figure's {s['steps']} steps; the others {CLAIM_STEPS}), {mode(ctx.quick)} mode")


def _all_specs(quick: bool) -> list[RunSpec]:
    return fig1_specs(quick) + rule_specs(quick)


def claim2_verdict(small_ratio: float, moderate_ratio: float, moderate_step: int, steps: int, *,
                   small: float, moderate: float) -> str:
    """Claim 2 on one X: ``inconclusive`` when the moderate init's minimum lies in the last :data:`TAIL`
    of the run (it may lie beyond the horizon); else ``reproduced`` when small/SVD ≤ ``small`` and
    moderate/SVD ≥ ``moderate``, ``partly reproduced`` when only the small part holds, else ``not
    reproduced``."""
    if moderate_step >= (1 - TAIL) * steps:
        return "inconclusive"
    ok_small, ok_mod = small_ratio <= small, moderate_ratio >= moderate
    return "reproduced" if ok_small and ok_mod else "partly reproduced" if ok_small else "not reproduced"


@claim(
    id="jiang2023-claim2", paper=PAPER, figure="jiang2023-fig1", specs=claim_specs,
    kind="experiment", source={"section": "§1, Fig. 1",
                     "quote": "gradient descent with *small* random initialization achieves a small (and near optimal) test "
                     "error before it eventually overfits; on the other hand, this behavior is not observed with "
                     "moderate initialization."},
    statement="In the noisy model X = X♮ + E, GD from a small init, stopped early, reaches the test error of the "
              "truncated SVD X_r (statistically near-optimal, ≈ √r‖E‖), while GD from a moderate init never does "
              "(Fig. 1).",
    paper_value="qualitative: small init reaches ≈ √r‖E‖ ≈ 4.47e-3 before overfitting; moderate init never does",
    criterion=f"Oracle test error = min_t ‖F_tG_tᵀ − X♮‖_F (checked every step), on each data seed (5 quick, 3 "
              f"full). Per seed: reproduced when the small init's ≤ {SMALL_FACTOR} × ‖X_r − X♮‖_F and the moderate "
              f"init's ≥ {MODERATE_FACTOR} × ‖X_r − X♮‖_F; partly reproduced when only the small-init part holds; "
              f"not reproduced when the small init misses {SMALL_FACTOR} × ‖X_r − X♮‖_F; inconclusive when the "
              f"moderate init's minimum lies in the last {TAIL:.0%} of the run. The claim's verdict is the worst "
              "seed's.",
    criterion_revised="before: the same test on data seed 0 alone / after: on every one of 5 (quick) or 3 (full) "
                      "data seeds, the worst seed's verdict, a seed whose moderate-init minimum lies in the last "
                      "10 % of its run not judged. Why: a verdict must not rest on one draw of X; the added seeds "
                      "run 3,000 steps, which the minimum-at-the-horizon rule guards.",
    thresholds={"small": Threshold(SMALL_FACTOR, low=1.02, high=1.2, reason="'a small (and near optimal) test "
                                   "error': within 2–20 % of the truncated SVD's"),
                "moderate": Threshold(MODERATE_FACTOR, low=1.5, high=3.0, reason="'not observed with moderate "
                                      "initialization': clearly above the optimum, from 1.5× to 3×")},
)
def claim2(ctx: Context) -> Outcome:
    per_seed = fig1_numbers(ctx, claim_specs)
    seeds = sorted(per_seed)
    col = {k: [] for k in ("svd", "red", "s_test", "s_step", "s_ratio", "m_test", "m_step", "m_ratio", "final",
                           "final_train", "verdict")}
    for seed in seeds:
        nums = per_seed[seed]
        small, moderate = nums["inits"][FIG1_RHOS[0]], nums["inits"][FIG1_RHOS[1]]
        sr, mr = small["oracle_test"] / nums["svd"], moderate["oracle_test"] / nums["svd"]
        col["svd"].append(nums["svd"])
        col["red"].append(nums["red"])
        col["s_test"].append(small["oracle_test"])
        col["s_step"].append(small["oracle_step"])
        col["s_ratio"].append(round(sr, 4))
        col["m_test"].append(moderate["oracle_test"])
        col["m_step"].append(moderate["oracle_step"])
        col["m_ratio"].append(round(mr, 3))
        col["final"].append([small["final_test"], moderate["final_test"], nums["steps"]])
        col["final_train"].append([small["final_train"], moderate["final_train"]])
        col["verdict"].append(claim2_verdict(sr, mr, moderate["oracle_step"], nums["steps"],
                                             small=ctx.threshold("small"), moderate=ctx.threshold("moderate")))
    measured = {
        "data seeds": seeds,
        "truncated SVD test error ‖X_r − X♮‖_F, per seed": col["svd"],
        "√r‖E‖ (red line), per seed": col["red"],
        "small init: oracle test error, per seed": col["s_test"],
        "small init: oracle step, per seed": col["s_step"],
        "small init / truncated SVD, per seed": col["s_ratio"],
        "moderate init: oracle test error, per seed": col["m_test"],
        "moderate init: oracle step, per seed": col["m_step"],
        "moderate init / truncated SVD, per seed": col["m_ratio"],
        "final test error (small, moderate) and steps, per seed": col["final"],
        "final train error (small, moderate), per seed": col["final_train"],
        "verdict per seed": col["verdict"],
    }
    versus = {"small-init test error vs √r‖E‖ (seed 0)": {"paper": "≈ 4.47e-3 (red line, 250×200)",
                                                           "ours": col["s_test"][0] if seeds else math.nan}}
    return Outcome(measured=measured, verdict=worst(col["verdict"]), setting=_setting(ctx), versus=versus,
                   note="The paper gives no numbers for the curves. The final errors of seed 0 (the figure's "
                        "run) show the overfitting the figure shows (train error → 0, test error towards ‖E‖_F); "
                        "the other seeds stop at 3,000 steps, after both minima.")


def claim9_verdict(ratios, match: float) -> str:
    """Claim 9 on one X: ``reproduced`` when ≥ 2 rules' test error over the oracle's is ≤ ``match``,
    ``partly reproduced`` when one is, ``not reproduced`` when none is."""
    n = sum(r <= match for r in ratios)
    return "reproduced" if n >= 2 else "partly reproduced" if n == 1 else "not reproduced"


@claim(
    id="jiang2023-claim9", paper=PAPER, figure="jiang2023-fig1", specs=claim_specs,
    kind="extension", source={"section": "§1",
                     "quote": "we show that for each  $r \\in [1, k]$ , there exists a (range of) stopping time  $t$  such that"
                     "  $(\\mathcal{GD}\\text{-}\\mathcal{M})$  terminated at iteration  $t$  produces an approximate  "
                     "$X_r$ ."},
    statement="(Ours; the paper gives no practical rule.) Stopping rules that see neither X♮ nor X_r — a loss "
              "plateau, the discrepancy principle with a noise estimate, a singular-value count — stop small-init "
              "GD where the oracle would (Fig. 1's setting).",
    paper_value="not in the paper (its ε and T₀ use the oracle X_r or X♮)",
    criterion=f"Per rule and data seed (5 quick, 3 full): test error at its stop / the oracle's test error. A "
              f"rule matches when the ratio ≤ {RULE_FACTOR}. Per seed: reproduced when at least two rules match; "
              "partly reproduced when one does; not reproduced when none does. The claim's verdict is the worst "
              "seed's.",
    criterion_revised="before: on data seed 0 alone / after: on every one of 5 (quick) or 3 (full) data seeds, "
                      "the worst seed's verdict. Why: a verdict must not rest on one draw of X.",
    thresholds={"match": Threshold(RULE_FACTOR, low=1.05, high=1.25, reason="a stop 'where the oracle would': "
                                   "within 5–25 % of the oracle's test error")},
)
def claim9(ctx: Context) -> Outcome:
    per_seed = fig1_numbers(ctx, claim_specs)
    measured: dict = {"data seeds": sorted(per_seed), "oracle: step, test error, per seed": [],
                      **{f"{rule}: step, ratio to oracle, status, per seed": [] for rule in RULES}}
    verdicts = []
    for seed in sorted(per_seed):
        nums = per_seed[seed]
        best = nums["inits"][FIG1_RHOS[0]]
        measured["oracle: step, test error, per seed"].append([best["oracle_step"], best["oracle_test"]])
        ratios = []
        for rule, rr in nums["rules"].items():
            ratios.append(rr["test"] / best["oracle_test"])
            measured[f"{rule}: step, ratio to oracle, status, per seed"].append(
                [rr["step"], round(ratios[-1], 4), rr["status"]])
        verdicts.append(claim9_verdict(ratios, ctx.threshold("match")))
    measured["verdict per seed"] = verdicts
    return Outcome(measured=measured, verdict=worst(verdicts), setting=_setting(ctx) + ", small init only",
                   note="A rule that never fires runs to its budget and is judged at the last step (overfit). "
                        "The discrepancy rule's noise estimate ŝ² = ‖X − X_r‖_F²/((m−r)(n−r)) needs the SVD of X "
                        "and the target rank, not X♮.")


FIGURES = [Figure("jiang2023-fig1", PAPER, "Small vs moderate init under noise; early stopping rules",
                  _all_specs, fig1_plot,
                  setting=("Paper (§1): X = X♮ + E, 250×200, X♮ of rank 5 with ‖X♮‖_F = 1, Gaussian E with ‖E‖ ≈ 2·10⁻³; GD "
                           "on the asymmetric factorization with k = 200 from a small and a moderate init (step and "
                           "iterations not given). Ours: ρ ∈ {10⁻³, 1} (‖F₀‖_F = ‖G₀‖_F = ρ‖X‖_F), η = 0.5, 10⁴ steps; "
                           "quick 100×80, k = 80, 20,000 steps; plus three stopping rules of ours against the oracle."),
                  paper_reports=("Dashed, the train error ‖F_tG_tᵀ − X‖_F; solid, the test error ‖F_tG_tᵀ − X♮‖_F; red, "
                                 "√r‖E‖ ≈ 4.47·10⁻³. Both inits eventually overfit (vanishing train error, large test "
                                 "error); the small init first reaches a near-optimal test error, the moderate init never "
                                 "does."))]
CLAIMS = [claim2, claim9]
