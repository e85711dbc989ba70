"""Fig. 1 (population, d = k = 500, r = 4): the column norms of U after training with and without
the group-Lasso penalty, and claims 1 (exactly r columns survive pruning) and 2 (without the penalty
many columns are comparable to the largest).

Choices (the caption gives only d, k, r and "gradient updates until convergence"):

* λ = ``LAM`` = 0.05, β = ``BETA`` = 0.01 (threshold 2√β = 0.2). With σ_r⋆² ≈ 0.75 at d = 500
  (‖X⋆‖_op = 1) these are c_β = βr/σ_r⋆² ≈ 0.05 and c_λ = λ√(kr)/σ_r⋆³ ≈ 3.4 in Thm 3's
  parametrization; λ is inside the small-init safe range λ < 2σ_r⋆²√β ≈ 0.15 (notes-001 §7.4,
  claim 6). Smaller λ (closer to the theory's small c_λ) sorts the columns too slowly for the
  budget, so the pruning happens before an SOSP: at d = k = 100 and 3,000 steps λ = 0.005, 0.01, 0.02
  kept 10, 7 and 4 columns (one seed), and λ = 0.02 kept 5 columns in 2 of 10 init seeds (the first
  quick run of claim 1); at d = 500, λ = 0.02 had 5 columns above 2√β after 3,000 steps (the fifth at
  0.67). λ = 0.05 kept 4 in 10 of 10 seeds at d = 100. This choice was made after those runs.
* η = 0.25 (analysis convention, ≤ Thm 8's 1/8 × 2), U₀ entries N(0, α²) with α = 10⁻³ for both
  runs (one variable changed: λ), ``STEPS`` = 3,000 training steps (the unregularized error is
  ≈ 10⁻⁶ by then at d = 100), then ``FINETUNE`` steps of plain GD after pruning.
* Quick mode: d = k = 100 (1/125 of the full cost per step); claim 1's 10-seed population check uses
  d = k = 100 (quick) and 200 (full: 10 seeds at d = 500 would take ≈ 40 min here; Fig. 1's own two
  regularized seeds at d = 500 are reported beside it).
* Claim 2's data seeds (``CLAIM2_SEEDS``: X⋆ drawn anew): seed 0 is Fig. 1's run; the others run
  λ ∈ {0, λ} from init seed 0 at claim 1's population size (d = k = 100 quick, 200 full: a d = 500 run
  costs ≈ 12 min here). Five seeds in quick mode (a run costs seconds), three in full mode (a d = 200
  run costs over a minute).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...experiments.spec import RunSpec
from ...recipes import prune_threshold
from .._shared import mode, new_figure, save, suptitle
from ..base import Context, Figure, Outcome, Threshold, claim
from .common import events, frac_at_least, settings_of
from .settings import PAPER, STEP_LABEL, pipeline_spec, population_problem

R_TRUE = 4
LAM = 0.05
BETA = 1e-2
ALPHA = 1e-3
ETA = 0.25
STEPS = 3000
FINETUNE = 300
FIG1_SEEDS = [0, 1]
#: Full mode (d = 500, ≈ 0.1 s per replica-step here) runs one init seed per λ.
FIG1_SEEDS_FULL = [0]
CLAIM1_SEEDS = list(range(10))
#: Claim 2: "many" columns comparable to the largest = at least this many times r at x = 0.5.
MANY_TIMES_R = 5
#: Claim 2: the data seeds per mode (seed 0: Fig. 1's run; the others at claim 1's population size): five in
#: quick mode (a run costs seconds), three in full mode (a d = 200 run costs over a minute).
CLAIM2_SEEDS = {True: [0, 1, 2, 3, 4], False: [0, 1, 2]}


def _d(quick: bool) -> int:
    return 100 if quick else 500


def _claim1_d(quick: bool) -> int:
    return 100 if quick else 200


def fig1_specs(quick: bool) -> list[RunSpec]:
    d = _d(quick)
    fs = FIG1_SEEDS if quick else FIG1_SEEDS_FULL
    lams = [lam for lam in (0.0, LAM) for _ in fs]
    seeds = [s for _ in (0.0, LAM) for s in fs]
    return [pipeline_spec(population_problem(d, R_TRUE), k=d, lams=lams, betas=BETA, alphas=ALPHA, eta=ETA,
                          steps=STEPS, finetune_steps=FINETUNE, init_seeds=seeds, figure="rajaraman2023-fig1",
                          log_points=40)]


def claim1_population_specs(quick: bool) -> list[RunSpec]:
    d = _claim1_d(quick)
    n = len(CLAIM1_SEEDS)
    return [pipeline_spec(population_problem(d, R_TRUE), k=d, lams=[LAM] * n, betas=BETA, alphas=ALPHA, eta=ETA,
                          steps=STEPS, finetune_steps=FINETUNE, init_seeds=CLAIM1_SEEDS,
                          figure="rajaraman2023-claim1", log_points=20)]


def claim2_specs(quick: bool) -> list[RunSpec]:
    """Claim 2's runs: Fig. 1's (data seed 0) and, per other seed of :data:`CLAIM2_SEEDS`, λ ∈ {0, λ} from
    init seed 0 at claim 1's population size."""
    d = _claim1_d(quick)
    return [*fig1_specs(quick), *(pipeline_spec(population_problem(d, R_TRUE), k=d, lams=[0.0, LAM], betas=BETA,
                                                alphas=ALPHA, eta=ETA, steps=STEPS, finetune_steps=FINETUNE,
                                                init_seeds=[0, 0], data_seed=seed, figure="rajaraman2023-claim2",
                                                log_points=20)
                                  for seed in CLAIM2_SEEDS[quick] if seed != 0)]


def fig1_norms(ctx: Context, specs=fig1_specs) -> list[dict]:
    """Per replica of Fig. 1 (or of ``specs``): data seed, d, λ, init seed, the column norms at the end of
    training (the prune event)."""
    out = []
    for spec in ctx.specs(specs):
        pr = events(ctx, spec, "prune")
        out += [{**settings_of(spec, i), "data_seed": spec.data_seed, "d": spec.param.params["k"],
                 "norms": np.asarray(e["norms"]), "kept": e["width"]} for i, e in sorted(pr.items())]
    return out


def fig1_plot(ctx: Context, out_dir: Path) -> list[Path]:
    rows = fig1_norms(ctx)
    d = _d(ctx.quick)
    fig, (ax1, ax2) = new_figure(ncols=2, height=3.0)
    x = np.linspace(0, 1, 201)
    colors = {0.0: "#D55E00", LAM: "#0072B2"}
    for row in rows:
        lab = "no regularization" if row["lam"] == 0 else f"group Lasso λ={LAM}, β={BETA}"
        ls = "-" if row["init_seed"] == FIG1_SEEDS[0] else "--"
        ax1.plot(x, frac_at_least(row["norms"], x), color=colors[row["lam"]], ls=ls,
                 label=f"{lab}, init seed {row['init_seed']}")
    ax1.set_xlabel("$x$")
    ax1.set_ylabel(r"fraction of columns with $\|Ue_i\| \geq x \cdot \max_j \|Ue_j\|$")
    ax1.set_ylim(-0.02, 1.02)
    ax1.legend()
    bins = np.linspace(0, max(r["norms"].max() for r in rows) * 1.02, 41)
    for row in rows:
        if row["init_seed"] != FIG1_SEEDS[0]:
            continue
        lab = "no regularization" if row["lam"] == 0 else f"group Lasso λ={LAM}"
        ax2.hist(row["norms"], bins=bins, color=colors[row["lam"]], alpha=0.55, label=lab)
    thr = prune_threshold(BETA)
    ax2.axvline(thr, color="k", ls=":", label=f"pruning threshold 2√β = {thr:.2g}")
    ax2.set_yscale("log")
    ax2.set_xlabel(r"column norm $\|Ue_i\|_2$")
    ax2.set_ylabel(f"number of columns (of k = {d}),\ninit seed {FIG1_SEEDS[0]}")
    ax2.legend()
    suptitle(fig, f"Rajaraman et al. Fig. 1 ({mode(ctx.quick)}): population loss " r"$\|UU^\top - X_\star\|_F^2$, "
                  f"d = k = {d}, r = {R_TRUE}, U₀ ~ N(0, {ALPHA:g}²), {STEPS} GD steps, {STEP_LABEL}")
    return save(fig, out_dir, "rajaraman2023-fig1")


def _claim1_specs(quick: bool) -> list[RunSpec]:
    from .fig2 import fig2_specs

    return [*claim1_population_specs(quick), *fig2_specs(quick)]


@claim(
    id="rajaraman2023-claim1", paper=PAPER, figure="rajaraman2023-fig1", specs=_claim1_specs,
    kind="theorem", source={"section": "Thms 3–4 (§4, §5)",
                     "quote": "consider U_{prune} as the output of the pruning phase in Algorithm 1 … U_{prune} has exactly r "
                     "columns."},
    statement="Thms 3–4: training with the group-Lasso penalty to an approximate SOSP, then pruning every column "
              "with norm ≤ 2√β, leaves exactly r columns (population and finite sample).",
    paper_value="exactly r columns (Thm 3, population; Thm 4, n = Ω̃(dk²r⁵)); Fig. 1: 'only a few significant "
                "columns'",
    criterion="Count of kept columns per seed, in two settings: population (10 init seeds, d = k = 100 quick / 200 "
              "full, r = 4, λ = 0.05, β = 0.01, 3,000 steps) and finite sample (Fig. 2's 10 noiseless data seeds, "
              "d = k = 20, r = 3, n = 100). Reproduced when every seed of both settings keeps exactly r; partly "
              "reproduced when ≥ 80 % of all seeds do; not reproduced otherwise. Fig. 1's own regularized seeds at "
              "its size are reported, not judged. Fig. 2's noisy runs (σ = 0.1, same n = 100) are excluded from the "
              "verdict and reported: Thm 4 assumes n ≥ C₄σ²dk²r⁵log(d/η)/(σ_r⋆)⁴, about 2·10⁴·C₄ samples at "
              "σ = 0.1, d = k = 20, r = 3, so n = 100 lies outside its hypothesis for σ > 0 (for σ = 0 the "
              "bound is void).",
    criterion_revised="before: the same two settings, the noisy runs neither judged nor mentioned / after: the noisy "
                      "runs named in the criterion as excluded (outside Thm 4's sample bound), their kept columns "
                      "reported beside the verdict; the verdict's rule is unchanged.",
    thresholds={"share": Threshold(0.8, low=0.7, high=0.9, reason="'partly': most seeds, from 7 to 9 in 10")},
)
def claim1(ctx: Context) -> Outcome:
    from .fig2 import NOISE, noiseless_specs
    from .fig2 import R_TRUE as R2

    pop = []
    for spec in ctx.specs(claim1_population_specs):
        pop += [e["width"] for _, e in sorted(events(ctx, spec, "prune").items())]
    fin = []
    for spec in noiseless_specs(ctx):
        fin += [e["width"] for i, e in sorted(events(ctx, spec, "prune").items()) if settings_of(spec, i)["lam"] > 0]
    noisy = []
    for spec in ctx.specs(_claim1_specs):
        if spec.problem.params.get("noise", 0) > 0:
            noisy += [e["width"] for i, e in sorted(events(ctx, spec, "prune").items())
                      if settings_of(spec, i)["lam"] > 0]
    fig = [r["kept"] for r in fig1_norms(ctx) if r["lam"] > 0]
    ok = [w == R_TRUE for w in pop] + [w == R2 for w in fin]
    share = float(np.mean(ok))
    verdict = ("reproduced" if share == 1.0 else "partly reproduced" if share >= ctx.threshold("share")
               else "not reproduced")
    measured = {f"population d=k={_claim1_d(ctx.quick)}, r={R_TRUE}: kept columns per init seed": pop,
                f"finite sample d=k=20, r={R2}, n=100: kept columns per data seed": fin,
                f"Fig. 1 d=k={_d(ctx.quick)}: kept columns of the regularized seeds": fig,
                "share of seeds with exactly r": share,
                f"noisy finite sample (sigma={NOISE:g}, excluded): kept columns per data seed": noisy,
                "noisy: seeds keeping more than r": sum(w > R2 for w in noisy),
                "noisy: seeds keeping fewer than r": sum(w < R2 for w in noisy)}
    versus = {"kept columns (population)": {"paper": f"exactly r = {R_TRUE}", "ours": pop},
              "kept columns (finite sample)": {"paper": f"exactly r = {R2}", "ours": fin}}
    return Outcome(measured=measured, verdict=verdict, versus=versus,
                   setting=f"λ = {LAM}, β = {BETA} (population); Fig. 2's λ, β (finite sample); {mode(ctx.quick)} mode",
                   note=f"Fig. 2's noisy runs (σ = {NOISE:g}, n = 100), excluded from the verdict (criterion): "
                        f"{sum(w > R2 for w in noisy)} of {len(noisy)} seeds keep more than r = {R2} columns "
                        f"({noisy}); n = 100 is far below Thm 4's sample bound for σ > 0, so this does not "
                        "contradict the theorem, but pruning at 2√β does not isolate r columns there. "
                        "The SOSP certificates (‖∇f‖_F, λ_min by Lanczos, ‖U‖_op) of the finite-sample runs are in "
                        "claim 5's measurements; pruning happens after a fixed budget, not at a certified SOSP.")


@claim(
    id="rajaraman2023-claim2", paper=PAPER, figure="rajaraman2023-fig1", specs=claim2_specs,
    kind="experiment", source={"section": "Fig. 1 caption; Thm 1 (§3)",
                     "quote": "Using regularization leads to solutions with most of the columns having small ℓ_2 norm, and only"
                     " a few significant columns. Without regularization, a large number of columns have their ℓ_2 "
                     "norm comparable to the largest column norm."},
    statement="Without regularization, gradient descent from small random init ends with many columns whose norm "
              "is comparable to the largest (Thm 1; Fig. 1), so the model is not prunable; with the penalty only "
              "a few columns are large.",
    paper_value="Thm 1 (r = 1): Ω̃(k^c) columns with norm ≥ 0.99·max; Fig. 1: 'a large number of columns' (no number)",
    criterion=f"frac(0.5) = share of the k columns with norm ≥ 0.5·max, at the end of training, per init seed, on "
              f"{len(CLAIM2_SEEDS[True])} data seeds in quick mode, {len(CLAIM2_SEEDS[False])} in full (seed 0: Fig. 1's "
              "run; the others at d = k = 100 quick / 200 full). Per "
              f"data seed: reproduced when every unregularized run has ≥ {MANY_TIMES_R}·r columns at x = 0.5 and every "
              "regularized run has ≤ r there; partly reproduced when only the unregularized part holds; not "
              "reproduced otherwise. The claim's verdict is the worst seed's. frac at x = 0.99 (Thm 1's constant) "
              "and 0.25, 0.75 are reported, not judged.",
    criterion_revised="before: the same test on Fig. 1's X⋆ alone (data seed 0) / after: on several data seeds (5 "
                      "quick, 3 full), the worst seed's verdict. Why: a verdict must not rest on one draw of X⋆.",
    thresholds={"x": Threshold(0.5, low=0.25, high=0.75, reason="'comparable to the largest': the paper's 0.99 'is "
                               "arbitrary and can be extended to any constant bounded away from 1'"),
                "many": Threshold(MANY_TIMES_R, low=3, high=10, reason="'a large number' of columns, in multiples of "
                                  "r: from clearly more than r to an order of magnitude more")},
)
def claim2(ctx: Context) -> Outcome:
    rows = fig1_norms(ctx, claim2_specs)
    measured = {}
    verdicts = {}
    for seed in sorted({r["data_seed"] for r in rows}):
        un_ok, reg_ok = True, True
        for row in (r for r in rows if r["data_seed"] == seed):
            f = frac_at_least(row["norms"], [0.25, 0.5, 0.75, 0.99])
            tag = (f"data seed {seed}, d=k={row['d']}, {'λ=0' if row['lam'] == 0 else f'λ={LAM}'}, "
                   f"init seed {row['init_seed']}")
            measured[f"{tag}: frac(x) at x = 0.25, 0.5, 0.75, 0.99"] = [float(v) for v in f]
            measured[f"{tag}: columns with norm ≥ 0.5·max"] = int(round(f[1] * row["d"]))
            n_x = int((row["norms"] >= ctx.threshold("x") * row["norms"].max()).sum())
            if row["lam"] == 0:
                un_ok &= n_x >= ctx.threshold("many") * R_TRUE
            else:
                reg_ok &= n_x <= R_TRUE
        verdicts[seed] = "reproduced" if un_ok and reg_ok else "partly reproduced" if un_ok else "not reproduced"
    measured["verdict per data seed"] = verdicts
    verdict = next(v for v in ("not reproduced", "partly reproduced", "reproduced") if v in verdicts.values())
    un = [r for r in rows if r["lam"] == 0]
    versus = {"columns ≥ 0.5·max, no regularization (per run)": {
                  "paper": "'a large number' (no number)",
                  "ours": [f"{int((r['norms'] >= 0.5 * r['norms'].max()).sum())}/{r['d']}" for r in un]},
              "columns ≥ 0.99·max, no regularization (per run)": {
                  "paper": "Ω̃(k^c) (Thm 1, r = 1, asymptotic)",
                  "ours": [int((r["norms"] >= 0.99 * r["norms"].max()).sum()) for r in un]}}
    return Outcome(measured=measured, verdict=verdict, versus=versus,
                   setting=f"population, r = {R_TRUE}, α = {ALPHA}, {STEPS} steps, data seeds {CLAIM2_SEEDS[ctx.quick]} (seed 0: "
                           f"Fig. 1, d = k = {_d(ctx.quick)}; others d = k = {_claim1_d(ctx.quick)}), {mode(ctx.quick)} mode",
                   note="Thm 1 is for r = 1 and α ≤ c/(k³d log kd); at x = 0.99 the count is set by the top order "
                        "statistics of k Gaussians and stays small at practical k (notes-001 §4).")


FIGURES = [Figure("rajaraman2023-fig1", PAPER, "Column norms with and without group Lasso (population)",
                  fig1_specs, fig1_plot,
                  setting=("Paper: population loss, d = k = 500, r = 4, noiseless, gradient updates until convergence with "
                           "and without the group-Lasso penalty (step, λ, β and init not given). Ours: λ = 0.05, β = 0.01 "
                           "(pruning at 2√β = 0.2), η = 0.25, U₀ entries N(0, α²) with α = 10⁻³, 3,000 steps, then "
                           "fine-tuning; quick mode d = k = 100."),
                  paper_reports=("Left, the fraction of columns with norm ≥ x·(largest column norm); right, a histogram of "
                                 "the column norms. With the penalty most columns have a small norm and only a few are "
                                 "significant; without it a large number of columns have a norm comparable to the largest "
                                 "(qualitative only)."))]
CLAIMS = [claim1, claim2]
