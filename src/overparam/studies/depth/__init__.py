"""The depth study: test error and effective rank of deep matrix factorization (N = 1, 2, 3) on matrix
completion against the number of observed entries, from small balanced init, beside the nuclear-norm
minimizer (Arora, Cohen, Hu, Luo 2019, Fig. 2 style).

``overparam study depth [--quick]`` or :func:`run`; docs/studies.md ("Depth").

Modules: :mod:`.grid` (size, rank, depths, entry counts, seeds, init scale, step, budget),
:mod:`.specs` (the runs and the convex reference as stored work), :mod:`.measures` (effective rank,
numerical rank, unobserved-entry error, end-to-end matrix), :mod:`.table` (outcomes, summaries,
the budget check), :mod:`.plot` (the curves), :mod:`.study` (the one call).
"""

from .grid import FULL, QUICK, Budget, Grid, grid_for
from .measures import effective_rank, end_to_end, numerical_rank, unobserved_error
from .specs import nuclear_norm_spec, run_spec
from .study import StudyResult, budget_verdict, plan, run
from .table import budget_changes, outcomes, summary

__all__ = ["FULL", "QUICK", "Budget", "Grid", "StudyResult", "budget_changes", "budget_verdict", "effective_rank",
           "end_to_end", "grid_for", "nuclear_norm_spec", "numerical_rank", "outcomes", "plan", "run", "run_spec",
           "summary", "unobserved_error"]
