"""What a paper package provides: its metadata (:class:`Paper`), figures and declared claims.

* A **figure** is ``specs(quick) -> list[RunSpec]`` plus ``plot(ctx, out_dir) -> [paths]``.
* A **claim** is declared once with :func:`claim` over its check function: id, statement, the
  paper's value, the criterion (written before the full-mode run), the figure it reads (or
  ``None``), the runs it needs (``specs``) and the stored computations it needs
  (``computations``). The check receives a :class:`Context` and returns an :class:`Outcome`
  (measured values, verdict, note); :meth:`ClaimCheck.check` turns that into a
  :class:`~overparam.experiments.claims.Claim` record.

Specs and computations are pure data, so ``reproduce`` collects those of every target, computes the
missing ones with any executor, then plots and checks from the store alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..experiments.claims import VERDICTS, Claim
from ..experiments.computations import Computation
from ..experiments.spec import RunSpec
from ..experiments.store import Store

SpecsFn = Callable[[bool], list[RunSpec]]
ComputationsFn = Callable[[bool], list[Computation]]


def no_specs(quick: bool) -> list[RunSpec]:
    return []


def no_computations(quick: bool) -> list[Computation]:
    return []


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

    def computations(self, fn: ComputationsFn) -> list[Computation]:
        """``fn(quick)`` with the device applied (a setting of each computation that has one)."""
        return [c.on_device(self.device) for c in fn(self.quick)]

    def result(self, comp: Computation) -> dict[str, Any]:
        """The stored result of a computation (see :mod:`overparam.experiments.computations`)."""
        return comp.load(self.store)


@dataclass
class Figure:
    """A paper's figure: ``specs(quick)`` lists the runs it needs (pure data, so ``reproduce`` can
    compute them with any executor), ``plot(ctx, out_dir)`` draws it from the store alone and
    returns the files it wrote; ``computations(quick)`` lists stored computations it also reads.
    Two texts the report site shows beside the drawn figure: ``setting`` (the paper's setting of
    this figure and our choices where it is silent, in a few lines) and ``paper_reports`` (what the
    paper's figure shows, in its own terms and numbers)."""

    id: str
    paper: str
    title: str
    specs: SpecsFn
    plot: Callable[[Context, Path], list[Path]]
    computations: ComputationsFn = no_computations
    setting: str = ""
    paper_reports: str = ""

    def __post_init__(self):
        from ..figstyle import styled

        self.plot = styled(self.plot)  # the library's one figure style, for drawing and saving


@dataclass
class Outcome:
    """What a claim's check returns: the measurements, the verdict and how it was reached."""

    measured: dict[str, Any]
    verdict: str
    note: str = ""
    setting: str = ""
    versus: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} not in {VERDICTS}")


@dataclass
class ClaimCheck:
    """A declared claim: everything but the measurement, written once (see :func:`claim`)."""

    id: str
    paper: str
    statement: str
    paper_value: str
    criterion: str
    run: Callable[[Context], Outcome]
    figure: str | None = None
    specs: SpecsFn = no_specs
    computations: ComputationsFn = no_computations
    criterion_revised: str = ""

    def check(self, ctx: Context) -> Claim:
        out = self.run(ctx)
        return Claim(id=self.id, paper=self.paper, statement=self.statement, setting=out.setting,
                     measured=out.measured, paper_value=self.paper_value, verdict=out.verdict, note=out.note,
                     figure=self.figure, criterion=self.criterion, versus=out.versus,
                     criterion_revised=self.criterion_revised)


def claim(*, id: str, paper: str, statement: str, paper_value: str, criterion: str, figure: str | None = None,
          specs: SpecsFn = no_specs, computations: ComputationsFn = no_computations,
          criterion_revised: str = "") -> Callable[[Callable[[Context], Outcome]], ClaimCheck]:
    """Declare a claim over its check function (``ctx -> Outcome``); returns the :class:`ClaimCheck`.

    ``figure`` names the figure whose runs the claim reads: reproducing that figure checks the
    claim too. ``specs`` defaults to no runs; a claim that reads a figure passes the figure's specs."""

    def deco(fn: Callable[[Context], Outcome]) -> ClaimCheck:
        return ClaimCheck(id=id, paper=paper, statement=statement, paper_value=paper_value, criterion=criterion,
                          run=fn, figure=figure, specs=specs, computations=computations,
                          criterion_revised=criterion_revised)

    return deco


@dataclass
class Paper:
    """A paper package's metadata (``PAPER`` in ``papers/<id>/__init__.py``): its id (the package
    name), title, citation, figures, declared claims and its docs page. A paper without figures or
    claims is listed as planned."""

    id: str
    title: str
    citation: str
    figures: list[Figure] = field(default_factory=list)
    claims: list[ClaimCheck] = field(default_factory=list)
    docs: str = ""

    @property
    def implemented(self) -> bool:
        return bool(self.figures or self.claims)
