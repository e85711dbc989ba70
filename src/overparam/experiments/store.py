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
                                 manifest.json  sha256 and size of each file above (written last)
    <root>/tmp/<key>.<host>.<pid>.<nonce>/      runs being written
    <root>/failures/<key>.json                  runs that raised (retried on the next sweep)
    <root>/claims/<key>                         a run being computed: host, pid, start time (Claim)
    <root>/damaged/<key>.<nonce>/               damaged runs moved aside when recomputed
    <root>/partial/<key>/snapshot.npz           the last snapshot of a long run not finished yet
                                                (:mod:`overparam.experiments.partial`): a sweep
                                                resumes it; removed when the run is stored

A run is written into ``tmp/`` (every file fsynced) and renamed into place in one ``os.rename``, so
a run directory that exists is complete: a crash (even SIGKILL) never leaves a run that looks
finished, and a resumed sweep recomputes exactly the runs without a directory. Leftovers in
``tmp/`` are removed by :meth:`Store.clean_tmp` (every sweep calls it): those of dead processes on
this host at once, those of other hosts after a day. Two writers of the same spec are harmless:
the first rename wins and the second discards its copy.

A run directory counts as stored only when it is **intact** (:meth:`Store.damage`): every file
present, a regular file and not a link; each file's sha256 equal to the one recorded in
``manifest.json`` when the run was stored; and every file of the expected shape (the schema check,
:func:`schema_damage`): ``spec.json`` a spec whose key is the directory's name (an edited spec no
longer hashes to its key), ``summary.json`` one object per replica with its ``replica`` and
``status``, ``meta.json`` an object, ``trace.parquet`` readable to its last page with integer
``step`` and ``replica`` columns, ``final.npz`` numeric arrays that load without pickle. Runs stored
before manifests existed are checked by schema alone (:meth:`Store.verify` counts them). A run
damaged after the fact (a truncated file, a flipped bit, an edit) is not served (``table`` skips it
and ``results`` names it on stderr), it is recomputed by the next sweep (the damaged copy is moved
to ``damaged/``), and :meth:`Store.verify` lists every damaged run with the reason. A run found
intact is not hashed again by the same :class:`Store` until one of its files changes (size or
modification time). Keys are
checked (20 hex digits) before they become paths, and links are never followed, so a crafted key or
a symlink under ``runs/`` cannot make the store read outside its directory. Nothing is unpickled.

Two sweeps (or many Dask workers) writing one store coordinate through :meth:`Store.claim`: a
process claims a key before computing it (a file created atomically, naming host, pid and the
process's start time: :class:`Claim`); the others wait for its result instead of computing it
again. A stale claim (its process died, or its PID now belongs to another process) is taken over at
once; a live or foreign one is waited on for a bounded time (``--claim-timeout``, see
:func:`overparam.experiments.executors.claim_or_wait`), and :meth:`Store.release_claims` removes
stale ones (every one on request).

Reading: :meth:`Store.table` (one row per run and replica, spec fields and final metrics, filtered
by equality), :meth:`Store.traces` / :meth:`Store.trace_table` (the recorded traces of the matching
rows), :meth:`Store.load` (one run: spec, summary, provenance, trace, final θ).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
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
from . import partial
from .durable import fsync_dir
from .errors import SpecError
from .spec import RunSpec, flatten

DEFAULT_STORE = "./overparam-results"
STALE_FOREIGN_TMP_S = 24 * 3600.0
#: Seconds a sweep waits for a run that another process holds (``--claim-timeout``; :class:`Store`).
CLAIM_TIMEOUT_S = 600.0
#: Seconds of wall time between a long run's snapshots (``--checkpoint-seconds``; 0: none; :class:`Store`).
CHECKPOINT_S = 600.0
RUN_FILES = ("spec.json", "trace.parquet", "final.npz", "summary.json", "meta.json")
MANIFEST = "manifest.json"
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(run_dir: Path) -> dict[str, Any]:
    """``manifest.json`` of a run directory: ``{"format": 1, "files": {name: {"sha256", "bytes"}}}``
    for each of :data:`RUN_FILES`."""
    return {"format": 1, "files": {name: {"sha256": _sha256(run_dir / name), "bytes": (run_dir / name).stat().st_size}
                                   for name in RUN_FILES}}


def hash_damage(run_dir: Path) -> str | None:
    """Why the run's files differ from its ``manifest.json``, or None (also when it has none)."""
    mpath = run_dir / MANIFEST
    if not mpath.exists():
        return None
    try:
        files = json.loads(mpath.read_text())["files"]
        recorded = {name: (files[name]["sha256"], int(files[name]["bytes"])) for name in RUN_FILES}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{MANIFEST}: unreadable ({type(exc).__name__})"
    for name, (digest, size) in recorded.items():
        try:
            if (run_dir / name).stat().st_size != size or _sha256(run_dir / name) != digest:
                return f"{name}: content differs from its recorded sha256 (changed after it was stored)"
        except OSError as exc:
            return f"{name}: unreadable ({type(exc).__name__})"
    return None


def schema_damage(run_dir: Path, key: str) -> str | None:
    """Why a run's files are not of the expected shape, or None: ``spec.json`` a spec whose key is
    ``key``; ``summary.json`` a list of one object per replica with ``replica`` and ``status``;
    ``meta.json`` an object; ``trace.parquet`` read to its last page, with integer ``step`` and
    ``replica`` columns; ``final.npz`` numeric arrays, loaded without pickle."""
    data = {}
    for name in JSON_FILES:
        try:
            data[name] = json.loads((run_dir / name).read_text())
        except (OSError, ValueError) as exc:
            return f"{name}: unreadable ({type(exc).__name__})"
    try:
        spec = RunSpec.parse(data["spec.json"])
    except Exception as exc:  # noqa: BLE001 - any reason a stored spec does not parse
        return f"spec.json: not a valid spec ({type(exc).__name__})"
    if spec.key() != key:
        return f"spec.json: its content hashes to {spec.key()}, not to the run's key (edited after it was stored)"
    summary = data["summary.json"]
    if not (isinstance(summary, list) and len(summary) == spec.n_replicas
            and all(isinstance(row, dict) and row.get("replica") == i and isinstance(row.get("status"), str)
                    for i, row in enumerate(summary))):
        return (f"summary.json: not one object per replica ({spec.n_replicas}) with its replica and status")
    if not isinstance(data["meta.json"], dict):
        return "meta.json: not an object"
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(run_dir / "trace.parquet")  # every page: a corrupted one raises
        for col in ("step", "replica"):
            if col not in table.column_names or not pa.types.is_integer(table.schema.field(col).type):
                return f"trace.parquet: no integer {col!r} column (not a trace of this package)"
    except Exception as exc:  # noqa: BLE001 - any reader error means damaged
        return f"trace.parquet: unreadable ({type(exc).__name__})"
    try:
        with np.load(run_dir / "final.npz", allow_pickle=False) as z:
            for name in z.files:
                arr = z[name]  # reads (and CRC-checks) the member; an object array raises here
                if arr.dtype.kind not in "biufc":
                    return f"final.npz: array {name!r} is not numeric ({arr.dtype})"
    except Exception as exc:  # noqa: BLE001
        return f"final.npz: unreadable ({type(exc).__name__})"
    return None


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
        return theta_of(self.arrays())


def theta_of(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray] | list[dict[str, np.ndarray]]:
    """Final θ from ``final.npz``'s arrays (:meth:`StoredRun.theta`): the arrays as they are, or one
    dict per replica when they are stored per replica (``U.r0``, ``U.r1``, …)."""
    if not any(".r" in k for k in arrays):
        return arrays
    out: dict[int, dict[str, np.ndarray]] = {}
    for k, v in arrays.items():
        block, _, r = k.rpartition(".r")
        out.setdefault(int(r), {})[block] = v
    return [out[i] for i in sorted(out)]


class Store:
    """A results directory (see the module docstring). ``Store()`` uses ``$OVERPARAM_STORE`` or
    ``./overparam-results``. ``claim_timeout``: seconds a sweep into this store waits for a run
    another process holds before giving up on it (None: no limit; ``--claim-timeout``).
    ``checkpoint_seconds``: seconds of wall time between the snapshots a sweep's run writes under
    ``partial/`` (0: none; ``--checkpoint-seconds``)."""

    def __init__(self, root: str | Path | None = None, *, claim_timeout: float | None = CLAIM_TIMEOUT_S,
                 checkpoint_seconds: float = CHECKPOINT_S):
        self.root = Path(root) if root is not None else default_root()
        self.claim_timeout = claim_timeout
        self.checkpoint_seconds = checkpoint_seconds
        self._intact: dict[str, tuple] = {}  # key -> file signatures when last found intact
        self.skipped: dict[str, str] = {}  # damaged runs that keys() (so table()) left out: key -> why
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
        """Why the stored run ``key`` cannot be served (``"absent"``, a missing file, a link, a file
        whose content differs from its recorded hash, a file of the wrong shape), or None when it is
        intact (see the module docstring)."""
        path = self.path(key)
        if not path.exists() and not path.is_symlink():
            return "absent"
        if path.is_symlink() or path.parent.is_symlink():
            return "a symbolic link (links are not followed)"
        sig = []
        for name in (*RUN_FILES, MANIFEST):
            f = path / name
            if f.is_symlink():
                return f"{name}: a symbolic link"
            if not f.is_file():
                if name == MANIFEST and not f.exists():
                    continue  # stored before manifests: schema checks only
                return f"{name}: missing"
            st = f.stat()
            sig.append((name, st.st_mtime_ns, st.st_size, st.st_ino))
        sig_t = tuple(sig)
        if self._intact.get(key) == sig_t:
            return None
        why = hash_damage(path) or schema_damage(path, key)
        if why is None:
            self._intact[key] = sig_t
        else:
            self._intact.pop(key, None)
        return why

    def hashed(self, key: str) -> bool:
        """Whether the run has a ``manifest.json`` (content hashes; runs stored before it have none)."""
        return (self.path(key) / MANIFEST).is_file()

    def verify(self) -> dict[str, Any]:
        """Check every run directory (:meth:`damage`): ``{"ok": n, "damaged": [{"key", "reason"}, …],
        "schema_only": [keys of intact runs without content hashes], "partial": [{"key", "step",
        "usable", "reason"}, …]}`` (the snapshots of unfinished runs under ``partial/``; a stored run's
        stale one is removed here)."""
        self.clean_partial()
        damaged, ok, schema_only = [], 0, []
        for key in self._all_keys():
            why = self.damage(key)
            if why is None:
                ok += 1
                if not self.hashed(key):
                    schema_only.append(key)
            else:
                damaged.append({"key": key, "reason": why})
        return {"ok": ok, "damaged": damaged, "schema_only": schema_only,
                "partial": [partial.describe(self.root, k) for k in partial.keys(self.root, _KEY.match)]}

    # -- snapshots of unfinished runs (partial/) -----------------------------------------------------
    def save_partial(self, key: str, snap) -> Path:
        """Store ``snap`` (:class:`~overparam.snapshot.RunSnapshot`) as run ``key``'s snapshot."""
        return partial.write(self.root, check_key(key), snap, _host_tag())

    def load_partial(self, key: str):
        """``(snapshot, None)`` when run ``key`` has one this code can resume, else ``(None, why)``."""
        return partial.read(self.root, check_key(key))

    def drop_partial(self, key: str) -> bool:
        """Remove run ``key``'s snapshot (True if there was one)."""
        return partial.remove(self.root, check_key(key))

    def clean_partial(self) -> int:
        """Remove the snapshots of runs already stored; returns how many."""
        return sum(self.drop_partial(k) for k in partial.keys(self.root, _KEY.match) if self.has(k))

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
    def claim_path(self, key: str) -> Path:
        return self.root / "claims" / check_key(key)

    def claim(self, key: str) -> bool:
        """Claim ``key`` for computing: True if this process now holds it (or already did), False
        when another process holds it and may still be computing it. A stale claim (its process no
        longer runs here, its PID was reused, or it is older than a day from another host; see
        :class:`Claim`) is taken over at once."""
        d = self.root / "claims"
        d.mkdir(parents=True, exist_ok=True)
        path = self.claim_path(key)
        for _ in range(3):
            if _create_claim(path):
                return True
            holder = read_claim(path)
            if holder is None:
                continue  # released meanwhile
            if holder.mine():
                return True
            if holder.stale() is None:
                return False
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # a dead or reused holder's claim
        return False

    def release(self, key: str) -> None:
        """Release this process's claim on ``key`` (a claim held by another process is left alone)."""
        path = self.claim_path(key)
        holder = read_claim(path)
        if holder is not None and holder.mine():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def claimed(self, key: str) -> bool:
        """Whether a live process other than this one holds ``key``."""
        holder = read_claim(self.claim_path(key))
        return holder is not None and not holder.mine() and holder.stale() is None

    def holder(self, key: str) -> Claim | None:
        """The claim on ``key`` (None when unclaimed)."""
        return read_claim(self.claim_path(key))

    def claims(self) -> list[Claim]:
        """Every claim file under ``claims/``, sorted by key."""
        d = self.root / "claims"
        if not d.is_dir():
            return []
        out = [read_claim(p) for p in sorted(d.iterdir()) if _KEY.match(p.name)]
        return [c for c in out if c is not None]

    def release_claims(self, *, all: bool = False) -> tuple[list[tuple[Claim, str]], list[Claim]]:  # noqa: A002
        """Remove stale claims (every claim with ``all``): ``(removed [(claim, why)], kept)``.

        Stale: see :meth:`Claim.stale`. ``all`` also removes live and foreign claims: use it only
        when no sweep writing this store is running (a sweep whose claim is removed still writes its
        run; another sweep may then compute the same run once more, harmlessly)."""
        removed, kept = [], []
        for c in self.claims():
            if c.mine():
                kept.append(c)
                continue
            why = c.stale()
            if why is None and all:
                why = "removed on request (--all)"
            if why is None:
                kept.append(c)
                continue
            with contextlib.suppress(FileNotFoundError):
                c.path.unlink()
            removed.append((c, why))
        return removed, kept

    def save(self, spec: RunSpec, result: Result, *, meta: dict[str, Any] | None = None) -> Path:
        """Write a finished run atomically; if another writer got there first, keep theirs. ``meta``:
        provenance added to ``meta.json`` (a resumed run's ``resumed_from_step``). Its snapshot under
        ``partial/`` is removed."""

        key = spec.key()
        try:
            return self._save(key, spec, result, meta)
        except PermissionError as exc:
            raise SpecError(f"--store {str(self.root)!r}: not writable ({exc.strerror or exc}); accepted: a directory "
                            "this user can write") from None

    def _save(self, key: str, spec: RunSpec, result: Result, extra: dict[str, Any] | None = None) -> Path:
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
            meta.update(extra or {})
            _write_json(tmp / "meta.json", meta)
            _write_json(tmp / MANIFEST, manifest(tmp))  # last: hashes of the files as written
            fsync_dir(tmp)
            final.parent.mkdir(parents=True, exist_ok=True)
            self._move_aside_if_damaged(key)
            try:
                os.rename(tmp, final)
            except OSError:
                if not self.has(key):
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # a concurrent writer finished the same spec
            else:
                fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.clear_failure(key)
        self.drop_partial(key)
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
        """The keys of the stored (intact) runs, sorted; the damaged ones left out are kept in
        :attr:`skipped` (key -> reason) for the caller to name."""
        out, self.skipped = [], {}
        for k in self._all_keys():
            why = self.damage(k)
            if why is None:
                out.append(k)
            else:
                self.skipped[k] = why
        return out

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


#: a claim file younger than this that cannot be read yet is being written (not garbage)
CLAIM_WRITE_GRACE_S = 10.0


def _process_start(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc/<pid>/stat``,
    field 22), or None where it cannot be read (not Linux, or the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and parentheses: count from the last ")"
        return int(text.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


@functools.cache
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


class Claim:
    """A claim file ``claims/<key>``: which process computes the run.

    Written as one JSON object: ``{"host": <host tag>, "pid": <int>, "start": <process start time,
    clock ticks since boot, or null>, "boot": <kernel boot id or null>, "since": <Unix time>}``.
    Files of older versions hold ``"<host> <pid>"`` (``legacy``); a file that cannot be read holds
    neither (``pid`` None).

    :meth:`stale` decides whether the holder can still be computing: on this host, its PID must
    run and (when both are known) have the recorded start time and boot; on another host nothing
    can be checked, so such a claim is live for :data:`STALE_FOREIGN_TMP_S` (a day)."""

    def __init__(self, key: str, path: Path, *, host: str | None, pid: int | None, start: int | None = None,
                 boot: str | None = None, since: float | None = None, legacy: bool = False):
        self.key, self.path, self.host, self.pid = key, path, host, pid
        self.start, self.boot, self.since, self.legacy = start, boot, since, legacy

    @classmethod
    def current(cls, key: str, path: Path) -> Claim:
        pid = os.getpid()
        return cls(key, path, host=_host_tag(), pid=pid, start=_process_start(pid), boot=_boot_id(),
                   since=time.time())

    def text(self) -> str:
        return json.dumps({"host": self.host, "pid": self.pid, "start": self.start, "boot": self.boot,
                           "since": self.since}, sort_keys=True)

    def mine(self) -> bool:
        if self.host != _host_tag() or self.pid != os.getpid():
            return False
        return self.start is None or self.start == _process_start(os.getpid())

    def age(self) -> float:
        """Seconds since the claim was made (its file's mtime for old-format files)."""
        since = self.since
        if since is None:
            try:
                since = self.path.stat().st_mtime
            except OSError:
                return 0.0
        return max(0.0, time.time() - since)

    def stale(self) -> str | None:
        """Why the holder cannot be computing any more, or None when it may be."""
        if self.pid is None:
            return "unreadable claim file" if self.age() > CLAIM_WRITE_GRACE_S else None
        if self.host == _host_tag():
            if self.boot is not None and _boot_id() is not None and self.boot != _boot_id():
                return f"process {self.pid} ran before this host restarted"
            if not _pid_alive(self.pid):
                return f"process {self.pid} is not running"
            if self.start is not None:
                now = _process_start(self.pid)
                if now is not None and now != self.start:
                    return f"process id {self.pid} now belongs to another process (reused)"
            return None
        if self.age() > STALE_FOREIGN_TMP_S:
            return f"claimed from host {self.host} more than {STALE_FOREIGN_TMP_S / 3600:g} h ago"
        return None

    def describe(self) -> str:
        """``host H, pid P, since <UTC time> (N s ago)``, plus what could not be checked."""
        when = self.since
        if when is None:
            with contextlib.suppress(OSError):
                when = self.path.stat().st_mtime
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)) if when is not None else "?"
        if self.pid is None:
            return f"an unreadable claim file (since {at})"
        where = "this host" if self.host == _host_tag() else f"host {self.host}"
        extra = "; old-format claim: a reused PID cannot be told apart" if self.legacy else ""
        return f"{where}, pid {self.pid}, since {at} ({self.age():.0f} s ago){extra}"


def _create_claim(path: Path) -> bool:
    """Create the claim file for this process atomically, content included (a reader never sees it
    empty): written beside it, then hard-linked into place (fails if it exists). Where hard links are
    not supported, an exclusive create. True when created."""
    claim = Claim.current(path.name, path)
    tmp = path.parent / f".{path.name}.{_host_tag()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(claim.text())
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links on this filesystem
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            fh.write(claim.text())
        return True
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def read_claim(path: Path) -> Claim | None:
    """The claim in ``path`` (new or old format; unreadable content gives ``pid`` None), or None
    when there is no such file."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        text = ""
    key = path.name
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        pid, start, since = data.get("pid"), data.get("start"), data.get("since")
        if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
            return Claim(key, path, host=str(data.get("host")), pid=pid,
                         start=start if isinstance(start, int) and not isinstance(start, bool) else None,
                         boot=data.get("boot") if isinstance(data.get("boot"), str) else None,
                         since=float(since) if isinstance(since, (int, float)) and not isinstance(since, bool)
                         else None)
    parts = text.split()
    if len(parts) == 2 and parts[1].isdigit() and int(parts[1]) > 0:  # "<host> <pid>": before claims had JSON
        return Claim(key, path, host=parts[0], pid=int(parts[1]), legacy=True)
    return Claim(key, path, host=None, pid=None)


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
