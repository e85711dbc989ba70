"""The recipe machinery: stages of ordinary runs, with transformations between them.

A recipe (registered with ``@register("recipe", name)`` as a factory of its settings) is a short
function of a :class:`Recipe` context. The context is made of **built objects**: the problem, the
parameterization, the algorithm, the initialization, the regularizer, the stop rules and the run's
settings (steps, metrics, log schedule, seeds), plus a :class:`~.factory.Factory` for what those do
not cover (a stage's own algorithm, a fresh initialization). It never sees a spec: the experiment
layer turns a spec into these objects and its own factory (:func:`overparam.experiments.execute`),
and Python code hands them over directly (:func:`run_recipe`, or ``Recipe(...)`` and stages of its
own).

Each replica is a **lane**: its θ, its global step, its status and its stop rules' states.
``ctx.stage(...)`` runs one ordinary :func:`~overparam.run` for the lanes still running, from their
current θ (the initialization on the first stage), with the problem and parameterization and the
stage's own algorithm, regularizer, stop rules and step budget. Lanes that share a global step and
θ's shapes run as one batch; after pruning (different widths) or per-replica restarts (different
steps) they split into groups automatically. A component is built once per run: a stage of every
lane uses the objects as handed over, and so does a group of lanes when the component has no
per-replica settings; only a group of some lanes with per-replica settings asks the factory. Between
stages a recipe transforms lanes: :meth:`Recipe.prune_columns`, :meth:`Recipe.restart`, or sets θ
itself (keeping the best iterate).

The result is one :class:`~overparam.result.Result`: a trace with a ``stage`` column (steps are
global: stage s starts where stage s − 1 ended), every stage's events (prune with the kept columns,
perturbation, restart, early stop) with their steps, and per-replica final θ whose widths may
differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..algorithms import Algorithm
from ..backend import derive_seed, dtype_name, is_sequence
from ..errors import SettingError
from ..init import Init
from ..metrics import DEFAULT_METRICS
from ..objective import Objective
from ..params import Parameterization, Params
from ..problems import Problem
from ..recording import concat_states
from ..result import Result, Trace
from ..run import run
from ..schedule import LogSchedule
from ..settings import replica_count
from .factory import Factory, ObjectFactory

#: ``stage(regularizer=RUN, stops=RUN)``: the run's own regularizer / stop rules.
RUN = "run"


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
    """The context a recipe function receives (module docstring).

    Args:
        problem: the run's problem.
        param: the parameterization.
        algorithm: the first stage's algorithm (and of any stage that names none).
        init: the initialization of the first stage (per-replica settings give the replicas).
        steps: the first stage's budget (and the default of every later stage).
        regularizer: the penalty of the first stage (and of any stage that asks for ``RUN``).
        stops: stop rules (of the first stage, and of any stage that asks for ``RUN``).
        metrics: metric names recorded at logged steps, as for :func:`~overparam.run`.
        log: the log schedule of every stage (default :class:`~overparam.schedule.LogSchedule`).
        target_train_error: as for :func:`~overparam.run`.
        diverge_factor: as for :func:`~overparam.run`.
        init_seed: one seed, or one per replica.
        algo_seed: one seed, or one per replica.
        replicas: the number of lanes (default: what the settings and seeds imply).
        factory: builds what the objects do not cover (default :class:`~.factory.ObjectFactory`
            over ``algorithm``, ``init`` and ``regularizer``).
        label: the run's recipe as the result's ``info["recipe"]`` names it.
        progress: called as ``progress(t, steps)`` by every stage's run.
    """

    def __init__(self, problem: Problem, param: Parameterization, algorithm: Algorithm, *, init: Init | None,
                 steps: int, regularizer: Any = None,
                 stops: Sequence[Any] = (), metrics: Sequence[Any] = DEFAULT_METRICS, log: LogSchedule | None = None,
                 target_train_error: float | None = None, diverge_factor: float = 1e8,
                 init_seed: int | Sequence[int] = 0, algo_seed: int | Sequence[int] = 0, replicas: int | None = None,
                 factory: Factory | None = None, label: str = "recipe", progress: Callable | None = None):
        self.problem, self.param, self.algorithm, self.init = problem, param, algorithm, init
        self.regularizer, self.stops, self.steps = regularizer, list(stops), steps
        self.metrics, self.log = list(metrics), log if log is not None else LogSchedule()
        self.target_train_error, self.diverge_factor = target_train_error, diverge_factor
        R = replicas if replicas is not None else _replicas(init, algorithm, regularizer, init_seed, algo_seed)
        self.init_seeds, self.algo_seeds = _per_lane(init_seed, R, "init_seed"), _per_lane(algo_seed, R, "algo_seed")
        self.factory = factory if factory is not None else ObjectFactory(
            {"algorithm": algorithm, "init": init, "regularizer": regularizer}, R)
        self.label = label
        self.lanes = [Lane(i) for i in range(R)]
        self.traces: list[Trace] = []
        self.events: list[dict[str, Any]] = []
        self.n_stages = 0
        self.progress = progress
        self.replica_info: list[dict[str, Any]] = [{} for _ in self.lanes]
        self.info: dict[str, Any] = {}  # the last stage's run description
        self._t0 = time.perf_counter()
        self._bound = None  # the regularizer bound to every lane (certificates read it)

    def running(self) -> list[Lane]:
        return [ln for ln in self.lanes if not ln.done]

    # -- components ----------------------------------------------------------------------------
    def component(self, kind: str, replicas: list[int], which: Any = None) -> Any:
        """The ``kind`` component for the lanes ``replicas``: ``which`` is ``None`` (the run's own),
        a built object (used as is) or ``(name, overrides)`` (built by the factory). The run's own
        object serves every lane, and any group of lanes when it has no per-replica settings."""
        if which is not None and not isinstance(which, tuple):
            return which
        name, overrides = which if which is not None else (None, None)
        own = getattr(self, kind)
        if name is None and not overrides and (replicas == list(range(len(self.lanes)))
                                               or getattr(own, "replicas", 1) == 1):
            return own
        return self.factory.build(kind, replicas, name, overrides)

    def objective(self, lane: Lane) -> Objective:
        """f = L + λR for one lane (θ with a replica axis of size 1): the run's regularizer, bound
        once for every lane and restricted to this one (certificates evaluate it)."""
        reg = None
        if self.regularizer is not None:
            if self._bound is None:
                self._bound = self.regularizer.bind(len(self.lanes), self.problem.device, self.problem.dtype,
                                                    self.param)
            reg = self._bound.select(torch.tensor([lane.replica]))
        return Objective(self.problem, self.param, reg)

    # -- stages --------------------------------------------------------------------------------
    def stage(self, *, steps: int | None = None, algorithm: Any = None, regularizer: Any = RUN, stops: Any = RUN,
              lanes: list[Lane] | None = None, budget: dict[int, int] | None = None,
              metrics: list | None = None) -> list[Lane]:
        """Run one stage for ``lanes`` (default: all running lanes) and return them.

        ``steps`` is the stage's budget (default the run's ``steps``; ``budget`` gives it per lane);
        ``algorithm`` is ``None`` (the run's), an algorithm object or ``(name, overrides)`` (built by
        the factory); ``regularizer`` is ``RUN`` (the run's), ``None``, an object or ``(name,
        overrides)``; ``stops`` is ``RUN`` or a list of stop rules.
        """
        lanes = self.running() if lanes is None else lanes
        index = self.n_stages
        self.n_stages += 1
        groups: dict[tuple, list[Lane]] = {}
        for ln in lanes:
            n = (budget or {}).get(ln.replica, self.steps if steps is None else steps)
            shapes = None if ln.theta is None else tuple(tuple(p.shape) for p in ln.theta)
            groups.setdefault((ln.step, shapes, n, ln.carry is None), []).append(ln)
        for (offset, _, n, _), group in groups.items():
            self._run_group(group, index, offset, n, algorithm, regularizer, stops, metrics)
        return lanes

    def _run_group(self, group, index, offset, steps, algorithm, regularizer, stops, metrics) -> None:
        idx = [ln.replica for ln in group]
        alg = self.component("algorithm", idx, algorithm)
        reg = None
        if regularizer == RUN:
            reg = self.component("regularizer", idx) if self.regularizer is not None else None
        elif regularizer is not None:
            reg = self.component("regularizer", idx, regularizer)
        rules = list(self.stops) if stops == RUN else list(stops)
        kw: dict[str, Any] = dict(steps=steps, metrics=metrics or list(self.metrics), stops=rules, regularizer=reg,
                                  log=self.log, target_train_error=self.target_train_error,
                                  diverge_factor=self.diverge_factor, init_seed=[self.init_seeds[i] for i in idx],
                                  algo_seed=[self.algo_seeds[i] for i in idx], step_offset=offset,
                                  progress=self.progress)
        if group[0].theta is None:
            kw["init"] = self.component("init", idx)
        else:
            kw["theta0"] = tuple(torch.stack([ln.theta[j] for ln in group]) for j in range(len(group[0].theta)))
        carries = [ln.carry for ln in group]
        if all(c is not None for c in carries) and rules:
            kw["stop_carry"] = {r.name: concat_states([c.get(r.name) for c in carries]) for r in rules
                                if all(r.name in c for c in carries)}
        res = run(self.problem, self.param, alg, **kw)
        self._absorb(group, index, res)

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
        """θ ← a fresh draw of the run's init with ``init_overrides`` (built by the factory for this
        lane; seed derived from the lane's init seed and the restart count), at the next global step;
        records a ``restart`` event."""
        init = self.factory.build("init", [lane.replica], None, init_overrides)
        seed = int(self.init_seeds[lane.replica])
        fresh = init(self.param, self.problem.shape, seeds=[derive_seed(seed, "restart", count) % (2**63)],
                     device=self.problem.device, dtype=self.problem.dtype, problem=self.problem)
        lane.theta = tuple(p[0] for p in fresh)
        lane.step += 1
        lane.status = "running"
        self.event(lane, "restart", count=count, **{k: _plain(v) for k, v in init_overrides.items()})

    # -- the result ------------------------------------------------------------------------------
    def result(self, t0: float | None = None) -> Result:
        """The one result of every stage (``t0``: when the recipe started, for the wall time)."""
        trace = Trace.concat(self.traces)
        blocks = self.param.blocks
        info = dict(self.info)
        info.update(recipe=self.label, stages=self.n_stages,
                    dtype=dtype_name(self.problem.dtype))
        events = sorted(self.events, key=lambda e: (e["replica"], e["step"], e.get("stage", 0)))
        return Result.from_replicas(trace=trace, theta=[ln.theta for ln in self.lanes], blocks=blocks,
                                    status=[ln.status for ln in self.lanes], stop_step=[ln.step for ln in self.lanes],
                                    events=events, replicas=self.replica_info,
                                    wall_time=time.perf_counter() - (self._t0 if t0 is None else t0),
                                    info=info, carry=[None] * len(self.lanes))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, torch.Tensor) else v


def _replicas(init, algorithm, regularizer, init_seed, algo_seed) -> int:
    """The lane count the settings and seeds imply (they must agree, as in :func:`~overparam.run`)."""
    counts = {"init": getattr(init, "replicas", 1), "algorithm": getattr(algorithm, "replicas", 1),
              "regularizer": getattr(regularizer, "replicas", 1) if regularizer is not None else 1,
              "init_seed": replica_count("init_seed", seeds=init_seed),
              "algo_seed": replica_count("algo_seed", seeds=algo_seed)}
    multi = {k: v for k, v in counts.items() if v != 1}
    if len(set(multi.values())) > 1:
        raise SettingError(f"recipe: replica counts disagree: {multi}; per-replica settings must all have one length")
    return next(iter(multi.values()), 1)


def _per_lane(seed: int | Sequence[int], R: int, name: str) -> list[int]:
    if not is_sequence(seed):
        return [seed] * R
    if len(seed) != R:
        raise SettingError(f"recipe.{name}: got {len(seed)} seeds; accepted: one, or one per replica ({R})")
    return list(seed)
