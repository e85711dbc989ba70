"""The results store: a directory with one sub-directory per run, named by the spec's hash.

::

    <root>/runs/<key[:2]>/<key>/spec.json      the canonical spec (+ tags)
                                 trace.parquet  metrics per (replica, step); vector metrics as lists
                                 final.npz      final parameters θ (theta_0, theta_1, …), no pickle
                                 summary.json   per replica: settings, status, stop step, final metrics
                                 meta.json      provenance: versions, git commit, device, dtype,
                                                threads, wall time, status counts
    <root>/tmp/                                 runs being written
    <root>/failures/<key>.json                  runs that raised (retried on the next sweep)

A run is written into ``tmp/`` and renamed into place in one ``os.rename``, so a run directory that
exists is complete: a crash (even SIGKILL) never leaves a run that looks finished, and a resumed
sweep recomputes exactly the runs without a directory.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..result import Result
from .errors import SpecError
from .spec import RunSpec, flatten

DEFAULT_STORE = "./overparam-results"


def default_root() -> Path:
    return Path(os.environ.get("OVERPARAM_STORE", DEFAULT_STORE))


@functools.cache
def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(result: Result) -> dict[str, Any]:
    import torch

    import overparam

    counts: dict[str, int] = {}
    for s in result.status:
        counts[s] = counts.get(s, 0) + 1
    return {
        "package": "overparam",
        "version": overparam.__version__,
        "git_commit": _git_commit(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "device": result.info.get("device"),
        "dtype": result.info.get("dtype"),
        "threads": result.info.get("threads"),
        "wall_time": result.wall_time,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "status": counts,
        "replicas": result.R,
    }


def _write_json(path: Path, data: Any) -> None:
    with path.open("w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=_json_default)
        fh.flush()
        os.fsync(fh.fileno())


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StoredRun:
    """A run read back from the store (lazily loads trace and arrays)."""

    def __init__(self, path: Path):
        self.path = path
        self.key = path.name

    @functools.cached_property
    def spec(self) -> RunSpec:
        return RunSpec.parse(json.loads((self.path / "spec.json").read_text()))

    @functools.cached_property
    def summary(self) -> list[dict[str, Any]]:
        return json.loads((self.path / "summary.json").read_text())

    @functools.cached_property
    def meta(self) -> dict[str, Any]:
        return json.loads((self.path / "meta.json").read_text())

    def trace(self):
        """The trace as a pandas DataFrame (vector metrics as array cells)."""
        import pyarrow.parquet as pq

        return pq.read_table(self.path / "trace.parquet").to_pandas()

    def theta(self) -> list[np.ndarray]:
        with np.load(self.path / "final.npz", allow_pickle=False) as z:
            return [z[f"theta_{i}"] for i in range(len(z.files))]


class Store:
    """A results directory (see the module docstring). ``Store()`` uses ``$OVERPARAM_STORE`` or
    ``./overparam-results``."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_root()
        if self.root.exists() and not self.root.is_dir():
            raise SpecError(f"--store {str(self.root)!r}: exists and is not a directory")

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def path(self, key: str) -> Path:
        return self.runs_dir / key[:2] / key

    def has(self, spec: RunSpec | str) -> bool:
        key = spec if isinstance(spec, str) else spec.key()
        return (self.path(key) / "summary.json").exists()

    def save(self, spec: RunSpec, result: Result) -> Path:
        """Write a finished run atomically; if another writer got there first, keep theirs."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        key = spec.key()
        final = self.path(key)
        tmp_root = self.root / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            spec_json = spec.canonical()
            spec_json["tags"] = dict(spec.tags)
            _write_json(tmp / "spec.json", spec_json)
            cols = {}
            for k, v in result.trace.columns.items():
                cols[k] = pa.array(list(v)) if v.ndim == 2 else pa.array(v)
            pq.write_table(pa.table(cols), tmp / "trace.parquet")
            _fsync_file(tmp / "trace.parquet")
            arrays = {f"theta_{i}": t.detach().cpu().numpy() for i, t in enumerate(result.theta)}
            np.savez(tmp / "final.npz", **arrays)
            _fsync_file(tmp / "final.npz")
            replicas = spec.replica_settings()
            summary = []
            for row in result.summary():
                r = row["replica"]
                summary.append({**replicas[r], **row})
            _write_json(tmp / "summary.json", summary)
            meta = provenance(result)
            meta["events"] = result.events[:1000]
            _write_json(tmp / "meta.json", meta)
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tmp, final)
            except OSError:
                if not self.has(key):
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # a concurrent writer finished the same spec
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.clear_failure(key)
        return final

    def record_failure(self, spec: RunSpec, error: str) -> None:
        d = self.root / "failures"
        d.mkdir(parents=True, exist_ok=True)
        _write_json(d / f"{spec.key()}.json", {"spec": spec.canonical(), "error": error})

    def clear_failure(self, key: str) -> None:
        p = self.root / "failures" / f"{key}.json"
        if p.exists():
            p.unlink()

    def failures(self) -> list[dict[str, Any]]:
        d = self.root / "failures"
        return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.exists() else []

    def keys(self) -> list[str]:
        if not self.runs_dir.exists():
            return []
        return sorted(p.name for p in self.runs_dir.glob("*/*") if (p / "summary.json").exists())

    def load(self, key: str) -> StoredRun:
        p = self.path(key)
        if not (p / "summary.json").exists():
            raise SpecError(f"run {key!r}: not in store {str(self.root)!r}")
        return StoredRun(p)

    def runs(self) -> Iterator[StoredRun]:
        for key in self.keys():
            yield StoredRun(self.path(key))

    def table(self, **where: Any):
        """One row per (run, replica): flattened spec fields, per-replica settings, status, stop step,
        final scalar metrics, wall time and the run key. ``where`` filters on equality (dotted names
        may be given with ``__`` in Python: ``table(problem__d=100)``; values compare as strings when
        types differ, so CLI strings match numbers)."""
        import pandas as pd

        rows = []
        for run in self.runs():
            spec = json.loads((run.path / "spec.json").read_text())
            flat = flatten(spec)
            meta = run.meta
            for rep in run.summary:
                row = {**flat, **rep, "key": run.key, "wall_time": meta.get("wall_time")}
                rows.append(row)
        df = pd.DataFrame(rows)
        return filter_frame(df, {k.replace("__", "."): v for k, v in where.items()})

    def traces(self, **where: Any) -> Iterator[tuple[dict[str, Any], Any]]:
        """``(row, trace)`` for every (run, replica) matching ``where``; ``trace`` is that replica's
        rows of the run's trace."""
        df = self.table(**where)
        cache: dict[str, Any] = {}
        for row in df.to_dict("records"):
            key = row["key"]
            if key not in cache:
                cache[key] = self.load(key).trace()
            tr = cache[key]
            yield row, tr[tr["replica"] == row["replica"]].reset_index(drop=True)


def filter_frame(df, where: dict[str, Any]):
    """Rows of ``df`` whose columns equal the given values (string comparison as a fallback)."""
    for col, val in where.items():
        if df.empty:
            return df
        if col not in df.columns:
            raise SpecError(f"--where {col}: no such column; columns include: {', '.join(sorted(df.columns)[:25])}")
        series = df[col]
        vals = val if isinstance(val, (list, tuple, set)) else [val]
        mask = series.isin(vals)
        if not mask.any():
            as_str = {str(v) for v in vals}
            mask = series.astype(str).isin(as_str)
            if not mask.any():
                try:
                    nums = [float(v) for v in vals]
                    mask = series.apply(lambda x, nums=nums: _num_eq(x, nums))
                except (TypeError, ValueError):
                    pass
        df = df[mask]
    return df.reset_index(drop=True)


def _num_eq(x: Any, nums: list[float]) -> bool:
    try:
        return any(abs(float(x) - n) <= 1e-12 * max(1.0, abs(n)) for n in nums)
    except (TypeError, ValueError):
        return False
