"""Outcomes, recovery probabilities, the 50% boundary per (α, r), and the budget check.

* :func:`outcomes` reads the trials back (the phase-transition study's reader,
  :func:`overparam.studies.phase_transition.outcomes`) and names each replica by its α.
* :func:`recovery_table` and :func:`boundaries`: the phase-transition study's functions grouped by
  (α, r, m/(dr)) and (α, r): probability = recovered / trials, the boundary where it crosses ½ for
  good (linear interpolation after the last grid point below ½; ``bound`` "below" / "above" the grid).
* :func:`grid_position` and :func:`budget_shift`: how far (in grid cells) the boundary moves when
  every run gets ``check_factor`` × the steps. A boundary at grid ratio x_i is at position i, one
  interpolated between x_i and x_{i+1} at the fraction between them; "below the grid" is position 0
  (the first ratio), "above the grid" is position n (one cell past the last of the n ratios). The
  check passes for (α, r) when the two positions differ by at most one cell.
"""

from __future__ import annotations

import math

import numpy as np

from ..phase_transition import table as pt_table

BY = ("alpha", "r", "ratio")
MAX_SHIFT = 1.0  # grid cells


def outcomes(store, work, alphas: tuple[float, ...]):
    """One row per (α, r, ratio, trial) for the GD runs in ``work`` (``(method, r, ratio, m,
    data_seed, spec)``), with ``alpha = alphas[replica]``."""
    df = pt_table.outcomes(store, work)
    df = df.assign(alpha=[float(alphas[i]) for i in df["replica"]])
    return df


def recovery_table(df, threshold: float):
    """Per (α, r, ratio): m, trials, recovered, probability, median error; α largest first."""
    out = pt_table.recovery_table(df, threshold, by=BY)
    return out.sort_values(["r", "alpha", "ratio"], ascending=[True, False, True], kind="stable").reset_index(drop=True)


def boundaries(table, d: int, trace_min=None):
    """Per (α, r): the 50% boundary (``boundary_ratio``, ``bound``, ``boundary_m``), the two
    counting lines, and — given ``trace_min`` (the phase-transition boundaries table of the
    trace-minimization solves) — the trace-minimization boundary of the same r
    (``trace_min_ratio``, ``trace_min_bound``)."""
    b = pt_table.boundaries(table, d, by=("alpha", "r"))
    if trace_min is not None and len(trace_min):
        tm = trace_min.set_index("r")
        b["trace_min_ratio"] = [float(tm.loc[r, "boundary_ratio"]) if r in tm.index else math.nan for r in b["r"]]
        b["trace_min_bound"] = [str(tm.loc[r, "bound"]) if r in tm.index else "" for r in b["r"]]
    return b


def grid_position(value: float, bound: str, ratios) -> float:
    """The boundary's position on the grid in cells (module docstring)."""
    x = np.sort(np.asarray(ratios, dtype=float))
    if bound == "above" or not math.isfinite(value):
        return float(len(x))
    if bound == "below":
        return 0.0
    return float(np.interp(value, x, np.arange(len(x), dtype=float)))


def budget_shift(base, doubled, ratios, factor: int = 2):
    """Per (α, r): the boundary at the study's budget and at ``factor`` × it, and how many grid cells
    it moved (``shift_cells``; ``ok`` when ≤ :data:`MAX_SHIFT`). ``base`` and ``doubled`` are
    :func:`boundaries` tables of the same grid."""
    import pandas as pd

    other = doubled.set_index(["alpha", "r"])
    rows = []
    for row in base.itertuples(index=False):
        o = other.loc[(row.alpha, row.r)]
        p0 = grid_position(row.boundary_ratio, row.bound, ratios)
        p1 = grid_position(float(o["boundary_ratio"]), str(o["bound"]), ratios)
        shift = abs(p1 - p0)
        rows.append({"alpha": row.alpha, "r": row.r, "boundary_ratio": row.boundary_ratio, "bound": row.bound,
                     f"boundary_ratio_x{factor}": float(o["boundary_ratio"]), f"bound_x{factor}": str(o["bound"]),
                     "shift_cells": shift, "ok": bool(shift <= MAX_SHIFT)})
    return pd.DataFrame(rows)


def changed_outcomes(df, df_doubled, threshold: float):
    """Per (α, r): how many trials' recovered / not recovered verdict differs between the two budgets."""
    import pandas as pd

    keys = ["alpha", "r", "ratio", "trial"]
    a = df.assign(ok=df["error"].lt(threshold))[[*keys, "ok"]]
    b = df_doubled.assign(ok2=df_doubled["error"].lt(threshold))[[*keys, "ok2"]]
    j = a.merge(b, on=keys, how="inner")
    j["changed"] = j["ok"] != j["ok2"]
    j["gained"] = ~j["ok"] & j["ok2"]
    out = j.groupby(["alpha", "r"], sort=False).agg(changed=("changed", "sum"), gained=("gained", "sum"))
    return pd.DataFrame(out.reset_index()).astype({"changed": int, "gained": int})


__all__ = ["BY", "MAX_SHIFT", "boundaries", "budget_shift", "changed_outcomes", "grid_position", "outcomes",
           "recovery_table"]
