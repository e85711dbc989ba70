"""What a study's sweeps computed: the counters every study result reports (runs and computations,
total and computed this time, the failures, the wall time, the files written), filled from the
executors' reports by :func:`counts_from`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(kw_only=True)
class StudyWork:
    """The counters of a study result (a base of each study's result dataclass)."""

    files: dict[str, Path] = field(default_factory=dict)
    runs_total: int = 0
    runs_computed: int = 0
    computations_total: int = 0
    computations_computed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    wall_time: float = 0.0

    def work_dict(self) -> dict[str, Any]:
        """The counters for ``--json``: failures counted, files as strings."""
        return {"runs_total": self.runs_total, "runs_computed": self.runs_computed,
                "computations_total": self.computations_total, "computations_computed": self.computations_computed,
                "failed": len(self.failed), "wall_time": self.wall_time,
                "files": {k: str(v) for k, v in self.files.items()}}


def counts_from(sweeps: list, computations: list) -> dict[str, Any]:
    """:class:`StudyWork`'s run and computation counters (keyword arguments) summed over the
    ``SweepReport``\\s and ``ComputationReport``\\s of a study (``None`` entries skipped)."""
    sweeps = [s for s in sweeps if s is not None]
    computations = [c for c in computations if c is not None]
    return {"runs_total": sum(s.total for s in sweeps), "runs_computed": sum(len(s.computed) for s in sweeps),
            "computations_total": sum(c.total for c in computations),
            "computations_computed": sum(len(c.computed) for c in computations),
            "failed": [f for r in (*sweeps, *computations) for f in r.failed]}
