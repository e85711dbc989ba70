"""Stored computations: checks that compute something themselves (a Monte Carlo, a RIP estimate),
keyed by their settings and cached in the store like runs.

A computation is a registered pure function of JSON settings (its seed among them) that returns a
JSON-able dict::

    @computation("li2018.lemma_a1_uniform", version=1)
    def lemma_a1_uniform(*, d, r, m_grid, seed, device="cpu"): ...

    comp = lemma_a1_uniform.spec(d=20, r=2, m_grid=[200, 800], seed=0)   # a Computation (pure data)
    run_computations([comp], store)                                        # computes only what is missing
    comp.load(store)                                                       # the stored result (a dict)

Identity: ``key = sha256(canonical JSON of {"fn": name, "settings": settings, "version": version})``;
bumping ``version`` invalidates the stored results of a function whose code changed. Storage:
``<store>/computations/<key[:2]>/<key>/result.json`` beside ``computation.json`` (the payload
above, with provenance), written into a temporary directory and renamed into place, so a crash
never leaves a result that looks complete. Results are JSON only (no pickle on load).

Executors: serially, on a spawned process pool, or on Dask (the same choice as runs, through
:func:`overparam.experiments.executors.dask_client`); a worker imports the function's module by
name, so the function must live in an importable module (a paper package does).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from .errors import SpecError
from .store import Store

_REGISTRY: dict[str, ComputationFn] = {}


@dataclass(frozen=True)
class ComputationFn:
    """A registered computation function (see :func:`computation`)."""

    name: str
    version: int
    module: str
    fn: Callable[..., dict[str, Any]]

    def __call__(self, **settings: Any) -> dict[str, Any]:
        return self.fn(**settings)

    def spec(self, label: str = "", **settings: Any) -> Computation:
        """The computation of this function with ``settings`` (pure data; nothing is computed)."""
        return Computation(fn=self.name, module=self.module, version=self.version,
                           settings=json.loads(json.dumps(settings)), label=label or self.name)


def computation(name: str, *, version: int = 1) -> Callable[[Callable[..., dict[str, Any]]], ComputationFn]:
    """Register ``fn(**settings) -> dict`` (JSON-able) as computation ``name``."""

    def deco(fn: Callable[..., dict[str, Any]]) -> ComputationFn:
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"computation {name!r} is already registered by {_REGISTRY[name].module}")
        cf = ComputationFn(name, version, fn.__module__, fn)
        _REGISTRY[name] = cf
        return cf

    return deco


def get_computation(name: str, module: str | None = None) -> ComputationFn:
    if name not in _REGISTRY and module:
        importlib.import_module(module)
    if name not in _REGISTRY:
        raise SpecError(f"computation {name!r}: not registered; accepted: {', '.join(sorted(_REGISTRY)) or 'none'}")
    return _REGISTRY[name]


def canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Computation:
    """One computation: function name, its settings and version (its identity), and a label."""

    fn: str
    module: str
    version: int
    settings: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def identity(self) -> dict[str, Any]:
        return {"fn": self.fn, "settings": self.settings, "version": self.version}

    def key(self) -> str:
        return hashlib.sha256(canonical(self.identity()).encode()).hexdigest()

    def on_device(self, device: str) -> Computation:
        """The same computation on ``device``, for functions that take a ``device`` setting."""
        if "device" not in self.settings or self.settings["device"] == device:
            return self
        return Computation(self.fn, self.module, self.version, {**self.settings, "device": device}, self.label)

    def path(self, store: Store) -> Path:
        key = self.key()
        return Path(store.root) / "computations" / key[:2] / key

    def has(self, store: Store) -> bool:
        return (self.path(store) / "result.json").is_file()

    def load(self, store: Store) -> dict[str, Any]:
        return json.loads(self.load_text(store))

    def load_text(self, store: Store) -> str:
        """The stored result as its JSON text (:meth:`load` parses it)."""
        p = self.path(store) / "result.json"
        if not p.is_file():
            raise SpecError(f"computation {self.label} ({self.key()[:12]}) is not in the store; run "
                            "`overparam reproduce` for this target first")
        return p.read_text()

    def to_json(self) -> str:
        return canonical({**self.identity(), "module": self.module, "label": self.label})

    @classmethod
    def from_json(cls, text: str) -> Computation:
        d = json.loads(text)
        return cls(fn=d["fn"], module=d["module"], version=d["version"], settings=d["settings"], label=d["label"])


def save_result(comp: Computation, store: Store, result: dict[str, Any], wall_time: float) -> Path:
    """Write ``result`` atomically (temporary directory, then rename); returns its directory."""
    final = comp.path(store)
    tmp = Path(store.root) / "computations" / "tmp" / f"{comp.key()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "result.json").write_text(canonical(result))
    import torch

    meta = {**comp.identity(), "label": comp.label, "module": comp.module, "wall_time": wall_time,
            "overparam": __version__, "torch": torch.__version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (tmp / "computation.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tmp, final)
    except OSError:  # another worker stored it first: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if not comp.has(store):
            raise
    return final


def compute(comp: Computation) -> dict[str, Any]:
    """Run a computation (not stored)."""
    return get_computation(comp.fn, comp.module)(**comp.settings)


def work(comp_json: str, store_root: str, threads: int) -> tuple[str, str | None]:
    """Compute one computation and store it; returns ``(key, error or None)``. Used by every executor."""
    from ..backend import threads as thread_ctx

    comp = Computation.from_json(comp_json)
    store = Store(store_root)
    if comp.has(store):
        return comp.key(), None
    try:
        t0 = time.perf_counter()
        with thread_ctx(threads):
            result = compute(comp)
        save_result(comp, store, result, time.perf_counter() - t0)
        return comp.key(), None
    except Exception as exc:  # noqa: BLE001 - a failing computation is reported, the others go on
        return comp.key(), f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"


@dataclass
class ComputationReport:
    total: int = 0
    skipped: int = 0
    computed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    wall_time: float = 0.0


def run_computations(comps: Sequence[Computation], store: Store, *, workers: int = 1, dask: str | None = None,
                     threads: int = 1, pool: Executor | None = None) -> ComputationReport:
    """Compute every computation missing from ``store`` (duplicates by key run once), serially,
    on a spawned process pool (``workers > 1``) or on Dask (``dask``: ``"local"`` or an address).
    ``pool``: a started pool whose workers were initialized as this module's would be (pinned to
    ``threads``), used instead of starting one (``reproduce`` shares one pool between its stored
    computations and its figures and claims)."""
    unique: dict[str, Computation] = {}
    for c in comps:
        unique.setdefault(c.key(), c)
    todo = [c for c in unique.values() if not c.has(store)]
    report = ComputationReport(total=len(unique), skipped=len(unique) - len(todo))
    t0 = time.perf_counter()
    root = str(Path(store.root).resolve())
    Path(root).mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, str | None]] = []
    if not todo:
        pass
    elif dask is not None:
        from .executors import dask_client

        client, close = dask_client(dask, workers)
        try:
            futs = [client.submit(work, c.to_json(), root, threads, pure=False, key=f"overparam-comp-{c.key()}")
                    for c in todo]
            results = client.gather(futs)
        finally:
            close()
    elif workers == 1 or len(todo) == 1:
        results = [work(c.to_json(), root, threads) for c in todo]
    else:
        import multiprocessing as mp

        from .executors import _init_worker

        with contextlib.ExitStack() as stack:
            if pool is None:
                pool = stack.enter_context(ProcessPoolExecutor(
                    max_workers=min(workers, len(todo)), mp_context=mp.get_context("spawn"), initializer=_init_worker,
                    initargs=(threads,)))
            futs = [pool.submit(work, c.to_json(), root, threads) for c in todo]
            for f in futs:
                try:
                    results.append(f.result())
                except Exception as exc:  # noqa: BLE001 - a dead worker fails its computation only
                    results.append(("?", f"{type(exc).__name__}: {exc}"))
    for key, err in results:
        if err is None:
            report.computed.append(key)
        else:
            report.failed.append((key, err))
    report.wall_time = time.perf_counter() - t0
    with contextlib.suppress(OSError):
        (Path(root) / "computations" / "tmp").rmdir()  # only when empty
    return report


__all__ = ["Computation", "ComputationFn", "ComputationReport", "compute", "computation", "get_computation",
           "run_computations", "save_result"]
