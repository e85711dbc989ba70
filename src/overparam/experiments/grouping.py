"""Automatic grouping of a sweep's specs into one batched run where that changes no bit.

Runs that share a problem (its operator and data) can advance as replicas of one batched
computation, reading the operator once per step for all of them. But batching is only allowed
to change *how fast* a spec runs, never its numbers: "the same spec gives the same bits whichever
executor runs it" must hold whatever else the sweep contains. In general batched replicas agree
with separate runs only to rounding (a matrix–matrix product sums in another order than R
matrix–vector products), so grouping decided from the set of specs of one sweep would make a
spec's bits depend on its neighbours.

The rule here: specs are grouped only where what runs them gives every replica the same
arithmetic whatever the batch. Two cases, both decided from the spec alone:

* an engine (:func:`overparam.engines.select_engine`, the one rule) that says so
  (``Engine.replica_invariant``): the symmetric × packed-sensing kernels
  (:mod:`overparam.engines.sym_packed`), whose one-replica and replica-lane kernels compute each
  replica with identical operations, independent of R, of its lane and of the thread count;
* the generic loop's full-batch GD on an operator with lane kernels (``LinearOperator.max_lanes``:
  dense Gaussian sensing from ``FUSED_MIN_BYTES``, li2018 at d = 100 and 200), for specs of ≥ 2
  replicas each and at most ``max_lanes`` lanes in all. A run of several replicas computes each of
  them as a lane to its end (:mod:`overparam.lanes`); a one-replica run keeps the one-replica
  kernel, which sums in another order, so a one-replica spec is not grouped there.

There a grouped spec's result (trace, status, stop step, events, final θ) is bit-identical to the
spec run alone (``tests/test_grouping.py``, ``tests/test_forks.py``). Everything else runs spec by
spec, as before.

**Forks: one trajectory, several budgets.** Lanes of a group with the same per-replica settings
(init numbers, seeds, η) follow the same iterates; only their budgets differ (li2018: Fig. 1's
α = 1, 10⁻², 10⁻³ at 10⁴ steps are the first half of Fig. 2's runs at 2·10⁴). The pass computes such
a trajectory once, to the longest budget, and the shorter lanes are its forks (:func:`overparam.run`'s
``forks``): each takes the rows, events and end of the trajectory up to its budget, where a copy of
the iterate ends as that spec's own run ends. One-replica specs that differ only in budget and log
schedule group on any engine or loop (:func:`_prefix_key`): their pass computes one lane, the
longest member's own run, so nothing about the batch changes.

**Step budgets and log schedules.** Members may differ in ``steps`` and ``log`` too (li2018's
Figs. 1–2 at one d: 10⁴ and 2·10⁴ steps of the same problem). The pass runs to the longest budget;
every lane ends at its own member's budget T_s as that member's own run ends at its θ_T (evaluated,
checked for divergence but not for the target, recorded, kept as the final θ, status ``completed``:
:func:`overparam.run`'s ``budgets``), and the rest of the batch goes on. The pass logs the union of
the members' schedules (:class:`~overparam.schedule.UnionSchedule`); a member keeps the rows its own
run records — its schedule's steps up to its stop, the stop step, and the last finite iterate's
step when it overflowed — whose values do not depend on which other steps were logged (the
engines' evaluation of every recorded iterate, ``tests/test_engines.py``). Stops by the target or
by divergence are each lane's own: a lane that converges early leaves the batch at its step as
alone.

:func:`group_key` decides from the spec alone (problem, parameterization, algorithm, metrics,
target, …: everything except the per-replica settings ``init.*`` numbers, the seeds and
``algorithm.eta``, the step budget and the log schedule); :func:`plan` groups the specs with equal
keys; :func:`run_group` runs a group as one merged pass and splits the result. If at run time the
merged run did not take the replica-invariant engine, the members are run one by one instead
(nothing is lost but time). A pass takes snapshots and resumes like a single run, under the key of
its merged spec (:func:`overparam.experiments.executors.work_group`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import engines
from ..engines import loop_lanes, select_engine
from ..errors import OverparamError
from ..problems.dims import problem_dims
from ..schedule import LogSchedule, UnionSchedule
from .spec import RunSpec

#: Replicas per merged run at most (a group of more specs is split into several merged runs).
MAX_GROUP_REPLICAS = 64
#: Operators up to this size are built to decide whether their specs group (li2018's d = 200 operator
#: is 804 MB); larger ones run spec by spec.
BUILD_MAX_BYTES = 2 * 2**30


def _dtype_bytes(dtype: str) -> int:
    return 8 if dtype == "float64" else 4


#: decisions of :func:`_lanes_for` by group key (each distinct problem is built once per process)
_DECISIONS: dict[str, tuple[str, int, bool] | None] = {}

#: the engine name a run on the generic loop reports (``Result.info["engine"]``)
GENERIC = "generic"


def _lanes_for(key: str, spec: RunSpec, problem=None) -> tuple[str, int, bool] | None:
    """``(engine name, most lanes, one-replica specs too)`` where ``spec``'s runs compute every replica
    independently of the batch (module docstring), else ``None``; cached by ``key`` (the spec
    without its per-replica settings, which select no engine). Builds the spec's components, the
    problem's data too unless given (a cost paid once per problem and process)."""
    if key in _DECISIONS:
        return _DECISIONS[key]
    from .execute import build_component

    if problem is None:
        problem = spec.problem.build("problem", data_seed=spec.data_seed, dtype=spec.dtype, device=spec.device)
    parts = dict(metrics=list(spec.metrics), stops=[c.build("stop") for c in spec.stops],
                 regularizer=build_component(spec, "regularizer") if spec.regularizer is not None else None,
                 device=spec.device)
    param, algorithm = spec.param.build("param"), build_component(spec, "algorithm")
    try:
        engine = select_engine(problem, param, algorithm, **parts)
        lanes = min(loop_lanes(problem, param, algorithm, **parts), MAX_GROUP_REPLICAS) if engine is None else 0
    except KeyError:  # an unknown metric: the run reports it
        engine, lanes = None, 0
    if engine is not None:
        decision = (engine.name, MAX_GROUP_REPLICAS, True) if engine.replica_invariant else None
    else:  # the generic loop: per-replica lanes from the operator's kernels, for runs of ≥ 2 replicas
        decision = (GENERIC, lanes, False) if lanes >= 2 else None
    if len(_DECISIONS) > 1024:
        _DECISIONS.clear()
    _DECISIONS[key] = decision
    return decision


def group_key(spec: RunSpec, problem=None) -> str | None:
    """The key under which ``spec`` may share a batched run, or ``None`` when it must run alone
    (``problem``: the spec's problem if already built, so that the decision does not build it again).

    Which engine runs the spec is :func:`~overparam.engines.select_engine`'s decision alone; grouping
    adds only what merging needs: a replica-invariant engine, no recipe, per-replica settings that
    are init numbers, seeds or a per-replica η (not per block)."""
    if spec.recipe is not None:
        return None
    prefix = _prefix_key(spec)
    for rep in spec.replicas:
        if any(not (k.startswith("init.") or k in ("init_seed", "algo_seed", "algorithm.eta")) for k in rep):
            return None
    if isinstance(spec.algorithm.params.get("eta"), dict) or isinstance(spec.algorithm.params.get("grad_scale"), dict):
        return None
    try:
        dims = problem_dims(spec.problem.name, spec.problem.params)
    except OverparamError:
        return prefix
    # cost guards, not eligibility rules: the decision builds the problem's data (once per process and
    # key), and a one-replica spec groups only on an engine, which takes operators up to engines.MAX_BYTES
    nbytes = None if dims is None else dims.nbytes // 8 * _dtype_bytes(spec.dtype)
    if nbytes is None or nbytes > BUILD_MAX_BYTES or (spec.n_replicas < 2 and nbytes > engines.MAX_BYTES):
        return prefix
    data = spec.canonical()
    for field in ("replicas", "init_seed", "algo_seed", "steps", "log"):  # per lane: settings, budget, schedule
        data.pop(field, None)
    data["algorithm"] = {**data["algorithm"], "params": {k: v for k, v in data["algorithm"]["params"].items()
                                                         if k != "eta"}}
    data["init"] = {**data["init"], "params": {k: v for k, v in data["init"]["params"].items()
                                               if not _numeric(v)}}
    key = json.dumps(data, sort_keys=True, separators=(",", ":"))
    decision = _lanes_for(key, spec, problem)
    if decision is None or spec.n_replicas > decision[1] or (spec.n_replicas < 2 and not decision[2]):
        return prefix
    return key


#: the start of a key of one-trajectory groups (:func:`_prefix_key`)
PREFIX = "one trajectory:"


def _prefix_key(spec: RunSpec) -> str | None:
    """For a one-replica spec, the key of the specs that differ from it only in their step budget and
    log schedule: the same trajectory, cut at different steps. Such a group is its longest member's
    own run (one lane, the same batch on any engine or loop) with the others as its forks, so it
    needs no replica-invariant arithmetic (li2018 claim 9's control and its 10× longer control)."""
    if spec.n_replicas != 1:
        return None
    data = spec.canonical()
    for field in ("steps", "log"):
        data.pop(field, None)
    return PREFIX + json.dumps(data, sort_keys=True, separators=(",", ":"))


def _capacity(key: str) -> int:
    """Lanes per merged run for the specs of ``key`` (a :func:`group_key`)."""
    decision = _DECISIONS.get(key)
    return decision[1] if decision is not None else MAX_GROUP_REPLICAS


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def plan(specs: list[RunSpec]) -> list[list[RunSpec]]:
    """The specs as tasks: groups (≥ 2 specs sharing a :func:`group_key`, at most
    ``MAX_GROUP_REPLICAS`` replicas each, fewer where the lanes are fewer) and single specs, in the
    order of first appearance."""
    tasks: list[list[RunSpec]] = []
    open_group: dict[str, list[RunSpec]] = {}
    for s in specs:
        k = group_key(s)
        if k is None:
            tasks.append([s])
            continue
        g = open_group.get(k)
        if g is None or sum(x.n_replicas for x in g) + s.n_replicas > _capacity(k):
            g = [s]
            open_group[k] = g
            tasks.append(g)
        else:
            g.append(s)
    return tasks


#: replicas beyond the first add this fraction of a one-replica step each (the operator is read once
#: for all lanes; the lanes' own products are the rest) — a rough figure, used only for ordering
LANE_COST = 0.25


def estimated_cost(task: list[RunSpec]) -> float:
    """A rough relative cost of a task (one spec or a group): steps × bytes a step touches.

    A step reads the operator once (its stored bytes, at least the d₁ × d₂ variable for operators
    held implicitly), and each lane after the first adds :data:`LANE_COST` of that. Used only to
    hand the longest tasks to a pool first (longest-processing-time order: a 10⁵-step d = 200 run
    queued behind an hour of short runs would end the sweep an hour later); it never changes a
    number, and an unknown problem counts as one byte per step."""
    steps = max(s.steps for s in task)
    lanes = len({json.dumps(row, sort_keys=True) for x in task for row in _rows(x)})  # a fork is no lane
    s = task[0]
    try:
        dims = problem_dims(s.problem.name, s.problem.params)
    except (OverparamError, KeyError, TypeError):
        dims = None
    per_step = 1.0 if dims is None else max(dims.nbytes // 8 * _dtype_bytes(s.dtype),
                                            _dtype_bytes(s.dtype) * int(np.prod(dims.shape)))
    return float(steps) * per_step * (1.0 + LANE_COST * (lanes - 1))


def longest_first(tasks: list[list[RunSpec]]) -> list[list[RunSpec]]:
    """``tasks`` by :func:`estimated_cost`, largest first (a stable sort: equal costs keep their order)."""
    return sorted(tasks, key=estimated_cost, reverse=True)


def _rows(spec: RunSpec) -> list[dict[str, Any]]:
    """Each replica of ``spec`` as a ``[replicas]`` row of per-replica settings."""
    init = spec.component_params("init") or {}
    eta = spec.component_params("algorithm").get("eta")
    rows = []
    for i in range(spec.n_replicas):
        row: dict[str, Any] = {}
        for k, v in init.items():
            vi = v[i] if isinstance(v, list) else v
            if _numeric(vi):
                row[f"init.{k}"] = vi
        seeds = {n: spec.seeds(n) for n in ("init_seed", "algo_seed")}
        row.update({n: (v[i] if isinstance(v, list) else v) for n, v in seeds.items()})
        if eta is not None:
            row["algorithm.eta"] = eta[i] if isinstance(eta, list) else eta
        rows.append(row)
    return rows


def merged_spec(members: list[RunSpec]) -> RunSpec:
    """One spec whose replicas are every member's replicas, in order, run to the longest budget
    (the members' own budgets and schedules are :func:`budgets` and :func:`union_schedule`)."""
    rows = [row for s in members for row in _rows(s)]
    data = members[0].model_dump(mode="python")
    data["replicas"] = rows
    data["tags"] = {}
    data["steps"] = max(s.steps for s in members)
    return RunSpec.parse(data)


def _schedule(spec: RunSpec) -> LogSchedule:
    return LogSchedule(points=spec.log.points, every=spec.log.every)


def budgets(members: list[RunSpec]) -> list[int]:
    """Each lane's step budget: its member's ``steps``, lanes in :func:`merged_spec`'s order."""
    return [s.steps for s in members for _ in range(s.n_replicas)]


def forks(members: list[RunSpec]) -> list[int | None]:
    """Per lane of :func:`merged_spec`: ``None`` for a lane the pass computes, or the lane it is a
    fork of — the first lane with the same per-replica settings and the longest budget among them."""
    rows = [json.dumps(row, sort_keys=True) for s in members for row in _rows(s)]
    steps = budgets(members)
    lead: dict[str, int] = {}
    for i, r in enumerate(rows):
        if r not in lead or steps[i] > steps[lead[r]]:
            lead[r] = i
    return [None if lead[r] == i else lead[r] for i, r in enumerate(rows)]


def union_schedule(members: list[RunSpec]) -> UnionSchedule:
    """The steps the pass logs: every member's own schedule at its own budget."""
    return UnionSchedule(tuple((_schedule(s), s.steps) for s in members))


def _own_rows(step: np.ndarray, rep: np.ndarray, lane: int, stop: int, status: str, schedule: np.ndarray):
    """Which rows of lane ``lane`` in the pass's trace (columns ``step``, ``replica``) its member's
    own run records: its schedule's steps up to the stop step, the stop step itself and, when the
    iterate overflowed there (diverged with no row at the stop step), the last finite iterate's step
    stop − 1 (:meth:`overparam.run._Loop._handle`)."""
    mine = rep == lane
    own = np.isin(step, schedule[schedule <= stop]) | (step == stop)
    if status == "diverged" and not bool(np.any(mine & (step == stop))):
        own |= step == stop - 1
    return mine & own


def split(result, members: list[RunSpec]) -> list:
    """The merged run's result cut into each member's result, as that member run alone reports it."""
    from ..result import Result, Trace
    from .execute import build_component

    out = []
    a = 0
    N = result.R
    cols = result.trace.columns
    for s in members:
        n = s.n_replicas
        b = a + n
        schedule = _schedule(s).steps(s.steps)
        sel = np.zeros(len(cols["step"]), dtype=bool)
        for lane in range(a, b):
            sel |= _own_rows(cols["step"], cols["replica"], lane, result.stop_step[lane], result.status[lane],
                             schedule)
        tcols = {k: v[sel] for k, v in cols.items()}
        tcols["replica"] = tcols["replica"] - a
        init = build_component(s, "init")
        info = dict(result.info)
        info["steps"] = s.steps
        info["algorithm"] = build_component(s, "algorithm").describe()
        info["init"] = init.describe()
        seeds = {name: s.seeds(name) for name in ("init_seed", "algo_seed")}
        replicas = [{f"init.{k}": v for k, v in st.items()} for st in init.replica_settings(n)]
        for i, rep in enumerate(replicas):
            rep.update({name: int(v[i] if isinstance(v, list) else v) for name, v in seeds.items()})
        events = [{**e, "replica": e["replica"] - a} for e in result.events if a <= e["replica"] < b]
        out.append(Result.from_replicas(
            trace=Trace(tcols, result.trace.vector_metrics), theta=result.theta_list[a:b], blocks=result.blocks,
            status=result.status[a:b], stop_step=result.stop_step[a:b], events=events, replicas=replicas,
            wall_time=result.wall_time * n / N, info=info, carry=result.carry[a:b]))
        a = b
    return out


def run_group(members: list[RunSpec], *, progress=None, checkpoint=None, resume=None) -> list | None:
    """The members' results from one merged run, or ``None`` when the merged run did not take a
    replica-invariant engine (then the caller runs the members one by one). ``checkpoint`` /
    ``resume``: the pass's snapshots (:func:`overparam.run`), as for a single run."""
    from ..run import run
    from .execute import build

    merged = merged_spec(members)
    b = build(merged)
    kwargs = dict(b.run_kwargs)
    if any(s.steps != merged.steps or s.log != members[0].log for s in members):
        kwargs.update(log=union_schedule(members), budgets=budgets(members))
    lanes = forks(members)
    if any(j is not None for j in lanes):
        kwargs.setdefault("budgets", budgets(members))
        kwargs.update(forks=lanes)
    key = group_key(members[0], b.problem)
    if key is not None and key.startswith(PREFIX):  # one computed lane: the longest member's own run
        decision: tuple[str | None, int, bool] | None = (None, 1, True)
    else:
        decision = _DECISIONS.get(key) if key is not None else None
    if decision is None or sum(j is None for j in lanes) > decision[1]:
        return None
    result = run(b.problem, b.param, b.algorithm, progress=progress, checkpoint=checkpoint, resume=resume, **kwargs)
    if decision[0] is not None and result.info.get("engine") != decision[0]:
        return None
    return split(result, members)


__all__ = ["MAX_GROUP_REPLICAS", "budgets", "forks", "group_key", "merged_spec", "plan", "run_group", "split",
           "union_schedule"]
