"""Sweeps: a base spec plus grid axes, from TOML files or Python, with ``--set`` overrides.

A sweep file is a run spec (see :mod:`overparam.experiments.spec`) with an optional ``[grid]``
table: each key is a dotted field and each value a list; the sweep is the product of the axes::

    [grid]
    "problem.d" = [100, 200]
    data_seed = [0, 1, 2]

Seeds are grid axes like any other field; a long run of seeds may be written as a range table,
``init_seed = {start = 0, stop = 200}``. Per-replica values (batched on one operator inside one
run) go in ``[replicas]`` instead. ``--set key=value`` overrides any field of the file before the
grid is expanded; ``--set grid.key=[...]`` adds or replaces an axis. Values are read as TOML
(``1e-3``, ``[1, 2]``, ``true``, ``{stop = 10}``), and as a plain string when they are not TOML,
except a value that starts as a list, table or quoted string (``[``, ``{``, ``"``, ``'``) and does not
parse: that is an error (``--where 'init_seed=[0,'`` would otherwise match the text ``[0,``).
Specs that expand to the same key (e.g. an axis over a setting the grid sets twice) appear once.
"""

from __future__ import annotations

import copy
import itertools
import math
import tomllib
from pathlib import Path
from typing import Any

from .errors import SpecError
from .files import load_toml
from .spec import MAX_GRID_POINTS, RunSpec, expand_range, flatten_axes, set_dotted


def parse_value(text: str) -> Any:
    """A ``--set`` value with TOML semantics (``1e-3``, ``[1, 2]``, ``true``), else the raw string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(pairs: list[str] | None, option: str = "--set") -> dict[str, Any]:
    """``["problem.d=100", "steps=10"]`` → ``{"problem.d": 100, "steps": 10}``; ``option`` names the
    command-line option in error messages."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SpecError(f"{option} {pair!r}: expected key=value, e.g. {option} problem.d=100")
        key, _, val = pair.partition("=")
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            raise SpecError(f"{option} {pair!r}: expected a dotted field name before '=', e.g. problem.d")
        val = val.strip()
        if val[:1] in ("[", "{", '"', "'"):  # meant as a TOML list, table or string: it must parse as one
            try:
                tomllib.loads(f"v = {val}")
            except tomllib.TOMLDecodeError as exc:
                raise SpecError(f"{option} {pair!r}: the value is not valid TOML ({str(exc).splitlines()[0]}); "
                                f"accepted: e.g. {option} {key}=[0, 1] or {key}=0 or {key}=\"text\"") from None
        out[key] = parse_value(val)
    return out


def expand(data: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[RunSpec]:
    """All run specs of a sweep document (a single spec when it has no grid)."""
    doc = copy.deepcopy(data)
    grid = doc.pop("grid", {}) or {}
    if not isinstance(grid, dict):
        raise SpecError(f"grid: expected a table of lists; got {grid!r}")
    grid = flatten_axes(grid)
    for key, val in (overrides or {}).items():
        if key.startswith("grid."):
            grid[key.removeprefix("grid.")] = val
        else:
            set_dotted(doc, key, val)
    for key in list(grid):
        grid[key] = values = expand_range(f"grid.{key}", grid[key])
        if not isinstance(values, list) or not values:
            raise SpecError(f"grid.{key} = {values!r}: expected a non-empty list of values or a range table "
                            "{start = 0, stop = N}")
    axes = list(grid.items())
    check_grid_size(axes)
    specs = []
    seen = set()
    for combo in itertools.product(*(v for _, v in axes)) if axes else [()]:
        d = copy.deepcopy(doc)
        for (key, _), val in zip(axes, combo, strict=True):
            set_dotted(d, key, val)
        spec = RunSpec.parse(d)
        if spec.key() not in seen:
            seen.add(spec.key())
            specs.append(spec)
    return specs


def check_grid_size(axes: list[tuple[str, list[Any]]]) -> None:
    """The number of grid points (the product of the axes' lengths) is at most
    :data:`~overparam.experiments.spec.MAX_GRID_POINTS`, checked before any spec is made."""
    total = math.prod(len(v) for _, v in axes)
    if total > MAX_GRID_POINTS:
        sizes = " × ".join(f"{k} {len(v):,}" for k, v in axes)
        raise SpecError(f"grid: {total:,} points ({sizes}); accepted: at most {MAX_GRID_POINTS:,} runs per sweep "
                        "(split it into several sweeps into one store)")


def load_sweep(path: str | Path, overrides: dict[str, Any] | None = None) -> list[RunSpec]:
    """The run specs of the sweep file at ``path`` (with ``overrides`` applied before expansion)."""
    return expand(load_toml(path), overrides)


def grid(base: RunSpec, axes: dict[str, list[Any]]) -> list[RunSpec]:
    """Python form: the product of ``axes`` (dotted field → values) over ``base``."""
    data = base.model_dump(mode="python")
    data["grid"] = axes
    return expand(data)
