"""Name → constructor tables for the kinds of parts a spec names.

A new problem, parameterization, initialization, algorithm, metric, regularizer, stop rule or
recipe is one function (or class) plus one ``@register(kind, name)`` line. This module imports
nothing of the package: the modules that register import it, and ``import overparam`` imports them
all (so the builtins are registered by the package's own imports, not by a lookup).

The function's keyword parameters, with their type annotations and ``Annotated[..., Field(...)]``
constraints, *are* the schema a spec is validated against: :func:`schema` builds the pydantic model
from the signature, so there is nothing to keep in sync by hand.

Parameters that a run supplies rather than the spec (seeds, device, dtype) are listed in
:data:`RUNTIME_PARAMS` and left out of the schema.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import pydantic

from .errors import OverparamError, SettingError

KINDS = ("problem", "param", "init", "algorithm", "metric", "regularizer", "stop", "recipe")
RUNTIME_PARAMS = frozenset({"data_seed", "device", "dtype"})

_TABLES: dict[str, dict[str, Callable[..., Any]]] = {k: {} for k in KINDS}


class RegistryError(OverparamError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


def register(kind: str, name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``@register("problem", "matrix_sensing")``."""
    if kind not in _TABLES:
        raise ValueError(f"unknown registry kind {kind!r}; accepted: {', '.join(KINDS)}")

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = name or fn.__name__
        if key in _TABLES[kind]:
            raise ValueError(f"{kind} {key!r} is registered twice")
        if kind != "metric":
            fn = _validating(kind, key, fn)
        _TABLES[kind][key] = fn
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


def get(kind: str, name: str) -> Callable[..., Any]:
    table = _tables(kind)
    try:
        return table[name]
    except KeyError:
        raise RegistryError(f"{kind}.name: got {name!r}; accepted: {', '.join(sorted(table))}") from None


def names(kind: str) -> list[str]:
    return sorted(_tables(kind))


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
