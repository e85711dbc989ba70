"""Automatic grouping of a sweep's specs into one batched run where that changes no bit.

Runs that share a problem (its operator and data) can advance as replicas of one batched
computation, reading the operator once per step for all of them. But batching is only allowed
to change *how fast* a spec runs, never its numbers: "the same spec gives the same bits whichever
executor runs it" must hold whatever else the sweep contains. In general batched replicas agree
with separate runs only to rounding (a matrix–matrix product sums in another order than R
matrix–vector products), so grouping decided from the set of specs of one sweep would make a
spec's bits depend on its neighbours.

The rule here: specs are grouped only where the engine gives every replica the same arithmetic
whatever the batch — the lean symmetric × packed-sensing kernels (:mod:`overparam.lean`), whose
one-replica and replica-lane kernels compute each replica with identical operations, independent
of R, of its lane and of the thread count. There a grouped spec's result (trace, status, stop step,
events, final θ) is bit-identical to the spec run alone (``tests/test_grouping.py``). Everything
else runs spec by spec, as before.

:func:`group_key` decides from the spec alone (problem, parameterization, algorithm, budget,
metrics, …: everything except the per-replica settings ``init.*`` numbers, the seeds and
``algorithm.eta``); :func:`plan` groups the specs with equal keys; :func:`run_group` runs a group
as one merged spec and splits the result. If at run time the merged run did not take the
replica-invariant engine, the members are run one by one instead (nothing is lost but time).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .spec import RunSpec

#: Replicas per merged run at most (a group of more specs is split into several merged runs).
MAX_GROUP_REPLICAS = 64
#: The engines whose per-replica arithmetic does not depend on the batch (``Result.info["engine"]``).
INVARIANT_ENGINES = ("symmetric×packed-sensing",)


def _dtype_bytes(dtype: str) -> int:
    return 8 if dtype == "float64" else 4


def group_key(spec: RunSpec) -> str | None:
    """The key under which ``spec`` may share a batched run, or ``None`` when it must run alone."""
    from .. import registry
    from ..lean import MAX_BYTES

    p = spec.problem.params
    if (spec.problem.name != "matrix_sensing" or spec.param.name != "symmetric" or spec.algorithm.name != "gd"
            or spec.regularizer is not None or spec.stops or spec.recipe is not None or spec.device != "cpu"
            or p.get("operator", "stored") != "stored"):
        return None
    d, m = int(p["d"]), int(p["m"])
    if m * d * (d + 1) // 2 * _dtype_bytes(spec.dtype) > MAX_BYTES:
        return None
    for name in spec.metrics:
        try:
            if registry.get("metric", name).diagnostic is not None:
                return None
        except KeyError:
            return None
    if isinstance(spec.algorithm.params.get("eta"), dict) or isinstance(spec.algorithm.params.get("grad_scale"), dict):
        return None
    for rep in spec.replicas:
        if any(not (k.startswith("init.") or k in ("init_seed", "algo_seed", "algorithm.eta")) for k in rep):
            return None
    data = spec.canonical()
    data.pop("replicas", None)
    data.pop("init_seed", None)
    data.pop("algo_seed", None)
    data["algorithm"] = {**data["algorithm"], "params": {k: v for k, v in data["algorithm"]["params"].items()
                                                         if k != "eta"}}
    data["init"] = {**data["init"], "params": {k: v for k, v in data["init"]["params"].items()
                                               if not _numeric(v)}}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def plan(specs: list[RunSpec]) -> list[list[RunSpec]]:
    """The specs as tasks: groups (≥ 2 specs sharing a :func:`group_key`, at most
    ``MAX_GROUP_REPLICAS`` replicas each) and single specs, in the order of first appearance."""
    tasks: list[list[RunSpec]] = []
    open_group: dict[str, list[RunSpec]] = {}
    for s in specs:
        k = group_key(s)
        if k is None:
            tasks.append([s])
            continue
        g = open_group.get(k)
        if g is None or sum(x.n_replicas for x in g) + s.n_replicas > MAX_GROUP_REPLICAS:
            g = [s]
            open_group[k] = g
            tasks.append(g)
        else:
            g.append(s)
    return tasks


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
    """One spec whose replicas are every member's replicas, in order."""
    rows = [row for s in members for row in _rows(s)]
    data = members[0].model_dump(mode="python")
    data["replicas"] = rows
    data["tags"] = {}
    return RunSpec.parse(data)


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
        sel = (cols["replica"] >= a) & (cols["replica"] < b)
        tcols = {k: v[sel] for k, v in cols.items()}
        tcols["replica"] = tcols["replica"] - a
        init = build_component(s, "init")
        info = dict(result.info)
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


def run_group(members: list[RunSpec], *, progress=None) -> list | None:
    """The members' results from one merged run, or ``None`` when the merged run did not take a
    replica-invariant engine (then the caller runs the members one by one)."""
    from .execute import execute

    merged = merged_spec(members)
    result = execute(merged, progress=progress)
    if not str(result.info.get("engine", "")).startswith(INVARIANT_ENGINES):
        return None
    return split(result, members)


__all__ = ["MAX_GROUP_REPLICAS", "group_key", "merged_spec", "plan", "run_group", "split", "np"]
