"""The grid of the init-scale study: dimension d, ranks r, sample ratios m/(dr) (on the
phase-transition grid), initialization scales α, trials, GD's step budget and the recovery
threshold, in quick and full mode.

A cell is (α, r, m/(dr)) with m = round(m/(dr) · d · r), exactly as in the phase-transition study
(:class:`overparam.studies.phase_transition.Grid`, which :meth:`ScaleGrid.base` builds), so that a
trial (one data seed: one Gaussian operator and one planted X⋆) is the same instance in both
studies, and the trace-minimization solves of the phase-transition study are this study's (same
settings, same stored keys). The α values of one trial run as replicas of one GD run on that
operator (``replicas.init.alpha``), so a cell (r, m/(dr)) costs one batched run per trial whatever
the number of α values.

Recovery: ‖X̂ − X⋆‖_F/‖X⋆‖_F < ``threshold`` (default 1e-2) after at most ``steps`` GD steps,
applied when the table is read (changing it recomputes nothing). The budget check reruns every
trial with ``check_factor`` × ``steps`` (:mod:`.study`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ...experiments.errors import SpecError
from ..phase_transition import FULL as PT_FULL
from ..phase_transition import QUICK as PT_QUICK
from ..phase_transition import Budget, Grid

#: α from 1 down to 1e-12: every decade to 1e-4, then every second decade.
ALPHAS = (1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12)


@dataclass(frozen=True)
class ScaleGrid:
    """Everything that decides the study's numbers (module docstring). ``convex``: also solve (or
    read) trace minimization on every trial, for its 50% boundary."""

    d: int
    ranks: tuple[int, ...]
    ratios: tuple[float, ...]
    alphas: tuple[float, ...]
    trials: int
    steps: int = 5000
    threshold: float = 1e-2
    check_factor: int = 2
    convex: bool = True
    label: str = "custom"

    def __post_init__(self):
        if not self.alphas or any(not (0 < a and math.isfinite(a)) for a in self.alphas):
            raise SpecError(f"grid.alphas = {list(self.alphas)}: accepted: a non-empty list of numbers alpha > 0")
        if self.steps < 1:
            raise SpecError(f"grid.steps = {self.steps}: accepted: integers >= 1")
        if self.check_factor < 2:
            raise SpecError(f"grid.check_factor = {self.check_factor}: accepted: integers >= 2")
        object.__setattr__(self, "alphas", tuple(sorted({float(a) for a in self.alphas}, reverse=True)))
        b = self.base()  # validates d, ranks, ratios, trials, threshold; sorts ranks and ratios
        object.__setattr__(self, "ranks", b.ranks)
        object.__setattr__(self, "ratios", b.ratios)

    def base(self, steps: int | None = None) -> Grid:
        """The phase-transition grid of the same cells and trials (GD's budget ``steps``, default
        :attr:`steps`): its builders make this study's runs and solves."""
        return Grid(d=self.d, ranks=self.ranks, ratios=self.ratios, trials=self.trials, threshold=self.threshold,
                    methods=("gd", "nuclear_norm"), budget=Budget(gd=self.steps if steps is None else steps),
                    label=self.label)

    def m(self, r: int, ratio: float) -> int:
        return self.base().m(r, ratio)

    def cells(self) -> list[tuple[int, float, int]]:
        """(r, ratio, m) for every (r, m/(dr)), rank-major; each holds every α."""
        return self.base().cells()

    def with_(self, **changes) -> ScaleGrid:
        return replace(self, **changes)


#: Quick mode (≤ 5 minutes on 2 cores): d = 10 (the phase-transition quick grid's d), r = 1..3,
#: m/(dr) = 0.5 … 3 in steps of 0.25, 9 α values, 4 trials, 3000 steps (the phase-transition quick
#: GD budget).
QUICK = ScaleGrid(d=PT_QUICK.d, ranks=(1, 2, 3), ratios=tuple(0.5 + 0.25 * i for i in range(11)), alphas=ALPHAS,
                  trials=4, steps=PT_QUICK.budget.gd, label="quick")

#: Full mode: d = 30, r = 1..3, m/(dr) = 0.5 … 3 in steps of 0.25 (the phase-transition full grid's
#: ratios up to 3), 9 α values, 10 trials, 5000 steps (the phase-transition full GD budget).
FULL = ScaleGrid(d=PT_FULL.d, ranks=(1, 2, 3), ratios=tuple(x for x in PT_FULL.ratios if x <= 3.0), alphas=ALPHAS,
                 trials=10, steps=PT_FULL.budget.gd, label="full")


def grid_for(quick: bool) -> ScaleGrid:
    return QUICK if quick else FULL


__all__ = ["ALPHAS", "FULL", "QUICK", "ScaleGrid", "grid_for"]
