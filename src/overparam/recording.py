"""The run loop's bookkeeping (:mod:`overparam.run`): which replicas are active and how each ended
(:class:`Replicas`), the metric rows (:class:`Recorder`), the stateful diagnostics
(:class:`Diagnostics`) and the stop rules' states (:class:`Stops`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .metrics import Metric, Snapshot
from .result import Trace
from .stops import StopContext, StopRule


class Replicas:
    """Status, stop step, final θ and events per replica; ``active`` maps batch rows to replicas.

    ``pending``: the forks not yet ended, by the replica they follow (:func:`overparam.run`'s
    ``forks``). Until its budget a fork is its replica: that replica's events and its end (stop
    step, status, final θ, stop rules' state) are the fork's too. (A replica that has ended has no
    more rows or events, so its entry may stay.)"""

    def __init__(self, R: int, last_step: int | list[int]):
        """``last_step``: the global step at which the replicas end unless they stop (one for all, or
        one per replica: their step budgets)."""
        self.active = torch.arange(R)
        self.status = ["completed"] * R
        self.stop_step = list(last_step) if isinstance(last_step, list) else [last_step] * R
        self.final_theta: list[tuple[torch.Tensor, ...] | None] = [None] * R
        self.carry: list[dict[str, Any] | None] = [None] * R  # stop rules' states when each replica ended
        self.events: list[dict[str, Any]] = []
        self.pending: dict[int, list[int]] = {}

    def event(self, step: int, g: int, kind: str, **data: Any) -> None:
        """Replica ``g``'s event (and its pending forks')."""
        for h in (g, *self.pending.get(g, ())):
            self.events.append({"step": step, "replica": h, "kind": kind, **data})

    def set_carry(self, g: int, carry: dict[str, Any] | None) -> None:
        """The stop rules' state at replica ``g``'s end (and its pending forks')."""
        for h in (g, *self.pending.get(g, ())):
            self.carry[h] = carry

    def finish(self, local: list[int], theta_now, theta_prev, why: str, step: int) -> None:
        """Stop active rows ``local`` at ``step``, keeping θ if finite, else the previous θ (their
        pending forks stop with them)."""
        for i in local:
            g = int(self.active[i])
            keep = theta_now if all(bool(torch.isfinite(p[i]).all()) for p in theta_now) else theta_prev
            th = tuple(p[i].detach().clone() for p in keep)
            for h in (g, *self.pending.get(g, ())):
                self.status[h] = why
                self.stop_step[h] = step
                self.final_theta[h] = th
            self.event(step, g, why)

    def complete(self, theta) -> None:
        """The last step: every active replica not finished (and its pending forks) keeps θ_T."""
        for i, g in enumerate(self.active.tolist()):
            if self.final_theta[g] is None:
                th = tuple(p[i].detach().clone() for p in theta)
                for h in (g, *self.pending.get(g, ())):
                    self.final_theta[h] = th


class Recorder:
    """Accumulates metric rows for (step, replica) and assembles the columnar trace."""

    def __init__(self, metrics: list[Metric]):
        self.metrics = metrics
        self.steps: list[np.ndarray] = []
        self.replicas: list[np.ndarray] = []
        self.values: dict[str, list[np.ndarray]] = {m.name: [] for m in metrics}
        #: pending forks by the replica they follow (:class:`Replicas`): its rows are theirs too
        self.aliases: dict[int, list[int]] = {}

    def record(self, snap: Snapshot, active: torch.Tensor, want: torch.Tensor) -> None:
        sel = torch.nonzero(want).flatten()
        self._append(np.full(sel.numel(), snap.t, dtype=np.int64), active[sel].numpy().astype(np.int64),
                     {m.name: m(snap).detach() for m in self.metrics}, sel)

    def record_batch(self, snap: Snapshot, steps: np.ndarray, replicas: np.ndarray) -> None:
        """Rows for a snapshot whose batch axis holds several (step, replica) pairs at once (the lean
        path's logged steps of one segment): metric values in batch order, one row each."""
        self._append(steps, replicas, {m.name: m(snap).detach() for m in self.metrics}, None)

    def _append(self, steps: np.ndarray, replicas: np.ndarray, values: dict[str, torch.Tensor],
                sel: torch.Tensor | None) -> None:
        """One chunk of rows (``values`` of the batch, its rows ``sel``), and the same rows again
        under each pending fork of their replica."""
        vals = {k: (v if sel is None else v[sel.to(v.device)]).cpu().numpy() for k, v in values.items()}
        self.steps.append(steps)
        self.replicas.append(replicas)
        for k, v in vals.items():
            self.values[k].append(v)
        if not any(self.aliases.values()):
            return
        src = [k for k, g in enumerate(replicas.tolist()) for _ in self.aliases.get(g, ())]
        if not src:
            return
        self.steps.append(steps[src])
        self.replicas.append(np.asarray([f for g in replicas.tolist() for f in self.aliases.get(g, ())],
                                        dtype=np.int64))
        for k, v in vals.items():
            self.values[k].append(v[src])

    def trace(self) -> Trace:
        if not self.steps:
            cols = {"step": np.zeros(0, np.int64), "replica": np.zeros(0, np.int64)}
            cols.update({k: np.zeros(0) for k in self.values})
            return Trace(cols)
        step = np.concatenate(self.steps)
        rep = np.concatenate(self.replicas)
        order = np.lexsort((step, rep))
        cols = {"step": step[order], "replica": rep[order]}
        for k, vs in self.values.items():
            cols[k] = np.concatenate(vs)[order]
        vector = tuple(m.name for m in self.metrics if m.vector)
        return Trace(cols, vector)


class Diagnostics:
    """The states of the stateful diagnostics that the requested metrics read, by diagnostic name."""

    def __init__(self, metrics: list[Metric], objective, theta, algorithm):
        self.diags = {m.diagnostic.name: m.diagnostic for m in metrics if m.diagnostic is not None}
        self.states = {name: d.init(objective, theta, algorithm) for name, d in self.diags.items()}

    def update(self, t: int, theta, out, objective) -> None:
        for name, d in self.diags.items():
            self.states[name] = d.update(self.states[name], t, theta, out, objective)

    def select(self, keep: torch.Tensor) -> None:
        for name, d in self.diags.items():
            self.states[name] = d.select(self.states[name], keep)


class Stops:
    """The stop rules and their states; ``check`` ORs their hits, ``reason`` names the first."""

    def __init__(self, rules: list[StopRule], ctx, offset: int, carry: dict[str, Any] | None):
        self.rules = list(rules)
        carry = carry or {}
        self.states = [r.init(StopContext(ctx.R, ctx.device, ctx.dtype, offset, carry.get(r.name)))
                       for r in self.rules]
        self.last_hits: list[torch.Tensor | None] = []

    def check(self, step: int, snap: Snapshot) -> torch.Tensor | None:
        hits = None
        self.last_hits = []
        for j, rule in enumerate(self.rules):
            self.states[j], hit = rule.check(self.states[j], step, snap)
            self.last_hits.append(hit)
            if hit is not None:
                hits = hit if hits is None else hits | hit
        return hits

    def reason(self, i: int) -> str:
        for rule, hit in zip(self.rules, self.last_hits, strict=True):
            if hit is not None and bool(hit[i]):
                return f"stopped:{rule.name}"
        return "converged"  # pragma: no cover - called only for rows some rule hit

    def select(self, keep: torch.Tensor) -> None:
        self.states = [r.select(s, keep) for r, s in zip(self.rules, self.states, strict=True)]

    def row(self, i: int) -> dict[str, Any]:
        """The rules' states for active row ``i`` (one-row states, by rule name)."""
        idx = torch.tensor([i])
        return {r.name: r.select(s, idx.to(_device_of(s))) for r, s in zip(self.rules, self.states, strict=True)}


def _device_of(state: Any) -> torch.device:
    if isinstance(state, torch.Tensor):
        return state.device
    if isinstance(state, dict):
        for v in state.values():
            if isinstance(v, torch.Tensor):
                return v.device
    return torch.device("cpu")


def concat_states(rows: list[Any]) -> Any:
    """Stack one-row states (tensors, dicts of tensors) back into a batch; None stays None."""
    first = rows[0]
    if first is None:
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(rows)
    if isinstance(first, dict):
        return {k: concat_states([r[k] for r in rows]) for k in first}
    return first
