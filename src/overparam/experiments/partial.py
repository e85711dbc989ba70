"""Snapshots of unfinished runs in the store: ``<root>/partial/<key>/snapshot.npz``.

A long run of a sweep hands a snapshot of its state (:mod:`overparam.snapshot`) to the store every
``checkpoint_seconds``; a task that finds a usable snapshot of its spec resumes from it, with the bits
of a run never interrupted. One file per key, replaced whole: written into ``tmp/`` (fsynced), moved
into place with one ``os.replace``, the directory fsynced, so a crash (even SIGKILL) leaves the previous
snapshot or the new one, never half of one. Read with ``allow_pickle=False``: nothing is unpickled.

A snapshot records the spec key, the library version, the torch and numba versions and the engine
that ran it (:func:`records`). One whose records differ from the running code's is not used
(:func:`usable` says why); the engine is checked when the run resumes (a mismatch restarts the run
from step 0). A stored run's snapshot is removed when the run is stored (:meth:`Store.save
<overparam.experiments.store.Store.save>`), and :meth:`Store.clean_partial
<overparam.experiments.store.Store.clean_partial>` removes those of runs already stored.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from .._version import __version__
from ..snapshot import RunSnapshot, SnapshotError
from .durable import fsync_dir

SNAPSHOT_FILE = "snapshot.npz"


def _versions() -> dict[str, Any]:
    import torch

    try:
        import numba

        nb = numba.__version__
    except ImportError:  # pragma: no cover - numba is a dependency
        nb = None
    return {"version": __version__, "torch": torch.__version__, "numba": nb}


def records(key: str) -> dict[str, Any]:
    """What a snapshot of run ``key`` written by this code records: the key and the versions."""
    return {"key": key, **_versions()}


def usable(snap: RunSnapshot, key: str) -> str | None:
    """Why ``snap`` cannot resume run ``key`` with this code (another key or version), or None."""
    want = records(key)
    for k, v in want.items():
        if snap.records.get(k) != v:
            return f"its {k} is {snap.records.get(k)!r}, this code's {v!r}"
    return None


def path(root: Path, key: str) -> Path:
    return root / "partial" / key / SNAPSHOT_FILE


def write(root: Path, key: str, snap: RunSnapshot, host: str) -> Path:
    """Store ``snap`` as run ``key``'s snapshot (replacing the previous one atomically), written
    first into ``tmp/partial-<key>.<host>.<pid>.<nonce>/`` (whose leftovers the store's
    ``clean_tmp`` removes like a half-written run's)."""
    snap.records = {**records(key), "engine": snap.engine, "step": snap.t}
    data = snap.to_bytes()
    tmp_dir = root / "tmp" / f"partial-{key}.{host}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir(parents=True)
    try:
        tmp = tmp_dir / SNAPSHOT_FILE
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        final = path(root, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        fsync_dir(final.parent)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return final


def read(root: Path, key: str) -> tuple[RunSnapshot | None, str | None]:
    """``(snapshot, None)`` when run ``key`` has a snapshot this code can resume, else ``(None, why)``
    (``why`` None when there is none at all)."""
    p = path(root, key)
    if not p.is_file() or p.is_symlink():
        return None, None
    try:
        snap = RunSnapshot.from_bytes(p.read_bytes())
    except (OSError, SnapshotError) as exc:
        return None, str(exc)
    why = usable(snap, key)
    return (None, why) if why is not None else (snap, None)


def remove(root: Path, key: str) -> bool:
    """Remove run ``key``'s snapshot; True if there was one."""
    d = root / "partial" / key
    if not d.exists():
        return False
    shutil.rmtree(d, ignore_errors=True)
    return True


def keys(root: Path, is_key) -> list[str]:
    """The names under ``partial/`` that ``is_key`` accepts (the store's key check)."""
    d = root / "partial"
    return sorted(p.name for p in d.iterdir() if is_key(p.name)) if d.is_dir() else []


def describe(root: Path, key: str) -> dict[str, Any]:
    """``{"key", "step", "usable", "reason"}`` of run ``key``'s snapshot (for ``Store.verify``)."""
    snap, why = read(root, key)
    step = snap.t if snap is not None else None
    if snap is None and why is None:
        why = "no snapshot file"
    with contextlib.suppress(Exception):
        if step is None:
            step = RunSnapshot.from_bytes(path(root, key).read_bytes()).t
    return {"key": key, "step": step, "usable": snap is not None, "reason": why}


__all__ = ["SNAPSHOT_FILE", "describe", "keys", "path", "read", "records", "remove", "usable", "write"]
