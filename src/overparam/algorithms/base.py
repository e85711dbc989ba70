"""The algorithm contract, and update rules composed from small pieces (in the spirit of optax).

An **algorithm** maps θ_t to θ_{t+1} for R replicas at once, keeping per-replica state, and returns
the :class:`~overparam.objective.Evaluation` it computed at θ_t (the run loop reuses it for the
loss, stop rules and metrics) and any events (perturbation, …) the run must record.

Most algorithms are a :class:`Composed` chain of :class:`Piece` s. One step fills a :class:`Step`
record piece by piece, in order::

    sample_rows   →  step.rows           (SGD: a mini-batch of measurements)
    gradient      →  step.evaluation, step.direction = ∇f(θ_t)   (or a surrogate direction)
    precondition  →  step.direction ← P(θ_t)[direction]          (ScaledGD(λ), …)
    perturb       →  step.theta ← θ_t + ξ (and a new direction)   (IPGD, Jin et al.'s PGD)
    descend       →  step.new_theta = θ − η s · direction          (the one descent line)
    project/prox  →  step.new_theta ← Π(new_theta)                (PSD cone, proximal maps)

Each piece has ``init(ctx, objective, theta) -> state`` and ``update(step, state) -> state``; its
settings may be scalars, per-replica sequences or per-block tables (:mod:`overparam.settings`).
Random state is a (seed, counter) pair (:class:`~overparam.backend.Stream`) that serializes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..backend import select  # noqa: F401  (re-exported: the state restriction lives in the base layer)
from ..objective import Evaluation, Objective
from ..params import Params
from ..settings import replica_count


@dataclass
class RunContext:
    """What an algorithm may know about the run: replica count, seeds, placement."""

    R: int
    algo_seeds: list[int]
    device: torch.device
    dtype: torch.dtype
    steps: int
    blocks: tuple[str, ...] = ()


@dataclass
class StopRequest:
    """An algorithm's own termination (IPGD's test): stop active replica ``index`` with θ = ``theta``."""

    index: int
    reason: str
    theta: Params


@dataclass
class StepOut:
    """θ_{t+1}, the evaluation at θ_t (or None), events ``(active index, kind, data)``, the step
    sizes η·s per block that the descent used (diagnostics read them), and termination requests."""

    theta: Params
    evaluation: Evaluation | None
    events: list[tuple[int, str, dict]] = field(default_factory=list)
    step_size: tuple[torch.Tensor, ...] | None = None
    stops: list[StopRequest] = field(default_factory=list)


class Algorithm:
    """Base class: ``init_state``, ``step``, ``select_state``; see :class:`Composed` for the usual form."""

    name = "algorithm"

    def init_state(self, objective: Objective, theta: Params, ctx: RunContext) -> Any:
        return None

    def step(self, objective: Objective, theta: Params, state: Any, t: int) -> tuple[StepOut, Any]:  # pragma: no cover
        raise NotImplementedError

    def select_state(self, state: Any, keep: torch.Tensor) -> Any:
        """State restricted to the replicas ``keep`` (replicas that stopped are dropped)."""
        return select(state, keep)

    def step_sizes(self, state: Any) -> tuple[torch.Tensor, ...] | None:
        """The plain gradient step η·s per parameter block in ``state`` (per-replica tensors), or
        ``None`` for an algorithm without one (the compiled engines run only algorithms that have it)."""
        return None

    @property
    def replicas(self) -> int:
        """Replica count implied by per-replica settings (1 when all are scalars)."""
        return 1

    def describe(self) -> str:
        return self.name


@dataclass
class Step:
    """The record one update fills in (see the module docstring); pieces read and write it."""

    t: int
    objective: Objective
    theta: Params
    rows: torch.Tensor | None = None
    evaluation: Evaluation | None = None  # at θ_t, full objective (None for a mini-batch)
    direction: Params | None = None
    step_size: tuple[torch.Tensor, ...] | None = None
    new_theta: Params | None = None
    events: list[tuple[int, str, dict]] = field(default_factory=list)
    stops: list[StopRequest] = field(default_factory=list)


class Piece:
    """One composable part of an update rule. ``settings`` names its numeric settings (which may be
    per-replica or per-block); the rest is ``init`` and ``update``."""

    name = "piece"
    settings: tuple[str, ...] = ()
    #: whether this piece's state is the step η·s per block (:meth:`Composed.step_sizes`)
    holds_step_size = False
    #: keys of the state dict that ``init`` determines and the run never changes, the same for every
    #: replica (a snapshot leaves them out and takes them from ``init``: :mod:`overparam.snapshot`)
    snapshot_static: tuple[str, ...] = ()

    def init(self, ctx: RunContext, objective: Objective, theta: Params) -> Any:
        return None

    def update(self, step: Step, state: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def select(self, state: Any, keep: torch.Tensor) -> Any:
        return select(state, keep)

    def replicas(self) -> int:
        return replica_count(f"settings of {self.name}", **{k: getattr(self, k) for k in self.settings})

    def describe(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)}" for k in self.settings)
        return f"{self.name}({args})"


class Composed(Algorithm):
    """An update rule as a chain of pieces, applied in order to one :class:`Step` per iteration."""

    def __init__(self, name: str, pieces: Sequence[Piece], describe: str | None = None):
        self.name = name
        self.pieces = list(pieces)
        self._describe = describe

    def piece(self, kind: type) -> Any:
        """The first piece of type ``kind`` (metrics read, e.g., the truncation threshold)."""
        for p in self.pieces:
            if isinstance(p, kind):
                return p
        return None

    @property
    def replicas(self) -> int:
        counts = {p.replicas() for p in self.pieces} - {1}
        if len(counts) > 1:
            raise ValueError(f"algorithm {self.name!r}: per-replica settings of different lengths {sorted(counts)}")
        return next(iter(counts), 1)

    def init_state(self, objective, theta, ctx):
        return [p.init(ctx, objective, theta) for p in self.pieces]

    def step(self, objective, theta, state, t):
        rec = Step(t=t, objective=objective, theta=theta)
        new_state = [p.update(rec, s) for p, s in zip(self.pieces, state, strict=True)]
        return StepOut(rec.new_theta, rec.evaluation, rec.events, rec.step_size, rec.stops), new_state

    def select_state(self, state, keep):
        return [p.select(s, keep) for p, s in zip(self.pieces, state, strict=True)]

    def step_sizes(self, state) -> tuple[torch.Tensor, ...] | None:
        """The step η·s per parameter block (each a per-replica tensor (R,)) held by the chain's
        :class:`~overparam.algorithms.pieces.Descend` piece (the first piece whose
        ``holds_step_size`` is set), or ``None`` when it has none."""
        for p, s in zip(self.pieces, state, strict=True):
            if p.holds_step_size:
                return s
        return None

    def describe(self):
        return self._describe or f"{self.name}: " + " → ".join(p.describe() for p in self.pieces)


def scale_like(coef: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Reshape a ``(R,)`` coefficient to broadcast against ``t (R, …)``."""
    return coef.reshape(-1, *([1] * (t.ndim - 1)))
