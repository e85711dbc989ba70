"""GLRL and GD against the minimum-trace solution: whether small-init GD follows greedy low-rank learning
(Li, Luo, Lyu 2021) or ends at the minimum-trace solution (Gunasekar et al. 2017), on both sides of the
trace-minimization threshold.

``overparam study glrl [--quick]`` or :func:`run`; docs/studies.md. Modules: :mod:`.settings` (quick
and full), :mod:`.work` (GD and GLRL runs, the minimum-trace solutions and GD-against-GLRL as stored
computations), :mod:`.claim` (the extension claim, judged by the claims layer), :mod:`.plot` (two
figures), :mod:`.study` (the one call). The GLRL algorithm itself is the recipe ``glrl``
(:mod:`overparam.recipes.glrl`).
"""

from .claim import CLAIMS, claim1
from .settings import FULL, QUICK, Settings, settings_for
from .study import StudyResult, closest_approach, run

__all__ = ["CLAIMS", "FULL", "QUICK", "Settings", "StudyResult", "claim1", "closest_approach", "run", "settings_for"]
