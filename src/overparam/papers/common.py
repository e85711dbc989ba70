"""Helpers shared by paper modules: read a figure's runs from the store, aggregate trials, save plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..experiments.errors import SpecError
from ..experiments.spec import RunSpec
from ..experiments.store import Store


def summaries(store: Store, specs: list[RunSpec]):
    """One row per (spec, replica): flattened spec fields + per-replica settings + final metrics.

    ``specs`` should come from ``ctx.specs(...)`` so that the device override matches the runs."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for spec in specs:
        key = spec.key()
        if not store.has(key):
            raise SpecError(f"run {key} ({spec.tags.get('figure', spec.problem.name)}) is not in the store; "
                            "run `overparam reproduce` for this target first")
        flat = spec.flat()
        for rep in store.load(key).summary:
            rows.append({**flat, **rep, "key": key})
    return pd.DataFrame(rows)


def traces(store: Store, spec: RunSpec):
    """The stored trace of one spec (all replicas) as a DataFrame."""
    return store.load(spec.key()).trace()


def error_bar(values: np.ndarray, kind: str = "std") -> tuple[float, float, float]:
    """(center, lower error, upper error) over trials: mean ± std, or mean with min/max."""
    v = np.asarray(values, dtype=float)
    mean = float(np.mean(v))
    if kind == "minmax":
        return mean, mean - float(np.min(v)), float(np.max(v)) - mean
    s = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return mean, s, s


def figure_paths(out_dir: Path, fig_id: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir / f"{fig_id}.png", out_dir / f"{fig_id}.pdf"


def save(fig, out_dir: Path, fig_id: str) -> list[Path]:
    """Save a matplotlib figure as PNG and PDF; returns both paths."""
    import matplotlib.pyplot as plt

    png, pdf = figure_paths(out_dir, fig_id)
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(pdf, bbox_inches="tight")
    plt.close(fig)
    return [png, pdf]


def new_figure(ncols: int = 1, width: float = 5.0, height: float = 3.8):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's τ (no ties correction): +1 when y increases with x, −1 when it decreases."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = len(x)
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += np.sign(x[j] - x[i]) * np.sign(y[j] - y[i])
    return float(s) / (n * (n - 1) / 2) if n > 1 else 0.0
