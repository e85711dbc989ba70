"""The sizes a claim was measured at, in one line — what the report puts beside each verdict with
its mode, so that a reader sees whether a verdict comes from the paper's sizes or from quick mode.

From the claim's runs (their problems' dimensions and the parameterization's width ``k``) and its
computations (the same names among their settings): each size with one value reads ``d = 200``,
with a few values ``d ∈ {100, 200}``, with many ``m = 100…3200 (7 values)``. Only the names of
:data:`SIZE_NAMES` are reported, in that order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: the dimension names reported (problem settings, the parameterization's width, computation settings)
SIZE_NAMES = ("d", "d1", "d2", "n", "r", "k", "m", "p")

#: at most this many values are listed; more read as "low…high (n values)"
MAX_LISTED = 4


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _text(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def collect(settings: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Every value each name of :data:`SIZE_NAMES` takes over ``settings`` (sorted, distinct)."""
    seen: dict[str, set[Any]] = {}
    for s in settings:
        for name in SIZE_NAMES:
            v = s.get(name)
            if _number(v):
                seen.setdefault(name, set()).add(v)
            elif isinstance(v, (list, tuple)) and v and all(_number(x) for x in v):  # a grid setting (m_grid)
                seen.setdefault(name, set()).update(v)
    return {name: sorted(seen[name]) for name in SIZE_NAMES if name in seen}


def describe(values: dict[str, list[Any]]) -> str:
    """``{"d": [20, 40], "r": [1]}`` → ``"d ∈ {20, 40}, r = 1"`` (see the module docstring)."""
    parts = []
    for name, vs in values.items():
        if len(vs) == 1:
            parts.append(f"{name} = {_text(vs[0])}")
        elif len(vs) <= MAX_LISTED:
            parts.append(f"{name} ∈ {{{', '.join(_text(v) for v in vs)}}}")
        else:
            parts.append(f"{name} = {_text(vs[0])}…{_text(vs[-1])} ({len(vs)} values)")
    return ", ".join(parts)


def claim_sizes(specs: Iterable[Any], computations: Iterable[Any] = ()) -> str:
    """The sizes of a claim's runs (:class:`~overparam.experiments.spec.RunSpec`) and computations
    (:class:`~overparam.experiments.computations.Computation`), as :func:`describe` writes them; a
    computation's grid settings count by their name without the ``_grid`` suffix, and a problem's
    settings nested under ``params`` count as its own."""
    settings: list[dict[str, Any]] = []
    for s in specs:
        width = {"k": s.param.params["k"]} if _number(s.param.params.get("k")) else {}
        settings.append({**s.problem.params, **width})
    for c in computations:
        flat = {**c.settings, **(c.settings.get("params") or {})}  # a problem's settings nested as params
        settings.append({(k[:-5] if k.endswith("_grid") else k): v for k, v in flat.items()})
    return describe(collect(settings))
