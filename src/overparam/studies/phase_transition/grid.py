"""The grid of the phase-transition study: dimension d, ranks r, sample ratios m/(dr), trials, the
recovery threshold and each method's budget (quick and full mode), and the two reference lines.

A cell is (r, m/(dr)); its number of measurements is m = round(m/(dr) · d · r). A trial is one
data seed (one Gaussian operator 𝒜 and one planted X⋆ = U⋆U⋆ᵀ, both drawn from it); methods with
randomness of their own (ScaledGD(λ)'s random init, IPGD's perturbations) may add ``replicas``
seeds per trial on the same operator (one batched run), so a cell has ``trials × replicas``
outcomes for them and ``trials`` for the deterministic ones.

Recovery: ‖X̂ − X⋆‖_F / ‖X⋆‖_F < ``threshold`` (default 1e-2) for the X̂ the method returns after its
budget (``Budget``). Most outcomes fall in two populations orders of magnitude apart (recovered:
1e-4 … 1e-16; failed: another interpolant, 1e-1 … 1), and 1e-2 separates them. Near the boundary
small-init GD's outcome is set by its initialization scale α, not by its budget: at d = 30, r = 1,
m/(dr) = 1.5 (10 trials) GD from α = 1e-6 recovers 1 of 10 both after 5,000 and after 20,000 steps
(the failed runs stay at 0.06 … 0.48, unchanged to three digits), and from α = 1e-12 it recovers 9 of
10 (errors 5e-6 … 7e-3). The runs in between (1e-3 … 1e-1) are mostly stalled at another interpolant
that a smaller α avoids, not runs a longer budget would finish (docs/phase_transition.md counts them).
The threshold is applied when the table is read, not stored in the runs' identity, so changing it
recomputes nothing.

Reference lines, in units of m/(dr):

* the information-theoretic count m = r(2d − r), the dimension of the manifold of d × d
  rank-r matrices: m/(dr) = (2d − r)/d;
* the degrees of freedom of a *symmetric PSD* rank-r matrix, dr − r(r − 1)/2 (the manifold of
  U⋆U⋆ᵀ), which is what this study's problem actually has: m/(dr) = (2d − r + 1)/(2d). No method
  can recover every X⋆ below this line (an injective linear map needs m ≥ the manifold's dimension).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ...experiments.errors import SpecError

#: The methods of the study, in panel order (see :mod:`.methods`).
METHOD_NAMES = ("gd", "gd_tiny", "projected_gd", "nuclear_norm", "scaled_gd", "ipgd_plus")


@dataclass(frozen=True)
class Budget:
    """Iteration budgets: each iterative method runs at most this many steps (it stops earlier when
    its relative training error ‖𝒜(X) − y‖/‖y‖ falls below ``target_train_error``; IPGD+ has its own
    termination rule and then ``ipgd_plain`` plain GD steps)."""

    gd: int = 5000  # both GD columns (α = 1e-6 and α = 1e-12)
    projected_gd: int = 3000
    scaled_gd: int = 1500
    ipgd: int = 2500
    ipgd_plain: int = 600
    target_train_error: float = 1e-6


@dataclass(frozen=True)
class Grid:
    """Everything that decides the study's numbers (see the module docstring)."""

    d: int
    ranks: tuple[int, ...]
    ratios: tuple[float, ...]
    trials: int
    replicas: int = 1
    threshold: float = 1e-2
    methods: tuple[str, ...] = METHOD_NAMES
    budget: Budget = field(default_factory=Budget)
    label: str = "custom"

    def __post_init__(self):
        if self.d < 2:
            raise SpecError(f"grid.d = {self.d}: accepted: integers >= 2")
        if not self.ranks or any(not 1 <= r <= self.d for r in self.ranks):
            raise SpecError(f"grid.ranks = {list(self.ranks)}: accepted: a non-empty list of integers in 1..d = {self.d}")
        if not self.ratios or any(not (x > 0 and math.isfinite(x)) for x in self.ratios):
            raise SpecError(f"grid.ratios = {list(self.ratios)}: accepted: a non-empty list of numbers m/(dr) > 0")
        if self.trials < 1:
            raise SpecError(f"grid.trials = {self.trials}: accepted: integers >= 1")
        if self.replicas < 1:
            raise SpecError(f"grid.replicas = {self.replicas}: accepted: integers >= 1")
        if not 0 < self.threshold < 1:
            raise SpecError(f"grid.threshold = {self.threshold}: accepted: 0 < threshold < 1")
        unknown = [m for m in self.methods if m not in METHOD_NAMES]
        if unknown or not self.methods:
            raise SpecError(f"methods = {list(self.methods)}: accepted: a non-empty list of {', '.join(METHOD_NAMES)}")
        object.__setattr__(self, "ranks", tuple(sorted(set(self.ranks))))
        object.__setattr__(self, "ratios", tuple(sorted(set(float(x) for x in self.ratios))))

    def m(self, r: int, ratio: float) -> int:
        """Measurements of the cell (r, m/(dr)): round(ratio · d · r), at least 1."""
        return max(1, round(ratio * self.d * r))

    def cells(self) -> list[tuple[int, float, int]]:
        """(r, ratio, m) for every cell, rank-major."""
        return [(r, x, self.m(r, x)) for r in self.ranks for x in self.ratios]

    def with_(self, **changes) -> Grid:
        return replace(self, **changes)


def information_line(d: int, r: int) -> float:
    """m/(dr) on the information-theoretic line m = r(2d − r): (2d − r)/d."""
    return (2 * d - r) / d


def psd_dof_line(d: int, r: int) -> float:
    """m/(dr) at the degrees of freedom of a symmetric PSD rank-r matrix, dr − r(r−1)/2: (2d − r + 1)/(2d)."""
    return (2 * d - r + 1) / (2 * d)


#: Quick mode (≤ 5 minutes on 2 cores): d = 10, r ∈ {1, 2, 3}, 6 ratios, 4 trials, shorter budgets.
QUICK = Grid(d=10, ranks=(1, 2, 3), ratios=(0.5, 1.0, 1.5, 2.0, 3.0, 4.0), trials=4,
             budget=Budget(gd=3000, projected_gd=2000, scaled_gd=1000), label="quick")

#: Full mode: d = 30, r = 1..5, m/(dr) from 0.5 to 5 in steps of 0.25, 10 trials.
FULL = Grid(d=30, ranks=(1, 2, 3, 4, 5), ratios=tuple(0.5 + 0.25 * i for i in range(19)), trials=10, label="full")


def grid_for(quick: bool) -> Grid:
    return QUICK if quick else FULL


__all__ = ["FULL", "METHOD_NAMES", "QUICK", "Budget", "Grid", "grid_for", "information_line", "psd_dof_line"]
