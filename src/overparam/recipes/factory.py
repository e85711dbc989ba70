"""What a recipe asks for when the components it was handed are not enough: a :class:`Factory`.

A recipe receives built components (problem, parameterization, algorithm, init, regularizer, stop
rules) and a factory. It calls ``factory.build(kind, replicas, name, overrides)`` for

* the run's own ``kind`` component for a subset of its replicas (lanes that split into groups after
  pruning or restarts) when that component has per-replica settings;
* another component, or the run's with some settings changed: a stage's algorithm (fine-tuning GD
  with the training step), a fresh initialization with a new rank and norm (restarts).

``overrides`` are the settings given; the run's own settings of ``kind`` fill in the rest when
``name`` is the run's own (``None``). The experiment layer hands a recipe the factory that builds
from its spec (per-replica values as the spec's ``[replicas]`` give them); a recipe driven from
Python objects gets :class:`ObjectFactory`, which reads the run's settings back from the objects by
the names their registered constructors accept. Either way nothing here sees a spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .. import registry
from ..backend import is_sequence
from ..errors import SettingError


class Factory(Protocol):
    """Builds a component for some of a run's replicas (module docstring)."""

    def build(self, kind: str, replicas: Sequence[int], name: str | None = None,
              overrides: Mapping[str, Any] | None = None) -> Any: ...  # pragma: no cover - interface


def setting_of(component: Any, name: str, default: Any = None) -> Any:
    """The setting ``name`` of a built component: an initialization's ``settings`` entry, the first
    piece of a composed algorithm that has it (``eta``, ``grad_scale`` of the descent), or the
    component's attribute (a regularizer's ``lam``, ``beta``); ``default`` when none has it."""
    table = getattr(component, "settings", None)
    if isinstance(table, Mapping):
        return table.get(name, default)
    for piece in getattr(component, "pieces", ()):
        if hasattr(piece, name):
            return getattr(piece, name)
    return getattr(component, name, default)


def restrict(value: Any, replicas: Sequence[int], n: int) -> Any:
    """A setting for the replicas ``replicas`` of ``n``: a per-replica sequence (length ``n``) keeps
    those entries, a per-block table is restricted entry by entry, anything else is returned as is."""
    if isinstance(value, Mapping):
        return {k: restrict(v, replicas, n) for k, v in value.items()}
    if is_sequence(value) and len(value) == n:
        return [value[i] for i in replicas]
    return value


class ObjectFactory:
    """The factory of a recipe driven from Python objects: ``components`` are the run's own
    (``{"algorithm": gd(...), "init": ..., "regularizer": ...}``) for ``n`` replicas. A component
    is built through the registry (``registry.get(kind, name)(**settings)``); the run's own settings
    of ``kind`` (read back with :func:`setting_of` by the names its constructor accepts, per-replica
    values restricted to ``replicas``) fill in what ``overrides`` does not give when ``name`` is the
    run's own."""

    def __init__(self, components: Mapping[str, Any], n: int):
        self.components, self.n = dict(components), n

    def build(self, kind: str, replicas: Sequence[int], name: str | None = None,
              overrides: Mapping[str, Any] | None = None) -> Any:
        own = self.components.get(kind)
        own_name = getattr(own, "name", None)
        name = own_name if name is None else name
        if name is None:
            raise SettingError(f"recipe: the run has no {kind} to rebuild; name one (a registered {kind})")
        settings: dict[str, Any] = {}
        if own is not None and name == own_name:
            missing = object()
            for field in registry.accepted_params(kind, name):
                v = setting_of(own, field, missing)
                if v is not missing:
                    settings[field] = restrict(v, list(replicas), self.n)
        settings.update(overrides or {})
        return registry.get(kind, name)(**settings)


__all__ = ["Factory", "ObjectFactory", "restrict", "setting_of"]
