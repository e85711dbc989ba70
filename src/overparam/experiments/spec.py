"""RunSpec: the unit of reproducibility. A spec fully determines its result; its hash is its identity.

A spec names a problem, a parameterization, an algorithm and an initialization from the registry
(:mod:`overparam.registry`), with their settings validated against the constructors' own
signatures, plus the run settings and three seeds. ``replicas`` lists per-replica overrides
(``init.<setting>``, ``init_seed``, ``algo_seed``, ``algorithm.eta``; only numbers, and only the
settings a constructor declares per replica): the replicas share the problem's operator and advance
as one batched computation in one worker. Everything that can be checked without data is checked
at validation, before any run: cross-field constraints, memory, and a recipe's preconditions
(:func:`check_recipe`).

In TOML::

    steps = 10000
    data_seed = 0
    metrics = ["loss", "train_error", "test_error"]

    [problem]
    name = "matrix_sensing"
    d = 100
    r = 5
    m = 2500

    [param]
    name = "symmetric"

    [algorithm]
    name = "gd"
    eta = 0.0025
    grad_scale = 0.5

    [init]
    name = "scaled_identity"

    [replicas]              # zipped: one replica per position
    "init.alpha" = [1.0, 0.1, 0.01, 0.001]

In Python::

    spec = RunSpec(problem={"name": "matrix_sensing", "d": 100, "r": 5, "m": 2500},
                   param="symmetric", algorithm={"name": "gd", "eta": 0.0025, "grad_scale": 0.5},
                   init={"name": "scaled_identity"}, steps=10_000,
                   replicas={"init.alpha": [1.0, 0.1, 0.01, 0.001]})
    spec.key()        # the identity: sha256 of the canonical JSON (every default filled, tags left out)

Two specs that differ only in how they were written (a default given or omitted, ``1`` for
``1.0``, key order, tags) have the same key; any difference in a setting that can change a number
gives a different key. A list of seeds may be written as a range table, ``{start = 0, stop = 200}``
(``step`` optional), in ``[replicas]`` and in a sweep's ``[grid]``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import registry
from .._types import NonNegInt, PosFloat, PosInt, Seed
from .errors import SpecError, one_line
from .files import load_toml

COMPONENT_KINDS = {"problem": "problem", "param": "param", "algorithm": "algorithm", "init": "init"}
#: components that are optional (``None`` / empty when absent, and then left out of the identity)
OPTIONAL_KINDS = {"regularizer": "regularizer", "recipe": "recipe"}
#: components whose numeric settings may vary per replica (``"<kind>.<setting>"`` in ``[replicas]``)
REPLICA_KINDS = ("algorithm", "init", "regularizer", "recipe")
REPLICA_KEYS = ("init_seed", "algo_seed", "algorithm.<setting>", "init.<setting>", "regularizer.<setting>",
                "recipe.<setting>")
#: fields added after the first stores were written: left out of the canonical JSON at their
#: defaults, so every earlier spec keeps its key
NEW_FIELDS_DEFAULTS = {"regularizer": None, "stops": (), "recipe": None}
RANGE_KEYS = ("start", "stop", "step")
#: The most runs one sweep may expand to, and the most values one range table may hold: checked
#: before anything is expanded, so a typo such as ``{stop = 1000000000}`` is an error, not minutes
#: of expansion followed by a MemoryError.
MAX_GRID_POINTS = 100_000


def expand_range(where: str, value: Any) -> Any:
    """``{start = 0, stop = 5}`` → ``[0, 1, 2, 3, 4]`` (``step`` optional); anything else unchanged."""
    if not isinstance(value, dict):
        return value
    unknown = sorted(set(value) - set(RANGE_KEYS))
    if unknown or "stop" not in value:
        raise SpecError(f"{where} = {value!r}: expected a list or a range table {{start = 0, stop = N, step = 1}}")
    bounds = [value.get("start", 0), value["stop"], value.get("step", 1)]
    if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) or bounds[2] == 0:
        raise SpecError(f"{where} = {value!r}: range start, stop and step must be integers (step != 0)")
    values = range(*bounds)
    if len(values) > MAX_GRID_POINTS:
        raise SpecError(f"{where} = {value!r}: {len(values):,} values; accepted: at most {MAX_GRID_POINTS:,} "
                        "(split the sweep)")
    return list(values)


def _is_range(value: Any) -> bool:
    return isinstance(value, dict) and "stop" in value and set(value) <= set(RANGE_KEYS)


def flatten_axes(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys for a ``[grid]`` or ``[replicas]`` table: TOML reads ``init.alpha = [...]`` (unquoted)
    as a nested table, which means the same as ``"init.alpha" = [...]``. Range tables stay values."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, dict) and not _is_range(v) and v:
            out.update(flatten_axes(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


class Component(BaseModel):
    """A registered constructor (``name``, looked up in :mod:`overparam.registry` under its kind) and
    its settings, validated against the constructor's signature with every default filled in."""

    model_config = ConfigDict(frozen=True)

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    def build(self, kind: str, **runtime: Any) -> Any:
        """Call the registered constructor with the settings plus ``runtime`` (seed, device, dtype)."""
        fn = registry.get(kind, self.name)
        return fn(**self.params, **runtime)


def _legacy_names(data: dict[str, Any]) -> dict[str, Any]:
    """Canonical spec data with component, stop and metric names mapped to their legacy names."""
    out = dict(data)
    for kind in (*COMPONENT_KINDS, *OPTIONAL_KINDS):
        comp = out.get(kind)
        if isinstance(comp, dict) and isinstance(comp.get("name"), str):
            out[kind] = {**comp, "name": registry.legacy_name(kind, comp["name"])}
    if isinstance(out.get("stops"), list):
        out["stops"] = [{**c, "name": registry.legacy_name("stop", c["name"])} if isinstance(c, dict) else c
                        for c in out["stops"]]
    if isinstance(out.get("metrics"), list):
        out["metrics"] = [registry.legacy_name("metric", m) for m in out["metrics"]]
    return out


def validate_component(kind: str, value: Any) -> Component:
    """Resolve ``{"name": ..., **settings}`` against the registry's schema for ``kind``."""
    if isinstance(value, Component):
        value = {"name": value.name, **value.params}
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise SpecError(f"{kind}: expected a table with a 'name' and settings; got {value!r}")
    value = dict(value)
    if "params" in value and isinstance(value["params"], dict):
        rest = {k: v for k, v in value.items() if k not in ("name", "params")}
        value = {"name": value.get("name"), **value["params"], **rest}
    name = value.pop("name", None)
    if name is None:
        raise SpecError(f"{kind}.name: missing; accepted: {', '.join(registry.names(kind))}")
    try:
        model = registry.schema(kind, str(name))
    except KeyError as exc:
        raise SpecError(str(exc)) from None
    unknown = sorted(set(value) - set(model.model_fields))
    if unknown:
        raise SpecError(
            f"{kind}.{unknown[0]}: unknown setting for {kind} {name!r}; accepted: {', '.join(model.model_fields)}"
        )
    blocks: dict[str, dict[str, Any]] = {}
    for k, v in list(value.items()):
        for path, x in registry._entries(k, v):
            if isinstance(x, bool) and _is_numeric_field(model, k) and not registry._accepts_bool(
                    model.model_fields[k].annotation):
                raise SpecError(f"{kind}.{path} = {str(x).lower()}: expected a number, got a boolean")
        if isinstance(v, (list, tuple)) and kind in REPLICA_KINDS and _is_numeric_field(model, k):
            raise SpecError(f"{kind}.{k} = {v!r}: per-replica values go in [replicas] (\"{kind}.{k}\" = [...])")
        if isinstance(v, dict) and kind in REPLICA_KINDS and _is_numeric_field(model, k):
            if not takes_per_block(kind, str(name), k):
                raise SpecError(f"{kind}.{k} = {v!r}: {kind} {name!r} takes one {k} for every parameter block, "
                                "not a per-block table")
            if not v:
                raise SpecError(f"{kind}.{k}: an empty per-block table; name each block: {{F = 0.1, G = 0.05}}")
            for b, entry in v.items():
                if isinstance(entry, (list, tuple)):
                    raise SpecError(f"{kind}.{k}.{b} = {entry!r}: per-replica values go in [replicas] "
                                    f"(\"{kind}.{k}.{b}\" = [...])")
            blocks[k] = v  # a per-block table: validate each entry as the setting itself
            value[k] = next(iter(v.values()))
    try:
        validated = model.model_validate(value)
        for k, table in blocks.items():
            for entry in table.values():
                model.model_validate({**value, k: entry})
    except pydantic.ValidationError as exc:
        raise SpecError(one_line(exc, prefix=kind)) from None
    params = validated.model_dump(mode="json")
    for k, table in blocks.items():
        params[k] = {str(b): _jsonable(e) for b, e in sorted(table.items())}
    return Component(name=str(name), params=params)


def _jsonable(v: Any) -> Any:
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _is_numeric_field(model: type[BaseModel], field: str) -> bool:
    """Whether a schema field takes a number (so it may be per replica or per block)."""
    import types
    import typing

    f = model.model_fields.get(field)
    if f is None:
        return False
    ann = f.annotation
    arms = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    return any(a in (int, float) or typing.get_origin(a) is typing.Annotated and typing.get_args(a)[0] in (int, float)
               for a in arms)


def takes_per_block(kind: str, name: str, field: str) -> bool:
    """Whether ``<kind>.<field>`` may be a per-block table: the constructor declares it (a ``Mapping``
    arm, :func:`overparam.registry.varies`), or it is a setting of an init that draws each block on
    its own (not ``joint``: :class:`overparam.init.Init` resolves the table against the blocks)."""
    if registry.varies(kind, name, field)[1]:
        return True
    if kind == "init":
        try:
            return not registry.get("init", name)().joint
        except (TypeError, ValueError):  # an init without defaults for every setting
            return False
    return False


def check_replica_key(kind: str, name: str, field: str, block: str = "") -> None:
    """A ``[replicas]`` key ``<kind>.<field>[.<block>]`` names a setting that the constructor declares
    per replica (and per block, with a block): see :func:`overparam.registry.varies`. A setting that is
    not a number, or one the constructor takes once for all replicas (``recipe.window``,
    ``algorithm.batch_size``), is refused: each of its values is a different run, written in ``[grid]``."""
    key = f"replicas.{kind}.{field}" + (f".{block}" if block else "")
    if not _is_numeric_field(registry.schema(kind, name), field):
        raise SpecError(f"{key}: per-replica values must be numbers; put it in [grid] to run each value as its "
                        "own run")
    per_replica = registry.varies(kind, name, field)[0]
    if not per_replica:
        declared = [f for f in registry.accepted_params(kind, name) if registry.varies(kind, name, f)[0]]
        raise SpecError(f"{key}: {kind} {name!r} takes one {field} for all replicas; put it in [grid] to run each "
                        f"value as its own run (per-replica settings of {kind} {name!r}: "
                        f"{', '.join(declared) or 'none'})")
    if block and not takes_per_block(kind, name, field):
        raise SpecError(f"{key}: {kind} {name!r} takes one {field} for every parameter block; accepted: "
                        f"\"{kind}.{field}\" = [...] without a block")


class LogSpec(BaseModel):
    """Which steps are recorded: ``points`` log-spaced steps, or every ``every`` ≥ 1 steps when given
    (see :class:`overparam.schedule.LogSchedule`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    points: NonNegInt = 200
    every: PosInt | None = None


class RunSpec(BaseModel):
    """One run (with its replicas). Construct from a dict, a TOML file, or in Python.

    Attributes:
        problem, param, algorithm, init: registered components with their settings.
        steps: the maximum number of updates.
        metrics: metric names recorded at logged steps (:mod:`overparam.metrics`).
        log: the recording schedule.
        target_train_error: stop a replica once its relative train error is at most this.
        diverge_factor: a replica diverges when its loss exceeds this times its initial loss.
        data_seed: seeds the problem (operator, truth, noise).
        init_seed, algo_seed: seed the initialization and the algorithm's randomness.
        replicas: per-replica overrides (``init_seed``, ``algo_seed`` and the numeric settings of the
            algorithm, init, regularizer or recipe that their constructor declares per replica, see
            :func:`check_replica_key`: ``algorithm.eta``, ``regularizer.lam``, ``algorithm.eta.F`` for
            one block, the other blocks keeping the base value) that run batched on one operator; a
            table of equal-length lists (zipped) or a list of tables.
        regularizer: a penalty added to the loss (:mod:`overparam.regularizers`), or none.
        stops: stop rules (:mod:`overparam.stops`), each a table with a ``name``.
        recipe: a multi-stage recipe (:mod:`overparam.recipes`) run instead of a single run; the
            spec's algorithm, regularizer, stops and steps are its first stage's.
        device, dtype: where and in what precision the run computes (part of the identity).
        tags: free labels (figure id, …); stored, but not part of the identity.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    problem: Component
    param: Component
    algorithm: Component
    init: Component
    steps: NonNegInt
    metrics: tuple[str, ...] = ("loss", "train_error", "test_error")
    log: LogSpec = LogSpec()
    target_train_error: PosFloat | None = None
    diverge_factor: PosFloat = 1e8
    data_seed: Seed = 0
    init_seed: Seed = 0
    algo_seed: Seed = 0
    replicas: tuple[dict[str, Any], ...] = ()
    regularizer: Component | None = None
    stops: tuple[Component, ...] = ()
    recipe: Component | None = None
    device: Literal["cpu", "cuda"] = "cpu"
    dtype: Literal["float64", "float32"] = "float64"
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("problem", "param", "algorithm", "init", mode="before")
    @classmethod
    def _component(cls, v: Any, info: pydantic.ValidationInfo) -> Component:
        return validate_component(COMPONENT_KINDS[info.field_name], v)

    @field_validator("steps", "data_seed", "init_seed", "algo_seed", "target_train_error", "diverge_factor",
                     mode="before")
    @classmethod
    def _no_bool(cls, v: Any, info: pydantic.ValidationInfo) -> Any:
        if isinstance(v, bool):
            raise SpecError(f"{info.field_name}: got {str(v).lower()}; expected a number, not a boolean")
        return v

    @field_validator("regularizer", "recipe", mode="before")
    @classmethod
    def _optional(cls, v: Any, info: pydantic.ValidationInfo) -> Component | None:
        return None if v is None else validate_component(OPTIONAL_KINDS[info.field_name], v)

    @field_validator("stops", mode="before")
    @classmethod
    def _stops(cls, v: Any) -> tuple[Component, ...]:
        if isinstance(v, (dict, str, Component)):
            v = [v]
        if not isinstance(v, (list, tuple)):
            raise SpecError(f"stops: expected a list of tables with a 'name'; got {v!r}")
        return tuple(validate_component("stop", x) for x in v)

    @field_validator("metrics", mode="after")
    @classmethod
    def _metrics(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            if not registry.has("metric", name):  # a paper's name loads its namespace first
                raise SpecError(f"metrics: unknown metric {name!r}; accepted: {', '.join(registry.names('metric'))}")
        return v

    @field_validator("replicas", mode="before")
    @classmethod
    def _replicas(cls, v: Any) -> Any:
        if isinstance(v, dict):  # zipped table form {"init.alpha": [...], ...}
            v = {k: expand_range(f"replicas.{k}", x) for k, x in flatten_axes(v).items()}
            lengths = {k: len(x) for k, x in v.items() if isinstance(x, (list, tuple))}
            if len(v) and len(lengths) != len(v):
                bad = next(k for k in v if k not in lengths)
                raise SpecError(f"replicas.{bad}: expected a list of per-replica values; got {v[bad]!r}")
            if len(set(lengths.values())) > 1:
                raise SpecError(f"replicas: lists of different lengths {lengths}; zipped replicas need equal lengths")
            n = next(iter(lengths.values()), 0)
            return tuple({k: v[k][i] for k in v} for i in range(n))
        if isinstance(v, (list, tuple)):  # list of tables [{init_seed = 0}, {init_seed = 1}]
            return tuple(flatten_axes(r) if isinstance(r, dict) else r for r in v)
        return v

    @model_validator(mode="after")
    def _check_replicas(self) -> RunSpec:
        for i, rep in enumerate(self.replicas):
            for key, val in rep.items():
                if key in ("init_seed", "algo_seed"):
                    if not isinstance(val, int) or isinstance(val, bool) or val < 0:
                        raise SpecError(f"replicas[{i}].{key} = {val!r}: accepted: integers >= 0")
                    continue
                kind, _, rest = key.partition(".")
                comp = getattr(self, kind, None) if kind in REPLICA_KINDS else None
                if comp is None or not rest:
                    raise SpecError(f"replicas[{i}].{key}: not a per-replica setting; accepted: "
                                    f"{', '.join(REPLICA_KEYS)}" + ("" if comp is not None or kind not in REPLICA_KINDS
                                                                     else f" (this spec has no {kind})"))
                field, _, block = rest.partition(".")
                fields = list(registry.schema(kind, comp.name).model_fields)
                if field not in fields:
                    raise SpecError(f"replicas[{i}].{key}: {kind} {comp.name!r} has no setting {field!r}; "
                                    f"accepted: {', '.join(fields)}")
                check_replica_key(kind, comp.name, field, block)
                validate_component(kind, {"name": comp.name, **_with_value(comp.params, field, block, val)})
        return self

    @model_validator(mode="after")
    def _check_constraints(self) -> RunSpec:
        """Cross-field checks that need no data: the problem's own (r ≤ d, p or m), the
        parameterization against the problem's shape, an init rank that fits a factor, a batch no
        larger than m, and the operator's memory (see :func:`check_resources`)."""
        check_constraints(self)
        return self

    # -- identity --------------------------------------------------------------------------------
    def canonical(self) -> dict[str, Any]:
        """The spec as plain JSON data with every default filled in (tags excluded; the fields added
        after the first stores, ``regularizer``, ``stops`` and ``recipe``, only when set, so that
        earlier specs keep their keys)."""
        data = self.model_dump(mode="json")
        data.pop("tags", None)
        for k, default in NEW_FIELDS_DEFAULTS.items():
            if data.get(k) in (default, [], None):
                data.pop(k, None)
        return data

    def key(self) -> str:
        """The spec's identity: a hash of its canonical JSON, with every registered name written as
        its legacy name (:func:`overparam.registry.legacy_name`), so that ``ma2025.sensing`` and
        ``ma2025_sensing`` give the same key, the one stored runs have."""
        blob = json.dumps(_legacy_names(self.canonical()), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    @property
    def n_replicas(self) -> int:
        return max(1, len(self.replicas))

    def replica_settings(self) -> list[dict[str, Any]]:
        """The resolved per-replica values: the init's settings, the seeds, ``algorithm.eta``, and
        every setting that ``[replicas]`` varies."""
        base = {f"init.{k}": v for k, v in self.init.params.items()}
        base.update(init_seed=self.init_seed, algo_seed=self.algo_seed)
        base["algorithm.eta"] = self.algorithm.params.get("eta")
        reps = self.replicas or ({},)
        return [{**base, **rep} for rep in reps]

    def component_params(self, kind: str, replica_idx: list[int] | None = None) -> dict[str, Any] | None:
        """A component's settings with its per-replica values as lists over ``replica_idx`` (all
        replicas by default), per-block entries as tables: what the constructor receives."""
        comp = getattr(self, kind)
        if comp is None:
            return None
        params = dict(comp.params)
        if not self.replicas:
            return params
        idx = list(range(len(self.replicas))) if replica_idx is None else replica_idx
        keys = sorted({k for r in self.replicas for k in r if k.startswith(kind + ".")})
        for key in keys:
            field, _, block = key[len(kind) + 1:].partition(".")
            if block and not isinstance(params.get(field), dict):  # one block per replica: the others keep
                params[field] = {b: params.get(field) for b in self.param.build("param").blocks}  # the base value
            vals = [self.replicas[i].get(key, _block_value(comp.params.get(field), block)) for i in idx]
            params = _with_value(params, field, block, vals)
        return params

    def seeds(self, name: str, replica_idx: list[int] | None = None) -> int | list[int]:
        """``init_seed`` / ``algo_seed``: per-replica lists when the spec has replicas."""
        if not self.replicas:
            return getattr(self, name)
        idx = list(range(len(self.replicas))) if replica_idx is None else replica_idx
        return [self.replicas[i].get(name, getattr(self, name)) for i in idx]

    def flat(self) -> dict[str, Any]:
        """Flattened ``section.setting`` columns (for tables and filters)."""
        return flatten({**self.canonical(), "tags": dict(self.tags)})

    def with_overrides(self, **dotted: Any) -> RunSpec:
        """A copy with ``section.setting`` values replaced (validated again)."""
        data = self.model_dump(mode="python")
        for key, val in dotted.items():
            set_dotted(data, key, val)
        return RunSpec.parse(data)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> RunSpec:
        """Validate a plain dict; raises :class:`SpecError` with a one-line message."""
        if not isinstance(data, dict):
            raise SpecError(f"spec: expected a table of settings; got {data!r}")
        _check_known(data, list(cls.model_fields), "")
        if isinstance(data.get("log"), dict):
            _check_known(data["log"], list(LogSpec.model_fields), "log.")
        try:
            return cls.model_validate(_components_as_dicts(data))
        except pydantic.ValidationError as exc:
            raise SpecError(one_line(exc)) from None

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> RunSpec:
        """Load a single-run spec file; ``overrides`` are dotted fields (``**{"problem.d": 50}``).
        A file with a ``[grid]`` is a sweep: load it with :func:`overparam.experiments.load_sweep`."""
        data = load_toml(path)
        if data.get("grid"):
            raise SpecError(f"spec file {str(path)!r}: has a [grid] (a sweep); use load_sweep() for sweeps")
        data.pop("grid", None)
        for key, val in overrides.items():
            set_dotted(data, key, val)
        return cls.parse(data)


#: refuse a run whose operator alone needs more than this fraction of the machine's memory
MEMORY_FRACTION = 0.8


def _available_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_constraints(spec: RunSpec) -> None:
    """Raise a one-line :class:`SpecError` for settings that contradict each other (see
    :meth:`RunSpec._check_constraints`); problems without known dimensions are checked at run time."""
    from ..backend import BackendError
    from ..params import ParamError
    from ..problems.dims import problem_dims

    param = spec.param.build("param")
    blocks = set(param.blocks)
    for kind in REPLICA_KINDS:
        comp = getattr(spec, kind)
        for field, v in (comp.params.items() if comp is not None else ()):
            if isinstance(v, dict) and _is_numeric_field(registry.schema(kind, comp.name), field) and set(v) != blocks:
                unknown, missing = sorted(set(v) - blocks), [b for b in param.blocks if b not in v]
                what = f"{unknown[0]}: unknown block" if unknown else f"{missing[0]}: missing block"
                raise SpecError(f"{kind}.{field}.{what}; a per-block table names exactly the blocks of param "
                                f"{spec.param.name!r}: {', '.join(param.blocks)}")
    for i, rep in enumerate(spec.replicas):
        for key in rep:
            parts = key.split(".")
            if len(parts) == 3 and parts[0] in REPLICA_KINDS and parts[2] not in blocks:
                raise SpecError(f"replicas[{i}].{key}: {parts[2]!r} is not a block of param {spec.param.name!r}; "
                                f"accepted: {', '.join(param.blocks)}")
    check_recipe(spec)
    try:
        dims = problem_dims(spec.problem.name, spec.problem.params)
    except BackendError as exc:
        raise SpecError(str(exc)) from None
    if dims is None:
        return
    try:
        shapes = param.shapes(dims.shape)
    except (ParamError, BackendError) as exc:
        raise SpecError(f"param.name = {spec.param.name!r}: {exc}") from None
    ranks = [(f"replicas[{i}].init.rank", r["init.rank"]) for i, r in enumerate(spec.replicas) if "init.rank" in r]
    ranks = ranks or [("init.rank", spec.init.params.get("rank"))]
    if spec.recipe is not None and spec.recipe.name == "restarts":  # restarts re-draw the init at rank >= min_rank
        ranks.append(("recipe.min_rank", spec.recipe.params.get("min_rank")))
    for field, rank in ranks:
        if isinstance(rank, dict):  # a per-block rank: its largest entry
            rank = max(rank.values())
        if spec.init.name == "low_rank" and rank is not None:
            limit = min(min(sh) for sh in shapes if len(sh) == 2)
            if rank > limit:
                name = field.rpartition(".")[2]
                raise SpecError(f"{field}: got {rank}; accepted: 1 <= {name} <= {limit} (the factors' smaller side)")
    batch = spec.algorithm.params.get("batch_size")
    if isinstance(batch, int) and batch > dims.m:
        raise SpecError(f"algorithm.batch_size: got {batch}; accepted: 1 <= batch_size <= m = {dims.m}")
    total = _available_memory()
    need = dims.nbytes // (2 if spec.dtype == "float32" else 1)
    if total is not None and need > MEMORY_FRACTION * total:
        raise SpecError(f"problem: the operator needs {need / 2**30:.1f} GiB, more than {MEMORY_FRACTION:.0%} of this "
                        f"machine's {total / 2**30:.1f} GiB; accepted: a smaller problem.m or dimensions, or "
                        f"problem.operator = 'matrix_free' for Gaussian sensing")
    iterates = iterate_bytes(spec, shapes, dims.shape)
    if total is not None and need + iterates > MEMORY_FRACTION * total:
        raise SpecError(f"param: {spec.n_replicas} replica(s) of {spec.param.name!r} parameters on a "
                        f"{' × '.join(map(str, dims.shape))} problem need about {iterates / 2**30:.1f} GiB for their "
                        f"iterates (+ {need / 2**30:.1f} GiB operator), more than {MEMORY_FRACTION:.0%} of this machine's "
                        f"{total / 2**30:.1f} GiB; accepted: fewer replicas, a smaller param.k or smaller dimensions")


def _needs_group_lasso(spec: RunSpec, params: dict[str, Any]) -> None:
    if spec.regularizer is None or spec.regularizer.name != "group_lasso":
        got = "none" if spec.regularizer is None else repr(spec.regularizer.name)
        raise SpecError(f"regularizer.name: got {got}; recipe {spec.recipe.name!r} trains with the group-Lasso "
                        "penalty: accepted: [regularizer] name = \"group_lasso\" (lam, beta)")


def _needs_low_rank(spec: RunSpec, params: dict[str, Any]) -> None:
    if spec.init.name != "low_rank":
        raise SpecError(f"init.name: got {spec.init.name!r}; recipe 'restarts' (003 Algorithm 1) restarts from a "
                        "rank-r₀ init of norm ρ₀: accepted: [init] name = \"low_rank\" (rank, norm)")


def _early_stopping(spec: RunSpec, params: dict[str, Any]) -> None:
    if params.get("rule") == "oracle" and params.get("metric") not in spec.metrics:
        raise SpecError(f"recipe.metric: got {params.get('metric')!r}, which the spec does not record; the oracle rule "
                        f"reads it every step: accepted: one of metrics = {list(spec.metrics)}, or add it to metrics")
    if params.get("rule") == "discrepancy" and params.get("noise_energy") is None:
        raise SpecError("recipe.noise_energy: missing; the discrepancy rule stops at (1 + tau)·noise_energy: "
                        "accepted: a positive number (E‖E‖², known or estimated)")


#: what a recipe needs of the rest of the spec, checked at validation (before any run of a sweep);
#: its settings' own ranges are checked by calling its factory (see :func:`check_recipe`)
RECIPE_PRECONDITIONS = {
    "prune_finetune": _needs_group_lasso,
    "rajaraman2023.algorithm1": _needs_group_lasso,
    "restarts": _needs_low_rank,
    "early_stopping": _early_stopping,
}


def check_recipe(spec: RunSpec) -> None:
    """A recipe's preconditions, before any run: its factory accepts its settings (e.g. restarts'
    ``0 < factor < 1``; a ``ValueError`` it raises becomes a one-line :class:`SpecError`), and the rest
    of the spec is what it needs (:data:`RECIPE_PRECONDITIONS`; a recipe object may also declare
    ``check_spec(spec)``, called here)."""
    if spec.recipe is None:
        return
    params = dict(spec.recipe.params)
    try:
        recipe = registry.get("recipe", spec.recipe.name)(**params)
    except (ValueError, TypeError) as exc:
        raise SpecError(f"recipe: {one_line(exc)}" if not str(exc).startswith("recipe.") else one_line(exc)) from None
    check = RECIPE_PRECONDITIONS.get(spec.recipe.name)
    if check is not None:
        check(spec, params)
    if callable(getattr(recipe, "check_spec", None)):
        try:
            recipe.check_spec(spec)
        except ValueError as exc:
            raise SpecError(one_line(exc)) from None


#: copies of θ a run holds at once (θ_t, θ_{t+1}, the previous θ, the gradient, the algorithm's state)
ITERATE_COPIES = 5


def iterate_bytes(spec: RunSpec, shapes, shape) -> int:
    """A lower estimate of the memory a run's iterates take: per replica, :data:`ITERATE_COPIES` copies
    of every parameter block plus the matrix X = g(θ) of the problem's shape."""
    itemsize = 4 if spec.dtype == "float32" else 8
    per_replica = ITERATE_COPIES * sum(math.prod(sh) for sh in shapes) + math.prod(shape)
    return spec.n_replicas * per_replica * itemsize


def _with_value(params: dict[str, Any], field: str, block: str, value: Any) -> dict[str, Any]:
    """``params`` with ``field`` set to ``value`` — or, with a ``block``, that block's entry of the
    field's per-block table (a scalar field becomes a table)."""
    out = dict(params)
    if block:
        cur = out.get(field)
        table = dict(cur) if isinstance(cur, dict) else {}
        table[block] = value
        out[field] = table
    else:
        out[field] = value
    return out


def _block_value(value: Any, block: str) -> Any:
    return value.get(block) if (block and isinstance(value, dict)) else value


def _check_known(data: dict[str, Any], accepted: list[str], prefix: str) -> None:
    unknown = sorted(k for k in data if k not in accepted)
    if unknown:
        raise SpecError(f"{prefix}{unknown[0]}: unknown field; accepted: {', '.join(accepted)}")


def flatten(spec: dict[str, Any]) -> dict[str, Any]:
    """Canonical spec JSON → ``{"problem.d": 100, "init.alpha": 0.001, "steps": …}`` (lists as JSON)."""
    out: dict[str, Any] = {}
    for kind in (*COMPONENT_KINDS, *OPTIONAL_KINDS):
        comp = spec.get(kind) or {}
        if kind in OPTIONAL_KINDS and not comp:
            continue
        out[f"{kind}.name"] = comp.get("name")
        for k, v in (comp.get("params") or {}).items():
            out[f"{kind}.{k}"] = json.dumps(v) if isinstance(v, (list, dict)) else v
    if spec.get("stops"):
        out["stops"] = json.dumps(spec["stops"])
    for k in ("steps", "data_seed", "init_seed", "algo_seed", "device", "dtype", "target_train_error",
              "diverge_factor"):
        out[k] = spec.get(k)
    log = spec.get("log") or {}
    out["log.points"] = log.get("points")
    out["log.every"] = log.get("every")
    for k, v in (spec.get("tags") or {}).items():
        out[f"tags.{k}"] = v
    return out


def _components_as_dicts(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if isinstance(out.get("stops"), (list, tuple)):
        out["stops"] = [_component_dict(c) for c in out["stops"]]
    for kind in (*COMPONENT_KINDS, *OPTIONAL_KINDS):
        comp = out.get(kind)
        if isinstance(comp, Component):
            out[kind] = {"name": comp.name, **comp.params}
        elif isinstance(comp, dict) and "params" in comp and isinstance(comp["params"], dict):
            out[kind] = {"name": comp.get("name"), **comp["params"]}
    return out


def _component_dict(comp: Any) -> Any:
    if isinstance(comp, Component):
        return {"name": comp.name, **comp.params}
    if isinstance(comp, dict) and isinstance(comp.get("params"), dict):
        return {"name": comp.get("name"), **comp["params"]}
    return comp


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """``set_dotted(d, "problem.d", 100)``: set a nested key, creating tables as needed."""
    parts = key.split(".")
    node = data
    for p in parts[:-1]:
        nxt = node.get(p)
        if isinstance(nxt, Component):
            nxt = {"name": nxt.name, **nxt.params}
        if nxt is None:
            nxt = {}
        if not isinstance(nxt, dict):
            raise SpecError(f"--set {key}: {p!r} is a value, not a table")
        node[p] = dict(nxt)
        node = node[p]
    if isinstance(node.get("params"), dict) and parts[-1] not in ("name", "params"):
        node["params"] = {**node["params"], parts[-1]: value}
    else:
        node[parts[-1]] = value
