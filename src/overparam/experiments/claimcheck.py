"""Declared claims and their check: :class:`Context`, :class:`Outcome`, :class:`ClaimCheck` and the
:func:`claim` decorator, for papers and studies alike.

A **claim** is declared once with :func:`claim` over its check function: id, statement, the
paper's words and section (``source``), its ``kind`` (experiment / theorem / extension), the
paper's value, the criterion (written before the full-mode run) with its numeric ``thresholds``
(each a :class:`~overparam.experiments.claims.Threshold` with a plausible range), the figure it
reads (or ``None``), the runs it needs (``specs``) and the stored computations it needs
(``computations``). The check receives a :class:`Context`, reads each threshold with
``ctx.threshold(name)`` and returns an :class:`Outcome`; :meth:`ClaimCheck.check` evaluates it at
the nominal thresholds, at both ends of each range and on each data seed alone (``ctx.for_seed``:
the runs and the stored computations of that seed) and turns that into a
:class:`~overparam.experiments.claims.Claim` record with its ``stability``.
A paper package (``papers/<id>``) and a study (``studies/<name>``, whose ``paper`` field is the
study's name) declare claims the same way; both import this module, neither imports the other.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from .claims import VERDICTS, Claim, Threshold, check_provenance, stable_verdict
from .computations import Computation
from .memo import Memo, MemoRun
from .sizes import claim_sizes
from .spec import RunSpec
from .store import Store

SpecsFn = Callable[[bool], list[RunSpec]]
ComputationsFn = Callable[[bool], list[Computation]]


def no_specs(quick: bool) -> list[RunSpec]:
    return []


def no_computations(quick: bool) -> list[Computation]:
    return []


def computation_seed(comp: Computation) -> int | None:
    """The data seed of a stored computation: its ``data_seed`` setting (a computation on the data
    of a run, e.g. the convex solution of a run's problem), else its ``seed`` setting (a computation
    that draws its own data, e.g. a Monte Carlo), else ``None`` (no data seed: it belongs to every
    seed's view)."""
    for name in ("data_seed", "seed"):
        value = comp.settings.get(name)
        if value is not None:
            return int(value)
    return None


@dataclass(frozen=True)
class Context:
    """Where a reproduction reads its runs: the store, quick or full mode, and the device the runs
    were computed on (part of each spec's identity).

    Two views a claim's stability check sets (:meth:`ClaimCheck.check`): ``thresholds`` (the
    value of each declared threshold this evaluation uses; a check reads them with
    :meth:`threshold`) and ``seed`` (when set, :meth:`specs` returns only the specs of that data
    seed and :meth:`computations` only the computations of that data seed
    (:func:`computation_seed`; a computation without a seed is kept), so every store read through
    them sees one seed alone).

    Reads shared by every view: ``cache``, a bounded :class:`~overparam.experiments.memo.Memo`
    that :meth:`for_seed` and :meth:`with_thresholds` pass on, holds what was read from the store
    (:meth:`load`, :meth:`has`) and what a paper derives from it (:meth:`memo`), so the many
    evaluations of one claim's check read and derive each value once. Every value handed out is
    the caller's own copy. A new context (one per reproduction) starts an empty memo."""

    store: Store
    quick: bool
    device: str = "cpu"
    thresholds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    seed: int | None = None
    cache: Memo = field(default_factory=Memo, compare=False, repr=False)

    def memo(self, key: Hashable, fn: Callable[[], Any]) -> Any:
        """``fn()``, computed once per ``key`` for this context and all its views (a copy of the held
        value each time: :meth:`Memo.get`). ``key`` must name everything the value depends on
        (e.g. ``("rajaraman2023.final_train_loss", spec.key(), replica)``), never the view's seed or
        thresholds unless it depends on them."""
        return self.cache.get(("memo", str(self.store.root), key), fn)

    def has(self, spec: RunSpec | str) -> bool:
        """Whether the run is stored intact (:meth:`Store.has`); a run found intact is not checked again
        by this context (a stored run never changes)."""
        key = spec if isinstance(spec, str) else spec.key()
        if ("has", str(self.store.root), key) in self.cache:
            return True
        if not self.store.has(key):
            return False
        self.cache.get(("has", str(self.store.root), key), lambda: True)
        return True

    def load(self, spec: RunSpec | str) -> MemoRun:
        """The stored run, each of its files read once for this context (:class:`MemoRun`)."""
        return MemoRun(self.store, spec if isinstance(spec, str) else spec.key(), self.cache)

    def specs(self, fn: SpecsFn) -> list[RunSpec]:
        """``fn(quick)`` with the device applied, i.e. the exact specs that were run (only those of
        data seed :attr:`seed` when it is set)."""
        return [s if s.device == self.device else s.with_overrides(device=self.device) for s in fn(self.quick)
                if self.seed is None or s.data_seed == self.seed]

    def for_seed(self, seed: int | None) -> Context:
        """This context restricted to the runs and stored computations of one data seed (``None``: all seeds)."""
        return replace(self, seed=seed)

    def with_thresholds(self, values: Mapping[str, float]) -> Context:
        """This context with the given threshold values (a check reads them with :meth:`threshold`)."""
        return replace(self, thresholds=MappingProxyType(dict(values)))

    def threshold(self, name: str) -> float:
        """The value of the declared threshold ``name`` in this evaluation."""
        try:
            return self.thresholds[name]
        except KeyError:
            raise KeyError(f"threshold {name!r} is not declared by this claim (declared: "
                           f"{sorted(self.thresholds)}); add it to @claim(thresholds=...)") from None

    def computations(self, fn: ComputationsFn) -> list[Computation]:
        """``fn(quick)`` with the device applied (a setting of each computation that has one); only
        those of data seed :attr:`seed` (and those without a seed) when it is set."""
        return [c.on_device(self.device) for c in fn(self.quick)
                if self.seed is None or computation_seed(c) in (None, self.seed)]

    def result(self, comp: Computation) -> dict[str, Any]:
        """The stored result of a computation (see :mod:`overparam.experiments.computations`), read
        once for this context (its JSON text is held; each call parses its own copy)."""
        return json.loads(self.cache.get(("computation", str(self.store.root), comp.key()),
                                         lambda: comp.load_text(self.store)))


@dataclass
class Outcome:
    """What a claim's check returns: the measurements, the verdict and how it was reached."""

    measured: dict[str, Any]
    verdict: str
    note: str = ""
    setting: str = ""
    versus: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the key of ``versus`` (else of ``measured``) that decided a verdict other than ``reproduced``
    decisive: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} not in {VERDICTS}")
        if self.decisive and self.decisive not in self.versus and self.decisive not in self.measured:
            raise ValueError(f"decisive {self.decisive!r} names no versus or measured entry")


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
    source: dict[str, str] = field(default_factory=dict)
    kind: str = ""
    thresholds: dict[str, Threshold] = field(default_factory=dict)

    def __post_init__(self):
        check_provenance(self.id, self.source, self.kind)
        self.source = dict(self.source)
        for name, t in self.thresholds.items():
            if not isinstance(t, Threshold):
                raise TypeError(f"claim {self.id}: threshold {name!r} must be a Threshold, got {type(t).__name__}")

    def data_seeds(self, ctx: Context) -> list[int]:
        """The data seeds the claim's runs and stored computations span (sorted; a computation's
        seed is :func:`computation_seed`)."""
        everything = ctx.for_seed(None)
        seeds = {s.data_seed for s in everything.specs(self.specs)}
        seeds |= {seed for c in everything.computations(self.computations) if (seed := computation_seed(c)) is not None}
        return sorted(seeds)

    def check(self, ctx: Context) -> Claim:
        """Evaluate the check at the nominal thresholds on all runs (the measurements reported), then
        at both ends of every threshold range (the others nominal) and — when the runs span more
        than one data seed — on each seed alone; the verdict is kept only when all agree
        (:func:`~overparam.experiments.claims.stable_verdict`)."""
        nominal = {k: t.value for k, t in self.thresholds.items()}
        base = ctx.for_seed(None).with_thresholds(nominal)
        out = self.run(base)
        verdicts: dict[str, str] = {"nominal": out.verdict}
        ends: dict[str, str] = {}
        for name, t in self.thresholds.items():
            for value in dict.fromkeys((t.low, t.high)):
                if value == t.value:
                    ends[f"{name}={value:g}"] = out.verdict
                    continue
                ends[f"{name}={value:g}"] = self.run(base.with_thresholds({**nominal, name: value})).verdict
        seeds = self.data_seeds(ctx)
        per_seed: dict[int, str] = {}
        failed: dict[int, str] = {}
        if len(seeds) > 1:
            for s in seeds:
                try:
                    with warnings.catch_warnings():  # a seed alone may leave a group empty (mean of nothing)
                        warnings.simplefilter("ignore", RuntimeWarning)
                        per_seed[s] = self.run(base.for_seed(s)).verdict
                except Exception as exc:  # noqa: BLE001 — a check that needs several seeds at once
                    failed[s] = f"{type(exc).__name__}: {exc}"
        verdict, spread, stable = stable_verdict(out.verdict, per_seed, ends, failed)
        verdicts.update({f"seed {s}": v for s, v in per_seed.items()})
        verdicts.update({f"seed {s}": f"not evaluable ({e})" for s, e in failed.items()})
        verdicts.update(ends)
        stability = {"seeds": len(seeds), "thresholds": {k: [t.low, t.high] for k, t in self.thresholds.items()},
                     "verdicts": verdicts, "stable": stable, "spread": spread}
        note = out.note + (f" Stability: {spread}." if spread else "")
        return Claim(id=self.id, paper=self.paper, statement=self.statement, setting=out.setting,
                     measured=out.measured, paper_value=self.paper_value, verdict=verdict, note=note.strip(),
                     figure=self.figure, criterion=self.criterion, versus=out.versus,
                     criterion_revised=self.criterion_revised, source=dict(self.source), kind=self.kind,
                     stability=stability, decisive=out.decisive,
                     sizes=claim_sizes(base.specs(self.specs), base.computations(self.computations)))


def claim(*, id: str, paper: str, statement: str, paper_value: str, criterion: str, source: dict[str, str],
          kind: str, thresholds: dict[str, Threshold] | None = None, figure: str | None = None,
          specs: SpecsFn = no_specs, computations: ComputationsFn = no_computations,
          criterion_revised: str = "") -> Callable[[Callable[[Context], Outcome]], ClaimCheck]:
    """Declare a claim over its check function (``ctx -> Outcome``); returns the :class:`ClaimCheck`.

    ``source`` is ``{"quote": the paper's own words, "section": where they stand}`` and ``kind``
    one of ``experiment`` (the paper shows it), ``theorem`` (the paper proves it) or ``extension``
    (ours); both are required. ``thresholds`` declares every numeric threshold of the criterion
    with its plausible range; the check reads them with ``ctx.threshold(name)``. ``figure`` names
    the figure whose runs the claim reads: reproducing that figure checks the claim too. ``specs``
    defaults to no runs; a claim that reads a figure passes the figure's specs."""

    def deco(fn: Callable[[Context], Outcome]) -> ClaimCheck:
        return ClaimCheck(id=id, paper=paper, statement=statement, paper_value=paper_value, criterion=criterion,
                          run=fn, figure=figure, specs=specs, computations=computations,
                          criterion_revised=criterion_revised, source=source, kind=kind,
                          thresholds=dict(thresholds or {}))

    return deco



__all__ = ["ClaimCheck", "ComputationsFn", "Context", "Outcome", "SpecsFn", "claim", "computation_seed", "no_computations",
           "no_specs"]
