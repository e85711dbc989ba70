"""Which steps a run records: log-spaced points (small-init dynamics span decades of iterations),
optionally every k-th step, always step 0 and the last step. Event steps (perturbation, restart,
prune, a replica stopping) are recorded on top by the run loop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogSchedule:
    """``points`` log-spaced steps in [1, T] plus every ``every``-th step (``None``: none)."""

    points: int = 200
    every: int | None = None

    def __post_init__(self):
        from .errors import SettingError

        def bad(v) -> bool:
            return isinstance(v, bool) or not isinstance(v, (int, np.integer))

        if bad(self.points) or self.points < 0:
            raise SettingError(f"log.points: got {self.points!r}; accepted: integers >= 0")
        if self.every is not None and (bad(self.every) or self.every < 1):
            raise SettingError(f"log.every: got {self.every!r}; accepted: integers >= 1 or none")

    def steps(self, total: int) -> np.ndarray:
        pts = {0, total}
        if self.points and total > 0:
            pts.update(np.unique(np.round(np.logspace(0, np.log10(total), self.points)).astype(np.int64)).tolist())
        if self.every:
            pts.update(range(0, total + 1, self.every))
        return np.array(sorted(p for p in pts if 0 <= p <= total), dtype=np.int64)


@dataclass(frozen=True)
class UnionSchedule:
    """The steps of several runs' schedules, each at its own length: ``parts`` = ((schedule, total), …).

    A batched pass whose replicas have their own step budgets (:func:`overparam.run`'s ``budgets``,
    :mod:`overparam.experiments.grouping`) records this union, so that every member's own schedule
    is among the recorded steps (each member then keeps its own rows)."""

    parts: tuple[tuple[LogSchedule, int], ...]

    def steps(self, total: int) -> np.ndarray:
        pts = {0, total}
        for schedule, length in self.parts:
            pts.update(schedule.steps(length).tolist())
        return np.array(sorted(p for p in pts if 0 <= p <= total), dtype=np.int64)
