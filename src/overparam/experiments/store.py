"""The results store: a directory with one sub-directory per run, named by the spec's hash.

::

    <root>/runs/<key[:2]>/<key>/spec.json      the canonical spec (+ tags)
                                 trace.parquet  metrics per (replica, step); vector metrics as lists
                                 final.npz      final θ by block name (U; F, G; …), replica axis
                                                first; per replica (U.r0, U.r1, …) when the
                                                widths differ (pruned recipes); no pickle
                                 summary.json   per replica: settings, status, stop step, final metrics
                                 meta.json      provenance: versions, git commit, device, dtype,
                                                threads, wall time, status counts
    <root>/tmp/<key>.<host>.<pid>.<nonce>/      runs being written
    <root>/failures/<key>.json                  runs that raised (retried on the next sweep)
    <root>/claims/<key>                         a run being computed by a live process (host, pid)
    <root>/damaged/<key>.<nonce>/               damaged runs moved aside when recomputed

A run is written into ``tmp/`` (every file fsynced) and renamed into place in one ``os.rename``, so
a run directory that exists is complete: a crash (even SIGKILL) never leaves a run that looks
finished, and a resumed sweep recomputes exactly the runs without a directory. Leftovers in
``tmp/`` are removed by :meth:`Store.clean_tmp` (every sweep calls it): those of dead processes on
this host at once, those of other hosts after a day. Two writers of the same spec are harmless:
the first rename wins and the second discards its copy.

A run directory counts as stored only when it is **complete and readable** (:meth:`Store.damage`:
every file present, a regular file and not a link, JSON that parses, a Parquet footer and an npz
directory that open): a run damaged after the fact (a truncated file, a disk error) is not served
(``table`` and ``results`` skip it and name it), it is recomputed by the next sweep (the damaged copy
is moved to ``damaged/``), and :meth:`Store.verify` lists every damaged run with the reason. Keys are
checked (20 hex digits) before they become paths, and links are never followed, so a crafted key or
a symlink under ``runs/`` cannot make the store read outside its directory. Nothing is unpickled.

Two sweeps (or many Dask workers) writing one store coordinate through :meth:`Store.claim`: a
process claims a key before computing it (an exclusive-create file naming host and pid); the others
wait for its result instead of computing it again, and a claim of a process that died is taken over.

Reading: :meth:`Store.table` (one row per run and replica, spec fields and final metrics, filtered
by equality), :meth:`Store.traces` / :meth:`Store.trace_table` (the recorded traces of the matching
rows), :meth:`Store.load` (one run: spec, summary, provenance, trace, final θ).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..result import Result
from .errors import SpecError
from .spec import RunSpec, flatten

DEFAULT_STORE = "./overparam-results"
STALE_FOREIGN_TMP_S = 24 * 3600.0
RUN_FILES = ("spec.json", "trace.parquet", "final.npz", "summary.json", "meta.json")
JSON_FILES = ("spec.json", "summary.json", "meta.json")
_KEY = re.compile(r"^[0-9a-f]{20}$")


def check_key(key: str) -> str:
    """``key`` if it is a run key (20 lowercase hex digits), else a :class:`SpecError`."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise SpecError(f"run key: got {key!r}; accepted: 20 lowercase hexadecimal digits (a spec's key())")
    return key


def default_root() -> Path:
    """``$OVERPARAM_STORE`` when set (and not empty), else ``./overparam-results``."""
    return Path(os.environ.get("OVERPARAM_STORE") or DEFAULT_STORE)


def _host_tag() -> str:
    """This host's name as it appears in tmp directory names (no dots, which separate the fields)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname()) or "host"


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

    counts: dict[str, int] = {}
    for s in result.status:
        counts[s] = counts.get(s, 0) + 1
    return {
        "package": "overparam",
        "version": __version__,
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


def _fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (best effort: some filesystems refuse directory fsync)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


#: events of one kind beyond this many are counted, not stored (perturbations and stops can be many;
#: structural events — prune, restart, early_stop, sosp — are few and always kept whole)
EVENTS_PER_KIND = 1000


def capped_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most :data:`EVENTS_PER_KIND` events of each kind, in order; a final ``{"kind": "dropped", …}``
    record counts what was left out per kind."""
    seen: dict[str, int] = {}
    kept = []
    for ev in events:
        k = str(ev.get("kind"))
        seen[k] = seen.get(k, 0) + 1
        if seen[k] <= EVENTS_PER_KIND:
            kept.append(ev)
    dropped = {k: n - EVENTS_PER_KIND for k, n in seen.items() if n > EVENTS_PER_KIND}
    if dropped:
        kept.append({"kind": "dropped", "counts": dropped})
    return kept


def final_arrays(result: Result) -> dict[str, np.ndarray]:
    """``final.npz``'s arrays: one per block (replica axis first), or one per block and replica
    (``U.r0``, …) when the replicas' shapes differ."""
    names = result.blocks or tuple(f"theta_{j}" for j in range(len(result.theta_list[0] if result.theta_list
                                                                      else result.theta)))
    if result.theta is not None:
        return {b: t.detach().cpu().numpy() for b, t in zip(names, result.theta, strict=True)}
    return {f"{b}.r{r}": t.detach().cpu().numpy() for r, th in enumerate(result.theta_list)
            for b, t in zip(names, th, strict=True)}


class StoredRun:
    """A run read back from the store (lazily loads trace and arrays).

    ``spec`` (a validated :class:`RunSpec`), ``summary`` (per replica: settings, status, stop step,
    final scalar metrics), ``meta`` (provenance), ``trace()`` and ``theta()``.
    """

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

    def arrays(self) -> dict[str, np.ndarray]:
        """The stored final arrays by name (``U``; ``F``, ``G``; ``U.r0`` … when widths differ)."""
        with np.load(self.path / "final.npz", allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def theta(self) -> dict[str, np.ndarray] | list[dict[str, np.ndarray]]:
        """Final θ by block name, replica axis first; when the replicas' widths differ, one dict
        per replica. (Stores written before named blocks hold ``theta_0``, ``theta_1``, …)"""
        arrays = self.arrays()
        if not any(".r" in k for k in arrays):
            return arrays
        out: dict[int, dict[str, np.ndarray]] = {}
        for k, v in arrays.items():
            block, _, r = k.rpartition(".r")
            out.setdefault(int(r), {})[block] = v
        return [out[i] for i in sorted(out)]


class Store:
    """A results directory (see the module docstring). ``Store()`` uses ``$OVERPARAM_STORE`` or
    ``./overparam-results``."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_root()
        if self.root.exists() and not self.root.is_dir():
            raise SpecError(f"--store {str(self.root)!r}: exists and is not a directory; accepted: a directory "
                            "(created when missing)")

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def path(self, key: str) -> Path:
        check_key(key)
        return self.runs_dir / key[:2] / key

    def has(self, spec: RunSpec | str) -> bool:
        """Whether the run is stored complete and readable (a damaged run is not stored)."""
        key = spec if isinstance(spec, str) else spec.key()
        return self.damage(key) is None

    def damage(self, key: str) -> str | None:
        """Why the stored run ``key`` cannot be served (``"absent"``, a missing or unreadable file,
        a link), or None when it is complete and readable."""
        path = self.path(key)
        if not path.exists() and not path.is_symlink():
            return "absent"
        if path.is_symlink() or path.parent.is_symlink():
            return "a symbolic link (links are not followed)"
        for name in RUN_FILES:
            f = path / name
            if f.is_symlink() or not f.is_file():
                return f"{name}: missing" if not f.is_symlink() else f"{name}: a symbolic link"
        try:
            for name in JSON_FILES:
                json.loads((path / name).read_text())
        except (OSError, ValueError) as exc:
            return f"{name}: unreadable ({type(exc).__name__})"
        try:
            import pyarrow.parquet as pq

            pq.read_metadata(path / "trace.parquet")
        except Exception as exc:  # noqa: BLE001 - any reader error means damaged
            return f"trace.parquet: unreadable ({type(exc).__name__})"
        try:
            with np.load(path / "final.npz", allow_pickle=False) as z:
                z.files  # noqa: B018 - reads the zip directory
        except Exception as exc:  # noqa: BLE001
            return f"final.npz: unreadable ({type(exc).__name__})"
        return None

    def verify(self) -> dict[str, Any]:
        """Check every run directory: ``{"ok": n, "damaged": [{"key", "reason"}, …]}``."""
        damaged, ok = [], 0
        for key in self._all_keys():
            why = self.damage(key)
            if why is None:
                ok += 1
            else:
                damaged.append({"key": key, "reason": why})
        return {"ok": ok, "damaged": damaged}

    def damaged(self) -> list[dict[str, str]]:
        return self.verify()["damaged"]

    def _all_keys(self) -> list[str]:
        if not self.runs_dir.is_dir():
            return []
        return sorted(p.name for p in self.runs_dir.glob("*/*") if _KEY.match(p.name))

    def check_writable(self) -> None:
        """A one-line :class:`SpecError` when runs cannot be written here (checked before a sweep starts)."""
        try:
            (self.root / "tmp").mkdir(parents=True, exist_ok=True)
            probe = self.root / "tmp" / f".probe.{_host_tag()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise SpecError(f"--store {str(self.root)!r}: not writable ({exc.strerror or exc}); accepted: a directory "
                            "this user can write") from None

    # -- claims: one computer per key across processes ---------------------------------------------
    def claim(self, key: str) -> bool:
        """Claim ``key`` for computing: True if this process now holds it (or already did), False
        when a live process holds it. A claim of a dead process on this host (or one older than a
        day from another host) is taken over."""
        d = self.root / "claims"
        d.mkdir(parents=True, exist_ok=True)
        path = d / check_key(key)
        me = f"{_host_tag()} {os.getpid()}"
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read_claim(path)
                if holder == me:
                    return True
                if holder is not None and not _claim_stale(path, holder):
                    return False
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # a dead holder's claim
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            return True
        return False

    def release(self, key: str) -> None:
        """Release this process's claim on ``key`` (a claim held by another process is left alone)."""
        path = self.root / "claims" / check_key(key)
        if _read_claim(path) == f"{_host_tag()} {os.getpid()}":
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def claimed(self, key: str) -> bool:
        """Whether a live process other than this one holds ``key``."""
        path = self.root / "claims" / check_key(key)
        holder = _read_claim(path)
        return holder is not None and holder != f"{_host_tag()} {os.getpid()}" and not _claim_stale(path, holder)

    def save(self, spec: RunSpec, result: Result) -> Path:
        """Write a finished run atomically; if another writer got there first, keep theirs."""

        key = spec.key()
        try:
            return self._save(key, spec, result)
        except PermissionError as exc:
            raise SpecError(f"--store {str(self.root)!r}: not writable ({exc.strerror or exc}); accepted: a directory "
                            "this user can write") from None

    def _save(self, key: str, spec: RunSpec, result: Result) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        final = self.path(key)
        tmp_root = self.root / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / f"{key}.{_host_tag()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
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
            np.savez(tmp / "final.npz", **final_arrays(result))
            _fsync_file(tmp / "final.npz")
            replicas = spec.replica_settings()
            summary = []
            for row in result.summary():
                r = row["replica"]
                summary.append({**replicas[r], **row})
            _write_json(tmp / "summary.json", summary)
            meta = provenance(result)
            meta["events"] = capped_events(result.events)
            _write_json(tmp / "meta.json", meta)
            _fsync_dir(tmp)
            final.parent.mkdir(parents=True, exist_ok=True)
            self._move_aside_if_damaged(key)
            try:
                os.rename(tmp, final)
            except OSError:
                if not self.has(key):
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # a concurrent writer finished the same spec
            else:
                _fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.clear_failure(key)
        return final

    def _move_aside_if_damaged(self, key: str) -> None:
        """A damaged run directory in the way of a recomputed run goes to ``damaged/`` (kept as
        evidence, never served)."""
        final = self.path(key)
        if (final.exists() or final.is_symlink()) and self.damage(key) is not None:
            aside = self.root / "damaged"
            aside.mkdir(parents=True, exist_ok=True)
            os.rename(final, aside / f"{key}.{uuid.uuid4().hex[:8]}")

    def record_failure(self, spec: RunSpec, error: str) -> None:
        """Record that ``spec`` raised ``error`` (message + traceback); a later success clears it.
        The run itself stays absent, so the next sweep tries it again."""
        d = self.root / "failures"
        d.mkdir(parents=True, exist_ok=True)
        key = spec.key()
        tmp = d / f".{key}.{_host_tag()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        _write_json(tmp, {"key": key, "spec": spec.canonical(), "error": error,
                          "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": socket.gethostname()})
        os.replace(tmp, d / f"{key}.json")

    def clear_failure(self, key: str) -> None:
        p = self.root / "failures" / f"{key}.json"
        if p.exists():
            p.unlink()

    def failures(self) -> list[dict[str, Any]]:
        """The recorded failures: ``{"key", "spec", "error", "time", "host"}`` each."""
        d = self.root / "failures"
        return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.exists() else []

    def clean_tmp(self, *, foreign_age_s: float = STALE_FOREIGN_TMP_S) -> int:
        """Remove half-written runs under ``tmp/``: those of processes of this host that no longer
        exist, and those of other hosts older than ``foreign_age_s``. Returns how many were removed.
        Runs being written by live processes are left alone."""
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            return 0
        host, removed, now = _host_tag(), 0, time.time()
        for p in tmp.iterdir():
            parts = p.name.split(".")
            if len(parts) != 4 or not parts[2].isdigit():
                continue
            if parts[1] == host:
                stale = not _pid_alive(int(parts[2]))
            else:
                try:
                    stale = now - p.stat().st_mtime > foreign_age_s
                except OSError:
                    continue
            if stale:
                shutil.rmtree(p, ignore_errors=True)
                removed += 1
        return removed

    def keys(self) -> list[str]:
        """The keys of the stored (complete and readable) runs, sorted."""
        return [k for k in self._all_keys() if self.damage(k) is None]

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, spec: RunSpec | str) -> bool:
        return self.has(spec)

    def load(self, key: str) -> StoredRun:
        why = self.damage(key)
        if why == "absent":
            raise SpecError(f"run {key!r}: not in store {str(self.root)!r}")
        if why is not None:
            raise SpecError(f"run {key!r} in store {str(self.root)!r} is damaged: {why}; rerun its sweep to "
                            "recompute it (overparam results --verify lists damaged runs)")
        return StoredRun(self.path(key))

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
                row = {"key": run.key, **flat, **rep, "wall_time": meta.get("wall_time")}
                rows.append(row)
        df = pd.DataFrame(rows)
        return filter_frame(df, {k.replace("__", "."): v for k, v in where.items()})

    def traces(self, **where: Any) -> Iterator[tuple[dict[str, Any], Any]]:
        """``(row, trace)`` for every (run, replica) matching ``where`` (as in :meth:`table`);
        ``trace`` is that replica's rows of the run's trace as a DataFrame (``step``, ``replica``,
        one column per recorded metric; vector metrics as array cells)."""
        yield from self._traces_of(self.table(**where))

    def _traces_of(self, df) -> Iterator[tuple[dict[str, Any], Any]]:
        if df.empty:
            return
        current: tuple[str, Any] | None = None
        for row in df.to_dict("records"):
            key = row["key"]
            if current is None or current[0] != key:  # rows come grouped by key: read each trace once
                current = (key, self.load(key).trace())
            tr = current[1]
            yield row, tr[tr["replica"] == row["replica"]].reset_index(drop=True)

    def trace_table(self, *, columns: list[str] | None = None, **where: Any):
        """The traces of every (run, replica) matching ``where`` as one long DataFrame: ``key``, the
        table columns named in ``columns`` (if any), then the trace columns (``step``, ``replica``,
        metrics)."""
        import pandas as pd

        df = self.table(**where)
        missing = [c for c in columns or [] if c not in df.columns]
        if missing and not df.empty:
            raise SpecError(f"--columns {missing[0]}: no such column; accepted: {', '.join(sorted(df.columns))}")
        frames = []
        for row, tr in self._traces_of(df):
            tr = tr.copy()
            for i, col in enumerate(["key", *(c for c in columns or [] if c not in ("key", "replica"))]):
                tr.insert(i, col, row.get(col))
            frames.append(tr)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _read_claim(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except (FileNotFoundError, OSError):
        return None


def _claim_stale(path: Path, holder: str) -> bool:
    host, _, pid = holder.partition(" ")
    if host == _host_tag():
        return not (pid.isdigit() and _pid_alive(int(pid)))
    try:
        return time.time() - path.stat().st_mtime > STALE_FOREIGN_TMP_S
    except OSError:
        return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def filter_frame(df, where: dict[str, Any]):
    """Rows of ``df`` whose columns equal the given values (string comparison as a fallback)."""
    for col, val in where.items():
        if df.empty:
            return df
        if col not in df.columns:
            raise SpecError(f"--where {col}: no such column; accepted: {', '.join(sorted(df.columns))}")
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
