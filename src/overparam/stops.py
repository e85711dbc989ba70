"""Stop rules: when a replica ends its run (or a recipe's stage) before the step budget.

A stop rule is registered by name (``@register("stop", …)``) as a factory of its settings and is
written in a spec as ``stops = [{name = "plateau", window = 200, rtol = 1e-4}]``. The run calls
``check`` after every step; a rule decides itself when it needs to look (every ``every`` steps,
on a window boundary), so a step where no rule looks costs nothing. ``check`` returns a ``(R,)``
boolean tensor of the replicas that stop now (status ``stopped:<name>``), or ``None``.

=================  ================================================================================
name               stops a replica when
=================  ================================================================================
``plateau``        the loss fell by at most ``rtol`` (relative) over the last ``window`` steps
``grad_norm``      ‖∇f(θ_t)‖ ≤ ``below`` (checked every ``every`` steps)
``metric``         a recorded metric crosses a value: ≤ ``below`` or ≥ ``above`` (every ``every`` steps)
``window_ratio``   003 Algorithm 1's test: at steps k = W+1, 2W+1, … (k ≡ 1 mod W), every one-step
                   ratio of squared training errors ‖𝒜(U_{k'}U_{k'}ᵀ) − b‖² / ‖𝒜(U_{k'−1}…) − b‖²
                   in the last W steps is below ``tau`` ("the error falls too fast")
=================  ================================================================================

Steps are the run's global steps (a recipe's later stages continue the count), so a window test
keeps its rhythm across stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ._types import NonNegFloat, PosFloat, PosInt
from .backend import select
from .metrics import get_metric
from .registry import register


@dataclass
class StopContext:
    """What a stop rule may know: replica count, placement, the first global step of this run, and
    ``carry`` (the state the same rule had at the end of the previous stage of a recipe, or None)."""

    R: int
    device: torch.device
    dtype: torch.dtype
    offset: int = 0
    carry: Any = None


class StopRule:
    """Base class: ``init``, ``check`` (see the module docstring), ``select``, ``carry_out``."""

    name = "stop"

    def init(self, ctx: StopContext) -> Any:
        return None

    def check(self, state: Any, t: int, snap) -> tuple[Any, torch.Tensor | None]:  # pragma: no cover
        raise NotImplementedError

    def select(self, state: Any, keep: torch.Tensor) -> Any:
        return select(state, keep)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in vars(self).items())
        return f"{self.name}({args})"


class Plateau(StopRule):
    name = "plateau"

    def __init__(self, window: int, rtol: float):
        self.window, self.rtol = window, rtol

    def init(self, ctx):
        return None

    def check(self, state, t, snap):
        if t % self.window:
            return state, None
        loss = snap.evaluation.loss.detach()
        if state is None:
            return loss, None
        hit = (state - loss) <= self.rtol * state.abs()
        return loss, hit


class GradNorm(StopRule):
    name = "grad_norm"

    def __init__(self, below: float, every: int = 1):
        self.below, self.every = below, every

    def check(self, state, t, snap):
        if t % self.every:
            return state, None
        ev = snap.evaluation
        if ev.grad is None:
            ev = snap.objective.evaluate(snap.theta)
        g2 = torch.stack([(g * g).flatten(1).sum(-1) for g in ev.grad]).sum(0)
        return state, g2.sqrt() <= self.below


class MetricCrossing(StopRule):
    name = "metric"

    def __init__(self, metric: str, below: float | None = None, above: float | None = None, every: int = 1):
        if (below is None) == (above is None):
            raise ValueError("stop 'metric': give exactly one of below, above")
        self.metric, self.below, self.above, self.every = metric, below, above, every

    def check(self, state, t, snap):
        if t % self.every:
            return state, None
        v = get_metric(self.metric)(snap)
        return state, (v <= self.below) if self.below is not None else (v >= self.above)


class WindowRatio(StopRule):
    """003 Algorithm 1's restart test (module docstring). ``history``: ``"literal"`` keeps the window
    across a restart (the ratio of the new run's first error to the old run's last, as printed);
    ``"reset"`` starts a new window after a restart."""

    name = "window_ratio"

    def __init__(self, window: int, tau: float, history: str = "literal"):
        if history not in ("literal", "reset"):
            raise ValueError(f"stop.history: got {history!r}; accepted: literal, reset")
        self.window, self.tau, self.history = window, tau, history

    def init(self, ctx):
        carry = ctx.carry if self.history == "literal" else None
        nan = torch.full((ctx.R,), float("nan"), device=ctx.device, dtype=ctx.dtype)
        if carry is not None:
            return {"prev": carry["prev"], "max": carry["max"], "count": carry["count"]}
        return {"prev": nan, "max": torch.full_like(nan, -float("inf")), "count": torch.zeros_like(nan)}

    def check(self, state, t, snap):
        # at θ_t = U_k (k = t, the global step) the window holds the ratios k' = k − W + 1 … k
        W = self.window
        err = snap.evaluation.fit_sq.detach()
        mx, count = state["max"], state["count"]
        if t % W == 2 % W:  # k' = t opens the window that the check at k ≡ 1 (mod W) reads
            mx, count = torch.full_like(mx, -float("inf")), torch.zeros_like(count)
        ratio = err / state["prev"]
        seen = ~torch.isnan(ratio)
        mx = torch.where(seen, torch.maximum(mx, ratio), mx)
        count = count + seen.to(err.dtype)
        new = {"prev": err, "max": mx, "count": count}
        if t % W != 1 % W or t < W + 1:
            return new, None
        return new, (count >= W) & (mx < self.tau)

    def select(self, state, keep):
        return {k: v[keep] for k, v in state.items()}


@register("stop", "plateau")
def plateau(window: PosInt = 100, rtol: NonNegFloat = 1e-6) -> Plateau:
    """Stop when the loss fell by at most ``rtol`` (relative) over the last ``window`` steps."""
    return Plateau(window, rtol)


@register("stop", "grad_norm")
def grad_norm(below: PosFloat, every: PosInt = 1) -> GradNorm:
    """Stop when ‖∇f(θ_t)‖ ≤ ``below``."""
    return GradNorm(below, every)


@register("stop", "metric")
def metric_crossing(metric: str, below: float | None = None, above: float | None = None,
                    every: PosInt = 1) -> MetricCrossing:
    """Stop when metric ``metric`` is ≤ ``below`` (or ≥ ``above``)."""
    return MetricCrossing(metric, below, above, every)


@register("stop", "window_ratio")
def window_ratio(window: PosInt = 100, tau: PosFloat = 0.998, history: str = "literal") -> WindowRatio:
    """003 Algorithm 1's test: every one-step ratio of squared training errors in the last ``window``
    steps is below ``tau``."""
    return WindowRatio(window, tau, history)


__all__ = ["GradNorm", "MetricCrossing", "Plateau", "StopContext", "StopRule", "WindowRatio", "grad_norm",
           "metric_crossing", "plateau", "window_ratio"]
