"""What a paper module provides: figures (specs + plot) and claim checks (specs + check).

Each figure is ``specs(quick) -> list[RunSpec]`` and ``plot(ctx, out_dir) -> [paths]``; each claim
check is ``specs(quick)`` (often a figure's) and ``check(ctx) -> Claim``, where ``ctx`` is a
:class:`Context` (store, quick, device).
Specs are pure data, so ``reproduce`` collects every spec of every target, computes the missing
ones with any executor, then plots and checks from the store alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..experiments.claims import Claim
from ..experiments.spec import RunSpec
from ..experiments.store import Store

SpecsFn = Callable[[bool], list[RunSpec]]


@dataclass(frozen=True)
class Context:
    """Where a reproduction reads its runs: the store, quick or full mode, and the device the runs
    were computed on (part of each spec's identity)."""

    store: Store
    quick: bool
    device: str = "cpu"

    def specs(self, fn: SpecsFn) -> list[RunSpec]:
        """``fn(quick)`` with the device applied, i.e. the exact specs that were run."""
        return [s if s.device == self.device else s.with_overrides(device=self.device) for s in fn(self.quick)]


@dataclass
class Figure:
    id: str
    paper: str
    title: str
    specs: SpecsFn
    plot: Callable[[Context, Path], list[Path]]


@dataclass
class ClaimCheck:
    id: str
    paper: str
    statement: str
    specs: SpecsFn
    check: Callable[[Context], Claim]


@dataclass
class Paper:
    id: str
    title: str
    citation: str
    figures: list[Figure] = field(default_factory=list)
    claims: list[ClaimCheck] = field(default_factory=list)

    @property
    def implemented(self) -> bool:
        return bool(self.figures or self.claims)
