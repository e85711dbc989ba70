"""Fig. 2 (finite sample, d = k = 20, r = 3, n = 100, noiseless): ‖U_tU_tᵀ − U⋆U⋆ᵀ‖_F² against the
iteration for vanilla GD and for Algorithm 1 (group-Lasso training → prune at 2√β → fine-tune), with the
noisy variant σ = 0.1; claims 3 (error floor ≥ 10× lower), 4 (noisy floor ratio against k/r) and 5
(linear convergence of fine-tuning).

Choices (the caption gives d, k, r, n, "no added label noise" and "λ tuned minimally"):

* λ = ``LAM`` = 0.02, β = ``BETA`` = 10⁻³ (threshold 2√β ≈ 0.063). With σ_r⋆² ≈ 0.35–0.5 (seeds 0–2)
  these are c_β = βr/σ_r⋆² ≈ 0.006–0.009 and c_λ = λ√(kr)/σ_r⋆³ ≈ 0.4–0.75; the values notes-001 §5
  verified (λ ∈ {0.02, 0.05}, β = 10⁻³) and λ below the small-init safe bound 2σ_r⋆²√β ≈ 0.022–0.032
  of every seed's truth (claim 6).
* U₀ entries N(0, α²), α = 10⁻² (column norms ≈ 0.045 > √β: outside the weight-decay zone), the same
  draw for both runs; η = 0.4 in the analysis convention (0.1 on the exact gradient; the empirical
  Hessian's λ_max ≈ 10.6 at the solution, so 0.1 is about half the stability limit) for training and
  fine-tuning alike.
* Vanilla GD is the λ = 0 replica of the same spec (same data, init, step and total budget; its
  "pruning" threshold 10⁻¹² keeps every column), so λ is the only difference.
* Budget: ``STEPS`` training + ``FINETUNE`` fine-tuning steps: 10⁴ + 10⁴ (full), 2,000 + 2,000 (quick).
* 10 data seeds (truth, A_i and noise resampled); claim 4's k sweep (k ∈ {5, 10}) uses the first
  ``K_SWEEP_SEEDS``.
* Claim 4's second regime, n ≥ 5kd (the sample size at which the [23] bound's RIP at rank ≈ k is
  plausible): ``wide_sizes`` — full d = 20, r = 3, n = 2,000 = 5·20·20, k ∈ {3, 5, 10, 20}; quick
  d = 10, r = 2, n = 500 = 5·10·10, k ∈ {2, 5, 10} (one such run at d = 20 costs 1–2.5 min here);
  k = r is the exactly parameterized end; σ = 0.1, the same λ, β, α, η, 4,000 + 4,000 steps (quick
  2,000 + 2,000), data seeds 0–2. "Run to convergence" is checked: the vanilla floor may move by at
  most ``CONVERGED`` (relative) over the last quarter of the budget.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ... import figstyle
from ...experiments.spec import RunSpec
from .._shared import fit_line, log_bands, mode, new_figure, replica_traces, save, suptitle, title
from ..base import Context, Figure, Outcome, Threshold, claim
from .common import events
from .settings import PAPER, STEP_LABEL, pipeline_spec, sensing_problem

D, K, R_TRUE, N = 20, 20, 3, 100
LAM = 0.02
BETA = 1e-3
ALPHA = 1e-2
ETA = 0.4
NOISE = 0.1
SEEDS = list(range(10))
K_SWEEP = [5, 10, 20]
K_SWEEP_SEEDS = 5
LANCZOS = 80
#: Claim 5: points of the fine-tuning curve above this error are fitted (float64 round-off is ~1e-30).
FIT_FLOOR = 1e-24
#: Claim 4, n ≥ 5kd regime: data seeds; the vanilla floor's growth from k = r to the largest k that counts
#: as the direction of the [23] bound; the relative move over the last quarter allowed at convergence.
WIDE_SEEDS = [0, 1, 2]
GROWTH = 1.25
CONVERGED = 0.02


def wide_sizes(quick: bool) -> dict:
    """Claim 4's n ≥ 5kd regime: d, r, n, the k sweep (k = r first) and the training (= fine-tuning) steps."""
    if quick:
        return {"d": 10, "r": 2, "n": 500, "ks": [2, 5, 10], "steps": 2000}
    return {"d": 20, "r": 3, "n": 2000, "ks": [3, 5, 10, 20], "steps": 4000}


def _budget(quick: bool) -> tuple[int, int]:
    return (2000, 2000) if quick else (10_000, 10_000)


def _spec(quick: bool, seed: int, noise: float, k: int = K) -> RunSpec:
    steps, ft = _budget(quick)
    return pipeline_spec(sensing_problem(D, R_TRUE, N, noise), k=k, lams=[0.0, LAM], betas=BETA, alphas=ALPHA,
                         eta=ETA, steps=steps, finetune_steps=ft, data_seed=seed, lanczos_steps=LANCZOS,
                         figure="rajaraman2023-fig2", log_points=150)


def fig2_specs(quick: bool) -> list[RunSpec]:
    return [_spec(quick, s, noise) for noise in (0.0, NOISE) for s in SEEDS]


def k_sweep_specs(quick: bool) -> list[RunSpec]:
    return [_spec(quick, s, NOISE, k) for k in K_SWEEP if k != K for s in SEEDS[:K_SWEEP_SEEDS]]


def wide_specs(quick: bool) -> list[RunSpec]:
    """Claim 4's n ≥ 5kd runs: σ = 0.1, one spec per (k, data seed), vanilla and Algorithm 1 as replicas."""
    w = wide_sizes(quick)
    return [pipeline_spec(sensing_problem(w["d"], w["r"], w["n"], NOISE), k=k, lams=[0.0, LAM], betas=BETA,
                          alphas=ALPHA, eta=ETA, steps=w["steps"], finetune_steps=w["steps"], data_seed=seed,
                          lanczos_steps=LANCZOS, figure="rajaraman2023-claim4", log_points=80)
            for k in w["ks"] for seed in WIDE_SEEDS]


def noiseless_specs(ctx: Context) -> list[RunSpec]:
    return [s for s in ctx.specs(fig2_specs) if s.problem.params["noise"] == 0]


def _pair(ctx: Context, spec: RunSpec):
    """(vanilla rows, pruned rows) of one stored Fig. 2 run (replica 0 is λ = 0, replica 1 is λ = LAM)."""
    reps = replica_traces(ctx, spec)
    return reps[0][1], reps[1][1]


def floors(ctx: Context, specs: list[RunSpec], *, train_loss: bool = False) -> list[dict]:
    """Per run: the final ‖UUᵀ − X⋆‖_F² of vanilla GD and of Algorithm 1, vanilla's best along its path and
    its value three quarters into the budget (``vanilla_3q``), the kept columns; with ``train_loss`` also
    vanilla's final training loss (1/n)Σ(⟨A_i, UUᵀ⟩ − y_i)², recomputed from the stored U."""
    out = []
    for spec in specs:
        van, pru = _pair(ctx, spec)
        pr = events(ctx, spec, "prune")[1]
        T = float(van["step"].iloc[-1])
        row = {"seed": spec.data_seed, "k": spec.param.params.get("k"),
               "vanilla": float(van["test_error_sq"].iloc[-1]), "pruned": float(pru["test_error_sq"].iloc[-1]),
               "vanilla_best": float(van["test_error_sq"].min()), "kept": pr["width"], "prune_step": pr["step"],
               "vanilla_3q": float(van[van["step"] <= 0.75 * T]["test_error_sq"].iloc[-1])}
        if train_loss:
            row["vanilla_loss"] = final_train_loss(ctx, spec, 0)
        out.append(row)
    return out


def final_train_loss(ctx: Context, spec: RunSpec, replica: int) -> float:
    """The training loss (eq. 1, normalization 1/n) of a stored run's final U of one replica (computed
    once per context and its views: the problem is rebuilt and its operator drawn only then)."""
    return ctx.memo(("rajaraman2023.final_train_loss", spec.key(), replica),
                    lambda: _final_train_loss(ctx, spec, replica))


def _final_train_loss(ctx: Context, spec: RunSpec, replica: int) -> float:
    import torch

    from ... import registry

    theta = ctx.store.load(spec.key()).theta()
    U = torch.as_tensor((theta[replica] if isinstance(theta, list) else {"U": theta["U"][replica]})["U"])
    prob = registry.get("problem", spec.problem.name)(**spec.problem.params, data_seed=spec.data_seed,
                                                       dtype="float64")
    return float(prob.value((U @ U.T)[None]).reshape(-1)[0])


def fig2_plot(ctx: Context, out_dir: Path) -> list[Path]:
    specs = ctx.specs(fig2_specs)
    steps, ft = _budget(ctx.quick)
    fig, axes = new_figure(ncols=2)
    for ax, noise in zip(axes, (0.0, NOISE), strict=True):
        group = [s for s in specs if s.problem.params["noise"] == noise]
        pairs = [_pair(ctx, s) for s in group]
        for j, (label, color) in enumerate((("vanilla GD (λ = 0, k = 20 columns)", figstyle.PALETTE[1]),
                                            (f"Algorithm 1: λ = {LAM}, β = {BETA},\nprune at 2√β, fine-tune",
                                             figstyle.PALETTE[0]))):
            runs = [p[j] for p in pairs]
            x, mid, lo, hi = log_bands(runs, "test_error_sq", floor=1e-32)
            ax.plot(x, mid, color=color, ls=figstyle.linestyle(j), label=label)
            ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)
        ax.axvline(steps, color="k", ls=":", label=f"pruning (step {steps})")
        ax.set_yscale("log")
        ax.set_xlabel("iteration $t$")
        ax.set_ylabel(r"$\|U_tU_t^\top - U_\star U_\star^\top\|_F^2$")
        title(ax, f"σ = {noise:g}" + (" (noiseless, as in the paper)" if noise == 0 else " (our noisy variant)"))
        ax.legend(title=figstyle.wrap(f"{figstyle.SEED_BAND_LABEL} ({len(group)} data seeds)", 30))
        ax.grid(True, which="both", alpha=0.3)
    suptitle(fig, f"Rajaraman et al. Fig. 2 ({mode(ctx.quick)}): sensing d = k = {D}, r = {R_TRUE}, n = {N}, "
                  f"U₀ ~ N(0, {ALPHA:g}²), η = {ETA}, {STEP_LABEL}, {steps} + {ft} steps")
    return save(fig, out_dir, "rajaraman2023-fig2")


def _setting(ctx: Context, noise: float) -> str:
    steps, ft = _budget(ctx.quick)
    return (f"d = k = {D}, r = {R_TRUE}, n = {N}, σ = {noise:g}, λ = {LAM}, β = {BETA}, α = {ALPHA}, η = {ETA} "
            f"(grad_scale ¼), {steps} + {ft} steps, {len(SEEDS)} data seeds, {mode(ctx.quick)} mode")


@claim(
    id="rajaraman2023-claim3", paper=PAPER, figure="rajaraman2023-fig2", specs=fig2_specs,
    kind="experiment", source={"section": "Fig. 2 caption",
                     "quote": "A sharp improvement in the generalization error is observed after pruning is carried out and the"
                     " error floor is observed to be an order of magnitude better for the pruned + fine-tuned "
                     "solution."},
    statement="In Fig. 2's setting (noiseless) the pruned and fine-tuned model's error floor is an order of "
              "magnitude below vanilla GD's.",
    paper_value="'an order of magnitude better' (Fig. 2 caption; ≥ 10×)",
    criterion="Per data seed, ratio = vanilla's ‖UUᵀ − X⋆‖_F² / Algorithm 1's, both at the end of the same total "
              "budget. Reproduced when the ratio is ≥ 10 for every seed; partly reproduced when the median ratio is "
              "≥ 10; not reproduced otherwise.",
    thresholds={"factor": Threshold(10, low=5, high=20, reason="'an order of magnitude better': from half to twice a "
                                    "factor 10")},
)
def claim3(ctx: Context) -> Outcome:
    fl = floors(ctx, noiseless_specs(ctx))
    ratios = np.array([f["vanilla"] / max(f["pruned"], 1e-300) for f in fl])
    factor = ctx.threshold("factor")
    verdict = ("reproduced" if (ratios >= factor).all() else "partly reproduced" if np.median(ratios) >= factor
               else "not reproduced")
    measured = {"vanilla floor per seed": [f["vanilla"] for f in fl],
                "pruned + fine-tuned floor per seed": [f["pruned"] for f in fl],
                "ratio per seed": [float(r) for r in ratios], "smallest ratio": float(ratios.min()),
                "vanilla best along its path (oracle early stop), per seed": [f["vanilla_best"] for f in fl]}
    versus = {"floor ratio vanilla / pruned": {"paper": "≈ 10 ('an order of magnitude')",
                                               "ours": f"min {ratios.min():.3g}, median {np.median(ratios):.3g}"}}
    return Outcome(measured=measured, verdict=verdict, versus=versus, setting=_setting(ctx, 0.0),
                   note="Noiseless, fine-tuning reaches float64 round-off, so the ratio is bounded by round-off, not "
                        "by the method; vanilla GD's floor is set by its small initialization (≈ α-level bias).")


def wide_verdict(floor_by_k: dict[int, float], floor_3q_by_k: dict[int, float], *, growth: float,
                 converged: float) -> str:
    """Claim 4 on one seed of the n ≥ 5kd regime (``floor_by_k``: vanilla's final ‖UUᵀ − X⋆‖_F² per k, the
    smallest k being r; ``floor_3q_by_k``: the same three quarters into the budget). ``inconclusive`` when
    some floor still moves by more than ``converged`` (relative) over the last quarter; else ``reproduced``
    when the floor at the largest k is ≥ ``growth`` × the floor at k = r, ``partly reproduced`` when it is
    larger but by less, ``not reproduced`` when it is not larger."""
    if any(abs(floor_by_k[k] - floor_3q_by_k[k]) > converged * floor_by_k[k] for k in floor_by_k):
        return "inconclusive"
    ks = sorted(floor_by_k)
    up = floor_by_k[ks[-1]] / floor_by_k[ks[0]]
    return "reproduced" if up >= growth else "partly reproduced" if up > 1 else "not reproduced"


def _gm(x) -> float:
    return float(np.exp(np.mean(np.log(np.asarray(x, dtype=float)))))


@claim(
    id="rajaraman2023-claim4", paper=PAPER, figure="rajaraman2023-fig2",
    specs=lambda q: [*fig2_specs(q), *k_sweep_specs(q), *wide_specs(q)],
    kind="extension", source={"section": "§5.1 (after Thm 5)",
                     "quote": "Theorem 5 shows that in the fine-tuning phase, the iterates of gradient descent converges at a "
                     "linear rate to the generalization error floor of $\\sigma/(\\sigma_r^{\\star})^2 \\cdot \\sqrt{rd/n}$"
                     " … [23] presented a guarantee for the convergence of factored gradient descent from a warm start "
                     "in the overparameterized setting. In comparison with the exactly specified case, the … "
                     "generalization error floor $\\lim_{t \\rightarrow \\infty} \\|U_t U_t^T - U_\\star U_\\star^T\\|_F$ "
                     "is shown to scale as $O(\\sigma/(\\sigma_r^\\star)^2 \\cdot \\sqrt{kd/n})"},
    statement="(Ours: §5.1 sets Thm 5's floor O(σ/σ_r⋆² · √(rd/n)) beside one cited from [23], O(σ/σ_r⋆² · √(kd/n)), "
              "both upper bounds; it predicts no ratio.) With label noise, over-parameterized GD's error floor grows "
              "with k where the [23] bound's assumptions can hold (n ≥ 5kd, run to convergence), while the pruned "
              "and fine-tuned model's does not. Fig. 2's n = 100 < kd lies outside those assumptions: reported.",
    paper_value="no ratio: two O(·) upper bounds, Thm 5's ∝ √(rd/n) and [23]'s ∝ √(kd/n) (squared errors: σ²rd/n and "
                "σ²kd/n up to constants); [23] assumes a warm start, t → ∞ and RIP at rank ≈ k (n ≳ kd)",
    criterion=f"σ = {NOISE}. Judged in the n ≥ 5kd regime (full: d = 20, r = 3, n = 2,000, k ∈ {{3, 5, 10, 20}}; "
              f"quick: d = 10, r = 2, n = 500, k ∈ {{2, 5, 10}}; data seeds {WIDE_SEEDS}), per seed: vanilla GD's "
              f"final ‖UUᵀ − X⋆‖_F² at the largest k over that at k = r. Reproduced (the direction of the [23]-style "
              f"bound) when it is ≥ {GROWTH} on every seed; partly reproduced when it is > 1 but below {GROWTH} on some "
              "seed; not reproduced when on some seed it is ≤ 1; inconclusive when a vanilla floor still moves by "
              f"more than {CONVERGED:.0%} over the last quarter of its budget. Reported, not judged: the ratio "
              "vanilla / Algorithm 1 per k and its log–log slope against k/r in both regimes, and in Fig. 2's regime "
              "(d = 20, r = 3, n = 100 < kd, k ∈ {5, 10, 20}) vanilla's training loss against σ² (interpolation).",
    criterion_revised="before: a paper claim that the floor ratio grows like k/r at Fig. 2's n = 100 (reproduced when "
                      "the ratio at k = 20 is within 2× of k/r and the slope against k/r in [0.5, 1.5]) / after: an "
                      "extension judged where [23]'s assumptions can hold (n ≥ 5kd, converged): the direction only, the "
                      "vanilla floor growing from k = r to the largest k; the n = 100 regime reported. Why: §5.1 sets "
                      "two O(·) upper bounds side by side and predicts no ratio, and [23]'s bound assumes n ≳ kd, "
                      "which n = 100 < kd violates (there the k ≥ 10 models interpolate and the ratio is flat).",
    thresholds={"growth": Threshold(GROWTH, low=1.1, high=1.5, reason="the direction of a bound ∝ k without "
                                    "constants: a 10–50 % rise from k = r to the largest k, beyond seed noise"),
                "converged": Threshold(CONVERGED, low=0.01, high=0.05, reason="'t → ∞': the floor moving by at most "
                                       "1–5 % over the last quarter of the budget")},
)
def claim4(ctx: Context) -> Outcome:
    measured: dict = {}
    # Fig. 2's regime, n = 100 < kd: reported.
    narrow = floors(ctx, [s for s in ctx.specs(fig2_specs) if s.problem.params["noise"] > 0]
                    + ctx.specs(k_sweep_specs), train_loss=True)
    gm_n = {}
    for k in K_SWEEP:
        rows = [f for f in narrow if f["k"] == k]
        if not rows:
            continue
        rat = [f["vanilla"] / f["pruned"] for f in rows]
        gm_n[k] = _gm(rat)
        measured[f"n=100: k={k} (kd = {k * D}): ratio vanilla/pruned, geometric mean over seeds"] = gm_n[k]
        measured[f"n=100: k={k}: vanilla floor per seed"] = [f["vanilla"] for f in rows]
        measured[f"n=100: k={k}: vanilla training loss / σ² per seed"] = [f["vanilla_loss"] / NOISE**2 for f in rows]
        measured[f"n=100: k={k}: kept columns per seed"] = [f["kept"] for f in rows]
    if len(gm_n) >= 2:
        measured["n=100: log-log slope of the ratio against k/r"] = fit_line(np.log(np.array(list(gm_n)) / R_TRUE),
                                                                           np.log(list(gm_n.values())))[0]
    # the n ≥ 5kd regime: judged.
    w = wide_sizes(ctx.quick)
    wide = floors(ctx, ctx.specs(wide_specs), train_loss=True)
    if not wide:
        raise ValueError("no run of the n ≥ 5kd regime on this data seed")
    gm_w, verdicts = {}, []
    for k in w["ks"]:
        rows = [f for f in wide if f["k"] == k]
        gm_w[k] = _gm([f["vanilla"] / f["pruned"] for f in rows])
        measured[f"n={w['n']}: k={k} (5kd = {5 * k * w['d']}): ratio vanilla/pruned, geometric mean"] = gm_w[k]
        measured[f"n={w['n']}: k={k}: vanilla floor per seed"] = [f["vanilla"] for f in rows]
        measured[f"n={w['n']}: k={k}: pruned floor per seed"] = [f["pruned"] for f in rows]
        measured[f"n={w['n']}: k={k}: vanilla training loss / σ² per seed"] = [f["vanilla_loss"] / NOISE**2
                                                                                for f in rows]
        measured[f"n={w['n']}: k={k}: kept columns per seed"] = [f["kept"] for f in rows]
    ups = []
    for seed in sorted({f["seed"] for f in wide}):
        mine = {f["k"]: f for f in wide if f["seed"] == seed}
        ups.append(mine[w["ks"][-1]]["vanilla"] / mine[w["ks"][0]]["vanilla"])
        verdicts.append(wide_verdict({k: f["vanilla"] for k, f in mine.items()},
                                     {k: f["vanilla_3q"] for k, f in mine.items()},
                                     growth=ctx.threshold("growth"), converged=ctx.threshold("converged")))
    measured[f"n={w['n']}: vanilla floor at k={w['ks'][-1]} / at k=r, per seed"] = ups
    measured[f"n={w['n']}: largest move of a vanilla floor over the last quarter (relative)"] = max(
        abs(f["vanilla"] - f["vanilla_3q"]) / f["vanilla"] for f in wide)
    measured[f"n={w['n']}: log-log slope of the ratio against k/r"] = fit_line(
        np.log(np.array(w["ks"]) / w["r"]), np.log(list(gm_w.values())))[0]
    measured["verdict per seed (n ≥ 5kd)"] = verdicts
    verdict = next(v for v in ("not reproduced", "inconclusive", "partly reproduced", "reproduced") if v in verdicts)
    kmax = w["ks"][-1]
    versus = {f"n ≥ 5kd: floor ratio vanilla/pruned at k = {kmax}": {
                  "paper": f"no ratio ([23]'s bound over Thm 5's: k/r = {kmax / w['r']:.3g}, constants unknown)",
                  "ours": gm_w[kmax]},
              f"n ≥ 5kd: vanilla floor at k = {kmax} / at k = r": {"paper": "grows with k ([23]: ∝ k, an upper bound)",
                                                                   "ours": f"min {min(ups):.3g}, max {max(ups):.3g}"}}
    if K in gm_n:
        versus[f"n = 100 < kd: floor ratio at k = {K}"] = {"paper": "outside [23]'s assumptions", "ours": gm_n[K]}
    steps, ft = _budget(ctx.quick)
    return Outcome(measured=measured, verdict=verdict, versus=versus,
                   setting=f"σ = {NOISE}, λ = {LAM}, β = {BETA}, α = {ALPHA}, η = {ETA} (grad_scale ¼); n ≥ 5kd: d = "
                           f"{w['d']}, r = {w['r']}, n = {w['n']}, k ∈ {w['ks']}, {w['steps']} + {w['steps']} steps, data "
                           f"seeds {WIDE_SEEDS}; n = 100: d = {D}, r = {R_TRUE}, k ∈ {K_SWEEP}, {steps} + {ft} steps, "
                           f"{K_SWEEP_SEEDS} seeds for k < {K}, {len(SEEDS)} for k = {K}; {mode(ctx.quick)} mode",
                   decisive=f"n ≥ 5kd: vanilla floor at k = {kmax} / at k = r",
                   note="The floors are read at the end of the budget. A training loss far below σ² means the model "
                        "fits the noise (interpolates), outside [23]'s regime. The two bounds carry no constants, so "
                        "the level of the ratio against k/r is reported, not judged.")


@claim(
    id="rajaraman2023-claim5", paper=PAPER, figure="rajaraman2023-fig2", specs=fig2_specs,
    kind="theorem", source={"section": "Thm 5 (§5.1)",
                     "quote": "Theorem 5 shows that in the fine-tuning phase, the iterates of gradient descent converges at a "
                     "linear rate … Furthermore, linear convergence can no longer be established because of the "
                     "ill-conditioning of the objective."},
    statement="Fine-tuning the pruned (exactly parameterized) model converges linearly (Thm 5, via Chen & "
              "Wainwright), while unpruned over-parameterized GD does not.",
    paper_value="linear convergence, m_fine-tune = C(σ₁⋆/σ_r⋆)¹⁰ log(·) iterations (no rate given)",
    criterion="Noiseless Fig. 2 runs, per seed: least-squares fit of log10 ‖UUᵀ − X⋆‖_F² against the step over the "
              f"fine-tuning stage (points above {FIT_FLOOR:g}); vanilla GD fitted over the same steps. Reproduced "
              "when every seed's fine-tuning fit has R² ≥ 0.9 and a slope ≥ 10× steeper than vanilla's; partly "
              "reproduced when ≥ 80 % of the seeds do; not reproduced otherwise. The SOSP certificate at the "
              "pruning step (‖∇f‖_F, λ_min by Lanczos, ‖U‖_op) is reported, not judged.",
    thresholds={"floor": Threshold(FIT_FLOOR, low=1e-26, high=1e-20, reason="points above float64 round-off of "
                                   "‖UUᵀ − X⋆‖_F² (≈ 1e-30), up to ten decades above it"),
                "R2": Threshold(0.9, low=0.8, high=0.95, reason="'linear': a straight log-error line up to the "
                                "curvature of the first fine-tuning steps"),
                "steeper": Threshold(10, low=5, high=20, reason="'does not converge linearly' against 'does': "
                                     "half to twice an order of magnitude in rate"),
                "share": Threshold(0.8, low=0.7, high=0.9, reason="'partly': most seeds, from 7 to 9 in 10")},
)
def claim5(ctx: Context) -> Outcome:
    measured: dict = {"seed": [], "fine-tune rate per step": [], "fine-tune R2": [], "vanilla rate per step": [],
                      "slope ratio": []}
    certs = {"grad_norm": [], "lambda_min": [], "op_norm": []}
    ok = []
    for spec in noiseless_specs(ctx):
        van, pru = _pair(ctx, spec)
        p_step = events(ctx, spec, "prune")[1]["step"]
        ftr = pru[(pru["stage"] == 1) & (pru["test_error_sq"] > ctx.threshold("floor"))]
        if len(ftr) < 3:
            ok.append(False)
            continue
        a, _, r2 = fit_line(ftr["step"], np.log10(ftr["test_error_sq"]))
        end = float(ftr["step"].iloc[-1])
        vw = van[(van["step"] >= p_step) & (van["step"] <= max(end, p_step + 1))]
        av = fit_line(vw["step"], np.log10(vw["test_error_sq"]))[0] if len(vw) >= 2 else 0.0
        ratio = abs(a) / max(abs(av), 1e-300) if av < 0 else math.inf
        ok.append(bool(r2 >= ctx.threshold("R2") and a < 0 and ratio >= ctx.threshold("steeper")))
        measured["seed"].append(spec.data_seed)
        measured["fine-tune rate per step"].append(float(10**a))
        measured["fine-tune R2"].append(r2)
        measured["vanilla rate per step"].append(float(10**av))
        measured["slope ratio"].append(ratio)
        cert = events(ctx, spec, "sosp")[1]
        for key in certs:
            certs[key].append(cert.get(key))
    for key, v in certs.items():
        measured[f"SOSP certificate at pruning: {key} per seed"] = v
    share = float(np.mean(ok))
    verdict = ("reproduced" if share == 1 else "partly reproduced" if share >= ctx.threshold("share")
               else "not reproduced")
    versus = {"fine-tuning convergence": {"paper": "linear (rate not given)",
                                         "ours": f"rate per step median {np.median(measured['fine-tune rate per step']):.4g}"
                                         if measured["seed"] else "no fit"}}
    return Outcome(measured={**measured, "share of seeds passing": share}, verdict=verdict, versus=versus,
                   setting=_setting(ctx, 0.0),
                   note="A rate per step of 1 − ε means the error falls by 1 − ε per step; vanilla GD's rate ≈ 1 "
                        "means it has stalled at its floor. Thm 4's SOSP tolerances are not met by a fixed budget "
                        "(see the certificates); the pruning still finds r columns (claim 1).")


FIGURES = [Figure("rajaraman2023-fig2", PAPER, "Vanilla GD against prune + fine-tune (finite sample)",
                  fig2_specs, fig2_plot,
                  setting=("Paper: finite sample, d = k = 20, r = 3, n = 100 Gaussian measurements, no label noise; vanilla "
                           "GD against group-Lasso training → pruning on the column norms → GD fine-tuning, λ 'tuned "
                           "minimally'. Ours: λ = 0.02, β = 10⁻³, α = 10⁻², η = 0.1 on the exact gradient, 10⁴ + 10⁴ steps "
                           "(quick 2,000 + 2,000), 10 data seeds; also a noisy variant (σ = 0.1) and k ∈ {5, 10}."),
                  paper_reports=("The generalization error ‖U_tU_tᵀ − U⋆U⋆ᵀ‖_F² against the iteration: a sharp improvement "
                                 "right after pruning, and an error floor an order of magnitude lower for the pruned and "
                                 "fine-tuned solution than for vanilla GD."))]
CLAIMS = [claim3, claim4, claim5]
