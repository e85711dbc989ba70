"""The grid of the depth study: size d × d, true rank r, depths N, numbers of observed entries m,
data seeds, the initialization scale, the step, the budget and the reading thresholds.

A cell is (N, m); a trial is one data seed (one ground truth X⋆ and one set Ω of m observed entries,
both drawn from it). Every depth sees the same instances (the same X⋆ and Ω for a given (m, seed)).

Budget: each run takes at most ``budget.steps`` GD steps and stops once its relative training error
‖P_Ω(X − X⋆)‖_F / ‖P_Ω(X⋆)‖_F falls to ``budget.target_train_error`` (default 10⁻³: Arora et al.'s
code stops at a mean squared training error of 10⁻⁶ on entries of RMS 1, the same relative fit).
The budget check (``budget_check``) reruns the first ``check_seeds`` trials of every cell trained
further — 2× the steps *and* a training-error target ``budget.check_target_factor`` (10) times lower
— and reports how much the read-out numbers (unobserved-entry error, effective rank, numerical
rank) move. (With the same target, 2× the steps alone would repeat every run that stopped at the
target step for step.)

Step size: plain GD with one η for every depth. For N = 1 the observed entries contract by
(1 − η/p) per step (loss 1/(2p)), so η < 2p = 2m/d² is needed at the smallest m; the grid checks it.

Reading: the numerical rank counts σ_i(X) > ``rank_fraction`` · σ_1(X); like the effective rank it is
computed from the stored final factors when the table is read, so changing it recomputes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ...experiments.errors import SpecError

#: Depths the study knows: N = 1 is GD on X itself (param ``direct``), N ≥ 2 the product W_N⋯W_1.
MAX_DEPTH = 6


@dataclass(frozen=True)
class Budget:
    """At most ``steps`` GD steps per run; a run stops once ‖P_Ω(X − X⋆)‖/‖P_Ω X⋆‖ ≤ ``target_train_error``."""

    steps: int = 6000
    target_train_error: float = 1e-3
    check_target_factor: float = 10.0


@dataclass(frozen=True)
class Grid:
    """Everything that decides the study's numbers (module docstring and :mod:`.specs`)."""

    d: int
    r: int
    entries: tuple[int, ...]
    depths: tuple[int, ...] = (1, 2, 3)
    seeds: int = 3
    scale: float = 1e-3
    eta: float = 0.2
    budget: Budget = field(default_factory=Budget)
    rank_fraction: float = 1e-2
    nuclear: bool = True
    budget_check: bool = True
    check_seeds: int | None = None
    label: str = "custom"

    def __post_init__(self):
        if self.d < 2:
            raise SpecError(f"grid.d = {self.d}: accepted: integers >= 2")
        if not 1 <= self.r <= self.d:
            raise SpecError(f"grid.r = {self.r}: accepted: integers in 1..d = {self.d}")
        if not self.entries or any(not 1 <= m <= self.d * self.d for m in self.entries):
            raise SpecError(f"grid.entries = {list(self.entries)}: accepted: a non-empty list of integers in "
                            f"1..d² = {self.d * self.d}")
        if not self.depths or any(not 1 <= n <= MAX_DEPTH for n in self.depths):
            raise SpecError(f"grid.depths = {list(self.depths)}: accepted: a non-empty list of integers in 1..{MAX_DEPTH}")
        if self.seeds < 1:
            raise SpecError(f"grid.seeds = {self.seeds}: accepted: integers >= 1")
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise SpecError(f"grid.scale = {self.scale}: accepted: a number > 0 (‖X₀‖_F)")
        if not (self.eta > 0 and math.isfinite(self.eta)):
            raise SpecError(f"grid.eta = {self.eta}: accepted: a number > 0")
        if self.budget.steps < 1:
            raise SpecError(f"grid.budget.steps = {self.budget.steps}: accepted: integers >= 1")
        if not 0 < self.budget.target_train_error < 1:
            raise SpecError(f"grid.budget.target_train_error = {self.budget.target_train_error}: accepted: 0 < target < 1")
        if self.budget.check_target_factor < 1:
            raise SpecError(f"grid.budget.check_target_factor = {self.budget.check_target_factor}: accepted: a number >= 1")
        if self.check_seeds is not None and not 1 <= self.check_seeds <= self.seeds:
            raise SpecError(f"grid.check_seeds = {self.check_seeds}: accepted: integers in 1..seeds = {self.seeds}")
        if 1 in self.depths and self.eta >= 2 * min(self.entries) / (self.d * self.d):
            raise SpecError(f"grid.eta = {self.eta}: accepted: eta < 2·min(m)/d² = "
                            f"{2 * min(self.entries) / (self.d * self.d):.4g} (depth 1 diverges on the observed entries)")
        if not 0 < self.rank_fraction < 1:
            raise SpecError(f"grid.rank_fraction = {self.rank_fraction}: accepted: 0 < fraction < 1")
        object.__setattr__(self, "entries", tuple(sorted(set(int(m) for m in self.entries))))
        object.__setattr__(self, "depths", tuple(sorted(set(int(n) for n in self.depths))))

    @property
    def dof(self) -> int:
        """r(2d − r): the dimension of the manifold of d × d rank-r matrices (the counting line)."""
        return self.r * (2 * self.d - self.r)

    def cells(self) -> list[tuple[int, int]]:
        """(N, m) for every cell, depth-major."""
        return [(n, m) for n in self.depths for m in self.entries]

    def with_(self, **changes) -> Grid:
        return replace(self, **changes)


#: Quick mode (≤ 2 minutes on 2 cores): d = 20, r = 2 (r(2d − r) = 76 of 400 entries), 4 entry
#: counts, 3 seeds, 4000 steps, no budget check (``budget_check=True`` adds it on the first seed).
QUICK = Grid(d=20, r=2, entries=(60, 120, 200, 300), seeds=3, budget=Budget(steps=4000), budget_check=False,
             check_seeds=1, label="quick")

#: Full mode: d = 30, r = 3 (r(2d − r) = 171 of 900 entries), 8 entry counts from 120 to 600, 5 seeds,
#: the budget check on the first two.
FULL = Grid(d=30, r=3, entries=(120, 160, 200, 250, 300, 375, 450, 600), seeds=5, check_seeds=2, label="full")


def grid_for(quick: bool) -> Grid:
    return QUICK if quick else FULL


__all__ = ["FULL", "MAX_DEPTH", "QUICK", "Budget", "Grid", "grid_for"]
