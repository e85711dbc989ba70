"""The phase-transition study (issue 17, item 6): the probability of exact recovery over a grid of
m/(dr) and r for small-init over-parameterized GD, PSD-projected GD, trace minimization,
ScaledGD(λ) and IPGD+, drawn as heatmaps with the information-theoretic line m = r(2d − r).

``overparam study phase-transition [--quick]`` or :func:`run`; docs/phase_transition.md.

Modules: :mod:`.grid` (cells, trials, threshold, budgets, reference lines), :mod:`.methods` (the
five methods as specs and a stored computation), :mod:`.table` (outcomes, probabilities, the 50%
boundary), :mod:`.plot` (heatmaps), :mod:`.study` (the one call).
"""

from .grid import FULL, METHOD_NAMES, QUICK, Budget, Grid, grid_for, information_line, psd_dof_line
from .methods import METHODS
from .study import StudyResult, plan, run
from .table import boundaries, crossing, outcomes, recovery_table

__all__ = ["FULL", "METHODS", "METHOD_NAMES", "QUICK", "Budget", "Grid", "StudyResult", "boundaries", "crossing",
           "grid_for", "information_line", "outcomes", "plan", "psd_dof_line", "recovery_table", "run"]
