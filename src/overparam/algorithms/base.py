"""The algorithm contract: one update rule, stepped by :func:`overparam.run`.

An algorithm keeps per-replica state (step sizes, RNG streams, counters) and maps θ_t to θ_{t+1}.
It returns the :class:`~overparam.objective.Evaluation` it computed at θ_t when it computed the
full objective (so the run loop reuses it for losses, stop rules and metrics), and any events
(perturbation, restart, …) that the run loop must always record.

Multi-stage recipes (prune then fine-tune; IPGD then GD) are plain functions that call ``run``
more than once; they are not algorithms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from ..backend import per_replica
from ..objective import Evaluation, Objective
from ..params import Params


@dataclass
class RunContext:
    """What an algorithm may know about the run: replica count, seeds, placement."""

    R: int
    algo_seeds: list[int]
    device: torch.device
    dtype: torch.dtype
    steps: int


@dataclass
class StepOut:
    """θ_{t+1}, the evaluation at θ_t (or None), events, and ``extras``: per-replica diagnostics at
    θ_t that the algorithm computed on the way (``(R, …)`` tensors by name), which metrics read
    from ``snapshot.extras`` (e.g. the adaptive-subspace quantities of 000 §4)."""

    theta: Params
    evaluation: Evaluation | None
    events: list[tuple[int, str]] = field(default_factory=list)  # (active-replica index, kind)
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


class Algorithm:
    """Base class. Subclasses implement ``init_state`` and ``step``; state must support ``select_state``."""

    name = "algorithm"

    def init_state(self, objective: Objective, theta: Params, ctx: RunContext) -> Any:
        return None

    def step(self, objective: Objective, theta: Params, state: Any, t: int) -> tuple[StepOut, Any]:  # pragma: no cover
        raise NotImplementedError

    def extras_at(self, objective: Objective, theta: Params, state: Any) -> Mapping[str, torch.Tensor]:
        """Diagnostics at the final point θ_T, where the run takes no step (default: none).

        Algorithms that report ``StepOut.extras`` implement this so that their metrics are defined
        at the last recorded step too."""
        return {}

    def select_state(self, state: Any, keep: torch.Tensor) -> Any:
        """State restricted to the replicas ``keep`` (replicas that stopped are dropped)."""
        return _select(state, keep)

    @property
    def replicas(self) -> int:
        """Replica count implied by per-replica hyperparameters (1 when all are scalars)."""
        return 1

    def describe(self) -> str:
        return self.name


def _select(state: Any, keep: torch.Tensor) -> Any:
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state[keep] if state.ndim else state
    if isinstance(state, dict):
        return {k: _select(v, keep) for k, v in state.items()}
    if isinstance(state, list):
        idx = keep.tolist()
        return [state[i] for i in idx]
    if isinstance(state, tuple):
        return tuple(_select(v, keep) for v in state)
    return state


def per_replica_tensor(value: Any, R: int, *, device, dtype) -> torch.Tensor:
    """A scalar or per-replica sequence as a ``(R,)`` tensor."""
    return torch.tensor([float(v) for v in per_replica(value, R)], device=device, dtype=dtype)


def scale_like(coef: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Reshape a ``(R,)`` coefficient to broadcast against ``t (R, …)``."""
    return coef.reshape(-1, *([1] * (t.ndim - 1)))
