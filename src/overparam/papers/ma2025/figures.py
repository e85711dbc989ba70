"""Ma–Liang–Fattahi Figs. 2, 4, 5, 6 and the radius sweep, with claims 1–5.

* Fig. 2 — over-parameterized symmetric sensing: the same perturbed GD (+ plain GD) with Jin et al.'s
  large radius (PGD, :data:`PGD_RADIUS`) and with IPGD's 1e-15, at search rank r' = r = 3 and r' = 5.
  The paper's PGD was "initialized at random"; we start both from zero so that the radius is the one
  thing that changes (a control); random init is a second cause of the failure (notes §5, Fig. 2).
* Fig. 4 — IPGD+ from zero on the six low-rank problems: dist(x_t, 𝒳_M), ‖r_t‖ and Γ_t.
* Fig. 5 — the same on sparse recovery (u⊙u − v⊙v, and u⊙v of the paper's Example 2).
* Fig. 6 — log(‖r_T‖/‖r₀‖) against Γ_T over every instance × seed of Figs. 4–5 and the radius sweep.
* ``ma2025-radius`` — symmetric sensing with radius 1e-6 … 1e-16: iterations against log(1/r) (claim 4).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ... import figstyle
from ...experiments.spec import RunSpec
from .._shared import colors, fit_line, mode, new_figure, save, suptitle, title
from ..base import Context, Figure, Outcome, Threshold, claim
from .analysis import agreeing_digits, floor_rate, kept_path, numerical_rank, summarize
from .settings import (
    ESCAPE_TIME,
    F_THRES,
    FIG4_SIZES,
    G_THRES,
    METRICS,
    PAPER,
    PLAIN_STEPS,
    QUICK_PLAIN_STEPS,
    RADIUS,
    ipgd_plus_spec,
    low_rank,
    sensing_instance,
    sparse,
)

#: Jin et al.'s radius scale ε/ℓ with ε ≈ 0.025 and ℓ ≈ 2.5 (σ₁ = 1 under the 1/(4m) loss): 1e-2.
#: Jin's own formula adds a 1/χ² ≈ 1e-4 factor and gives ~1e-7, below which no failure shows
#: (notes §5, Fig. 2); 1e-2 is the "large radius" of the paper's critique (r ≍ ε/ℓ).
PGD_RADIUS = 1e-2
RADII = [1e-6, 1e-8, 1e-10, 1e-12, 1e-14, 1e-16]
#: Claim 1: numerical rank counts σ_i(UUᵀ) > RANK_TOL; success means ‖UUᵀ − X⋆‖_F ≤ SUCCESS_ERR.
RANK_TOL = 1e-6
SUCCESS_ERR = 1e-6
#: Claim 4: iterations = first step with ‖UUᵀ − X⋆‖_F ≤ ITER_ERR.
ITER_ERR = 1e-3
#: Claim 2/3: instances whose final residual is at the round-off floor (‖r_T‖ ≤ FLOOR) are excluded
#: from Eq. 127 and Fig. 6 (γ is computed on numerical noise there, notes pitfall 6); for claim 2 both
#: numbers agree when |dist − ‖r‖| ≤ FLOOR.
FLOOR = 1e-12
SCALAR = tuple(m for m in METRICS if m != "singular_values")
#: Fig. 2 needs no deviation rates (the costly diagnostic stays off).
FIG2_METRICS = ("loss", "ma2025_error", "ma2025_residual", "singular_values")


def _label(quick: bool) -> str:
    t_gd = QUICK_PLAIN_STEPS if quick else PLAIN_STEPS
    return (f"IPGD+ from 0: r={RADIUS:g}, g_thres={G_THRES:g}, T={ESCAPE_TIME}, f_thres={F_THRES:g}, "
            f"T_GD={t_gd}, exact-gradient steps, {mode(quick)}")


def _fig_label(quick: bool) -> str:
    """:func:`_label` for a figure (mathtext)."""
    t_gd = QUICK_PLAIN_STEPS if quick else PLAIN_STEPS
    return (rf"IPGD+ from 0: radius {RADIUS:g}, $g_\mathrm{{thres}}$ = {G_THRES:g}, $\mathcal{{T}}$ = {ESCAPE_TIME}, "
            rf"$f_\mathrm{{thres}}$ = {F_THRES:g}, $T_\mathrm{{GD}}$ = {t_gd}, exact-gradient steps")


# -- specs ------------------------------------------------------------------------------------------------


def fig2_search_ranks(quick: bool) -> tuple[int, ...]:
    """Fig. 2's search ranks: r' = r = 3 (the control), the paper's "slight over-parameterization"
    r' = r + 1 and r + 2, and the full r' = d."""
    return (3, 4, 5, sensing_instance(quick).param["k"])


def fig2_specs(quick: bool, data_seed: int = 0) -> list[RunSpec]:
    """Per search rank two arms on one instance (operator and X⋆ of ``data_seed``), 2 perturbation
    seeds each, both from U₀ = 0 and followed by T_GD plain GD steps: IPGD (radius :data:`RADIUS`,
    Algorithm 1 with its termination) and PGD (radius :data:`PGD_RADIUS`, Jin et al.'s Algorithm 1 as
    the paper describes it in §1.2: a perturbation whenever ‖∇f‖ ≤ g_thres and none happened in the
    last T steps, for the whole stage budget, no early return)."""
    inst = sensing_instance(quick)
    out = []
    for k in fig2_search_ranks(quick):
        i = type(inst)(inst.key, inst.label, inst.problem, {"name": "symmetric", "k": k}, inst.eta)
        for arm, radius in (("IPGD", RADIUS), ("PGD", PGD_RADIUS)):
            out.append(ipgd_plus_spec(i, quick=quick, figure="ma2025-fig2", radius=radius, seeds=2,
                                      metrics=FIG2_METRICS, terminate=arm == "IPGD", data_seed=data_seed,
                                      tags={"arm": arm}))
    return out


#: Claim 1's data seeds per mode (operator and X⋆ drawn anew; seed 0 is Fig. 2's): five in both modes
#: (8 runs per seed, each under a minute).
CLAIM1_SEEDS = {True: (0, 1, 2, 3, 4), False: (0, 1, 2, 3, 4)}


def claim1_specs(quick: bool) -> list[RunSpec]:
    """Fig. 2's runs on every data seed of :data:`CLAIM1_SEEDS`."""
    return [s for seed in CLAIM1_SEEDS[quick] for s in fig2_specs(quick, seed)]


def fig4_specs(quick: bool) -> list[RunSpec]:
    return [ipgd_plus_spec(i, quick=quick, figure="ma2025-fig4") for i in low_rank(quick)]


def fig5_specs(quick: bool) -> list[RunSpec]:
    return [ipgd_plus_spec(i, quick=quick, figure="ma2025-fig5", metrics=SCALAR, seeds=1 if quick else None)
            for i in sparse(quick)]


def radius_specs(quick: bool) -> list[RunSpec]:
    inst = sensing_instance(quick)
    return [ipgd_plus_spec(inst, quick=quick, figure="ma2025-radius", radius=RADII, metrics=SCALAR, log_every=5)]


#: Claim 4's data seeds (operator and X⋆ drawn anew; seed 0 is the radius sweep's own run).
CLAIM4_SEEDS = (0, 1, 2, 3, 4)
#: The extra seeds' metrics: claim 4 reads the error, the residual and IPGD's steps (no deviation rates:
#: the dense Hessian of r' = d = 20 costs ≈ 0.15 s per evaluation per replica in full mode).
CLAIM4_METRICS = ("loss", "ma2025_residual", "ma2025_error")


def claim4_specs(quick: bool) -> list[RunSpec]:
    """The radius sweep on every data seed of :data:`CLAIM4_SEEDS` (seed 0: the figure's run)."""
    inst = sensing_instance(quick)
    return radius_specs(quick) + [ipgd_plus_spec(inst, quick=quick, figure="ma2025-radius", radius=RADII,
                                                 metrics=CLAIM4_METRICS, log_every=5, data_seed=seed)
                                  for seed in CLAIM4_SEEDS if seed != 0]


#: Claim 2's data seeds (operator and X⋆ drawn anew; one perturbation seed each in quick mode) and its
#: metrics (no deviation rates: the claim reads the final distance, residual and signal error only).
CLAIM2_SEEDS = (0, 1, 2, 3, 4)
CLAIM2_METRICS = ("loss", "ma2025_residual", "ma2025_dist", "ma2025_error")


def claim2_specs(quick: bool) -> list[RunSpec]:
    """Claim 2's own runs: IPGD+ on Fig. 4's six low-rank instances and Fig. 5's two sparse ones, on each
    data seed of :data:`CLAIM2_SEEDS`, with the full GD phase T_GD = PLAIN_STEPS in both modes (600
    GD steps leave the signal error above ‖r_T‖ on some instances, so dist ≠ ‖r_T‖ there for want of
    steps, not of the theory)."""
    return [ipgd_plus_spec(i, quick=quick, figure="ma2025-claim2", metrics=CLAIM2_METRICS, plain_steps=PLAIN_STEPS,
                           seeds=1 if quick else None, data_seed=seed)
            for seed in CLAIM2_SEEDS for i in low_rank(quick) + sparse(quick)]


def fig6_specs(quick: bool) -> list[RunSpec]:
    return fig4_specs(quick) + fig5_specs(quick) + radius_specs(quick)


#: Claim 3's extra data seeds per mode (operator and X⋆ drawn anew) and the instances run on them: Fig. 4's
#: two sensing problems, one perturbation seed each (the deviation rate's dense Hessian is the cost): four in
#: quick mode (five seeds with Fig. 6's, a run costs seconds), two in full mode (a run costs over a minute).
CLAIM3_SEEDS = {True: (1, 2, 3, 4), False: (1, 2)}
CLAIM3_INSTANCES = ("sym_ms", "asym_ms")


def claim3_specs(quick: bool) -> list[RunSpec]:
    """Fig. 6's runs (data seed 0) and Fig. 4's sensing instances on :data:`CLAIM3_SEEDS`."""
    extra = [ipgd_plus_spec(i, quick=quick, figure="ma2025-fig4", seeds=1, data_seed=seed)
             for seed in CLAIM3_SEEDS[quick] for i in low_rank(quick) if i.key in CLAIM3_INSTANCES]
    return fig6_specs(quick) + extra


# -- plots --------------------------------------------------------------------------------------------------


#: Γ_t is not drawn where ‖r_t‖ ≤ this: its increments γ(x_t) are Rayleigh quotients along r_t/‖r_t‖,
#: and a residual at round-off (≈ 45 ε_mach ‖X⋆‖_F) has a direction made of rounding errors (the 1-bit
#: instances keep ‖r_t‖ ≈ 1e-15 throughout, where Γ_t would drift to −60).
ROUNDOFF_RESIDUAL = 1e-14


def _window(rep) -> tuple[int, int] | None:
    """The discarded escape window ``(start, end)``: when IPGD terminates it returns the iterate of its
    last perturbation, so the steps after it (up to IPGD's end) are discarded, and GD starts from there."""
    if rep.status0 == "terminated" and rep.perturbations and rep.perturbations[-1] < rep.ipgd_steps:
        return rep.perturbations[-1], rep.ipgd_steps
    return None


def cumulative_gamma(rep):
    """``(steps, Γ_t)`` over both stages, cumulative: GD's running sum continues from Γ at the iterate it
    starts from (the last perturbation when IPGD terminated, as in :func:`.analysis.summarize`'s
    Γ_T), and values where ‖r_t‖ ≤ :data:`ROUNDOFF_RESIDUAL` are NaN (not drawn)."""
    rows = rep.rows
    s0, s1 = rows[rows["stage"] == 0], rows[rows["stage"] == 1]
    w = _window(rep)
    cut = w[0] if w else (int(s0["step"].iloc[-1]) if len(s0) else 0)
    before = s0[s0["step"] <= cut]["ma2025_Gamma"]
    base = float(before.iloc[-1]) if len(before) else 0.0
    steps = np.concatenate([s0["step"].to_numpy(), s1["step"].to_numpy()])
    gamma = np.concatenate([s0["ma2025_Gamma"].to_numpy(float), base + s1["ma2025_Gamma"].to_numpy(float)])
    resid = np.concatenate([s0["ma2025_residual"].to_numpy(float), s1["ma2025_residual"].to_numpy(float)])
    gamma[~(resid > ROUNDOFF_RESIDUAL)] = np.nan
    return steps, gamma


def _mark_window(ax, reps) -> bool:
    """Shade each replica's discarded escape window; True when any was shaded."""
    any_ = False
    for rep in reps:
        w = _window(rep)
        if w is not None:
            ax.axvspan(*w, color="0.85", alpha=0.5, lw=0, zorder=0)
            any_ = True
    return any_


def _curves(ctx: Context, specs, fig_id: str, title: str, out_dir: Path, *, nrows: int = 1) -> list[Path]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    groups = [(spec, summarize(ctx, spec)) for spec in ctx.specs(specs)]
    n = len(groups)
    ncols = -(-n // nrows)
    fig, axes = new_figure(ncols=ncols, nrows=nrows, height=2.35 * nrows + 0.9)
    grid = axes.reshape(nrows, ncols)
    masked, shaded = False, False
    for i, (spec, reps) in enumerate(groups):
        ax = grid[i % nrows, i // nrows] if nrows > 1 else grid[0, i]
        axg = ax.twinx()
        drawn = False
        for rep, c in zip(reps, colors(len(reps)), strict=True):
            rows = rep.rows
            ax.plot(rows["step"], rows["ma2025_dist"], color=c, ls="-", lw=1.2)
            ax.plot(rows["step"], rows["ma2025_residual"].clip(lower=1e-17), color=c, ls="--", lw=1.2)
            steps, gamma = cumulative_gamma(rep)
            masked |= bool(np.isnan(gamma).any())
            if np.isfinite(gamma).mean() >= 0.2:  # else: round-off residual almost throughout, nothing to draw
                axg.plot(steps, gamma, color=c, ls=":", lw=1.2)
                drawn = True
            for p in rep.perturbations:
                ax.axvline(p, color=c, alpha=0.35, lw=0.6)
        shaded |= _mark_window(ax, reps)
        ax.set_yscale("log")
        ax.set_xlabel("iteration $t$")
        ax.set_ylabel(r"$\mathrm{dist}(x_t, \mathcal{X}_M)$, $\|r_t\|$")
        if drawn:
            axg.set_ylabel(r"$\Gamma_t$ (dotted)")
        else:
            axg.set_yticks([])
            ax.text(0.97, 0.5, r"$\Gamma_t$ not drawn:" "\n" r"$\|r_t\|$ at round-off", transform=ax.transAxes,
                    ha="right", va="center", fontsize=figstyle.SMALL_PT)
        ax.set_title(_instance_label(spec, reps))
        ax.grid(True, which="major", alpha=0.3)
        ax.set_zorder(axg.get_zorder() + 1)
        ax.patch.set_visible(False)
    for j in range(n, nrows * ncols):
        (grid[j % nrows, j // nrows] if nrows > 1 else grid[0, j]).set_visible(False)
    seeds = len(groups[0][1]) if groups else 0
    handles = [Line2D([], [], color="k", ls="-", label=r"$\mathrm{dist}(x_t, \mathcal{X}_M)$"),
               Line2D([], [], color="k", ls="--", label=r"$\|r_t\| = \mathrm{dist}(x_t, \mathcal{M})$"),
               Line2D([], [], color="k", ls=":", label=r"cumulative $\Gamma_t = \sum_s \eta\,\gamma(x_s)$ (right axis)"),
               Line2D([], [], color="k", lw=0.6, alpha=0.5, label="perturbation")]
    handles += [Line2D([], [], color=c, lw=2, label=f"perturbation seed {k}") for k, c in enumerate(colors(seeds))]
    if shaded:
        handles.append(Patch(color="0.85", alpha=0.5, label="discarded escape window (GD restarts from its start)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    note = rf"; $\Gamma_t$ not drawn where $\|r_t\| \leq$ {ROUNDOFF_RESIDUAL:g} (round-off)" if masked else ""
    suptitle(fig, title + note)
    return save(fig, out_dir, fig_id)


_LABELS = {"sym_ms": "symmetric sensing", "asym_ms": "asymmetric sensing", "sym_mc": "symmetric completion",
           "asym_mc": "asymmetric completion", "sym_1bit": "symmetric 1-bit completion",
           "asym_1bit": "asymmetric 1-bit completion", "sparse_uuvv": r"sparse, $u \odot u - v \odot v$",
           "sparse_uv": r"sparse, $u \odot v$"}


def _instance_label(spec, reps) -> str:
    key = reps[0].instance if reps else spec.problem.name
    return _LABELS.get(key, key)


def fig4_plot(ctx: Context, out_dir: Path) -> list[Path]:
    z = FIG4_SIZES[ctx.quick]
    return _curves(ctx, fig4_specs, "ma2025-fig4",
                   f"Ma–Liang–Fattahi Fig. 4 ({mode(ctx.quick)}): IPGD+ from 0 on six problems at one setting: d = {z['d']}, "
                   f"r = 3, r' = {z['k']}, Σ = diag(1, .75, .5), completion p = {z['p']}, sensing m = {z['m_sym']} "
                   f"(symmetric), {z['m_asym']} (asymmetric)\n{_fig_label(ctx.quick)}", out_dir, nrows=2)


def fig5_plot(ctx: Context, out_dir: Path) -> list[Path]:
    return _curves(ctx, fig5_specs, "ma2025-fig5",
                   f"Ma–Liang–Fattahi Fig. 5 ({mode(ctx.quick)}): sparse recovery, n = 100, d = 200, "
                   f"β⋆ = (1, −.8, .6, −.4, .2, 0, …), η = 0.1\n{_fig_label(ctx.quick)}", out_dir)


def fig2_plot(ctx: Context, out_dir: Path) -> list[Path]:
    from matplotlib.patches import Patch

    specs = ctx.specs(fig2_specs)
    ranks = fig2_search_ranks(ctx.quick)
    fig, axes = new_figure(ncols=2, nrows=2, height=5.4, sharey=True)
    shaded = False
    for ax, k in zip(axes, ranks, strict=True):
        for spec in [s for s in specs if (s.component_params("param") or {}).get("k") == k]:
            reps = summarize(ctx, spec)
            for rep in reps:
                big = rep.radius > 1e-6
                c = figstyle.PALETTE[1] if big else figstyle.PALETTE[0]
                name = "PGD (perturbs through its budget)" if big else "IPGD"
                ax.plot(rep.rows["step"], rep.rows["ma2025_error"], color=c, lw=1.2,
                        label=f"{name}, radius {rep.radius:g}, seed {rep.replica}", ls="-" if rep.replica % 2 == 0 else "--")
            shaded |= _mark_window(ax, reps)
        ax.set_yscale("log")
        ax.set_xlabel("iteration $t$ (perturbed GD, then GD)")
        ax.set_ylabel(r"$\|UU^\top - X_\star\|_F$")
        ax.set_title(f"search rank r' = {k}" + (" = r" if k == 3 else f" = r + {k - 3}" if k < 6 else " = d"))
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if shaded:
        handles.append(Patch(color="0.85", alpha=0.5, label="IPGD's discarded escape window: GD restarts from its "
                                                            "start, so the error jumps back up"))
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    inst = sensing_instance(ctx.quick)
    suptitle(fig, f"Ma–Liang–Fattahi Fig. 2 ({mode(ctx.quick)}): {inst.label}, r = 3, η = {inst.eta}, from U₀ = 0, data seed 0; "
                  f"PGD (radius {PGD_RADIUS:g}, a perturbation whenever "
                  r"$\|\nabla f\| \leq g_\mathrm{thres}$ and none in the last $\mathcal{T}$ steps) against IPGD (radius "
                  f"{RADIUS:g}), " r"same $g_\mathrm{thres}$, $\mathcal{T}$, $f_\mathrm{thres}$, then GD")
    return save(fig, out_dir, "ma2025-fig2")


def _fig6_points(ctx: Context, specs=fig6_specs):
    pts = []
    for spec in ctx.specs(specs):
        for rep in summarize(ctx, spec):
            pts.append(rep)
    return pts


def fig6_plot(ctx: Context, out_dir: Path) -> list[Path]:
    pts = _fig6_points(ctx)
    fig, (ax,) = new_figure(height=3.6)
    keep = [p for p in pts if p.r_T > FLOOR and math.isfinite(p.log_ratio)]
    names = sorted({p.instance for p in pts})
    for name, c in zip(names, colors(len(names)), strict=True):
        sel = [p for p in keep if p.instance == name]
        if sel:
            ax.scatter([p.Gamma_T for p in sel], [p.log_ratio for p in sel], color=c, s=16,
                       label=_LABELS.get(name, name))
    if len(keep) >= 2:
        x = np.array([p.Gamma_T for p in keep])
        y = np.array([p.log_ratio for p in keep])
        a, b, r2 = fit_line(x, y)
        xs = np.linspace(0, x.max() * 1.05, 10)
        ax.plot(xs, a * xs + b, "k-", lw=1, label=rf"fit: {a:.3f}$\Gamma$ + {b:.2f} ($R^2$ = {r2:.3f})")
        ax.plot(xs, xs, "k--", lw=0.8, label=r"Eq. 127 bound ($\rho$-term dropped): $y = \Gamma$")
    ax.set_xlabel(r"$\Gamma_T = \sum_t \eta\,\gamma(x_t)$,  $\gamma = \frac{3}{2}\gamma_- - \frac{1}{2}\gamma_+$")
    ax.set_ylabel(r"$\log(\|r_T\| / \|r_0\|)$")
    title(ax, f"Ma–Liang–Fattahi Fig. 6 ({mode(ctx.quick)}): every instance × seed of Figs. 4–5 and the radius "
              f"sweep; " r"$\|r_T\| \leq$" f" {FLOOR:g} (round-off floor) excluded: {len(pts) - len(keep)} of {len(pts)}")
    fig.legend(loc="outside lower center", ncols=2)
    ax.grid(True, alpha=0.3)
    return save(fig, out_dir, "ma2025-fig6")


def radius_table(ctx: Context, iter_err: float = ITER_ERR, specs=radius_specs):
    """One row per (data seed, radius) of the radius sweep's runs (``specs``: the figure's, or claim 4's)."""
    from .._shared import first_crossing

    rows = []
    for spec in ctx.specs(specs):
        for rep in summarize(ctx, spec):
            it = first_crossing(rep.rows["step"].to_numpy(), rep.rows["ma2025_error"].to_numpy(), iter_err)
            rows.append({"data_seed": spec.data_seed, "radius": rep.radius, "iterations": it,
                         "ipgd_steps": rep.ipgd_steps, "r_T": rep.r_T, "error_T": rep.error_T, "Gamma_T": rep.Gamma_T})
    return rows


def radius_plot(ctx: Context, out_dir: Path) -> list[Path]:
    rows = radius_table(ctx)
    fig, axes = new_figure(ncols=2)
    x = [math.log10(1 / r["radius"]) for r in rows]
    it = [r["iterations"] if r["iterations"] is not None else np.nan for r in rows]
    axes[0].plot(x, it, "o-", label=rf"first $t$ with $\|UU^\top - X_\star\|_F \leq$ {ITER_ERR:g}")
    axes[0].plot(x, [r["ipgd_steps"] for r in rows], "s--", label=r"IPGD termination step (incl. the $\mathcal{T}$ window)")
    axes[0].set_xlabel(r"$\log_{10}(1/\mathrm{radius})$")
    axes[0].set_ylabel("iterations")
    axes[0].legend()
    axes[1].semilogy(x, [r["r_T"] for r in rows], "o-", label=r"final $\|r_T\|$")
    axes[1].semilogy(x, [r["error_T"] for r in rows], "s-", label=r"final $\|UU^\top - X_\star\|_F$")
    axes[1].set_xlabel(r"$\log_{10}(1/\mathrm{radius})$")
    axes[1].set_ylabel("final value")
    axes[1].legend()
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    inst = sensing_instance(ctx.quick)
    suptitle(fig, f"Ma–Liang–Fattahi: radius sweep ({mode(ctx.quick)}), {inst.label}, r = 3, η = {inst.eta}, IPGD+ "
                  "from 0, one seed per radius")
    return save(fig, out_dir, "ma2025-radius")


# -- claims -------------------------------------------------------------------------------------------------


@claim(
    id="ma2025-claim1", paper=PAPER, figure="ma2025-fig2", specs=claim1_specs,
    kind="experiment", source={"section": "§1 (Fig. 2)",
                     "quote": "When the rank of the target matrix is known, PGD initialized at random and applied to with "
                     "converges to the ground-truth rank- matrix. By contrast, even a slight over-parameterization "
                     "with a search rank of causes PGD to deviate significantly from and converge to a solution of "
                     "rank strictly larger than , thereby incurring substantial error."},
    statement="Jin et al.'s PGD with a slightly over-parameterized search rank ends at rank > r with large error, "
              "while IPGD recovers the ground truth (Fig. 2).",
    paper_value="qualitative (Fig. 2): PGD at a slightly larger r' > r converges to a solution of rank > r with "
                "substantial error; PGD at r' = r and IPGD succeed (numbers stripped)",
    criterion=f"Symmetric sensing from U₀ = 0 on {len(CLAIM1_SEEDS[False])} data seeds in full mode and "
              f"{len(CLAIM1_SEEDS[True])} in quick mode (operator and X⋆ drawn anew), "
              "search ranks r' = r + 1, r + 2 (the paper's 'slight over-parameterization') and r' = d, same "
              f"g_thres/T/f_thres/η, 2 perturbation seeds per arm, then T_GD plain GD steps. PGD: radius {PGD_RADIUS:g}, "
              "a perturbation whenever ‖∇f‖ ≤ g_thres and none happened in the last T steps, repeated through the "
              f"whole perturbed-stage budget (Jin et al.'s Algorithm 1 as §1.2 describes it); IPGD: radius {RADIUS:g}, "
              "Algorithm 1 with its termination. Per (r', data seed): 'separated' when the smallest PGD error "
              "‖UUᵀ − X⋆‖_F ≥ 100 × the largest IPGD error; 'full' when separated, every PGD run ends with numerical "
              f"rank (σ_i(UUᵀ) > {RANK_TOL:g}) > 3 and every IPGD run with rank 3 and error ≤ {SUCCESS_ERR:g}. "
              "Reproduced when every (r', seed) is full; partly reproduced when every (r', seed) is separated, or "
              "every seed is full at some r' but not at all; not reproduced otherwise. The r' = 3 runs (PGD should "
              "succeed there) are reported as the control.",
    criterion_revised="before: r' = 5 only, one data seed, and PGD run as Algorithm 1 with its termination (it "
                      "returned the iterate before its last perturbation, so only the perturbations before "
                      "convergence shaped its output) / after: r' = r + 1, r + 2 and d on five data seeds, and PGD "
                      "perturbs whenever the gradient is small and no perturbation happened in the last T steps, "
                      "through its budget, as the paper describes Jin et al.'s PGD. Why: the paper's statement is "
                      "about a slight over-parameterization and about PGD's repeated episodic perturbations; the "
                      "criterion was written before the new runs.",
    thresholds={"rank tol": Threshold(RANK_TOL, low=1e-8, high=1e-4, reason="a numerical rank counts singular "
                                      "values of UUᵀ (σ_1 ≈ 1) from 1e-8 to 1e-4 as nonzero"),
                "separation": Threshold(100, low=30, high=300, reason="'substantial error' against success: half a "
                                        "decade either side of two decades"),
                "success": Threshold(SUCCESS_ERR, low=1e-8, high=1e-4, reason="'recovers the ground truth': "
                                     "‖UUᵀ − X⋆‖_F from 1e-8 to 1e-4 of ‖X⋆‖_F ≈ 1.35")},
)
def claim1(ctx: Context) -> Outcome:
    tol = ctx.threshold("rank tol")
    groups: dict[tuple[int, int], dict[str, list]] = {}
    for spec in ctx.specs(claim1_specs):
        k = int((spec.component_params("param") or {}).get("k"))
        groups.setdefault((k, spec.data_seed), {}).setdefault(spec.tags.get("arm", ""), []).extend(summarize(ctx, spec))
    measured, versus = {}, {}
    full: dict[tuple[int, int], bool] = {}
    sep: dict[tuple[int, int], bool] = {}
    for (k, seed), arms in sorted(groups.items()):
        pgd, ipgd = arms.get("PGD", []), arms.get("IPGD", [])
        for tag, group in (("PGD", pgd), ("IPGD", ipgd)):
            measured[f"r'={k} data seed {seed}: {tag} final ‖UUᵀ − X⋆‖_F, numerical rank per pert. seed"] = [
                [r.error_T, numerical_rank(r.singular_values, tol)] for r in group]
        measured[f"r'={k} data seed {seed}: PGD perturbations per pert. seed"] = [len(r.perturbations) for r in pgd]
        if k == 3 or not pgd or not ipgd:
            continue
        e_pgd = min(r.error_T for r in pgd)
        e_ipgd = max(r.error_T for r in ipgd)
        sep[k, seed] = e_pgd >= ctx.threshold("separation") * e_ipgd
        full[k, seed] = (sep[k, seed] and all(numerical_rank(r.singular_values, tol) > 3 for r in pgd)
                         and all(numerical_rank(r.singular_values, tol) == 3 and r.error_T <= ctx.threshold("success")
                                 for r in ipgd))
    ranks = sorted({k for k, _ in full})
    for k in ranks:
        keys = [(kk, s) for kk, s in sorted(groups) if kk == k]
        e_p = [min(r.error_T for r in groups[x]["PGD"]) for x in keys]
        e_i = [max(r.error_T for r in groups[x]["IPGD"]) for x in keys]
        versus[f"r'={k}: PGD / IPGD error (min PGD, max IPGD over seeds)"] = {
            "paper": "PGD large, IPGD small (Fig. 2, stripped)", "ours": f"{min(e_p):.2e} / {max(e_i):.2e}"}
    full_at = [k for k in ranks if all(v for (kk, _), v in full.items() if kk == k)]
    if full and all(full.values()):
        verdict = "reproduced"
    elif sep and (all(sep.values()) or full_at):
        verdict = "partly reproduced"
    else:
        verdict = "not reproduced"
    measured["search ranks r' > r where every seed is full"] = full_at
    inst = sensing_instance(ctx.quick)
    seeds = sorted({s for _, s in groups})
    decisive = next(iter(versus), "")
    return Outcome(measured=measured, verdict=verdict, versus=versus, decisive=decisive if verdict != "reproduced" else "",
                   setting=f"{inst.label}, r=3, r' ∈ {list(fig2_search_ranks(ctx.quick))}, η={inst.eta}, U₀ = 0, data "
                           f"seeds {', '.join(map(str, seeds))}, {mode(ctx.quick)} mode",
                   note="Both arms start from zero (the paper's PGD started at random): the radius and PGD's "
                        "perturbations through the budget are the changes.")


@claim(
    id="ma2025-claim2", paper=PAPER, figure="ma2025-fig4", specs=claim2_specs,
    kind="experiment", source={"section": "§7 (Figs. 4–5)",
                     "quote": "Notably, the final distance to precisely matches the residual norm across all instances "
                     "considered."},
    statement="IPGD+'s final distance to the solution set equals its final residual norm on all six low-rank "
              "problems and on sparse recovery (Figs. 4–5).",
    paper_value="'the final distance precisely matches the residual norm across all instances' (no digits given)",
    criterion=f"IPGD+ (GD phase T_GD = {PLAIN_STEPS} steps) on Fig. 4's six low-rank and Fig. 5's two sparse "
              f"instances, {len(CLAIM2_SEEDS)} data seeds each. Per run: agreeing digits −log10(|dist − ‖r_T‖|/max) "
              "between ‖r_T‖ = dist(x_T, M) and dist = dist(x_T, 𝒳_M) computed as: symmetric UUᵀ, the Procrustes "
              "distance min_R ‖U − U⋆R‖_F to U⋆ = [VΣ^½, 0] (exact); asymmetric UVᵀ, the distance to the "
              "first-order projection onto 𝒳_M from the signal (U_s, V_s) = P_M(U, V) with the minimum-norm "
              "Sylvester correction (exact as the signal error → 0, an upper bound otherwise); sparse, the exact "
              f"coordinatewise distance. Reproduced when every run agrees to ≥ 3 digits, or both are at the "
              f"round-off floor (|dist − ‖r‖| ≤ {FLOOR:g}); partly reproduced when at least half the instances do "
              "on every seed; not reproduced otherwise.",
    criterion_revised=f"before: quick mode read Fig. 4–5's runs (T_GD = {QUICK_PLAIN_STEPS}, one data seed), and the "
                      "criterion called the asymmetric distance one 'to the balanced solutions' / after: the claim "
                      f"has its own runs with T_GD = {PLAIN_STEPS} in both modes and {len(CLAIM2_SEEDS)} data seeds, and the "
                      "criterion "
                      "states the distance the code computes. Why: after 600 GD steps the signal error of some "
                      "instances is still above ‖r_T‖, so the two differ for want of steps (1,500 steps give 6–11 "
                      "agreeing digits); the verdict 'partly' in quick mode measured the budget, not the claim.",
    thresholds={"digits": Threshold(3, low=2, high=6, reason="'precisely matches': from two agreeing digits to "
                                  "six"),
                "floor": Threshold(FLOOR, low=1e-14, high=1e-10, reason="the round-off floor of a residual norm "
                                   "≈ 1 in float64: from 1e-14 to 1e-10")},
)
def claim2(ctx: Context) -> Outcome:
    measured, versus = {}, {}
    per_inst: dict[str, bool] = {}
    digits: dict[str, list[float]] = {}
    for spec in ctx.specs(claim2_specs):
        for r in summarize(ctx, spec):
            dg = agreeing_digits(r.dist_T, r.r_T)
            ok = dg >= ctx.threshold("digits") or abs(r.dist_T - r.r_T) <= ctx.threshold("floor")
            per_inst[r.instance] = per_inst.get(r.instance, True) and ok
            digits.setdefault(r.instance, []).append(dg)
            measured[f"{r.instance} data seed {spec.data_seed} pert. seed {r.replica}: final dist, ‖r_T‖, digits, "
                     f"‖g(x) − X⋆‖"] = [r.dist_T, r.r_T, dg, r.error_T]
    for name, d in digits.items():
        versus[f"{name}: agreeing digits (min over seeds)"] = {"paper": "'precisely matches'", "ours": f"{min(d):.1f}"}
    n_ok = sum(per_inst.values())
    verdict = ("reproduced" if n_ok == len(per_inst) else "partly reproduced" if n_ok >= len(per_inst) / 2
               else "not reproduced")
    seeds = sorted({s.data_seed for s in ctx.specs(claim2_specs)})
    return Outcome(measured=measured, verdict=verdict, versus=versus,
                   setting=f"{_label(ctx.quick).replace(f'T_GD={QUICK_PLAIN_STEPS}', f'T_GD={PLAIN_STEPS}')}; "
                           f"data seeds {', '.join(map(str, seeds))}",
                   note=f"{n_ok} of {len(per_inst)} instances agree on every seed.")


@claim(
    id="ma2025-claim3", paper=PAPER, figure="ma2025-fig6", specs=claim3_specs,
    kind="experiment", source={"section": "§7 (Fig. 6, Eqs. 127–128)",
                     "quote": "Figure 6 plots the values of against for different instances of low-rank matrix recovery and "
                     "sparse recovery. … indicating that Equation 127 is tight up to a factor of , modulo the "
                     "additional term"},
    statement="log(‖r_T‖/‖r₀‖) is linear in the cumulative deviation rate Γ_T (Fig. 6, Eq. 128) and bounded by "
              "Eq. (127): log(‖r_T‖/‖r₀‖) ≤ Γ_T + (ρ/2) Σ η‖r_t‖.",
    paper_value="linear, 'Eq. 127 is tight up to a factor of c' (c stripped; notes' reconstruction: c ≈ 0.64 "
                "with γ = (3/2)γ₋ − (1/2)γ₊)",
    criterion=f"Points: every instance × seed of Figs. 4–5 and the radius sweep (data seed 0), and Fig. 4's "
              f"symmetric and asymmetric sensing on data seeds {', '.join(map(str, CLAIM3_SEEDS[True]))} in quick mode, "
              f"{', '.join(map(str, CLAIM3_SEEDS[False]))} in full mode (operator and X⋆ "
              f"drawn anew, one perturbation seed), with ‖r_T‖ > {FLOOR:g}. Bound: "
              "log ratio ≤ Γ_T on every point (ρ-term dropped, which only makes the test stricter; where it fails "
              "the ρ that (127) would need is reported). Linearity: the per-point factor c_i = log ratio / Γ_T has "
              "(max − min)/mean ≤ 0.25 (a common factor, i.e. a line through the origin). Reproduced when both "
              "hold; partly reproduced when one holds; not reproduced otherwise. The fitted slope, intercept and "
              "R² are reported.",
    thresholds={"floor": Threshold(FLOOR, low=1e-14, high=1e-10, reason="the round-off floor of a residual norm "
                                   "≈ 1 in float64: from 1e-14 to 1e-10"),
                "spread": Threshold(0.25, low=0.15, high=0.4, reason="'tight up to a factor of c': one common c "
                                    "within ±7–20 % over instances and seeds")},
    criterion_revised="before: the points of one data seed (Figs. 4–5 and the radius sweep) / after: plus Fig. 4's two "
                      "sensing instances on more data seeds (four in quick mode, two in full), the same "
                      "conditions. Why: a verdict must not rest on "
                      "one operator; written before the new runs.",
)
def claim3(ctx: Context) -> Outcome:
    pts = _fig6_points(ctx, claim3_specs)
    keep = [p for p in pts if p.r_T > ctx.threshold("floor") and math.isfinite(p.log_ratio) and p.Gamma_T > 0]
    measured: dict = {"points used / total": [len(keep), len(pts)]}
    if len(keep) < 2:
        return Outcome(measured=measured, verdict="inconclusive", setting=_label(ctx.quick),
                       note="fewer than two usable points")
    x = np.array([p.Gamma_T for p in keep])
    y = np.array([p.log_ratio for p in keep])
    a, b, r2 = fit_line(x, y)
    c = y / x
    spread = float((c.max() - c.min()) / c.mean())
    viol = [p for p in keep if p.log_ratio > p.Gamma_T]
    rho_needed = [2 * (p.log_ratio - p.Gamma_T) / p.rsum_T for p in viol if p.rsum_T > 0]
    bound_ok = not viol
    lin_ok = spread <= ctx.threshold("spread")
    measured.update({"fit slope, intercept, R²": [a, b, r2], "c_i = log ratio / Γ_T: min, mean, max":
                     [float(c.min()), float(c.mean()), float(c.max())], "spread (max − min)/mean of c_i": spread,
                     "points violating log ratio ≤ Γ_T": len(viol),
                     "rho needed by (127) at violations": rho_needed,
                     "first-order c (Γ with weights 1, 1): mean":
                     float(np.mean([p.log_ratio / p.Gamma1_T for p in keep if p.Gamma1_T > 0]))})
    for p in keep:
        measured[f"{p.instance} data seed {p.data_seed} r={p.radius:g} seed {p.replica}: Γ_T, log ratio, Σ η‖r‖"] = \
            [p.Gamma_T, p.log_ratio, p.rsum_T]
    verdict = "reproduced" if bound_ok and lin_ok else "partly reproduced" if (bound_ok or lin_ok) else "not reproduced"
    return Outcome(measured=measured, verdict=verdict, setting=_label(ctx.quick),
                   versus={"tightness factor c": {"paper": "stripped (notes: ≈ 0.64)", "ours": f"{c.mean():.3f}"}},
                   note="γ is evaluated every GAMMA_EVERY steps (Riemann sum); the weights (3/2, 1/2) of Def. 5 "
                        "are a reconstruction (notes §2.3).")


@claim(
    id="ma2025-claim4", paper=PAPER, figure="ma2025-radius", specs=claim4_specs,
    kind="theorem", source={"section": "§2 (Thm 2)",
                     "quote": "Our first theorem demonstrates that IPGD achieves nearly the same convergence guarantee as PGD "
                     "(differing only by a logarithmic factor), while requiring a smaller perturbation radius."},
    statement="The iterations IPGD(+) needs grow linearly in log(1/radius) (Thm 2: polylog(1/r)).",
    paper_value="T and f_thres scale poly-logarithmically in 1/r; iterations Õ(·polylog(1/r)) (no measured numbers)",
    criterion=f"Symmetric sensing, radius ∈ {RADII}, {len(CLAIM4_SEEDS)} data seeds (operator and X⋆ drawn anew), "
              f"iterations = first step with ‖UUᵀ − X⋆‖_F ≤ {ITER_ERR:g}. Per data seed: iterations against "
              "log10(1/r) fitted by a line. Reproduced when on every seed every radius reaches the threshold and "
              "the fit has slope > 0 and R² ≥ 0.95; partly reproduced when every seed's fit has slope > 0 and "
              "R² ≥ 0.8 but some seed misses the reproduced condition; not reproduced otherwise (inconclusive when "
              "some seed has fewer than 3 radii reaching the threshold).",
    criterion_revised="before: one data seed / after: the same per-seed condition on five data seeds (each seed "
                      "fitted alone, the verdict the one every seed supports). Why: a verdict must not rest on one "
                      "operator; the criterion was written before the new runs.",
    thresholds={"iteration error": Threshold(ITER_ERR, low=1e-4, high=1e-2, reason="where the escape and the "
                                             "descent to X⋆ are over: ‖UUᵀ − X⋆‖_F from 1e-4 to 1e-2"),
                "R2": Threshold(0.95, low=0.9, high=0.98, reason="'linear in log(1/r)' over six radii"),
                "R2 partly": Threshold(0.8, low=0.7, high=0.9, reason="a line that still explains most of the "
                                       "variance")},
)
def claim4(ctx: Context) -> Outcome:
    rows = radius_table(ctx, ctx.threshold("iteration error"), specs=claim4_specs)
    measured: dict = {}
    fits: dict[int, tuple] = {}
    for seed in sorted({r["data_seed"] for r in rows}):
        mine = [r for r in rows if r["data_seed"] == seed]
        for r in mine:
            measured[f"data seed {seed} radius {r['radius']:g}: iterations, IPGD steps, ‖r_T‖, error"] = [
                r["iterations"], r["ipgd_steps"], r["r_T"], r["error_T"]]
        ok = [r for r in mine if r["iterations"] is not None]
        if len(ok) >= 3:
            a, b, r2 = fit_line([math.log10(1 / r["radius"]) for r in ok], [r["iterations"] for r in ok])
            fits[seed] = (a, r2, len(ok) == len(mine))
            measured[f"data seed {seed} fit: iterations per decade of 1/r, intercept, R²"] = [a, b, r2]
    seeds = sorted({r["data_seed"] for r in rows})
    if len(fits) < len(seeds):
        return Outcome(measured=measured, verdict="inconclusive", setting=_label(ctx.quick),
                       note="on some data seed fewer than three radii reached the error threshold")
    full = all(a > 0 and r2 >= ctx.threshold("R2") and every for a, r2, every in fits.values())
    part = all(a > 0 and r2 >= ctx.threshold("R2 partly") for a, r2, _ in fits.values())
    verdict = "reproduced" if full else "partly reproduced" if part else "not reproduced"
    slopes = [f[0] for f in fits.values()]
    r2s = [f[1] for f in fits.values()]
    measured["slope (iterations per decade) min, max; R² min over seeds"] = [min(slopes), max(slopes), min(r2s)]
    return Outcome(measured=measured, verdict=verdict,
                   setting=f"{_label(ctx.quick)}; data seeds {', '.join(map(str, seeds))}",
                   versus={"iterations per decade of 1/r": {"paper": "polylog (not measured)",
                                                            "ours": f"{min(slopes):.1f}–{max(slopes):.1f} "
                                                                    f"(R² ≥ {min(r2s):.3f})"}},
                   note="Theory allows polylog(1/r); a straight line in log(1/r) is the escape time "
                        "log(‖U⋆‖/r)/log(1 + ησ) of a linear escape.")


@claim(
    id="ma2025-claim5", paper=PAPER, figure="ma2025-fig4", specs=claim2_specs,
    kind="experiment", source={"section": "§7",
                     "quote": "Throughout all experiments, we employ IPGD+, which consistently demonstrates a linear "
                     "convergence rate in practice."},
    statement="IPGD+ converges near-linearly on every problem (Figs. 4–5).",
    paper_value="'consistently demonstrates a linear convergence rate in practice' (rates not given)",
    criterion="Claim 2's runs (Fig. 4's six low-rank and Fig. 5's two sparse instances, IPGD+ with T_GD = "
              f"{PLAIN_STEPS}, {len(CLAIM2_SEEDS)} data seeds). The quantity Figs. 4–5 plot, dist(x_t, 𝒳_M), along "
              "the path that produced IPGD+'s output: IPGD's steps up to the iterate it returns (its last "
              "perturbation when it terminated), then the GD steps, continued from there — IPGD's discarded escape "
              "window (the T steps after its last perturbation, which it throws away) is left out, since the "
              "output does not descend from it. Per run: fit log10 dist against t from the first step after "
              "which dist stays ≤ 0.1 to the first step with dist ≤ 10·‖r_T‖ (below that dist ≈ ‖r_t‖, the residual the "
              "paper shows staying small and flat, not converging). Reproduced when every fit has R² ≥ 0.9 over ≥ 3 "
              "decades; partly reproduced when at least half the instances do on every seed; not reproduced "
              "otherwise. The rate (decades per 100 steps) is reported per run.",
    criterion_revised="before (1): log10 ‖g(x_t) − X⋆‖ fitted from error ≤ 0.1 to the first step within 10× of the "
                      "final error; the first quick run showed the error drifting slowly after the fast phase, and "
                      "the window was moved to end at 1e-6 / before (2): that window, on the error, not the "
                      "quantity the paper plots; a fit of dist down to 10·‖r_T‖ over the whole trace measured "
                      "R² 0.46–1.0, because the trace holds IPGD's discarded escape window (the jump back up when "
                      "IPGD returns the iterate of its last perturbation) / after: dist(x_t, 𝒳_M), the quantity "
                      "the paper plots, down to 10·‖r_T‖, along the path that produced the output (the discarded "
                      "window left out), on claim 2's data seeds. Why: the paper's statement is about IPGD+'s "
                      "convergence to its output; the discarded window is not on that path. Then, after the first "
                      "run of that criterion: before (3): the window started at the first step with dist ≤ 0.1 / "
                      "after: at the first step after which dist stays ≤ 0.1. Why: on the asymmetric instances the "
                      "first-order distance is 0 at the zero start (a degenerate value of its formula, not a "
                      "distance) and ≈ 1e15 while the signal is tiny, so every asymmetric window began and ended at "
                      "step 0 and no fit was made; the thresholds are unchanged.",
    thresholds={"window start": Threshold(0.1, low=0.05, high=0.3, reason="where the escape is over and the "
                                          "descent begins: a distance from 5 % to 30 % of ‖U⋆‖_F ≈ 1.5"),
                "floor factor": Threshold(10, low=3, high=30, reason="where dist meets the residual floor: dist² = "
                                          "‖r‖² + the signal's error², within 3–30 × ‖r_T‖ the signal's error dominates"),
                "R2": Threshold(0.9, low=0.8, high=0.95, reason="'a linear convergence rate': a straight log-distance "
                                "line up to the kinks of the perturbation steps"),
                "decades": Threshold(3, low=2, high=4, reason="a rate is 'linear' over at least 2–4 decades")},
)
def claim5(ctx: Context) -> Outcome:
    measured, per = {}, {}
    for spec in ctx.specs(claim2_specs):
        for r in summarize(ctx, spec):
            fit = floor_rate(kept_path(r), hi=ctx.threshold("window start"), factor=ctx.threshold("floor factor"))
            ok = fit is not None and fit[1] >= ctx.threshold("R2") and fit[2] >= ctx.threshold("decades")
            per[r.instance] = per.get(r.instance, True) and ok
            measured[f"{r.instance} data seed {spec.data_seed} pert. seed {r.replica}: decades/100 steps, R², decades, "
                     "window"] = None if fit is None else [fit[0], fit[1], fit[2], list(fit[3])]
    n_ok = sum(per.values())
    verdict = "reproduced" if n_ok == len(per) else "partly reproduced" if n_ok >= len(per) / 2 else "not reproduced"
    seeds = sorted({s.data_seed for s in ctx.specs(claim2_specs)})
    return Outcome(measured=measured, verdict=verdict,
                   setting=f"{_label(ctx.quick).replace(f'T_GD={QUICK_PLAIN_STEPS}', f'T_GD={PLAIN_STEPS}')}; "
                           f"data seeds {', '.join(map(str, seeds))}",
                   note=f"{n_ok} of {len(per)} instances linear on every run. dist levels off at ‖r_T‖ (the residual "
                        "freezes in zero-curvature directions), so the window ends at 10·‖r_T‖.")


FIGURES = [
    Figure("ma2025-fig2", PAPER, "PGD with a large radius vs IPGD under over-parameterization", fig2_specs, fig2_plot,
           setting=("Paper: symmetric matrix sensing, Jin et al.'s perturbed GD 'initialized at random', search rank r' = r "
                    "against a slightly larger r' (every number stripped). Ours (full mode): d = 20, r = 3, Σ = diag(1, "
                    "0.75, 0.5), m = 150; perturbed GD with Jin's large radius 10⁻² (PGD: a perturbation whenever ‖∇f‖ ≤ "
                    "g_thres and none in the last T steps, through its budget) and IPGD (radius 10⁻¹⁵, Algorithm 1 with its "
                    "termination), each then plain GD, all from zero, at r' = r = 3, the slightly larger r' = 4, 5, and "
                    "r' = d (data seed 0; claim 1 reads five seeds). The shaded span is IPGD's discarded escape "
                    "window: when IPGD terminates it returns "
                    "the iterate of its last perturbation, so GD restarts there and the error jumps back up."),
           paper_reports=("With r' = r PGD converges to the rank-r ground truth; with r' > r it deviates from the manifold "
                          "and converges to a solution of rank strictly larger than r, with substantial error.")),
    Figure("ma2025-fig4", PAPER, "IPGD+ on six low-rank problems: distance, residual, Γ_t", fig4_specs, fig4_plot,
           setting=("Paper: IPGD+ from all-zero matrices on {symmetric, asymmetric} × {sensing, completion, 1-bit "
                    "completion} at one (d, r', p), a radius near round-off (numbers stripped). Ours (full mode): d = 20, "
                    "r = 3, r' = 10, Σ = diag(1, 0.75, 0.5), completion p = 0.5, sensing m = 150, radius 10⁻¹⁵, "
                    "g_thres = 10⁻⁵, T = 500, f_thres = 10⁻⁸, 3 seeds (quick: d = 15, r' = 5, p = 0.8, m = 90 / 150, "
                    "2 seeds). Γ_t is cumulative across the IPGD → GD boundary (GD continues from Γ at the iterate it "
                    "starts from) and is not drawn where ‖r_t‖ ≤ 1e-14: a residual at round-off (the 1-bit instances "
                    "throughout) has no direction, so γ computed from it is noise. Shaded: the discarded escape window."),
           paper_reports=("The distance to the ground-truth set, the residual ‖r_t‖ and the cumulative deviation rate Γ_t "
                          "against the iteration: the residual stays small, IPGD+ converges linearly to the ground truth, "
                          "and the final distance matches the residual norm in every instance.")),
    Figure("ma2025-fig5", PAPER, "IPGD+ on sparse recovery", fig5_specs, fig5_plot,
           setting=("Paper: sparse recovery y = Xβ⋆, Gaussian X, 5-sparse β⋆, f(u, v) = (1/2n)‖y − X(u⊙v)‖², IPGD+ from "
                    "zero (sizes stripped). Ours: n = 100, d = 200, k = 5, both u⊙u − v⊙v and the paper's u⊙v, η = 0.1 "
                    "(quick mode: one perturbation seed each). Γ_t as in Fig. 4."),
           paper_reports=("The quantities of Fig. 4: the final solution is close to the ground truth, with an error "
                          "matching the residual norm; Γ is larger than in the low-rank cases and the residual rises "
                          "several-fold early on.")),
    Figure("ma2025-fig6", PAPER, "log residual growth against Γ_T", fig6_specs, fig6_plot,
           setting=("One point per instance and seed of Figs. 4–5 and of the radius sweep: log(‖r_T‖/‖r₀‖) against Γ_T at "
                    "the end of the run."),
           paper_reports=("An approximately linear relation (Eq. 128, coefficient stripped): Eq. 127 is tight up to a "
                          "factor c, and the deviation rate is the primary driver of the residual growth.")),
    Figure("ma2025-radius", PAPER, "iterations against log(1/radius)", radius_specs, radius_plot,
           setting=("Not a figure of the paper: symmetric sensing (Fig. 2's instance) with the IPGD radius from 10⁻⁶ to "
                    "10⁻¹⁶; the iterations IPGD+ needs against log(1/radius)."),
           paper_reports=("No experiment in the paper: its theory makes the escape time 𝒯 and the threshold f_thres "
                          "poly-logarithmic in 1/r, so a smaller radius costs few iterations.")),
]
CLAIMS = [claim1, claim2, claim3, claim4, claim5]
