"""Name → constructor tables for the kinds of parts a spec names.

A new problem, parameterization, initialization, algorithm, metric, regularizer, stop rule or
recipe is one function (or class) plus one ``@register(kind, name)`` line. This module imports
nothing of the package: the modules that register import it; the core's registering modules
(:data:`BUILTIN_MODULES`) are imported on the first lookup that misses, so a lookup answers
whichever module of the package was imported first.

**Namespaces.** A paper's names are ``<id>.<name>`` (``li2018.subspace_sin``,
``ma2025.sensing``) and are registered by the paper package ``overparam.papers.<id>``, which the
core never imports: the first lookup of a name in namespace ``<id>`` imports that package (by name,
:func:`load_namespace`), and :func:`names` (a full listing, ``overparam list``) imports every paper
(:func:`load_all`). Names that specs wrote before the namespaces (``subspace_sin``,
``ma2025_sensing``) are **aliases** (:func:`alias`) of the new ones: looking one up gives the same
constructor (a metric keeps the name it was asked by, which names its trace column), and
:func:`legacy_name` maps a new name back to the alias, so that a spec keeps its key whichever of the
two names it is written with. A legacy name ``<id>_<name>`` loads namespace ``<id>`` first; any
other unknown name loads every paper before it is refused.

The function's keyword parameters, with their type annotations and ``Annotated[..., Field(...)]``
constraints, *are* the schema a spec is validated against: :func:`schema` builds the pydantic model
from the signature, so there is nothing to keep in sync by hand.

Parameters that a run supplies rather than the spec (seeds, device, dtype) are listed in
:data:`RUNTIME_PARAMS` and left out of the schema.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import inspect
import math
from collections.abc import Callable
from typing import Any

import pydantic

from .errors import OverparamError, SettingError

KINDS = ("problem", "param", "init", "algorithm", "metric", "regularizer", "stop", "recipe")
RUNTIME_PARAMS = frozenset({"data_seed", "device", "dtype"})

_TABLES: dict[str, dict[str, Callable[..., Any]]] = {k: {} for k in KINDS}
#: legacy name → registered name, per kind (see the module docstring)
_ALIASES: dict[str, dict[str, str]] = {k: {} for k in KINDS}
#: registered name → legacy name, per kind (the name a spec's key is computed with)
_LEGACY: dict[str, dict[str, str]] = {k: {} for k in KINDS}
#: the packages whose subpackages are namespaces (imported by name, never by an import statement)
NAMESPACE_PACKAGES = ("overparam.papers",)
_LOADED: set[str] = set()
_ALL_LOADED = False
#: the core modules that register the builtin names; imported (by name) before the first lookup that
#: misses, so that the registry answers whichever module was imported first (``import overparam``
#: itself imports nothing heavy, see the package face)
BUILTIN_MODULES = ("overparam.problems", "overparam.params", "overparam.init", "overparam.algorithms",
                   "overparam.metrics", "overparam.stops", "overparam.regularizers", "overparam.recipes")
_BUILTINS_LOADED = False


def load_builtins() -> None:
    """Import the core's registering modules (:data:`BUILTIN_MODULES`), once."""
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        for mod in BUILTIN_MODULES:
            importlib.import_module(mod)


class RegistryError(OverparamError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


def register(kind: str, name: str | None = None, *, legacy: str | None = None
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``@register("problem", "matrix_sensing")``; ``legacy`` is the name earlier specs
    used (an :func:`alias`), for a paper's ``@register("problem", "ma2025.sensing", legacy="ma2025_sensing")``."""
    if kind not in _TABLES:
        raise ValueError(f"unknown registry kind {kind!r}; accepted: {', '.join(KINDS)}")

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = name or fn.__name__
        if key in _TABLES[kind]:
            raise ValueError(f"{kind} {key!r} is registered twice")
        if kind != "metric":
            fn = _validating(kind, key, fn)
        _TABLES[kind][key] = fn
        if legacy is not None:
            alias(kind, legacy, key)
        return fn

    return deco


def _validating(kind: str, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (or the class's ``__init__``) checking every setting against the schema first: scalars,
    per-replica lists and per-block tables entry by entry; booleans are not numbers; non-finite
    numbers are refused. Errors are one-line :class:`~overparam.errors.SettingError` s."""
    target = fn.__init__ if inspect.isclass(fn) else fn

    @functools.wraps(target)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_settings(kind, key, target, args, kwargs)
        return target(*args, **kwargs)

    if inspect.isclass(fn):
        fn.__init__ = wrapper
        return fn
    return wrapper


def check_settings(kind: str, key: str, target: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    sig = inspect.signature(target)
    try:
        bound = sig.bind_partial(*args, **kwargs)
    except TypeError as exc:
        raise SettingError(f"{kind} {key!r}: {exc}; accepted: {', '.join(accepted_params(kind, key))}") from None
    model = schema(kind, key)
    for pname, value in bound.arguments.items():
        f = model.model_fields.get(pname)
        if f is None:
            continue
        _check_varies(kind, key, pname, f.annotation, value)
        adapter = _adapter(kind, key, pname)
        entries = [(pname, value)] if _takes_sequence(f.annotation) else _entries(pname, value)
        for path, x in entries:
            numeric = _numeric(f.annotation)
            if isinstance(x, bool) and numeric and not _accepts_bool(f.annotation):
                raise SettingError(f"{kind}.{path} = {x!r}: expected a number, got a boolean")
            if isinstance(x, float) and not math.isfinite(x):
                raise SettingError(f"{kind}.{path} = {x!r}: accepted: finite numbers")
            try:
                adapter.validate_python(x)
            except pydantic.ValidationError as exc:
                msg = exc.errors(include_url=False)[0].get("msg", "invalid")
                raise SettingError(f"{kind}.{path} = {x!r}: {msg}") from None


def _check_varies(kind: str, key: str, pname: str, ann: Any, value: Any) -> None:
    """A per-replica list or a per-block table only where the signature declares it (:func:`varies`):
    otherwise the constructor would take the list or table itself as the value (a list is truthy)."""
    if ann is Any or _takes_sequence(ann) or _takes_mapping(ann):
        return
    per_replica, per_block = varies(kind, key, pname)
    # an Init resolves per-block tables itself when it is called (against the blocks it is given)
    if isinstance(value, dict) and not per_block and kind != "init":
        raise SettingError(f"{kind}.{pname} = {value!r}: {kind} {key!r} takes one value for every parameter block, "
                           "not a per-block table")
    if isinstance(value, (list, tuple)) and not per_replica:
        what = "a number" if _numeric(ann) else "not a number"
        raise SettingError(f"{kind}.{pname} = {list(value)!r}: {kind} {key!r} takes one value for all replicas "
                           f"({what}), not a per-replica list; run each value as its own run")


def _takes_mapping(ann: Any) -> bool:
    import collections.abc
    import types
    import typing

    arms = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    return any(a in (dict,) or typing.get_origin(a) in (collections.abc.Mapping, dict) for a in arms)


def _entries(path: str, value: Any):
    """(dotted path, scalar) for a scalar, a per-replica sequence or a per-block table."""
    if isinstance(value, dict):
        for b, v in value.items():
            yield from _entries(f"{path}.{b}", v)
    elif isinstance(value, (list, tuple)) and not (value and isinstance(value[0], (list, tuple))):
        for i, v in enumerate(value):
            yield f"{path}[{i}]", v
    else:
        yield path, value


@functools.cache
def _adapter(kind: str, key: str, field: str) -> pydantic.TypeAdapter:
    f = schema(kind, key).model_fields[field]
    import typing

    ann = typing.Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation
    return pydantic.TypeAdapter(ann, config=pydantic.ConfigDict(arbitrary_types_allowed=True, allow_inf_nan=False))


def _numeric(ann: Any) -> bool:
    import types
    import typing

    arms = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    for a in arms:
        base = typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a
        if base in (int, float):
            return True
    return False


def _takes_sequence(ann: Any) -> bool:
    """Whether the setting itself is a sequence (``spectrum: Sequence[float]``), not a scalar that a
    per-replica list may repeat."""
    import collections.abc
    import types
    import typing

    arms = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    return any(typing.get_origin(a) in (collections.abc.Sequence, list, tuple) for a in arms)


def _accepts_bool(ann: Any) -> bool:
    import types
    import typing

    arms = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    return bool in arms


def alias(kind: str, legacy: str, name: str) -> None:
    """Make ``legacy`` (a name earlier specs used) another name of the registered ``name``."""
    if kind not in _TABLES:
        raise ValueError(f"unknown registry kind {kind!r}; accepted: {', '.join(KINDS)}")
    if legacy in _TABLES[kind] or _ALIASES[kind].get(legacy, name) != name:
        raise ValueError(f"{kind} alias {legacy!r} is taken")
    _ALIASES[kind][legacy] = name
    _LEGACY[kind][name] = legacy


def load_namespace(ns: str) -> bool:
    """Import the package that registers the names ``<ns>.*`` (``overparam.papers.<ns>``), once.
    Returns whether there is such a package."""
    if ns in _LOADED:
        return True
    for pkg in NAMESPACE_PACKAGES:
        name = f"{pkg}.{ns}"
        if not ns.isidentifier() or importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name)
        _LOADED.add(ns)
        return True
    return False


def namespaces() -> list[str]:
    """Every namespace package's name (the paper ids), without importing any of them."""
    import pkgutil

    out = []
    for pkg in NAMESPACE_PACKAGES:
        spec = importlib.util.find_spec(pkg)
        if spec is None or spec.submodule_search_locations is None:
            continue
        out += [m.name for m in pkgutil.iter_modules(spec.submodule_search_locations)
                if m.ispkg and not m.name.startswith("_")]
    return sorted(out)


def load_all() -> None:
    """Import every namespace (every paper's registrations): for full listings and unknown names."""
    global _ALL_LOADED
    if not _ALL_LOADED:
        for ns in namespaces():
            load_namespace(ns)
        _ALL_LOADED = True


@functools.cache
def _aliased_metric(legacy: str, name: str) -> Any:
    return dataclasses.replace(_TABLES["metric"][name], name=legacy)


def _find(kind: str, name: str) -> Callable[..., Any] | None:
    table = _TABLES[kind]
    if name in table:
        return table[name]
    target = _ALIASES[kind].get(name)
    if target is None:
        return None
    if kind == "metric":  # the trace column keeps the name the spec asked for
        return _aliased_metric(name, target)
    return table[target]


def get(kind: str, name: str) -> Callable[..., Any]:
    """The constructor registered as ``name`` (or aliased to it); ``<id>.<name>`` loads namespace
    ``<id>`` on first use, an unknown name loads every namespace before it is refused."""
    table = _tables(kind)
    found = table.get(name)
    if found is not None:
        return found
    load_builtins()
    found = _find(kind, name)
    if found is None:
        for sep in (".", "_"):
            ns, hit, _ = name.partition(sep)
            if hit and load_namespace(ns):
                found = _find(kind, name)
                break
    if found is None:
        load_all()
        found = _find(kind, name)
    if found is None:
        raise RegistryError(f"{kind}.name: got {name!r}; accepted: {', '.join(sorted(table))}")
    return found


def has(kind: str, name: str) -> bool:
    """Whether ``name`` (or an alias) is registered under ``kind``, loading its namespace if needed."""
    try:
        get(kind, name)
    except RegistryError:
        return False
    return True


def legacy_name(kind: str, name: str) -> str:
    """The name a spec's key is computed with: the legacy alias of a registered ``<id>.<name>`` (so a
    spec written with the new name keeps the key it had with the old one), else ``name`` itself."""
    if kind not in _TABLES:
        return name
    if name not in _TABLES[kind] and name not in _ALIASES[kind] and "." in name:
        load_namespace(name.partition(".")[0])
    return _LEGACY[kind].get(name, name)


def names(kind: str) -> list[str]:
    """Every registered name of ``kind`` (aliases left out), every namespace loaded first."""
    table = _tables(kind)
    load_builtins()
    load_all()
    return sorted(table)


def _tables(kind: str) -> dict[str, Callable[..., Any]]:
    if kind not in _TABLES:
        raise RegistryError(f"unknown registry kind {kind!r}; accepted: {', '.join(KINDS)}")
    return _TABLES[kind]


@functools.cache
def schema(kind: str, name: str) -> type[pydantic.BaseModel]:
    """A pydantic model of the spec-settable keyword parameters of a registered constructor."""
    fn = get(kind, name)
    target = fn.__init__ if inspect.isclass(fn) else fn
    sig = inspect.signature(target)
    hints = _type_hints(target)
    fields: dict[str, Any] = {}
    for pname, p in sig.parameters.items():
        if pname in ("self",) or pname in RUNTIME_PARAMS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = _scalar_arm(hints.get(pname, Any))
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[pname] = (ann, default)
    config = pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True, allow_inf_nan=False)
    return pydantic.create_model(f"{kind}_{name}", __config__=config, **fields)


def _scalar_arm(ann: Any) -> Any:
    """``X | Sequence[X] | Mapping[str, …]`` (Python-API forms for per-replica and per-block values)
    becomes ``X`` in specs, where per-replica values are written as replicas and per-block tables are
    validated entry by entry; ``Sequence[X] | None`` is left alone."""
    import collections.abc
    import types
    import typing

    if typing.get_origin(ann) not in (typing.Union, types.UnionType):
        return ann
    arms = typing.get_args(ann)
    seq = [a for a in arms if typing.get_origin(a) in (collections.abc.Sequence, list, tuple, collections.abc.Mapping, dict)]
    scalar = [a for a in arms if a not in seq and a is not type(None)]
    if seq and scalar:
        keep = [a for a in arms if a not in seq]
        return keep[0] if len(keep) == 1 else typing.Union[tuple(keep)]  # noqa: UP007
    return ann


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(inspect.unwrap(fn), include_extras=True)
    except Exception:  # pragma: no cover - forward refs that cannot be resolved
        return {}


def accepted_params(kind: str, name: str) -> list[str]:
    return list(schema(kind, name).model_fields)


@functools.cache
def varies(kind: str, name: str, field: str) -> tuple[bool, bool]:
    """(per replica, per block): whether the constructor's signature declares that ``field`` may be
    one value per replica (a ``Sequence[X]`` arm beside a numeric ``X``) and one value per parameter
    block (a ``Mapping[str, ...]`` arm beside a numeric ``X``). ``eta: PosFloat | Sequence[PosFloat] |
    Mapping[str, Any]`` is both; ``batch_size: PosInt`` and ``mode: Literal[...]`` neither. A setting that
    is itself a sequence (``spectrum: Sequence[float] | None``) is neither."""
    fn = get(kind, name)
    hints = _type_hints(fn.__init__ if inspect.isclass(fn) else fn)
    return _varies(hints.get(field, Any))


def _varies(ann: Any) -> tuple[bool, bool]:
    import collections.abc
    import types
    import typing

    arms = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    scalar = [a for a in arms if _numeric(a)]
    if not scalar:
        return False, False
    seq = any(typing.get_origin(a) in (collections.abc.Sequence, list, tuple) for a in arms)
    block = any(typing.get_origin(a) in (collections.abc.Mapping, dict) for a in arms)
    return seq, block
