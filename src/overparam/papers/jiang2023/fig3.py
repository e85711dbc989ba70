"""Jiang–Chen–Ding Fig. 3 (§5.2): ε, ρ, δ, T₀ and the dimension; claims 4–8.

r = 3, k = 10, η = 0.25, m = n, σ_3 = 1; ε = min_{t ≤ 500} ‖F_tG_tᵀ − X_r‖_F/‖X_r‖_F and T₀ its argmin (the
``early_stopping`` recipe's oracle on ``jiang2023_err_Xr``, checked every step); every point averages
random X (separate specs: different data) and the ρ grid of one X runs as replicas.

Choices where the paper is silent (module constants; notes-002 §2.3, §5):

* **Spectrum** — σ_1 = κ, σ_2 = (κ+1)/2, σ_3 = 1, σ_4 = 1 − δ (no tail: rank 4), Haar singular vectors;
  κ = 2 for panels a–c, κ ∈ {2, 3} in panel d (GD at η = 0.25 needs ησ_1 < 1, i.e. κ < 4).
* **Grids** — full: δ ∈ {0.2, …, 0.8}, m ∈ {25, 50, 100, 200}, ρ ∈ {10⁻², 10⁻⁴, …, 10⁻²⁰}, 10 X per point;
  quick: δ ∈ {0.2, 0.4, 0.6}, m ∈ {25, 50}, ρ ∈ {10⁻², …, 10⁻¹²}, 5 X per point (data seeds 0–4: each
  claim is also judged on every seed alone). Theory init
  ρ/(3√(m+n+k))·N(0, σ_1).
* **Averages** — of log₁₀ ε (ε spans 15 decades) and of T₀, over the X of a point; error bars: ± 1 std
  of log₁₀ ε over the X.
* **Precision floor** — points with ε < ``FLOOR`` = 10⁻¹³ (float64 round-off, the paper's "flat part
  for ρ < 10⁻¹⁵") are left out of every fit.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ... import figstyle
from ...experiments.spec import RunSpec
from .._shared import colors, fit_line, kendall_tau, mode, new_figure, replica_traces, save, suptitle, value_at
from ..base import Context, Figure, Outcome, Threshold, claim
from .settings import ETA_FIG3, PAPER, events, mf_spec, oracle, rhos_of
from .theory import (
    heuristic_eps_exponent,
    log_error_bound_A3,
    thm42_exponent,
    thm42_T,
    thmA1_eta_max,
    thmA1_log_rho_max,
    window_fraction,
)

R_TARGET = 3
K = 10
STEPS = 500
KAPPA = 2.0
KAPPA_D = 3.0
FLOOR = 1e-13
#: panel d / claim 7: (ρ, δ, κ) settings plotted against m.
FIG3D_SETTINGS = ((1e-8, 0.4, 2.0), (1e-8, 0.6, 2.0), (1e-4, 0.2, 2.0), (1e-8, 0.4, 3.0))
#: claim 5: the ρ at which log ε is read against δ.
CLAIM5_RHOS = (1e-6, 1e-10)
#: claim 8: the ρ of the table.
CLAIM8_RHOS = (1e-4, 1e-8, 1e-12)
# criteria thresholds (written before the full run)
R2_LINEAR = 0.98
R2_DELTA = 0.95
R2_T0 = 0.95
DIM_SLOPE_EPS = 0.5
DIM_SLOPE_T0 = 0.1
T_RATIO = (0.5, 1.5)


def grids(quick: bool) -> dict:
    if quick:
        return {"deltas": (0.2, 0.4, 0.6), "dims": (25, 50), "rhos": tuple(10.0**-e for e in range(2, 13, 2)),
                "seeds": 5}
    return {"deltas": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8), "dims": (25, 50, 100, 200),
            "rhos": tuple(10.0**-e for e in range(2, 21, 2)), "seeds": 10}


def _spec(m: int, delta: float, kappa: float, seed: int, rhos) -> RunSpec:
    return mf_spec({"m": m, "n": m, "r": R_TARGET, "generator": "gap", "kappa": kappa, "delta": delta}, k=K,
                   eta=ETA_FIG3, rhos=list(rhos), convention="theory", steps=STEPS, figure="jiang2023-fig3",
                   data_seed=seed, metrics=("jiang2023_err_Xr", "jiang2023_err_Xr_op"), log={"every": 5},
                   recipe=oracle("jiang2023_err_Xr"))


def fig3_specs(quick: bool) -> list[RunSpec]:
    g = grids(quick)
    out = [_spec(m, d, KAPPA, s, g["rhos"]) for d in g["deltas"] for m in g["dims"] for s in range(g["seeds"])]
    d3 = sorted({d for _, d, k in FIG3D_SETTINGS if k == KAPPA_D})
    out += [_spec(m, d, KAPPA_D, s, g["rhos"]) for d in d3 for m in g["dims"] for s in range(g["seeds"])]
    return out


def fig3_rows(ctx: Context):
    """One row per (spec, replica): κ, δ, m, seed, ρ, ε, T₀, Thm 4.2's T and the operator error at T (read
    once per context and set of runs, :meth:`Context.memo`: claims 4–8 read the same runs at every
    threshold end and on every seed alone; each call gets its own copy)."""
    specs = ctx.specs(fig3_specs)
    return ctx.memo(("jiang2023.fig3_rows", tuple(s.key() for s in specs)), lambda: _fig3_rows(ctx, specs))


def _fig3_rows(ctx: Context, specs: list[RunSpec]):
    import pandas as pd

    rows = []
    for spec in specs:
        p = spec.problem.params
        ev = events(ctx, spec)
        traces = replica_traces(ctx, spec)
        for (rep, tr), rho in zip(traces, rhos_of(spec), strict=True):
            e = ev[int(rep["replica"])]
            T = thm42_T(math.log(rho), p["delta"], ETA_FIG3, 1.0)
            rows.append({"kappa": p["kappa"], "delta": p["delta"], "m": p["m"], "seed": spec.data_seed, "rho": rho,
                         "eps": max(float(e["value"]), 1e-300), "T0": int(e["chosen_step"]), "T": T,
                         "op_at_T": value_at(tr, "jiang2023_err_Xr_op", T) if T <= STEPS else math.nan})
    return pd.DataFrame(rows)


def fig3_means(ctx: Context):
    """Means over the X of a point: log10 ε (and its std), T₀, op error at T."""
    df = fig3_rows(ctx)
    df["log_eps"] = np.log10(df["eps"])
    g = df.groupby(["kappa", "delta", "m", "rho"])
    out = g.agg(log_eps=("log_eps", "mean"), log_eps_std=("log_eps", "std"), T0=("T0", "mean"), T=("T", "first"),
                op_at_T=("op_at_T", "mean"), n=("seed", "count")).reset_index()
    return out


def _same(a, b):
    """ρ equality on a log grid (np.isclose's default atol = 1e-8 would merge every ρ below 1e-8)."""
    return np.isclose(a, b, rtol=1e-6, atol=0.0)


def _above_floor(d, floor: float = FLOOR):
    return d[d["log_eps"] > math.log10(floor)]


def fig3_plot(ctx: Context, out_dir: Path) -> list[Path]:
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    g = grids(ctx.quick)
    tab = fig3_means(ctx)
    main = tab[tab["kappa"] == KAPPA]
    fig, axes = new_figure(ncols=2, nrows=2, height=5.4)
    cs = colors(len(g["deltas"]))
    styles = [figstyle.linestyle(i) for i in range(len(g["dims"]))]
    markers = [figstyle.MARKERS[i % len(figstyle.MARKERS)] for i in range(len(g["dims"]))]
    dims_key = [Line2D([], [], color="gray", ls=ls, marker=mk, label=f"m = n = {m}")
                for ls, mk, m in zip(styles, markers, g["dims"], strict=True)]
    for c, d in zip(cs, g["deltas"], strict=True):
        for ls, m in zip(styles, g["dims"], strict=False):
            sel = main[(main["delta"] == d) & (main["m"] == m)].sort_values("rho")
            axes[0].plot(np.log10(sel["rho"]), sel["log_eps"], ls=ls, color=c, marker=".",
                         label=rf"$\delta$ = {d}" if m == g["dims"][0] else None)
    axes[0].set_xlabel(r"$\log_{10} \rho$")
    axes[0].set_ylabel(r"mean $\log_{10} \varepsilon$")
    axes[0].set_title(r"(a) $\varepsilon$ against $\rho$")
    handles, _ = axes[0].get_legend_handles_labels()
    axes[0].legend(handles=handles + dims_key, ncols=2)
    for c, rho in zip(colors(len(CLAIM5_RHOS) + 1), (*CLAIM5_RHOS, 1e-2), strict=True):
        for ls, m in zip(styles, g["dims"], strict=False):
            sel = main[(_same(main["rho"], rho)) & (main["m"] == m)].sort_values("delta")
            axes[1].plot(sel["delta"], sel["log_eps"], ls=ls, color=c, marker=".",
                         label=rf"$\rho$ = {rho:g}" if m == g["dims"][0] else None)
    axes[1].set_xlabel(r"$\delta$")
    axes[1].set_ylabel(r"mean $\log_{10} \varepsilon$")
    axes[1].set_title(r"(b) $\varepsilon$ against $\delta$ at fixed $\rho$")
    handles, _ = axes[1].get_legend_handles_labels()
    axes[1].legend(handles=handles + dims_key, ncols=2)
    ok = _above_floor(main)
    sc = None
    for mk, m in zip(markers, g["dims"], strict=True):
        sel = ok[ok["m"] == m]
        x = (1 / sel["delta"]) * np.log(10.0 ** (-sel["log_eps"]))
        sc = axes[2].scatter(x, sel["T0"], c=sel["delta"], s=12, marker=mk, cmap="viridis", alpha=0.8,
                             vmin=min(g["deltas"]), vmax=max(g["deltas"]), label=f"m = n = {m}")
    if sc is not None:
        fig.colorbar(sc, ax=axes[2], label=r"$\delta$")
    axes[2].set_xlabel(r"$(1/\delta) \ln(1/\varepsilon)$")
    axes[2].set_ylabel(r"$T_0$")
    axes[2].set_title(r"(c) $T_0$ against $(1/\delta)\ln(1/\varepsilon)$, every $\rho$")
    axes[2].legend(title="marker: dimension")
    for c, (rho, d, kap) in zip(colors(len(FIG3D_SETTINGS)), FIG3D_SETTINGS, strict=True):
        sel = tab[_same(tab["rho"], rho) & (tab["delta"] == d) & (tab["kappa"] == kap)].sort_values("m")
        axes[3].errorbar(sel["m"], sel["log_eps"], yerr=sel["log_eps_std"].fillna(0), color=c, marker="o",
                         capsize=3, label=rf"$\rho$ = {rho:g}, $\delta$ = {d}, $\kappa$ = {kap:g}")
    axes[3].set_xscale("log")
    axes[3].set_xticks(g["dims"], [str(m) for m in g["dims"]])  # the dimensions run, not 3×10¹, 4×10¹, …
    axes[3].xaxis.set_minor_formatter(NullFormatter())
    axes[3].set_xlabel("$m = n$")
    axes[3].set_ylabel(r"mean $\log_{10} \varepsilon$ (bars: ±1 std over $X$)")
    axes[3].set_title(r"(d) $\varepsilon$ against the dimension")
    lo, hi = axes[3].get_ylim()
    axes[3].set_ylim(lo, hi + 0.5 * (hi - lo))  # room above the curves for the legend
    axes[3].legend(loc="upper center", fontsize="small")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    suptitle(fig, f"Jiang–Chen–Ding Fig. 3 ({mode(ctx.quick)}): r = 3, k = 10, η = {ETA_FIG3}, σ₃ = 1, σ₄ = 1 − δ, "
                  f"κ = σ₁/σ₃, theory init, " + rf"$\varepsilon = \min_{{t \leq {STEPS}}} \|FG^\top - X_r\|_F / "
                  rf"\|X_r\|_F$, {g['seeds']} random X per point")
    return save(fig, out_dir, "jiang2023-fig3")


def _setting(ctx: Context) -> str:
    g = grids(ctx.quick)
    return (f"r = 3, k = 10, η = 0.25, κ = {KAPPA:g}, m = n ∈ {g['dims']}, δ ∈ {g['deltas']}, ρ = 1e-2 … "
            f"{min(g['rhos']):.0e}, {g['seeds']} X per point, theory init, {STEPS} steps, {mode(ctx.quick)} mode")


@claim(
    id="jiang2023-claim4", paper=PAPER, figure="jiang2023-fig3", specs=fig3_specs,
    kind="experiment", source={"section": "§5.2, Fig. 3a",
                     "quote": "The results in Figure 3a verify the relation  $\\log \\epsilon \\propto \\log \\rho$  for fixed  "
                     "$\\delta$ ."},
    statement="For fixed δ, log ε is linear in log ρ (Fig. 3a); Thm 4.2 bounds ε by ρ^{δ/(2(2−δ))}, i.e. ρ ≲ "
              "ε^{1/δ} up to constants.",
    paper_value="linear (no slope given); theorem exponent δ/(2(2−δ)) (an upper bound's rate)",
    criterion=f"Per δ (κ = 2): least squares of mean log₁₀ ε on log₁₀ ρ over all m and ρ above the floor 1e-13. "
              f"Reproduced when every δ has R² ≥ {R2_LINEAR} and slope ≥ δ/(2(2−δ)) (the bound's rate holds); "
              f"partly reproduced when R² ≥ {R2_LINEAR} everywhere but some slope is below the exponent, or the "
              "slopes hold but some R² does not; not reproduced when neither holds.",
    thresholds={"floor": Threshold(FLOOR, low=1e-14, high=1e-11, reason="the flat part below ρ ≈ 1e-15 'is due to "
                                   "numerical precision limits': points from 1e-14 to 1e-11 up"),
                "R2": Threshold(R2_LINEAR, low=0.95, high=0.99, reason="'linear': a line through ten ρ leaves "
                                "1–5 % of the variance to the curvature near the floor")},
)
def claim4(ctx: Context) -> Outcome:
    tab = _above_floor(fig3_means(ctx), ctx.threshold("floor"))
    tab = tab[tab["kappa"] == KAPPA]
    measured, versus = {}, {}
    lin, rate = True, True
    for d, gd in tab.groupby("delta"):
        if gd["rho"].nunique() < 3:
            measured[f"delta={d}: too few points above the floor"] = int(len(gd))
            continue
        a, _, r2 = fit_line(np.log10(gd["rho"]), gd["log_eps"])
        lin &= r2 >= ctx.threshold("R2")
        rate &= a >= thm42_exponent(d)
        measured[f"delta={d}: slope, R², theorem exponent, heuristic 2δ/(2−δ)"] = [
            round(a, 3), round(r2, 4), round(thm42_exponent(d), 3), round(heuristic_eps_exponent(d), 3)]
        versus[f"slope d log ε / d log ρ at δ={d}"] = {"paper": f"≥ {thm42_exponent(d):.3f} (Thm 4.2 exponent)",
                                                        "ours": round(a, 3)}
    verdict = "reproduced" if lin and rate else "partly reproduced" if lin or rate else "not reproduced"
    return Outcome(measured=measured, verdict=verdict, setting=_setting(ctx), versus=versus,
                   note="The fitted slope is compared with the theorem's exponent (a bound: a larger slope is "
                        "consistent) and with notes-002's heuristic 2δ/(2−δ) (4× the exponent), not judged.")


@claim(
    id="jiang2023-claim5", paper=PAPER, figure="jiang2023-fig3", specs=fig3_specs,
    kind="experiment", source={"section": "§5.2, Fig. 3b",
                     "quote": "Figure 3b verifies  $\\log \\epsilon \\propto -\\delta$  for fixed  $\\rho$ ."},
    statement="For fixed ρ, ε decreases as the gap δ grows, log ε linearly in δ (Fig. 3b: 'log ε ∝ −δ').",
    paper_value="log ε linear and decreasing in δ (no slope given)",
    criterion=f"At ρ ∈ {CLAIM5_RHOS} (κ = 2, mean over m and X, points above the floor, ≥ 3 δ): reproduced when "
              f"log ε strictly decreases with δ (Kendall τ = −1) and a line in δ has R² ≥ {R2_DELTA}; partly "
              "reproduced when it decreases but R² is lower; not reproduced when it does not decrease.",
    thresholds={"floor": Threshold(FLOOR, low=1e-14, high=1e-11, reason="the flat part below ρ ≈ 1e-15 'is due to "
                                   "numerical precision limits': points from 1e-14 to 1e-11 up"),
                "R2": Threshold(R2_DELTA, low=0.9, high=0.98, reason="'log ε ∝ −δ' on 3–7 gaps: a line up to the "
                                "mild convexity the scalar model predicts")},
)
def claim5(ctx: Context) -> Outcome:
    tab = _above_floor(fig3_means(ctx), ctx.threshold("floor"))
    tab = tab[tab["kappa"] == KAPPA]
    measured, verdicts = {}, []
    for rho in CLAIM5_RHOS:
        sel = tab[_same(tab["rho"], rho)].groupby("delta")["log_eps"].mean()
        if len(sel) < 3:
            measured[f"rho={rho:g}: too few δ above the floor"] = int(len(sel))
            verdicts.append("inconclusive")
            continue
        tau = kendall_tau(sel.index.to_numpy(), sel.to_numpy())
        a, _, r2 = fit_line(sel.index.to_numpy(), sel.to_numpy())
        measured[f"rho={rho:g}: mean log10 ε per δ"] = {f"{d:g}": round(v, 3) for d, v in sel.items()}
        measured[f"rho={rho:g}: slope d log10 ε/dδ, R², Kendall τ"] = [round(a, 3), round(r2, 4), round(tau, 3)]
        verdicts.append("not reproduced" if tau > -1 + 1e-9 else "reproduced" if r2 >= ctx.threshold("R2")
                        else "partly reproduced")
    order = ("not reproduced", "inconclusive", "partly reproduced", "reproduced")
    verdict = next(v for v in order if v in verdicts)
    return Outcome(measured=measured, verdict=verdict, setting=_setting(ctx),
                   note="notes-002's heuristic ε ≈ ρ^{2δ/(2−δ)} predicts a mildly convex log ε in δ, not a line.")


@claim(
    id="jiang2023-claim6", paper=PAPER, figure="jiang2023-fig3", specs=fig3_specs,
    kind="experiment", source={"section": "§5.2, Fig. 3c",
                     "quote": "Figure 3c verifies  $T_0 \\propto \\frac{1}{\\delta} \\log \\frac{1}{\\epsilon}$ ."},
    statement="The iteration count scales like T₀ ∝ (1/δ)·log(1/ε) (Fig. 3c; Thm 4.2's O((1/(δησ_r)) log(κ/(δε))).",
    paper_value="linear (no slope given); heuristic slope 1/(ησ_r) = 4 (notes-002, not the paper)",
    criterion=f"Least squares of mean T₀ on (1/δ)·ln(1/ε) over every (δ, m, ρ) point above the floor (κ = 2). "
              f"Reproduced when R² ≥ {R2_T0}; partly reproduced when 0.8 ≤ R² < {R2_T0}; not reproduced below.",
    thresholds={"floor": Threshold(FLOOR, low=1e-14, high=1e-11, reason="the flat part below ρ ≈ 1e-15 'is due to "
                                   "numerical precision limits': points from 1e-14 to 1e-11 up"),
                "R2": Threshold(R2_T0, low=0.9, high=0.98, reason="'T₀ ∝ (1/δ) log(1/ε)' over a few hundred noisy "
                                "points: a line leaving 2–10 % of the variance"),
                "R2 partly": Threshold(0.8, low=0.7, high=0.9, reason="a line that still explains most of the "
                                       "variance")},
)
def claim6(ctx: Context) -> Outcome:
    tab = _above_floor(fig3_means(ctx), ctx.threshold("floor"))
    tab = tab[tab["kappa"] == KAPPA]
    x = (1 / tab["delta"]) * (-tab["log_eps"] * math.log(10))
    a, b, r2 = fit_line(x, tab["T0"])
    verdict = ("reproduced" if r2 >= ctx.threshold("R2") else "partly reproduced" if r2 >= ctx.threshold("R2 partly")
               else "not reproduced")
    return Outcome(measured={"slope": round(a, 3), "intercept": round(b, 2), "R²": round(r2, 4), "points": len(tab)},
                   verdict=verdict, setting=_setting(ctx),
                   versus={"slope of T₀ on (1/δ)ln(1/ε)": {"paper": "not given (heuristic 1/(ησ_r) = 4)",
                                                           "ours": round(a, 3)}})


@claim(
    id="jiang2023-claim7", paper=PAPER, figure="jiang2023-fig3", specs=fig3_specs,
    kind="experiment", source={"section": "§5.2, Fig. 3d",
                     "quote": "In all these plots, the the curves for different dimensions  $m = n$ overlap, which is "
                     "consistent with the (near) dimension-independent results in Theorem 4.2. Finally, Figure 3d "
                     "shows that with a single fixed stepsize  $\\eta = 0.25$ , the error  $\\epsilon$  is largely "
                     "independent of the dimension  $m = n$"},
    statement="ε and T₀ do not depend on the dimension m = n at a fixed step η = 0.25 (Fig. 3d; Fig. 3a–c curves "
              "for different m overlap), unlike [YD21]'s poly(m+n) iteration count.",
    paper_value="ε largely independent of m (no numbers); [YD21]: iterations ∝ (m+n)²",
    criterion=f"For each (ρ, δ, κ) of panel d: slopes of mean log ε and of log mean T₀ on log m. Reproduced when "
              f"every |slope of ε| ≤ {DIM_SLOPE_EPS} and every |slope of T₀| ≤ {DIM_SLOPE_T0}; partly reproduced "
              "when only the T₀ part holds; not reproduced when some |slope of T₀| exceeds it.",
    thresholds={"eps slope": Threshold(DIM_SLOPE_EPS, low=0.3, high=0.7, reason="'largely independent of the "
                                       "dimension': ε changing by less than a factor 2^0.3–2^0.7 per doubling of m"),
                "T0 slope": Threshold(DIM_SLOPE_T0, low=0.05, high=0.2, reason="dimension-free against [YD21]'s "
                                      "slope 2: a T₀ growth of 3–15 % per doubling of m")},
)
def claim7(ctx: Context) -> Outcome:
    tab = fig3_means(ctx)
    measured, versus = {}, {}
    ok_eps, ok_t = True, True
    eps_slopes = []
    for rho, d, kap in FIG3D_SETTINGS:
        sel = tab[_same(tab["rho"], rho) & (tab["delta"] == d) & (tab["kappa"] == kap)].sort_values("m")
        se = fit_line(np.log(sel["m"]), sel["log_eps"] * math.log(10))[0]
        st = fit_line(np.log(sel["m"]), np.log(sel["T0"]))[0]
        eps_slopes.append(se)
        ok_eps &= abs(se) <= ctx.threshold("eps slope")
        ok_t &= abs(st) <= ctx.threshold("T0 slope")
        key = f"rho={rho:g}, delta={d}, kappa={kap:g}"
        measured[f"{key}: slope ln ε / ln m, slope ln T0 / ln m"] = [round(se, 3), round(st, 3)]
        measured[f"{key}: ε per m"] = {int(m): float(f"{10**v:.3g}") for m, v in zip(sel["m"], sel["log_eps"],
                                                                                   strict=True)}
        measured[f"{key}: T0 per m"] = {int(m): round(v, 1) for m, v in zip(sel["m"], sel["T0"], strict=True)}
        versus[f"slope of T₀ in m, {key}"] = {"paper": "0 (dimension-free); [YD21]: 2", "ours": round(st, 3)}
    verdict = "reproduced" if ok_eps and ok_t else "partly reproduced" if ok_t else "not reproduced"
    return Outcome(measured=measured, verdict=verdict, setting=_setting(ctx) + f", κ ∈ {{{KAPPA:g}, {KAPPA_D:g}}}",
                   versus=versus,
                   note="The theory init's entry scale ρ√σ_1/(3√(m+n+k)) shrinks with m; with ε ≈ ρ_eff^s "
                        "(s = 2δ/(2−δ)) the scalar-model reading expected ε to fall slightly with m (slope ≈ −s/2), "
                        f"written before the runs. Measured ε slopes range from {min(eps_slopes):.2f} to "
                        f"{max(eps_slopes):.2f}.")


@claim(
    id="jiang2023-claim8", paper=PAPER, figure="jiang2023-fig3", specs=fig3_specs,
    kind="theorem", source={"section": "Thm 4.2 (§4.1)",
                     "quote": "Then, for all  $t$  such that  $(1 - c'\\underline{\\delta})T \\leq t \\leq T$ , we have"},
    statement="Thm 4.2: for t in [(1 − c'δ)T, T], T = ⌊ln(ρ^{δ/(2(2−δ))}/ρ)/ln(1 + (1−δ)ησ_r)⌋, ‖F_tG_tᵀ − X_r‖ ≤ "
              "εσ_1; (A.3) makes ε explicit: (8 + 4√(2r))ρ^{δ/(2(2−δ))}. A table of T against the observed T₀.",
    paper_value="T as above; (A.3) bound; window ≥ δ(1+2δ)/(6(4−3δ))·T (A.2)",
    criterion=f"Per (δ, ρ ∈ {CLAIM8_RHOS}, m) with T ≤ {STEPS} (κ = 2): ‖F_TG_Tᵀ − X_r‖/σ_1 (mean over X, the last "
              f"logged step ≤ T) against (A.3)'s bound, and T₀/T. Reproduced when the bound holds at every row and "
              f"every T₀/T ∈ [{T_RATIO[0]}, {T_RATIO[1]}]; partly reproduced when the bound holds but some ratio "
              "does not; not reproduced when the bound fails at some row.",
    thresholds={"ratio low": Threshold(T_RATIO[0], low=0.4, high=0.67, reason="T is the end of Thm 4.2's window: "
                                       "T₀ within a factor 1.5–2.5 of it"),
                "ratio high": Threshold(T_RATIO[1], low=1.25, high=2.0, reason="T is the end of Thm 4.2's window: "
                                        "T₀ within a factor 1.25–2 above it")},
)
def claim8(ctx: Context) -> Outcome:
    tab = fig3_means(ctx)
    tab = tab[(tab["kappa"] == KAPPA) & tab["rho"].apply(lambda r: any(_same(r, x) for x in CLAIM8_RHOS))]
    g = grids(ctx.quick)
    rows, bound_ok, ratio_ok = {}, True, True
    for (d, rho), gd in tab.groupby(["delta", "rho"]):
        T = int(gd["T"].iloc[0])
        if T > STEPS:
            rows[f"delta={d}, rho={rho:g}"] = f"T = {T} beyond the {STEPS}-step budget"
            continue
        bound = math.exp(log_error_bound_A3(math.log(rho), d, R_TARGET, KAPPA)) / KAPPA
        op = float(gd["op_at_T"].max())
        t0 = float(gd["T0"].mean())
        bound_ok &= op <= bound
        ratio_ok &= ctx.threshold("ratio low") <= t0 / T <= ctx.threshold("ratio high")
        rows[f"delta={d}, rho={rho:g}: T, T0 (mean over m), T0/T, window start (A.2), op err at T (worst m), "
             f"A.3 bound"] = [T, round(t0, 1), round(t0 / T, 3), round((1 - window_fraction(d)) * T, 1),
                              float(f"{op:.3g}"), float(f"{bound:.3g}")]
    gamma = 1 - 0.4
    m = max(g["dims"])
    a1 = thmA1_log_rho_max(gamma, m, m, K, R_TARGET, KAPPA, 1.0)
    rows["Thm A.1 at δ = 0.4, κ = 2, m = n = " + str(m) + ": η_max, log10 ρ_max (used: η = 0.25, ρ ≥ 1e-20)"] = [
        float(f"{thmA1_eta_max(gamma, KAPPA, 1.0):.3g}"), round(a1["log_rho_max"] / math.log(10), 1)]
    verdict = ("reproduced" if bound_ok and ratio_ok else "partly reproduced" if bound_ok else "not reproduced")
    return Outcome(measured=rows, verdict=verdict, setting=_setting(ctx),
                   note="The experiments run far outside the theorem's conditions (η and ρ above; A.1's ρ bound "
                        "is astronomically small), so the table tests the formulas where they are used in practice.")


FIGURES = [Figure("jiang2023-fig3", PAPER, "ε, ρ, δ, T₀ and dimension", fig3_specs, fig3_plot,
                  setting=("Paper (§5.2): r = 3, k = 10, η = 0.25, m = n, σ₃ = 1; ε = min over t ≤ 500 of ‖F_tG_tᵀ − "
                           "X_r‖_F/‖X_r‖_F and T₀ its argmin, each point averaging 10 random X; grids not given. Ours: σ = "
                           "(κ, (κ+1)/2, 1, 1 − δ), κ = 2 (and 3 in panel d), δ ∈ {0.2, …, 0.8}, m ∈ {25, 50, 100, 200}, ρ "
                           "∈ {10⁻², …, 10⁻²⁰}; quick δ ≤ 0.6, m ∈ {25, 50}, 5 X per point."),
                  paper_reports=("(a) log ε is linear in log ρ at fixed δ, flat below ρ ≈ 10⁻¹⁵ (precision); (b) log ε is "
                                 "linear and decreasing in δ; (c) T₀ ∝ (1/δ) log(1/ε); (d) ε is largely independent of the "
                                 "dimension m = n. The curves of different m overlap; no slopes are given."))]
CLAIMS = [claim4, claim5, claim6, claim7, claim8]
