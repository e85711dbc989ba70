"""Li–Ma–Zhang claim 8: Lemma A.1 at finite m — the truncated rank-one measurement operator against
2X + tr(X)·I, uniformly over low-rank X, as a stored computation.

Lemma A.1 (App. A; notes-000 §4.7): for x_i ~ N(0, I_d), A_i = x_ix_iᵀ, R = Θ(log(1/δ)), q, δ ≤ 0.01
and m ≳ d log⁴(d/(qδ))/δ², with probability ≥ 1 − q, for every symmetric X,
‖(1/m) Σ_i ⟨A_i, X⟩ 1{|⟨A_i, X⟩| ≤ R} A_i − 2X − tr(X) I‖ ≤ δ‖X‖_*. The expectation identity
E[⟨xxᵀ, X⟩xxᵀ] = 2X + tr(X) I alone (Isserlis) cannot fail, so the check measures the lemma's actual
content: the supremum over rank-r X (random, and adversarial: aligned with the heaviest samples and
the sample covariance, then a greedy ascent on the deviation) of the normalized spectral deviation,
for several m, against the δ that the paper's theory needs.

Choices where the paper is silent (module constants):

* **X normalization and R** — every X has ‖X‖_* = 1, so R is on the lemma's scale; R = 4 log(1/δ)
  with δ = 0.01 (the lemma's largest δ): Θ(log(1/δ)) with the smallest integer constant for which
  the truncation's own population bias (rank one: E[g⁴ 1{g² > R}] = 7.4×10⁻³) is below δ.
* **The δ the theory needs** — Thm 1.1/1.2's δ ≤ c/(κ³√r log² d) with c = κ = 1 (the most lenient
  reading; the theorem's c is "sufficiently small").
* **The paper's m** — the paper has no Algorithm 1 experiment; Thm 1.2's sample size Õ(d r⁵ κ⁶)
  with constants, logs and κ set to 1 (d r⁵) is the m at which the size is judged. The grid also has
  Fig. 5's m = 5dr and claim 9's m = 20dr.
"""

from __future__ import annotations

import math

import numpy as np

from ...experiments.computations import Computation
from .._shared import fit_line, mode
from ..base import Context, Outcome, Threshold, claim
from .computations import lemma_a1_uniform
from .diagnostics import truncation_bias_rank_one
from .settings import PAPER
from .theory import lemma_a1_delta, rip_delta_needed, thm12_samples

CLAIM8_DELTA = 0.01
CLAIM8_R = 4 * math.log(1 / CLAIM8_DELTA)
CLAIM8_DR = {True: (20, 2), False: (100, 5)}
CLAIM8_EXTRA_M = {True: (3200, 12800), False: (40000,)}
CLAIM8_RANDOM = 8
CLAIM8_ASCENT = 3
#: "falls like 1/√m": the log–log slope over the m where the sup deviation is below 1 in this range
CLAIM8_SLOPE = (-0.7, -0.3)
#: the RIP-like alternative 2X must stay this far from the measurement for PSD X with tr X = 1
CLAIM8_CONTROL_MIN = 0.5


def _m_grid(quick: bool) -> list[int]:
    d, r = CLAIM8_DR[quick]
    return sorted({5 * d * r, 20 * d * r, int(thm12_samples(d, r)), *CLAIM8_EXTRA_M[quick]})


def claim8_computations(quick: bool) -> list[Computation]:
    d, r = CLAIM8_DR[quick]
    return [lemma_a1_uniform.spec(label="li2018-claim8 Lemma A.1 uniform deviation", d=d, r=r, m_grid=_m_grid(quick),
                                  R=CLAIM8_R, n_random=CLAIM8_RANDOM, ascent_steps=CLAIM8_ASCENT, seed=0,
                                  device="cpu")]


@claim(
    id="li2018-claim8", paper=PAPER, figure=None, computations=claim8_computations,
    kind="theorem", source={"section": "Lemma A.1 (App. A)",
                     "quote": "The key observation is that if we truncated the observations properly, then we can make the "
                     "truncated set of these rank-1 measurements satisfy RIP property again."},
    statement="Lemma A.1: with m ≳ d log⁴(d/(qδ))/δ² samples and truncation at R = Θ(log(1/δ)), the truncated "
              "rank-one measurement operator (1/m)Σ⟨x_ix_iᵀ, X⟩1{|⟨x_ix_iᵀ, X⟩| ≤ R}x_ix_iᵀ is within δ‖X‖_* of "
              "2X + tr(X)·I in spectral norm, for every symmetric X (w.p. ≥ 1 − q).",
    paper_value="deviation ≤ δ‖X‖_* once m ≳ d log⁴(d/(qδ))/δ²; Thm 1.2 needs δ ≲ 1/(κ³√r log² d) at "
                "Õ(dr⁵κ⁶) samples",
    criterion="D(m) = sup over the rank-r X set (‖X‖_* = 1) of ‖truncated operator − 2X − tr(X)I‖ at each m. "
              f"Rate: the log–log slope of D on m over the m with D < 1 lies in [{CLAIM8_SLOPE[0]}, {CLAIM8_SLOPE[1]}]. "
              f"Identity term: for PSD X (tr X = 1) the RIP-like 2X stays ≥ {CLAIM8_CONTROL_MIN} from the measurement "
              "at every m. Size: D at Thm 1.2's m (d r⁵; constants, logs, κ = 1) ≤ 1/(√r log² d) (Thm 1.1/1.2's δ, "
              "c = κ = 1). Reproduced when all three hold; partly reproduced when rate and identity term hold but "
              "not the size; not reproduced when the rate or the identity term fails; inconclusive with fewer than "
              "two m where D < 1.",
    criterion_revised="before: a Monte Carlo of the expectation identity (z-scores against 2X + tr(X)I and 2X), "
                      "which could not fail: it verified Isserlis' theorem / after: this criterion, written after "
                      "one exploratory quick-mode run of the new computation (d = 20), which showed that at m where "
                      "D > 1 the deviation falls faster than 1/√m (the d/m term of a heavy-tailed sum), hence the "
                      "rate is fitted where D < 1; before any full-mode run.",
    thresholds={"regime": Threshold(1.0, low=0.5, high=1.0, reason="where the deviation is a concentrated sum, not "
                                    "dominated by the d/m term of a heavy tail: D below 1 or below ½"),
                "slope low": Threshold(CLAIM8_SLOPE[0], low=-0.8, high=-0.6, reason="m^-1/2 (m ∝ 1/δ²) with log "
                                       "factors and a finite sample: ±0.1 around the band's edge"),
                "slope high": Threshold(CLAIM8_SLOPE[1], low=-0.4, high=-0.2, reason="m^-1/2 (m ∝ 1/δ²) with log "
                                        "factors and a finite sample: ±0.1 around the band's edge"),
                "identity gap": Threshold(CLAIM8_CONTROL_MIN, low=0.25, high=0.75, reason="a gap of the order of "
                                          "‖X‖_* = 1 between the measurement and 2X"),
                "size constant": Threshold(1.0, low=0.1, high=10.0, reason="the lemma's and Thm 1.2's constants "
                                           "are not given: set to 1, a decade either way")},
)
def claim8(ctx: Context) -> Outcome:
    comp = ctx.computations(claim8_computations)[0]
    res = ctx.result(comp)
    d, r = res["d"], res["r"]
    per = res["per_m"]
    ms = np.array([p["m"] for p in per], float)
    D = np.array([p["sup_deviation"] for p in per])
    control = min(p["control_2X_min_psd"] for p in per)
    m_thm = int(thm12_samples(d, r))
    at_thm = next(p for p in per if p["m"] == m_thm)
    need = rip_delta_needed(d, r, 1.0)
    regime = D < ctx.threshold("regime")
    measured: dict = {
        f"sup deviation D(m) at m = {', '.join(str(int(m)) for m in ms)}": [float(v) for v in D],
        "untruncated sup deviation at the same m": [p["sup_deviation_untruncated"] for p in per],
        "worst X kind per m": [p["worst_kind"] for p in per],
        "Lemma A.1's guaranteed delta at the same m (constant 1, q = 0.01)": [lemma_a1_delta(m, d) for m in ms],
        "min over PSD X of ||op(X) - 2X|| (RIP-like alternative), over all m": control,
        "largest truncated fraction": max(p["truncated_fraction_max"] for p in per),
        "population truncation bias (rank one) at R": truncation_bias_rank_one(res["R"]),
        f"D at Thm 1.2's m = d r^5 = {m_thm}": at_thm["sup_deviation"],
        "delta needed 1/(sqrt(r) log^2 d)": need,
    }
    if regime.sum() < 2:
        verdict = "inconclusive"
        slope = math.nan
    else:
        slope, icept, r2 = fit_line(np.log(ms[regime]), np.log(D[regime]))
        measured["log-log slope of D on m where D < 1, R^2"] = [slope, r2]
        measured["m where the fitted line reaches the delta needed"] = float(math.exp((math.log(need) - icept) / slope))
        rate = ctx.threshold("slope low") <= slope <= ctx.threshold("slope high")
        identity = control >= ctx.threshold("identity gap")
        size = at_thm["sup_deviation"] <= ctx.threshold("size constant") * need
        verdict = ("reproduced" if rate and identity and size else
                   "partly reproduced" if rate and identity else "not reproduced")
    measured["Lemma A.1's sufficient m for the delta needed (constant 1, q = 0.01)"] = \
        float(d * math.log(d / (0.01 * need)) ** 4 / need**2)
    return Outcome(
        measured=measured, verdict=verdict,
        versus={f"deviation at m = {m_thm} (Thm 1.2's d r⁵)": {"paper": f"≤ δ = {need:.3g} needed", "ours":
                                                               at_thm["sup_deviation"]},
                "decay of the deviation in m": {"paper": "∝ 1/√m (m ∝ 1/δ²)", "ours": slope}},
        setting=f"d = {d}, r = {r}, x_i ~ N(0, I), a fresh sample per m; X: {CLAIM8_RANDOM} random PSD and "
                f"{CLAIM8_RANDOM} indefinite rank-{r}, heaviest-sample and covariance-aligned, {CLAIM8_ASCENT} "
                f"greedy-ascent steps; ‖X‖_* = 1, R = 4 log(1/{CLAIM8_DELTA}) = {res['R']:.3g}; stored computation "
                f"{comp.key()[:12]}; {mode(ctx.quick)} mode",
        note="A supremum over a finite set of X is a lower bound on the lemma's supremum over all X, so the size test "
             "is lenient toward the paper; the identity term is real (the RIP-like 2X never fits), and the "
             "concentration rate is the lemma's. The paper needs the deviation below δ ≈ 1/(κ³√r log² d); the "
             "measured m where that happens is reported beside the lemma's own sufficient m. Verdict change from the "
             "old table: the old check (the exact identity) was 'reproduced' and could not fail.",
    )


CLAIMS = [claim8]
