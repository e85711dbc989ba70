"""Numeric settings that may vary per replica and per parameter block.

Any numeric setting of an algorithm, initialization, regularizer or recipe is written as

* a scalar — the same for every replica and every block: ``eta = 0.01``;
* a per-replica sequence — one value per replica (in a spec: ``[replicas] "algorithm.eta" = [...]``);
* a per-block table — ``eta = {F = 0.1, G = 0.05}`` (block names from the parameterization, see
  :attr:`overparam.params.Parameterization.blocks`), each entry a scalar or a per-replica sequence.

:func:`per_block` resolves the table form against a parameterization's blocks, :func:`replicas_of`
counts the replicas a setting implies, and :func:`block_tensors` turns a setting into one ``(R,)``
tensor per block, the form the update pieces use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .backend import BackendError, is_sequence, per_replica


def per_block(value: Any, blocks: Sequence[str], where: str = "setting") -> dict[str, Any]:
    """``{block: value}`` for every block: a table must name exactly the parameterization's blocks."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(blocks))
        missing = [b for b in blocks if b not in value]
        if unknown or missing:
            bad = unknown[0] if unknown else missing[0]
            what = "unknown block" if unknown else "missing block"
            raise BackendError(f"{where}.{bad}: {what}; a per-block table names every block of the "
                               f"parameterization: {', '.join(blocks)}")
        return {b: value[b] for b in blocks}
    return {b: value for b in blocks}


def replicas_of(value: Any) -> int | None:
    """The replica count a setting implies (None when it is the same for every replica)."""
    if isinstance(value, Mapping):
        counts = {replicas_of(v) for v in value.values()} - {None}
        if len(counts) > 1:
            raise BackendError(f"per-block per-replica lists of different lengths: {sorted(counts)}")
        return next(iter(counts), None)
    return len(value) if is_sequence(value) else None


def replica_count(where: str = "settings", **values: Any) -> int:
    """The common replica count of several settings (1 if none is per-replica)."""
    R: int | None = None
    for name, v in values.items():
        n = replicas_of(v)
        if n is None:
            continue
        if R is not None and R != n:
            raise BackendError(f"{name}: got {n} per-replica values but other {where} give {R} replicas")
        R = n
    return R or 1


def at_replica(value: Any, i: int) -> Any:
    """The value of a setting for replica i (tables stay tables)."""
    if isinstance(value, Mapping):
        return {k: at_replica(v, i) for k, v in value.items()}
    return value[i] if is_sequence(value) else value


def block_tensors(value: Any, blocks: Sequence[str], R: int, *, device, dtype, where: str = "setting"
                  ) -> tuple[torch.Tensor, ...]:
    """One ``(R,)`` tensor per block (θ's order) for a scalar / per-replica / per-block setting."""
    table = per_block(value, blocks, where)
    return tuple(torch.tensor([float(v) for v in per_replica(table[b], R)], device=device, dtype=dtype)
                 for b in blocks)


def replica_tensor(value: Any, R: int, *, device, dtype) -> torch.Tensor:
    """A scalar or per-replica setting as a ``(R,)`` tensor."""
    return torch.tensor([float(v) for v in per_replica(value, R)], device=device, dtype=dtype)
