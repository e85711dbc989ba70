"""Sensitivity of Algorithm 1 to λ, β and the init scale α in Fig. 2's setting, and claim 6: the failure
mode of notes-001 §7.4 (a penalty too strong against √β removes true directions).

Near U = 0 the smoothed penalty is weight decay: λ∇R_β(U) ≈ (2λ/√β)U for ‖Ue_i‖² ≪ β, while the
loss's gradient is −4MU with M = (1/n)Σ y_iA_i (= X⋆ in the population). A direction of M with
eigenvalue μ grows from a small init only if 4μ > 2λ/√β, i.e. λ < λ_c = 2μ√β. So from an init inside
the quadratic zone (column norms ≪ √β) the r-th direction (μ_r, the r-th eigenvalue of M) is lost when
λ > λ_c, fewer than r columns survive pruning and the error after fine-tuning stays ≥ ~μ_r². An init
with column norms ≳ √β is not in that zone, so the same λ can be safe (the init-dependence is part of
the measurement).

The grid's top value 0.32 and the non-empty condition were added after the first quick run, where
the grid ended at 0.16 < 1.5·λ_c(β = 10⁻²) and the β = 10⁻² half of the criterion tested nothing.

Grid (one operator, replicas): λ ∈ ``LAMS`` × β ∈ ``BETAS`` × α ∈ ``ALPHAS``, data seed 0, noiseless;
α = 10⁻³ gives column norms ≈ 4.5·10⁻³ (inside the zone for both β), α = 10⁻² gives ≈ 0.045 (outside for
β = 10⁻³, inside for β = 10⁻²).

Claim 6 is judged on ``CLAIM6_SEEDS`` (data drawn anew): seed 0 is the figure's grid; the others run the
α = 10⁻³ half of it (the half the criterion judges; 14 replicas).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...experiments.spec import RunSpec
from .._shared import mode, new_figure, save, summaries, suptitle
from ..base import Context, Figure, Outcome, Threshold, claim
from .common import events, settings_of
from .fig2 import ETA, R_TRUE, D, N
from .settings import PAPER, STEP_LABEL, pipeline_spec, sensing_problem
from .theory import weight_decay_lambda

LAMS = [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32]
BETAS = [1e-3, 1e-2]
ALPHAS = [1e-3, 1e-2]
SEED = 0
#: Claim 6's data seeds (seed 0: the figure's grid; the others its α = 10⁻³ half).
CLAIM6_SEEDS = [0, 1, 2, 3, 4]
#: Claim 6's margin around λ_c: λ ≤ λ_c/MARGIN must keep ≥ r columns, λ ≥ MARGIN·λ_c fewer than r.
MARGIN = 1.5


def _budget(quick: bool) -> tuple[int, int]:
    return (2000, 1000) if quick else (10_000, 5_000)


def _grid():
    return [(lam, b, a) for a in ALPHAS for b in BETAS for lam in LAMS]


def _grid_spec(quick: bool, grid, seed: int, figure: str) -> RunSpec:
    steps, ft = _budget(quick)
    return pipeline_spec(sensing_problem(D, R_TRUE, N, 0.0), k=D, lams=[x[0] for x in grid],
                         betas=[x[1] for x in grid], alphas=[x[2] for x in grid], eta=ETA, steps=steps,
                         finetune_steps=ft, data_seed=seed, figure=figure, log_points=30)


def sensitivity_specs(quick: bool) -> list[RunSpec]:
    return [_grid_spec(quick, _grid(), SEED, "rajaraman2023-sensitivity")]


def claim6_specs(quick: bool) -> list[RunSpec]:
    """Claim 6's runs: the figure's grid (data seed 0) and, per other seed of :data:`CLAIM6_SEEDS`, its
    α = 10⁻³ half."""
    half = [x for x in _grid() if x[2] == ALPHAS[0]]
    return [*sensitivity_specs(quick),
            *(_grid_spec(quick, half, seed, "rajaraman2023-claim6") for seed in CLAIM6_SEEDS if seed != SEED)]


def spectral_matrix_eigs(spec: RunSpec) -> np.ndarray:
    """The r largest eigenvalues of M = (1/n) Σ_i y_i A_i for the spec's data (the growth rates from 0)."""
    from ... import registry

    prob = registry.get("problem", spec.problem.name)(**spec.problem.params, data_seed=spec.data_seed, dtype="float64")
    M = prob.operator.adjoint(prob.y) / prob.m
    ev = torch.linalg.eigvalsh(0.5 * (M + M.T)).flip(0)[:R_TRUE]
    return ev.numpy()


def growth_rates(ctx: Context, spec: RunSpec) -> np.ndarray:
    """:func:`spectral_matrix_eigs` of a stored spec, computed once per context and its views."""
    return ctx.memo(("rajaraman2023.spectral_matrix_eigs", spec.key()), lambda: spectral_matrix_eigs(spec))


def lambda_c(mu_r: float, beta: float) -> float:
    """λ_c = 2 μ_r √β: above it the r-th direction does not grow from inside the quadratic zone."""
    return weight_decay_lambda(mu_r, beta)


def table(ctx: Context, specs=sensitivity_specs):
    """One row per replica of the grid runs (``specs``): data seed, λ, β, α, kept columns, error after
    fine-tuning."""
    import pandas as pd

    rows = []
    for spec in ctx.specs(specs):
        pr = events(ctx, spec, "prune")
        summ = summaries(ctx, [spec]).sort_values("replica")
        for i, e in sorted(pr.items()):
            s = settings_of(spec, i)
            rows.append({"seed": spec.data_seed, "lam": s["lam"], "beta": s["beta"], "alpha": s["alpha"],
                         "kept": e["width"], "error": float(summ["test_error_sq"].iloc[i])})
    return pd.DataFrame(rows)


def boundary_verdict(lam, kept, lc: float, margin: float) -> tuple[bool, bool]:
    """(full, direction) for one β on one seed: ``full`` when every λ ≤ λ_c/margin keeps ≥ r columns and every
    λ ≥ margin·λ_c keeps < r (both sets non-empty); ``direction`` when the kept count does not increase with λ
    and the largest λ keeps < r."""
    lam, kept = np.asarray(lam, float), np.asarray(kept)
    low, high = kept[lam <= lc / margin], kept[lam >= margin * lc]
    full = bool(low.size and high.size and (low >= R_TRUE).all() and (high < R_TRUE).all())
    return full, bool((np.diff(kept) <= 0).all() and kept[-1] < R_TRUE)


def sensitivity_plot(ctx: Context, out_dir: Path) -> list[Path]:
    tab = table(ctx)
    (spec,) = ctx.specs(sensitivity_specs)
    mu = growth_rates(ctx, spec)
    fig, (ax1, ax2) = new_figure(ncols=2)
    colors = {1e-3: "#0072B2", 1e-2: "#E69F00"}
    for (beta, alpha), g in tab.groupby(["beta", "alpha"]):
        ls = "-" if alpha == ALPHAS[0] else "--"
        lab = f"β={beta:g}, α={alpha:g}"
        ax1.plot(g["lam"], g["kept"], marker="o", ls=ls, color=colors[beta], label=lab)
        ax2.plot(g["lam"], np.maximum(g["error"], 1e-32), marker="o", ls=ls, color=colors[beta], label=lab)
    for beta in BETAS:
        for ax in (ax1, ax2):
            ax.axvline(lambda_c(mu[-1], beta), color=colors[beta], ls=":", lw=1,
                       label=rf"$\lambda_c = 2\mu_r\sqrt{{\beta}}$ = {lambda_c(mu[-1], beta):.3g} ($\beta$={beta:g})")
    ax1.axhline(R_TRUE, color="k", lw=0.8, label=f"r = {R_TRUE}")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda$")
        ax.grid(True, which="both", alpha=0.3)
    ax1.set_ylabel("columns kept by pruning at 2√β")
    entries = dict(zip(*reversed(ax2.get_legend_handles_labels()), strict=True))
    entries.update(zip(*reversed(ax1.get_legend_handles_labels()), strict=True))
    fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=3)
    ax2.set_yscale("log")
    ax2.set_ylabel(r"$\|UU^\top - X_\star\|_F^2$" "\nafter fine-tuning")
    steps, ft = _budget(ctx.quick)
    suptitle(fig, f"Rajaraman et al., sensitivity ({mode(ctx.quick)}): sensing d = k = {D}, r = {R_TRUE}, n = {N}, "
                  f"noiseless, seed {SEED}, η = {ETA}, {STEP_LABEL}, {steps} + {ft} steps; " rf"$\mu_r$ = {mu[-1]:.3g}")
    return save(fig, out_dir, "rajaraman2023-sensitivity")


@claim(
    id="rajaraman2023-claim6", paper=PAPER, figure="rajaraman2023-sensitivity", specs=claim6_specs,
    kind="extension", source={"section": "Thm 3, conditions (10) (§4)",
                     "quote": "for some absolute constants $c_\\beta, c_\\lambda, c_\\epsilon, c_\\gamma > 0$."},
    statement="Failure mode (notes-001 §7.4): near U = 0 the smoothed penalty acts as weight decay 2λ/√β; when it "
              "beats the growth rate 4μ_r of the weakest true direction (λ > λ_c = 2μ_r√β), a small init never "
              "recovers that direction and fewer than r columns survive. The safe range of λ is reported.",
    paper_value="not in the paper's experiments; the theory's λ = c_λσ_r⋆³/√(kr) with small c_λ is inside the safe "
                "range (2λ/√β = 2(c_λ/√c_β)σ_r⋆²/√k)",
    criterion=f"At α = 10⁻³ (columns inside the quadratic zone), on each of {len(CLAIM6_SEEDS)} data seeds and for "
              f"each β ∈ {BETAS}: every λ ≤ λ_c/{MARGIN} keeps ≥ r columns and every λ ≥ {MARGIN}·λ_c keeps < r, both "
              "sets non-empty (λ_c from the r-th eigenvalue μ_r of that seed's M = (1/n)Σy_iA_i). Per seed: reproduced "
              "when this holds for both β; partly reproduced when the kept count does not increase with λ and the "
              "largest λ keeps < r for both β but a boundary misses; not reproduced otherwise. The claim's verdict "
              "is the worst seed's. The α = 10⁻² rows (seed 0) and the safe range (λ with exactly r kept) are "
              "reported.",
    criterion_revised="before: the same test on data seed 0 alone / after: on 5 data seeds (the others run the "
                      "α = 10⁻³ half of the grid), the worst seed's verdict. Why: a verdict must not rest on one "
                      "draw of the data.",
    thresholds={"margin": Threshold(MARGIN, low=1.2, high=2.0, reason="how far from λ_c the boundary is judged: "
                                    "λ_c is a linearization at U = 0, so a margin of 20–100 % around it")},
)
def claim6(ctx: Context) -> Outcome:
    tab = table(ctx, claim6_specs)
    measured: dict = {}
    verdicts: dict[int, str] = {}
    lc0 = None
    for spec in ctx.specs(claim6_specs):
        seed = spec.data_seed
        mu = growth_rates(ctx, spec)
        measured[f"seed {seed}: mu (top r eigenvalues of M)"] = [float(x) for x in mu]
        full, direction = True, True
        for beta in BETAS:
            lc = lambda_c(mu[-1], beta)
            if seed == SEED and beta == 1e-3:
                lc0 = lc
            measured[f"seed {seed}: lambda_c at beta={beta:g}"] = lc
            for alpha in ALPHAS:
                g = tab[(tab["seed"] == seed) & (tab["beta"] == beta) & (tab["alpha"] == alpha)].sort_values("lam")
                if g.empty:
                    continue
                key = f"seed {seed}, beta={beta:g}, alpha={alpha:g}"
                measured[f"{key}: kept per lambda {LAMS}"] = [int(x) for x in g["kept"]]
                measured[f"{key}: error after fine-tune per lambda"] = [float(x) for x in g["error"]]
                measured[f"{key}: safe lambdas (exactly r kept)"] = [float(x) for x, kk in zip(g["lam"], g["kept"],
                                                                                               strict=True) if kk == R_TRUE]
                if alpha != ALPHAS[0]:
                    continue
                f, d = boundary_verdict(g["lam"], g["kept"], lc, ctx.threshold("margin"))
                full &= f
                direction &= d
        verdicts[seed] = "reproduced" if full else "partly reproduced" if direction else "not reproduced"
    measured["verdict per data seed"] = verdicts
    verdict = next(v for v in ("not reproduced", "partly reproduced", "reproduced") if v in verdicts.values())
    return Outcome(measured=measured, verdict=verdict,
                   setting=f"d = k = {D}, r = {R_TRUE}, n = {N}, noiseless, data seeds {CLAIM6_SEEDS} (α = 10⁻² on seed "
                           f"{SEED} only), λ ∈ {LAMS}, β ∈ {BETAS}, α ∈ {ALPHAS}, {mode(ctx.quick)} mode",
                   versus={"λ_c (β = 1e-3, seed 0)": {"paper": "not given", "ours": lc0}} if lc0 is not None else {},
                   note="The safe range is init-dependent: an init with column norms above √β is outside the weight-"
                        "decay zone, so λ above λ_c can still keep r columns (the α = 10⁻² rows at β = 10⁻³).")


FIGURES = [Figure("rajaraman2023-sensitivity", PAPER, "Sensitivity to λ, β, α and the failure mode",
                  sensitivity_specs, sensitivity_plot,
                  setting=("Not a figure of the paper: Fig. 2's setting (d = k = 20, r = 3, n = 100, data seed 0, "
                           "noiseless) over the grid λ ∈ {0.005, …, 0.32} × β ∈ {10⁻³, 10⁻²} × init scale α ∈ {10⁻³, 10⁻²}, "
                           "run as replicas of one operator."),
                  paper_reports=("No sensitivity study in the paper. Its theory (notes-001 §7.4) implies that a penalty too "
                                 "strong against √β — λ above λ_c = 2μ_r√β, from an init inside the weight-decay zone — "
                                 "removes true directions, so that fewer than r columns survive pruning."))]
CLAIMS = [claim6]
