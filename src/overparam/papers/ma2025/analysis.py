"""Per-replica summaries of stored IPGD+ runs: the quantities Figs. 4–6 and the claims read.

IPGD+ is the recipe ``perturbed_then_plain``: stage 0 is IPGD, stage 1 plain GD from IPGD's output.
When IPGD terminates it returns x̃, the point *before* its last perturbation, and discards the T steps
after it; the trace keeps those steps (they are counted, notes pitfall 4). The cumulative deviation
rate along the path that produced the final point is therefore

    Γ_T = Γ⁽⁰⁾(t_p) + Γ⁽¹⁾(end),

with t_p the step of IPGD's last perturbation (Γ⁽⁰⁾ is recorded there: event steps are always
logged) when IPGD terminated, else Γ⁽⁰⁾ at the end of stage 0; the same for Σ η‖r‖. ‖r₀‖ is the
residual one step after the first perturbation (``ma2025_r0``), so Eq. 127 reads

    log(‖r_T‖/‖r₀‖) ≤ Γ_T + (ρ/2) Σ_t η‖r_t‖.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...experiments.spec import RunSpec
from ..base import Context


@dataclass
class ReplicaSummary:
    instance: str
    replica: int
    radius: float
    status0: str
    ipgd_steps: int  # the step at which IPGD ended (terminated or budget)
    total_steps: int
    perturbations: list[int]
    r0: float
    r_T: float
    dist_T: float
    error_T: float
    Gamma_T: float
    Gamma1_T: float
    rsum_T: float
    singular_values: np.ndarray | None
    rows: object  # the replica's trace rows (both stages), sorted by step
    data_seed: int = 0  # the spec's data seed (operator and X⋆)

    @property
    def log_ratio(self) -> float:
        return math.log(self.r_T / self.r0) if self.r0 > 0 and self.r_T > 0 else math.nan


def _at_or_before(rows, step: int, name: str) -> float:
    sel = rows[rows["step"] <= step]
    return float(sel[name].iloc[-1]) if len(sel) else math.nan


def summarize(ctx: Context, spec: RunSpec) -> list[ReplicaSummary]:
    """One :class:`ReplicaSummary` per replica of a stored IPGD+ spec (derived once per context and its
    views, :meth:`Context.memo`; each call gets its own copy)."""
    from .._shared import _missing

    key = spec.key()
    if not ctx.has(key):
        raise _missing(spec)
    return ctx.memo(("ma2025.summarize", key), lambda: _summarize(ctx, spec))


def _summarize(ctx: Context, spec: RunSpec) -> list[ReplicaSummary]:
    run = ctx.store.load(spec.key())
    tr = run.trace()
    events = run.meta.get("events", []) if isinstance(run.meta, dict) else run.meta().get("events", [])
    radii = (spec.component_params("algorithm") or {}).get("radius")
    out = []
    for rep in run.summary:
        i = int(rep["replica"])
        rows = tr[tr["replica"] == i].sort_values(["step", "stage"]).reset_index(drop=True)
        s0 = rows[rows["stage"] == 0]
        s1 = rows[rows["stage"] == 1]
        perts = sorted(int(e["step"]) for e in events if e["replica"] == i and e["kind"] == "perturbation")
        terminated = any(e["replica"] == i and e["kind"] == "terminated" for e in events)
        end0 = int(s0["step"].iloc[-1])
        cut = perts[-1] if (terminated and perts) else end0
        s0_cut = s0[s0["step"] <= cut]
        last = rows.iloc[-1]

        def total(name: str, s0_cut=s0_cut, s1=s1) -> float:
            if name not in s0_cut.columns:
                return math.nan
            a = float(s0_cut[name].iloc[-1]) if len(s0_cut) else 0.0
            b = float(s1[name].iloc[-1]) if len(s1) else 0.0
            return a + b

        sv = None
        if "singular_values" in rows.columns:
            v = last["singular_values"]
            sv = np.asarray(v, dtype=float) if v is not None else None
        r0 = s0["ma2025_r0"].dropna() if "ma2025_r0" in s0.columns else s0["step"].iloc[:0]

        def final(name: str, last=last) -> float:
            return float(last[name]) if name in last.index else math.nan

        radius = float(radii[i]) if isinstance(radii, list) else float(radii if radii is not None else math.nan)
        out.append(ReplicaSummary(
            instance=spec.tags.get("instance", spec.problem.name), replica=i, radius=radius,
            status0="terminated" if terminated else "budget", ipgd_steps=end0, total_steps=int(last["step"]),
            perturbations=perts, r0=float(r0.iloc[0]) if len(r0) else math.nan,
            r_T=final("ma2025_residual"), dist_T=final("ma2025_dist"), error_T=final("ma2025_error"),
            Gamma_T=total("ma2025_Gamma"), Gamma1_T=total("ma2025_Gamma1"), rsum_T=total("ma2025_rsum"),
            singular_values=sv, rows=rows, data_seed=spec.data_seed))
    return out


def agreeing_digits(a: float, b: float) -> float:
    """−log10(|a − b| / max(|a|, |b|)) (16 when equal)."""
    den = max(abs(a), abs(b))
    if den == 0 or a == b:
        return 16.0
    return float(-math.log10(abs(a - b) / den))


def numerical_rank(sv: np.ndarray | None, tol: float) -> int:
    """#{σ_i(X) > tol}."""
    if sv is None:
        return -1
    return int(np.sum(np.asarray(sv) > tol))


def kept_path(rep: ReplicaSummary):
    """The trace rows of the path that produced IPGD+'s output, with a continuous step count: IPGD's
    rows up to the iterate it returned (its last perturbation's step t_p when it terminated, else its
    last step), then GD's rows shifted back by the discarded escape window (the steps after t_p that
    IPGD threw away: GD restarts from the iterate at t_p)."""
    rows = rep.rows
    s0, s1 = rows[rows["stage"] == 0], rows[rows["stage"] == 1]
    end0 = int(s0["step"].iloc[-1]) if len(s0) else 0
    cut = rep.perturbations[-1] if (rep.status0 == "terminated" and rep.perturbations) else end0
    s1 = s1.assign(step=s1["step"] - (end0 - cut))
    import pandas as pd

    return pd.concat([s0[s0["step"] <= cut], s1], ignore_index=True)


def floor_rate(rows, name: str = "ma2025_dist", floor: str = "ma2025_residual", hi: float = 1e-1,
               factor: float = 10.0):
    """Fit log10(name) against the step on the window from the first step after which the value stays
    ≤ ``hi`` to the first step with value ≤ ``factor`` × the final value of ``floor`` (the end of the
    rows when none is): (decades per 100 steps, R², decades spanned, window). ``None`` when the
    window has fewer than 3 points. ("Stays": the asymmetric first-order distance is 0 at the zero
    start, a degenerate value of its formula, and huge while the signal is tiny.)"""
    from .._shared import fit_line

    v = rows[name].to_numpy(dtype=float)
    s = rows["step"].to_numpy(dtype=float)
    end = factor * float(rows[floor].to_numpy(dtype=float)[-1])
    above = np.flatnonzero(~(v <= hi))
    i0 = int(above[-1]) + 1 if above.size else 0
    if i0 >= v.size:
        return None
    stop = np.flatnonzero((v <= end) & (np.arange(v.size) >= i0))
    i1 = int(stop[0]) if stop.size else v.size - 1
    if i1 - i0 + 1 < 3:
        return None
    x, y = s[i0:i1 + 1], np.log10(np.maximum(v[i0:i1 + 1], 1e-300))
    a, _, r2 = fit_line(x, y)
    return -100.0 * a, r2, float(y[0] - y[-1]), (int(x[0]), int(x[-1]))
