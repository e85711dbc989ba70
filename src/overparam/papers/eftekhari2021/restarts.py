"""003 Fig. 5 — Algorithm 1 (adaptive restarts) against plain GD (3) from the same init — and claim 4.

Setting (§5, Fig. 5): Example 1.1 with fresh data (``data_seed = truth_seed = FRESH_SEED``),
‖U₀‖_F = ρ₀ = 10, r₀ = 30, η = 5·10⁻⁶, W = 100, τ = 0.998, Δ_rank = 3, factor = ½, r = 2. The
algorithm is the engine's recipe ``restarts`` (:mod:`overparam.recipes.builtin`):

* ``mode = "literal"`` — Algorithm 1 as printed: the window test runs at every k ≡ 1 (mod W),
  k ≥ W + 1, for the whole budget (r₀ stays at r = 2 while ρ₀ keeps halving);
* ``mode = "terminating"`` — **our extension**, labelled as such: once a restart has set r₀ = r, the
  test is no longer run and GD continues from that init;
* ``history = "literal"`` in both — the first window after a restart holds the ratio of the new run's
  first error to the old run's last (as printed; ``"reset"`` is the alternative).

The paper gives no K and shows "a typical outcome" (one run); we run 3 inits (``init_seed`` 0, 1, 2)
on one fresh instance, K = 60,000 in full mode (8,000 in quick mode). The plain GD baseline uses the
same spec without the recipe, so its U₀ is the recipe's first U₀ (same init, same seed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...experiments.spec import RunSpec
from .._shared import mode, new_figure, replica_traces, save, suptitle
from ..base import Context, Figure, Outcome, Threshold, claim
from .settings import FRESH_SEED, GRAD_SCALE, PAPER, R_TRUE, STEP_LABEL, TRIALS, D, M, problem

ALG1 = {"eta": 5e-6, "norm": 10.0, "rank": 30, "window": 100, "tau": 0.998, "rank_step": 3, "factor": 0.5,
        "min_rank": 2}
#: Claim 4: "considerably outperforms" = a final test error at least this factor below GD's, every trial.
BEATS = 10.0
#: Claim 4: "recovers X♮" = final test error ≤ this (the same 'no implicit bias' line as claims 2–3).
RECOVERS = 1e-2
RANK_METRICS = ("eftekhari2021_numerical_rank", "eftekhari2021_row_leakage")
VARIANTS = ("gd", "literal", "terminating")


def steps(quick: bool) -> int:
    return 8_000 if quick else 60_000


def fig5_spec(variant: str, quick: bool, data_seed: int = FRESH_SEED) -> RunSpec:
    """One variant's run on the fresh instance of ``data_seed`` (X♮ and 𝒜 drawn from it)."""
    K = steps(quick)
    data: dict[str, Any] = {
        "problem": problem(data_seed, data_seed),
        "param": {"name": "symmetric"},
        "algorithm": {"name": "gd", "eta": ALG1["eta"], "grad_scale": GRAD_SCALE},
        "init": {"name": "low_rank", "rank": ALG1["rank"], "norm": ALG1["norm"], "spectrum": "gaussian"},
        "steps": K,
        "data_seed": data_seed,
        "metrics": ["train_error_sq", "test_error_sq", *RANK_METRICS],
        "log": {"points": 60, "every": max(1, K // 1000)},
        "replicas": {"init_seed": list(range(TRIALS))},
        "tags": {"paper": PAPER, "figure": f"{PAPER}-fig5", "variant": variant},
    }
    if variant != "gd":
        data["recipe"] = {"name": "restarts", "window": ALG1["window"], "tau": ALG1["tau"],
                          "rank_step": ALG1["rank_step"], "factor": ALG1["factor"], "min_rank": ALG1["min_rank"],
                          "mode": variant, "history": "literal"}
    return RunSpec.parse(data)


def fig5_specs(quick: bool) -> list[RunSpec]:
    return [fig5_spec(v, quick) for v in VARIANTS]


#: Claim 4's fresh data seeds (X♮ and 𝒜 drawn anew; seed 1 is Fig. 5's instance), by mode: five in quick
#: mode, where a run (8,000 steps) costs 5–11 s; three in full mode, where one (60,000 steps) costs 50–330 s.
CLAIM4_SEEDS = {True: (FRESH_SEED, 2, 3, 4, 5), False: (FRESH_SEED, 2, 3)}


def claim4_specs(quick: bool) -> list[RunSpec]:
    """Fig. 5's three variants on every fresh instance of :data:`CLAIM4_SEEDS` (of the mode)."""
    return [fig5_spec(v, quick, seed) for seed in CLAIM4_SEEDS[quick] for v in VARIANTS]


def _runs(ctx: Context, specs=fig5_specs) -> dict[str, tuple[RunSpec, list]]:
    """{variant: (spec, [(replica, rows)])}; with several data seeds, the replicas of every seed
    (the spec is the first seed's)."""
    out: dict[str, tuple[RunSpec, list]] = {}
    for spec in ctx.specs(specs):
        v = spec.tags["variant"]
        reps = [(dict(rep, data_seed=spec.data_seed), rows) for rep, rows in replica_traces(ctx, spec)]
        if v in out:
            out[v] = (out[v][0], out[v][1] + reps)
        else:
            out[v] = (spec, reps)
    return out


def _restart_events(ctx: Context, specs, variant: str) -> list[dict[str, Any]]:
    """The restart events of one variant's runs, each with its data seed."""
    return [dict(e, data_seed=spec.data_seed) for spec in ctx.specs(specs) if spec.tags["variant"] == variant
            for e in restart_events(ctx, spec)]


def restart_events(ctx: Context, spec: RunSpec) -> list[dict[str, Any]]:
    meta = ctx.load(spec).meta
    return [e for e in meta.get("events", []) if e.get("kind") == "restart"]


def _label(v: str) -> str:
    return {"gd": "GD (3), same init", "literal": "Algorithm 1 as printed (literal)",
            "terminating": "Algorithm 1, terminating (our extension)"}[v]


def fig5_plot(ctx: Context, out_dir: Path) -> list[Path]:
    runs = _runs(ctx)
    fig, axes = new_figure(ncols=3, height=3.3)
    colors = {"gd": "#D55E00", "literal": "#E69F00", "terminating": "#0072B2"}
    styles = {"gd": ("-", 1), "literal": ("--", 3), "terminating": ("-", 2)}  # (line style, z-order)
    ticks = {"literal": 3e3, "terminating": 3e2}
    for v, (spec, reps) in runs.items():
        rep, rows = reps[0]  # "a typical outcome": trial 0
        for ax, name in ((axes[0], "train_error_sq"), (axes[1], "test_error_sq")):
            ax.plot(rows["step"], rows[name], color=colors[v], lw=1.2, ls=styles[v][0], zorder=styles[v][1],
                    label=_label(v))
        zoom = rows[rows["step"] <= 5000]
        axes[2].plot(zoom["step"], zoom["train_error_sq"], color=colors[v], lw=1.0, ls=styles[v][0],
                     zorder=styles[v][1])
        if v != "gd":
            ev = [e for e in restart_events(ctx, spec) if e["replica"] == rep["replica"]]
            for e in ev:
                if e["step"] <= 5000:
                    axes[2].axvline(e["step"], color=colors[v], lw=0.5, ls="--", alpha=0.6)
            axes[1].plot([e["step"] for e in ev], [ticks[v]] * len(ev), "|", color=colors[v], ms=8)
    for ax, lab in ((axes[0], r"training error $\|\mathcal{A}(U_kU_k^\top)-b\|_2^2$"),
                    (axes[1], "test error " r"$\|U_kU_k^\top-X^\natural\|_F^2$" "\n(ticks: restarts)"),
                    (axes[2], "training error, k ≤ 5000\n(restarts dashed)")):
        ax.set_yscale("log")
        ax.set_xlabel("iteration $k$")
        ax.set_ylabel(lab)
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3,
               title="trial 0 of 3 (init seed 0); the two modes coincide until a restart sets r₀ = r")
    a = ALG1
    suptitle(fig, f"Eftekhari–Zygalakis Fig. 5 ({mode(ctx.quick)}): fresh data, d = p = {D}, rank X♮ = {R_TRUE}, "
                  f"m = {M}, " r"$\|U_0\|_F$" f" = {a['norm']:g}, r₀ = {a['rank']}, η = {a['eta']:g}, W = {a['window']}, "
                  f"τ = {a['tau']}, " r"$\Delta_\mathrm{rank}$" f" = {a['rank_step']}, factor = {a['factor']}, "
                  f"r = {a['min_rank']}, K = {steps(ctx.quick)}, {STEP_LABEL}")
    return save(fig, out_dir, f"{PAPER}-fig5")


def _finals(reps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    test = np.array([float(rows["test_error_sq"].iloc[-1]) for _, rows in reps])
    best = np.array([float(rows["test_error_sq"].min()) for _, rows in reps])
    train = np.array([float(rows["train_error_sq"].iloc[-1]) for _, rows in reps])
    return test, best, train


def _g(v) -> list[float]:
    return [float(f"{x:.3g}") for x in v]


@claim(
    id=f"{PAPER}-claim4", paper=PAPER, figure=f"{PAPER}-fig5", specs=claim4_specs,
    kind="experiment", source={"section": "§5 (Fig. 5)",
                     "quote": "Figure 5 illustrates a typical outcome, where the new algorithm considerably outperforms the "
                     "gradient descent (3) with the same initialization."},
    statement="Algorithm 1 (adaptive restarts) considerably outperforms GD (3) from the same initialization "
              "(Fig. 5: rank 30, ‖U₀‖_F = 10).",
    paper_value="qualitative (curves only): 'considerably outperforms'",
    criterion=f"Final test error per trial (3 inits on each of {len(CLAIM4_SEEDS[True])} fresh instances in quick "
              f"mode, {len(CLAIM4_SEEDS[False])} in full mode, budget K). "
              f"Reproduced when Algorithm 1 as "
              f"printed (literal mode) ends ≥ {BEATS:g}× below GD and at ≤ {RECOVERS:g} (recovers X♮) on every "
              f"trial; partly reproduced when only the terminating extension does both, or the literal mode beats "
              f"GD ≥ {BEATS:g}× without recovering; not reproduced when neither mode ends ≥ {BEATS:g}× below GD on "
              "every trial. The literal mode's restart count, its last restart's rank and norm, and its best test "
              "error along the run are reported as measured.",
    criterion_revised="before: one fresh instance / after: every trial of three fresh instances, then of five in "
                      "quick mode (where a run costs seconds). Why: a verdict must not rest on one instance; each "
                      "change written before the new runs.",
    thresholds={"beats": Threshold(BEATS, low=3.0, high=30.0, reason="'considerably outperforms': half a decade "
                                   "either side of an order of magnitude"),
                "recovers": Threshold(RECOVERS, low=3e-3, high=3e-2, reason="'recovers X♮': a final ‖UUᵀ − X♮‖_F² "
                                      "of 0.6–6 % of ‖X♮‖_F² ≈ 0.5")},
)
def claim4(ctx: Context) -> Outcome:
    runs = _runs(ctx, claim4_specs)
    gd, _, gd_train = _finals(runs["gd"][1])
    measured: dict[str, Any] = {"GD: final test error (trials)": _g(gd), "GD: final training error (trials)": _g(gd_train)}
    ok = {}
    for v in ("literal", "terminating"):
        spec, reps = runs[v]
        test, best, train = _finals(reps)
        ev = _restart_events(ctx, claim4_specs, v)
        measured[f"{v}: final test error (trials)"] = _g(test)
        measured[f"{v}: final training error (trials)"] = _g(train)
        measured[f"{v}: best test error along the run (trials)"] = _g(best)
        mine = [[e for e in ev if e["replica"] == r["replica"] and e["data_seed"] == r["data_seed"]] for r, _ in reps]
        measured[f"{v}: restarts (trials)"] = [len(m) for m in mine]
        last = [max(m, key=lambda e: e["step"], default=None) for m in mine]
        measured[f"{v}: last restart (step, rank, norm) (trials)"] = [
            None if e is None else [int(e["step"]), int(e["rank"]), float(f"{e['norm']:.3g}")] for e in last]
        ok[v] = (bool((test * ctx.threshold("beats") <= gd).all()), bool((test <= ctx.threshold("recovers")).all()))
    if all(ok["literal"]):
        verdict = "reproduced"
    elif all(ok["terminating"]) or ok["literal"][0]:
        verdict = "partly reproduced"
    else:
        verdict = "not reproduced"
    note = ("Algorithm 1 as printed never stops testing: on this instance a good rank-2 run also has every one-step "
            "error ratio below τ = 0.998, so it is restarted again and again with a halved norm, and the iterate "
            "ends near the zero matrix (test error ≈ ‖X♮‖_F²)."
            if not ok["literal"][1] else "Algorithm 1 as printed recovers X♮ on every trial.")
    versus = {"final test error, GD vs Algorithm 1": {
        "paper": "Algorithm 1 'considerably' below GD (curve)",
        "ours": f"GD {np.mean(gd):.3g}; literal {np.mean(_finals(runs['literal'][1])[0]):.3g}; "
                f"terminating {np.mean(_finals(runs['terminating'][1])[0]):.3g} (means of {len(gd)})"}}
    seeds = ", ".join(str(x) for x in sorted({r["data_seed"] for r, _ in runs["gd"][1]}))
    return Outcome(measured=measured, verdict=verdict, note=note, versus=versus,
                   setting=f"Fig. 5: fresh Example 1.1 instances (data seeds {seeds}), r₀ = 30, ‖U₀‖_F = 10, η = 5e-6, "
                           f"W = 100, τ = 0.998, Δ_rank = 3, factor = ½, r = 2, history literal, K = "
                           f"{steps(ctx.quick)}, {TRIALS} inits each, {mode(ctx.quick)} mode")


FIGURES = [Figure(f"{PAPER}-fig5", PAPER, "Algorithm 1 (literal and terminating) against GD from the same init",
                  fig5_specs, fig5_plot,
                  setting=("Example 1.1 with fresh data: ‖U₀‖_F = ρ₀ = 10, r₀ = 30, η = 5·10⁻⁶, window W = 100, τ = 0.998, "
                           "Δ_rank = 3, factor ½, r = 2. Algorithm 1 as printed ('literal') and our 'terminating' variant "
                           "(no test once r₀ = r) against plain GD from the same init; 3 inits, K = 60,000 steps (quick "
                           "8,000)."),
                  paper_reports=("A typical outcome (one run, no numbers): Algorithm 1, with its adaptive restarts, "
                                 "considerably outperforms GD (3) from the same initialization."))]
CLAIMS = [claim4]
