"""The phase-transition study: the probability of exact recovery over a grid of
m/(dr) and r for small-init over-parameterized GD (α = 1e-6 and α = 1e-12), PSD-projected GD, trace
minimization, ScaledGD(λ) and IPGD+, drawn as heatmaps with the information-theoretic line
m = r(2d − r); the boundaries at recovery thresholds 1e-2, 1e-3 and 1e-5.

``overparam study phase-transition [--quick]`` or :func:`run`; docs/phase_transition.md.

Modules: :mod:`.grid` (cells, trials, threshold, budgets, reference lines), :mod:`.methods` (the
six methods as specs and a stored computation), :mod:`.table` (outcomes, probabilities, the 50%
boundary at one or several thresholds), :mod:`.plot` (heatmaps), :mod:`.study` (the one call).
"""

from .grid import FULL, METHOD_NAMES, QUICK, Budget, Grid, grid_for, information_line, psd_dof_line
from .methods import METHODS
from .study import StudyResult, plan, run
from .table import THRESHOLDS, boundaries, crossing, outcomes, recovery_table, threshold_boundaries

__all__ = ["FULL", "METHODS", "METHOD_NAMES", "QUICK", "THRESHOLDS", "Budget", "Grid", "StudyResult", "boundaries",
           "crossing", "grid_for", "information_line", "outcomes", "plan", "psd_dof_line", "recovery_table", "run",
           "threshold_boundaries"]
