"""The output of a run: a columnar :class:`Trace` of metrics per logged step and replica, and a
:class:`Result` with final parameters, per-replica status and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


@dataclass
class Trace:
    """Columns ``step``, ``replica``, ``stage`` and one per metric (vector metrics are ``(N, q)``)."""

    columns: dict[str, np.ndarray]
    vector_metrics: tuple[str, ...] = ()

    @property
    def metrics(self) -> list[str]:
        return [k for k in self.columns if k not in ("step", "replica", "stage")]

    def __len__(self) -> int:
        return len(self.columns["step"])

    def to_frame(self):
        """A pandas DataFrame: one row per (replica, step); vector metrics as array cells."""
        import pandas as pd

        data: dict[str, Any] = {}
        for k, v in self.columns.items():
            data[k] = list(v) if v.ndim == 2 else v
        return pd.DataFrame(data)

    def series(self, name: str, replica: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of one metric for one replica."""
        sel = self.columns["replica"] == replica
        return self.columns["step"][sel], self.columns[name][sel]

    def last(self, name: str, replicas: int) -> np.ndarray:
        """The last recorded value of ``name`` for replicas 0 … replicas−1."""
        rep = self.columns["replica"]
        col = self.columns[name]
        out = np.full((replicas, *col.shape[1:]), np.nan)
        for r in range(replicas):
            idx = np.flatnonzero(rep == r)
            if idx.size:
                out[r] = col[idx[-1]]
        return out

    @staticmethod
    def concat(traces: list[Trace]) -> Trace:
        """Stack the traces of a recipe's stages (each with its ``stage`` column), sorted by replica,
        step and stage. A metric missing from a stage is NaN there; vector metrics whose length
        changed (widths after pruning) are padded with NaN."""
        names: list[str] = []
        for tr in traces:
            names += [k for k in tr.columns if k not in names]
        if not traces:
            return Trace({"step": np.zeros(0, np.int64), "replica": np.zeros(0, np.int64), "stage": np.zeros(0, np.int64)})
        cols = {k: [tr.columns.get(k, np.full(len(tr), np.nan)) for tr in traces] for k in names}
        merged = {k: np.concatenate(_pad(v)) for k, v in cols.items()}
        order = np.lexsort((merged["stage"], merged["step"], merged["replica"]))
        vec = tuple(sorted({v for tr in traces for v in tr.vector_metrics}))
        return Trace({k: v[order] for k, v in merged.items()}, vec)


def _pad(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Vector metrics of different lengths (widths change when columns are pruned): pad with NaN."""
    if all(a.ndim < 2 for a in arrays):
        return arrays
    q = max(a.shape[1] for a in arrays if a.ndim == 2)
    out = []
    for a in arrays:
        if a.ndim == 1:  # a column missing from this stage (NaN filled)
            a = np.full((len(a), q), np.nan)
        elif a.shape[1] < q:
            a = np.concatenate([a, np.full((a.shape[0], q - a.shape[1]), np.nan)], axis=1)
        out.append(a)
    return out


@dataclass
class Result:
    """What :func:`overparam.run` (or a recipe) returns.

    Attributes:
        trace: metrics at logged steps, every replica (recipes: a ``stage`` column).
        theta: final parameters as one tensor per block, replica axis first, when every replica has
            the same shapes; ``None`` when they differ (after pruning): use :meth:`theta_of`.
        status: per replica, ``"completed"`` (ran all steps), ``"converged"`` (met the target train
            error), ``"diverged"`` (non-finite or exploding loss), ``"stopped:<rule>"`` or an
            algorithm's own ending (``"terminated"``).
        stop_step: per replica, the (global) step at which it stopped (the last step if completed).
        events: ``{"step", "replica", "kind", …}`` records (perturbations, restarts, prunes, stops).
        replicas: the per-replica settings (init values, seeds, per-replica settings).
        wall_time: seconds.
        info: descriptions of problem, parameterization, algorithm, init, device and dtype.
        blocks: the names of θ's blocks (``U``; ``F``, ``G``; …).
        theta_list: per replica, its final θ as a tuple of block tensors (no replica axis).
        carry: per replica, the stop rules' states when it ended (recipes carry them across stages).
    """

    trace: Trace
    theta: tuple[torch.Tensor, ...] | None
    status: list[str]
    stop_step: list[int]
    events: list[dict[str, Any]] = field(default_factory=list)
    replicas: list[dict[str, Any]] = field(default_factory=list)
    wall_time: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    blocks: tuple[str, ...] = ()
    theta_list: list[tuple[torch.Tensor, ...]] = field(default_factory=list)
    carry: list[dict[str, Any] | None] = field(default_factory=list)

    @classmethod
    def from_replicas(cls, *, theta: list[tuple[torch.Tensor, ...]], blocks, **kw) -> Result:
        """A result from per-replica final θ (stacked into ``theta`` when the shapes agree)."""
        return cls(theta=stack_replicas(theta), blocks=tuple(blocks), theta_list=list(theta), **kw)

    @property
    def R(self) -> int:
        return len(self.status)

    def theta_of(self, replica: int) -> dict[str, torch.Tensor]:
        """One replica's final θ by block name."""
        per = self.theta_list[replica] if self.theta_list else tuple(t[replica] for t in self.theta)
        names = self.blocks or tuple(f"theta_{j}" for j in range(len(per)))
        return dict(zip(names, per, strict=True))

    def final(self, name: str) -> np.ndarray:
        """The last recorded value of metric ``name``, one per replica."""
        if name not in self.trace.columns:
            raise KeyError(f"metric {name!r} was not recorded; recorded: {', '.join(self.trace.metrics)}")
        return self.trace.last(name, self.R)

    def summary(self) -> list[dict[str, Any]]:
        """One dict per replica: settings, status, stop step and final scalar metrics."""
        rows = []
        scalar = [k for k in self.trace.metrics if k not in self.trace.vector_metrics]
        finals = {k: self.final(k) for k in scalar}
        for r in range(self.R):
            row = {"replica": r, **(self.replicas[r] if r < len(self.replicas) else {}),
                   "status": self.status[r], "stop_step": self.stop_step[r]}
            row.update({k: float(finals[k][r]) for k in scalar})
            rows.append(row)
        return rows


def stack_replicas(theta: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...] | None:
    """Per-replica θ stacked block by block, or None when some block's shapes differ."""
    if not theta:
        return ()
    for j in range(len(theta[0])):
        if len({tuple(t[j].shape) for t in theta}) > 1:
            return None
    return tuple(torch.stack([t[j] for t in theta]) for j in range(len(theta[0])))
