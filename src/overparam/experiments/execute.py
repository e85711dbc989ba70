"""Turn a :class:`RunSpec` into objects and run it: the one function every executor calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import registry
from ..algorithms import Algorithm
from ..init import Init
from ..params import Parameterization
from ..problems import Problem
from ..result import Result
from ..run import run
from ..schedule import LogSchedule
from .spec import RunSpec


@dataclass
class Built:
    problem: Problem
    param: Parameterization
    algorithm: Algorithm
    init: Init
    run_kwargs: dict[str, Any]


def build(spec: RunSpec) -> Built:
    """Construct problem, parameterization, algorithm and initialization for ``spec``.

    Per-replica settings become sequences: ``init.<setting>`` values go to the initialization,
    ``algorithm.eta`` to the algorithm, seeds to ``run``.
    """
    reps = spec.replica_settings()
    problem = spec.problem.build("problem", data_seed=spec.data_seed, dtype=spec.dtype, device=spec.device)
    param = spec.param.build("param")
    algo_params = dict(spec.algorithm.params)
    if any("algorithm.eta" in r for r in spec.replicas):
        algo_params["eta"] = [r["algorithm.eta"] for r in reps]
    algorithm = registry.get("algorithm", spec.algorithm.name)(**algo_params)
    init_params: dict[str, Any] = {}
    for k, v in spec.init.params.items():
        if any(f"init.{k}" in r for r in spec.replicas):
            init_params[k] = [r[f"init.{k}"] for r in reps]
        else:
            init_params[k] = v
    init = registry.get("init", spec.init.name)(**init_params)
    seeds: dict[str, Any] = {}
    for name in ("init_seed", "algo_seed"):
        # with replicas, seeds are always per-replica lists: they carry the replica count R
        seeds[name] = [r[name] for r in reps] if spec.replicas else getattr(spec, name)
    kwargs = dict(
        init=init,
        steps=spec.steps,
        metrics=list(spec.metrics),
        log=LogSchedule(points=spec.log.points, every=spec.log.every),
        target_train_error=spec.target_train_error,
        diverge_factor=spec.diverge_factor,
        **seeds,
    )
    return Built(problem, param, algorithm, init, kwargs)


def execute(spec: RunSpec, *, progress=None) -> Result:
    """Run ``spec`` (all its replicas) and return the result."""
    b = build(spec)
    return run(b.problem, b.param, b.algorithm, progress=progress, **b.run_kwargs)
