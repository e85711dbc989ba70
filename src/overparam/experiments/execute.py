"""Turn a :class:`RunSpec` into objects and run it: the one function every executor calls.

A spec with a ``recipe`` runs the recipe (:mod:`overparam.recipes`) on the objects :func:`build`
makes, with a :class:`SpecFactory` for what a stage builds later; any other spec is one
:func:`~overparam.run` call. Either way the result is one :class:`~overparam.result.Result`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .. import registry
from ..algorithms import Algorithm
from ..init import Init
from ..params import Parameterization
from ..problems import Problem
from ..recipes import Recipe
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


def build_component(spec: RunSpec, kind: str, replica_idx: list[int] | None = None,
                    name: str | None = None, overrides: dict[str, Any] | None = None) -> Any:
    """Construct the spec's ``kind`` component (or ``name`` with ``overrides``) with its per-replica
    settings as lists over ``replica_idx``. For a component other than the spec's own, the spec's
    per-replica values of a setting of the same name still apply (a recipe's fine-tuning GD keeps
    each replica's η) unless ``overrides`` sets it."""
    own = getattr(spec, kind)
    per_rep = spec.component_params(kind, replica_idx) or {}
    if name is None or (own is not None and name == own.name):
        params = {**per_rep, **(overrides or {})}
        name = own.name
    else:
        from .spec import validate_component

        comp = validate_component(kind, {"name": name, **(overrides or {})})
        fields = registry.accepted_params(kind, name)
        varied = {k: v for k, v in per_rep.items() if k in fields and k not in (overrides or {})
                  and own is not None and v != own.params.get(k)}
        params = {**comp.params, **varied}
    return registry.get(kind, name)(**params)


def build(spec: RunSpec) -> Built:
    """Construct problem, parameterization, algorithm and initialization for ``spec``.

    Per-replica settings become sequences (``init.<setting>`` to the initialization,
    ``algorithm.<setting>`` to the algorithm, …), seeds per-replica lists when the spec has replicas.
    """
    problem = spec.problem.build("problem", data_seed=spec.data_seed, dtype=spec.dtype, device=spec.device)
    param = spec.param.build("param")
    kwargs = dict(
        init=build_component(spec, "init"),
        steps=spec.steps,
        metrics=list(spec.metrics),
        log=LogSchedule(points=spec.log.points, every=spec.log.every),
        target_train_error=spec.target_train_error,
        diverge_factor=spec.diverge_factor,
        regularizer=build_component(spec, "regularizer") if spec.regularizer is not None else None,
        stops=[c.build("stop") for c in spec.stops],
        init_seed=spec.seeds("init_seed"),
        algo_seed=spec.seeds("algo_seed"),
    )
    return Built(problem, param, build_component(spec, "algorithm"), kwargs["init"], kwargs)


class SpecFactory:
    """The factory a recipe run from a spec receives (:class:`overparam.recipes.Factory`): builds a
    component for some replicas with :func:`build_component` (the spec's per-replica settings over
    ``replicas``; a component other than the spec's own keeps the spec's per-replica values of
    settings of the same name unless ``overrides`` sets them)."""

    def __init__(self, spec: RunSpec):
        self.spec = spec

    def build(self, kind: str, replicas, name: str | None = None, overrides: dict[str, Any] | None = None) -> Any:
        return build_component(self.spec, kind, list(replicas), name, overrides)


def execute_recipe(spec: RunSpec, *, progress=None) -> Result:
    """Run the recipe of ``spec`` (``spec.recipe`` set): its components are built once, the recipe
    (the registered factory called with the spec's recipe settings, per-replica values as lists)
    runs on them and the :class:`SpecFactory`."""
    t0 = time.perf_counter()
    b = build(spec)
    ctx = Recipe(b.problem, b.param, b.algorithm, replicas=spec.n_replicas, factory=SpecFactory(spec),
                 label=f"{spec.recipe.name}({spec.recipe.params})", progress=progress, **b.run_kwargs)
    registry.get("recipe", spec.recipe.name)(**(spec.component_params("recipe") or {}))(ctx)
    return ctx.result(t0)


def execute(spec: RunSpec, *, progress=None, checkpoint=None, resume=None) -> Result:
    """Run ``spec`` (all its replicas, every stage of its recipe) and return the result.
    ``checkpoint`` / ``resume``: :func:`~overparam.run`'s snapshots (a spec without a recipe; a
    recipe's stages are separate runs and take none)."""
    if spec.recipe is not None:
        return execute_recipe(spec, progress=progress)
    b = build(spec)
    return run(b.problem, b.param, b.algorithm, progress=progress, checkpoint=checkpoint, resume=resume,
               **b.run_kwargs)
