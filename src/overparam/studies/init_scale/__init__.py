"""The init-scale study: the probability that small-init GD (X = UUᵀ, k = d, U₀ = αI) recovers a
rank-r PSD matrix over the initialization scale α (1 down to 1e-12) and m/(dr), with trace
minimization's 50% boundary beside it.

It runs on the phase-transition study's instances, and a budget check reruns every trial with
2× the steps and reports how many grid cells each boundary moves (at most one: α-limited).

``overparam study init-scale [--quick] [--budget-check]`` or :func:`run`; docs/studies.md.

Modules: :mod:`.grid` (cells, α values, trials, budget), :mod:`.methods` (the batched GD run and the
trace-minimization solve per trial), :mod:`.table` (outcomes, probabilities, boundaries, the budget
check), :mod:`.plot` (heatmaps per r), :mod:`.study` (the one call).
"""

from .grid import ALPHAS, FULL, QUICK, ScaleGrid, grid_for
from .study import InitScaleResult, boundary_matrix, plan, run
from .table import boundaries, budget_shift, changed_outcomes, grid_position, outcomes, recovery_table

__all__ = ["ALPHAS", "FULL", "QUICK", "InitScaleResult", "ScaleGrid", "boundaries", "boundary_matrix", "budget_shift",
           "changed_outcomes", "grid_for", "grid_position", "outcomes", "plan", "recovery_table", "run"]
