"""The recipe machinery: stages of ordinary runs, with transformations between them.

A recipe (registered with ``@register("recipe", name)`` as a factory of its settings) is a short
function of a :class:`Recipe` context. Each replica of the spec is a **lane**: its θ, its global
step, its status and its stop rules' states. ``ctx.stage(...)`` runs one ordinary
:func:`~overparam.run` for the lanes still running, from their current θ (the spec's init on the
first stage), with the spec's problem and parameterization and the stage's own algorithm,
regularizer, stop rules and step budget. Lanes that share a global step and θ's shapes run as one
batch; after pruning (different widths) or per-replica restarts (different steps) they split into
groups automatically. Between stages a recipe transforms lanes: :meth:`Recipe.prune_columns`,
:meth:`Recipe.restart`, or sets θ itself (keeping the best iterate).

The result is one :class:`~overparam.result.Result`: a trace with a ``stage`` column (steps are
global: stage s starts where stage s − 1 ended), every stage's events (prune with the kept columns,
perturbation, restart, early stop) with their steps, and per-replica final θ whose widths may
differ.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..backend import derive_seed, dtype_name
from ..experiments.spec import RunSpec, validate_component
from ..params import Params
from ..recording import concat_states
from ..result import Result, Trace
from ..run import run
from ..schedule import LogSchedule
from ..settings import at_replica


@dataclass
class Lane:
    """One replica's path through a recipe."""

    replica: int
    theta: Params | None = None  # per-replica tensors (no replica axis); None before the first stage
    step: int = 0  # the global step of ``theta``
    status: str = "running"
    carry: dict[str, Any] | None = None  # stop rules' states when its last stage ended
    settings: dict[str, Any] = field(default_factory=dict)  # the recipe's own per-lane values (rank, norm, …)
    done: bool = False


class Recipe:
    """The context a recipe function receives (module docstring)."""

    def __init__(self, spec: RunSpec, *, progress=None):
        from ..experiments.execute import build

        self.spec = spec
        self.built = build(spec)
        self.problem, self.param = self.built.problem, self.built.param
        self.lanes = [Lane(i) for i in range(spec.n_replicas)]
        self.traces: list[Trace] = []
        self.events: list[dict[str, Any]] = []
        self.n_stages = 0
        self.progress = progress
        self.replica_info: list[dict[str, Any]] = [{} for _ in self.lanes]
        self.info: dict[str, Any] = {}  # the last stage's run description

    # -- settings ------------------------------------------------------------------------------
    def setting(self, name: str, lane: Lane) -> Any:
        """The recipe's setting ``name`` for ``lane`` (per-replica values resolved)."""
        params = self.spec.component_params("recipe") or {}
        return at_replica(params.get(name), lane.replica) if self.spec.replicas else params.get(name)

    def running(self) -> list[Lane]:
        return [ln for ln in self.lanes if not ln.done]

    # -- stages --------------------------------------------------------------------------------
    def stage(self, *, steps: int | None = None, algorithm: tuple[str, dict] | None = None,
              regularizer: Any = "spec", stops: Any = "spec", lanes: list[Lane] | None = None,
              budget: dict[int, int] | None = None, metrics: list | None = None) -> list[Lane]:
        """Run one stage for ``lanes`` (default: all running lanes) and return them.

        ``steps`` is the stage's budget (default the spec's steps; ``budget`` gives it per lane);
        ``algorithm`` is ``(name, overrides)`` (default the spec's), ``regularizer`` is ``"spec"``,
        ``None`` or ``(name, overrides)``, ``stops`` is ``"spec"`` or a list of stop rules.
        """
        lanes = self.running() if lanes is None else lanes
        index = self.n_stages
        self.n_stages += 1
        groups: dict[tuple, list[Lane]] = {}
        for ln in lanes:
            n = (budget or {}).get(ln.replica, self.spec.steps if steps is None else steps)
            shapes = None if ln.theta is None else tuple(tuple(p.shape) for p in ln.theta)
            groups.setdefault((ln.step, shapes, n, ln.carry is None), []).append(ln)
        for (offset, _, n, _), group in groups.items():
            self._run_group(group, index, offset, n, algorithm, regularizer, stops, metrics)
        return lanes

    def _run_group(self, group, index, offset, steps, algorithm, regularizer, stops, metrics) -> None:
        from ..experiments.execute import build_component

        idx = [ln.replica for ln in group]
        spec = self.spec
        alg = build_component(spec, "algorithm", idx, *(algorithm or (None, None)))
        if regularizer == "spec":
            reg = build_component(spec, "regularizer", idx) if spec.regularizer is not None else None
        else:
            reg = None if regularizer is None else build_component(spec, "regularizer", idx, *regularizer)
        rules = [c.build("stop") for c in spec.stops] if stops == "spec" else list(stops)
        kw: dict[str, Any] = dict(steps=steps, metrics=metrics or list(spec.metrics), stops=rules, regularizer=reg,
                                  log=LogSchedule(points=spec.log.points, every=spec.log.every),
                                  target_train_error=spec.target_train_error, diverge_factor=spec.diverge_factor,
                                  init_seed=self._seeds("init_seed", idx), algo_seed=self._seeds("algo_seed", idx),
                                  step_offset=offset, progress=self.progress)
        if group[0].theta is None:
            kw["init"] = build_component(spec, "init", idx)
        else:
            kw["theta0"] = tuple(torch.stack([ln.theta[j] for ln in group]) for j in range(len(group[0].theta)))
        carries = [ln.carry for ln in group]
        if all(c is not None for c in carries) and rules:
            kw["stop_carry"] = {r.name: concat_states([c.get(r.name) for c in carries]) for r in rules
                                if all(r.name in c for c in carries)}
        res = run(self.problem, self.param, alg, **kw)
        self._absorb(group, index, res)

    def _seeds(self, name: str, idx: list[int]) -> list[int]:
        """The lanes' ``init_seed`` / ``algo_seed``, one per lane (the spec's seed when it has no replicas)."""
        return self.spec.seeds(name, idx) if self.spec.replicas else [getattr(self.spec, name)] * len(idx)

    def _absorb(self, group: list[Lane], index: int, res: Result) -> None:
        """Lanes take the stage's final θ, step, status; the trace and events are relabelled."""
        cols = dict(res.trace.columns)
        rep = cols["replica"]
        cols["replica"] = np.array([group[j].replica for j in rep], dtype=np.int64)
        cols["stage"] = np.full(len(rep), index, dtype=np.int64)
        self.traces.append(Trace(cols, res.trace.vector_metrics))
        for ev in res.events:
            self.events.append({**ev, "replica": group[ev["replica"]].replica, "stage": index})
        for j, ln in enumerate(group):
            ln.theta = res.theta_list[j]
            ln.step = res.stop_step[j]
            ln.status = res.status[j]
            ln.carry = res.carry[j]
            if not self.replica_info[ln.replica]:
                self.replica_info[ln.replica] = dict(res.replicas[j])
        self.info = res.info

    # -- transformations -------------------------------------------------------------------------
    def event(self, lane: Lane, kind: str, **data: Any) -> None:
        self.events.append({"step": lane.step, "replica": lane.replica, "kind": kind, "stage": self.n_stages - 1,
                            **data})

    def prune_columns(self, lane: Lane, threshold: float) -> list[int]:
        """Keep the columns whose norm (joint over the factor blocks that share the width) exceeds
        ``threshold``; record a ``prune`` event with the kept columns. Returns the kept indices."""
        mats = [p for p in lane.theta if p.ndim == 2]
        k = mats[0].shape[-1]
        norms = torch.sqrt(sum((p * p).sum(0) for p in mats if p.shape[-1] == k))
        keep = torch.nonzero(norms > threshold).flatten()
        lane.theta = tuple(p[:, keep] if (p.ndim == 2 and p.shape[-1] == k) else p for p in lane.theta)
        kept = keep.tolist()
        self.event(lane, "prune", kept=kept, width=len(kept), threshold=float(threshold),
                   norms=[float(x) for x in norms])
        return kept

    def restart(self, lane: Lane, count: int, **init_overrides: Any) -> None:
        """θ ← a fresh draw of the spec's init with ``init_overrides`` (seed derived from the lane's
        init seed and the restart count), at the next global step; records a ``restart`` event."""
        spec = self.spec
        params = {**(spec.component_params("init", [lane.replica]) or {}), **init_overrides}
        params = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in params.items()}
        comp = validate_component("init", {"name": spec.init.name, **params})
        init = comp.build("init")
        seed = int(spec.seeds("init_seed", [lane.replica])[0]) if spec.replicas else spec.init_seed
        fresh = init(self.param, self.problem.shape, seeds=[derive_seed(seed, "restart", count) % (2**63)],
                     device=self.problem.device, dtype=self.problem.dtype, problem=self.problem)
        lane.theta = tuple(p[0] for p in fresh)
        lane.step += 1
        lane.status = "running"
        self.event(lane, "restart", count=count, **{k: _plain(v) for k, v in init_overrides.items()})

    # -- the result ------------------------------------------------------------------------------
    def result(self, t0: float) -> Result:
        trace = Trace.concat(self.traces)
        blocks = self.param.blocks
        info = dict(self.info)
        info.update(recipe=f"{self.spec.recipe.name}({self.spec.recipe.params})", stages=self.n_stages,
                    dtype=dtype_name(self.problem.dtype))
        events = sorted(self.events, key=lambda e: (e["replica"], e["step"], e.get("stage", 0)))
        return Result.from_replicas(trace=trace, theta=[ln.theta for ln in self.lanes], blocks=blocks,
                                    status=[ln.status for ln in self.lanes], stop_step=[ln.step for ln in self.lanes],
                                    events=events, replicas=self.replica_info, wall_time=time.perf_counter() - t0,
                                    info=info, carry=[None] * len(self.lanes))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, torch.Tensor) else v
