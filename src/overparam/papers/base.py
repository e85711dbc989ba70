"""What a paper package provides: its metadata (:class:`Paper`), figures and declared claims.

* A **figure** is ``specs(quick) -> list[RunSpec]`` plus ``plot(ctx, out_dir) -> [paths]``.
* A **claim** is declared once with :func:`claim` over its check function: id, statement, the
  paper's words and section (``source``), its ``kind`` (experiment / theorem / extension), the
  paper's value, the criterion (written before the full-mode run) with its numeric
  ``thresholds`` (each a :class:`~overparam.experiments.claims.Threshold` with a plausible
  range), the figure it reads (or ``None``), the runs it needs (``specs``) and the stored
  computations it needs (``computations``). The check receives a :class:`Context`, reads each
  threshold with ``ctx.threshold(name)`` and returns an :class:`Outcome` (measured values,
  verdict, note); :meth:`ClaimCheck.check` evaluates it at the nominal thresholds, at both ends
  of each range and on each data seed alone (``ctx.for_seed``), and turns that into a
  :class:`~overparam.experiments.claims.Claim` record with its ``stability``.

The claim machinery lives in :mod:`overparam.experiments.claimcheck` (studies declare claims
too) and is re-exported here.

Specs and computations are pure data, so ``reproduce`` collects those of every target, computes the
missing ones with any executor, then plots and checks from the store alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..experiments.claimcheck import ClaimCheck, ComputationsFn, Context, Outcome, SpecsFn, claim, no_computations, no_specs
from ..experiments.claims import Threshold


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

__all__ = ["ClaimCheck", "ComputationsFn", "Context", "Figure", "Outcome", "Paper", "SpecsFn", "Threshold", "claim",
           "no_computations", "no_specs"]
