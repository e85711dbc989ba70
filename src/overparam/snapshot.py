"""Snapshots of a run at a step boundary, for an exact resume (:func:`overparam.run`'s ``checkpoint``
and ``resume``).

A **snapshot** at step t is everything the rest of :func:`overparam.run` depends on, taken at the top
of the loop, before anything of step t happens: θ_t and the previous iterate θ_{t−1}, the algorithm's
state (step sizes, per-replica thresholds, perturbation bookkeeping, random streams as their
(seed, tag, counter) triples), the divergence reference (the initial losses), the stop rules' and
the stateful diagnostics' states, the metric rows recorded so far, the replicas' status, stop steps,
final θ, carried stop states, events and active set, the last fully logged step, t itself and the
wall time so far. ``run(..., resume=snapshot)`` builds the problem, objective and engine as usual,
puts that state back and continues at t.

**Exactness.** A resumed run gives the same bits as the run that was never interrupted: trace, final
θ, status, stop steps, events and replica settings (``tests/test_snapshot.py``). What makes it exact:
tensors are stored as their raw bytes with their dtype, shape and strides (a strided tensor is rebuilt
with the same strides: torch's reductions sum in stride order); Python numbers go through JSON, whose
floats round-trip exactly; a random stream (:class:`~overparam.algorithms.pieces.Stream`) is its
(seed, counter) pair, which replays the same draws; the generic loop's steps do not depend on where
the loop starts, and a compiled engine's bits do not depend on its segment lengths
(:mod:`overparam.engines`), so neither a snapshot boundary nor a resume point changes a number.
Taking snapshots never changes a number either.

**Refusal.** A state holding anything else (an object the encoder does not know: a user's piece
keeping a closure or a file, a tensor of a dtype NumPy cannot hold, an overlapping view) cannot be
stored exactly: the run then takes no snapshot (:class:`SnapshotError`, handed to the checkpoint's
``refused``) and goes on normally. A state entry that a piece or diagnostic declares static
(``snapshot_static``: keys of its state dict that ``init`` determines and the run never changes, the
same for every replica) is left out and taken from the resumed run's own ``init``. The guarantee
covers algorithms, stop rules and diagnostics that keep their whole mutable state in the states the
loop holds (the contract of :mod:`overparam.algorithms.base`, :mod:`overparam.stops` and
:class:`~overparam.metrics.Diagnostic`); a piece that mutated its own attributes during a run would
not be captured. A resume refuses a snapshot of another run (:class:`SnapshotMismatch`: another
problem, θ₀, algorithm, schedule, engine, thread count, …).

**Format.** :meth:`RunSnapshot.to_bytes` writes one ``.npz`` (no pickle): the tensors as arrays and
the rest as a JSON document stored as a byte array; :meth:`RunSnapshot.from_bytes` reads it with
``allow_pickle=False``. The store keeps a sweep's snapshots under ``partial/``
(:mod:`overparam.experiments.partial`).

**When.** A :class:`Checkpoint` decides: :func:`every_seconds` (a sweep: a snapshot every N seconds
of wall time; the first after N seconds, so short runs never write one) or :func:`at_steps`.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .algorithms.pieces import Stream
from .errors import BackendError, OverparamError

#: bumped when the snapshot's layout changes (a snapshot of another format is never resumed)
FORMAT = 1
_JSON_MEMBER = "__snapshot_json__"


class SnapshotError(OverparamError):
    """The run's state holds something that cannot be stored exactly: no snapshot is taken."""


class SnapshotMismatch(SnapshotError, BackendError):
    """``resume=`` got a snapshot of another run (another problem, θ₀, algorithm, schedule, …)."""


# -- encoding a state tree -------------------------------------------------------------------------------


def _dense_strides(shape: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether a view with ``shape`` and ``stride`` has no two elements at one address (non-negative
    strides, each dimension beyond the extent of the faster ones)."""
    dims = sorted((s, n) for n, s in zip(shape, stride, strict=True) if n > 1)
    extent = 0
    for s, n in dims:
        if s < 0 or s <= extent:
            return False
        extent += (n - 1) * s
    return True


class _Encoder:
    """A state tree to JSON nodes; tensors and arrays go to ``arrays`` by name."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, a: np.ndarray, where: str) -> str:
        if a.dtype.kind not in "biufc":
            raise SnapshotError(f"{where}: an array of dtype {a.dtype} cannot be stored without pickle")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = a
        return name

    def __call__(self, x: Any, where: str = "state") -> Any:
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, torch.Tensor):
            t = x.detach()
            if t.layout != torch.strided or t.is_quantized or t.is_complex() and t.is_conj():
                raise SnapshotError(f"{where}: a {t.layout} tensor cannot be stored exactly")
            if not _dense_strides(tuple(t.shape), tuple(t.stride())):
                raise SnapshotError(f"{where}: a tensor whose elements overlap (an expanded view) is not stored")
            try:
                host = t.cpu().contiguous().numpy()
            except TypeError:
                raise SnapshotError(f"{where}: a tensor of dtype {t.dtype} cannot be stored exactly") from None
            return {"t": "tensor", "ref": self.array(host, where), "dtype": str(t.dtype).removeprefix("torch."),
                    "device": str(t.device), "stride": list(t.stride()),
                    "contiguous": t.is_contiguous()}
        if isinstance(x, np.ndarray):
            return {"t": "ndarray", "ref": self.array(np.ascontiguousarray(x), where)}
        if isinstance(x, np.generic):
            if x.dtype.kind not in "biuf":
                raise SnapshotError(f"{where}: a NumPy {x.dtype} scalar is not stored")
            return {"t": "npscalar", "dtype": str(x.dtype), "v": x.item()}
        if isinstance(x, torch.device):
            return {"t": "device", "v": str(x)}
        if isinstance(x, torch.dtype):
            return {"t": "dtype", "v": str(x).removeprefix("torch.")}
        if isinstance(x, Stream):
            seed, tag, counter = x.state()
            return {"t": "stream", "v": [seed, tag, counter]}
        if isinstance(x, list):
            return {"t": "list", "v": [self(v, f"{where}[{i}]") for i, v in enumerate(x)]}
        if isinstance(x, tuple) and type(x) is tuple:
            return {"t": "tuple", "v": [self(v, f"{where}[{i}]") for i, v in enumerate(x)]}
        if type(x) is dict:
            if not all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in x):
                raise SnapshotError(f"{where}: a dict with keys other than strings and integers is not stored")
            return {"t": "dict", "v": [[k, self(v, f"{where}[{k!r}]")] for k, v in x.items()]}
        raise SnapshotError(f"{where}: a {type(x).__module__}.{type(x).__qualname__} cannot be stored exactly")


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if not isinstance(node, dict):
        return node
    kind = node["t"]
    if kind == "tensor":
        data = torch.from_numpy(np.array(arrays[node["ref"]], copy=True))
        dtype, dev = getattr(torch, node["dtype"]), torch.device(node["device"])
        if data.dtype != dtype:  # pragma: no cover - NumPy keeps every stored dtype
            raise SnapshotError(f"a stored tensor is {data.dtype}, recorded as {dtype}")
        if node["contiguous"]:
            return data if dev.type == "cpu" else data.to(dev)
        # the same strides: torch's reductions over it sum in the same order
        shape, stride = tuple(data.shape), tuple(node["stride"])
        size = 1 + sum((n - 1) * s for n, s in zip(shape, stride, strict=True)) if data.numel() else 0
        out = torch.empty(size, dtype=dtype, device=dev).as_strided(shape, stride)
        out.copy_(data)
        return out
    if kind == "ndarray":
        return np.array(arrays[node["ref"]], copy=True)
    if kind == "npscalar":
        return np.dtype(node["dtype"]).type(node["v"])
    if kind == "device":
        return torch.device(node["v"])
    if kind == "dtype":
        return getattr(torch, node["v"])
    if kind == "stream":
        return Stream.restore(tuple(node["v"]))
    if kind == "list":
        return [_decode(v, arrays) for v in node["v"]]
    if kind == "tuple":
        return tuple(_decode(v, arrays) for v in node["v"])
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in node["v"]}
    raise SnapshotError(f"unknown node {kind!r} in a snapshot")  # pragma: no cover - written by _Encoder only


def strip_static(owner: Any, state: Any) -> Any:
    """``state`` without the keys its owner (a piece or a diagnostic) declares static
    (``snapshot_static``: determined by ``init``, never changed by the run, the same for every replica)."""
    static = getattr(owner, "snapshot_static", ())
    if static and isinstance(state, dict):
        return {k: v for k, v in state.items() if k not in static}
    return state


def with_static(owner: Any, saved: Any, fresh: Any) -> Any:
    """A restored ``saved`` state with its owner's static keys taken from the fresh ``init`` state."""
    static = getattr(owner, "snapshot_static", ())
    if static and isinstance(saved, dict) and isinstance(fresh, dict):
        return {**saved, **{k: fresh[k] for k in static if k in fresh}}
    return saved


def digest(*parts: Any) -> str:
    """A short sha256 of tensors (their bytes, dtype and shape) and JSON-able values: part of a
    snapshot's fingerprint (the problem's data, θ₀, the log schedule)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, torch.Tensor):
            t = p.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes())
        elif isinstance(p, np.ndarray):
            h.update(f"{p.dtype}{p.shape}".encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


# -- the snapshot -----------------------------------------------------------------------------------------


@dataclass
class RunSnapshot:
    """A run's state at the top of step ``t`` (module docstring). ``fingerprint``: what the resumed
    run must match (checked by :meth:`check`); ``records``: provenance the caller adds (the store
    records the spec key and the versions); ``state``: the encoded tree; ``arrays``: its tensors."""

    t: int
    fingerprint: dict[str, Any]
    state: Any
    arrays: dict[str, np.ndarray]
    wall_time: float = 0.0
    records: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def capture(cls, t: int, fingerprint: dict[str, Any], tree: Any, wall_time: float) -> RunSnapshot:
        """Encode ``tree`` (raises :class:`SnapshotError` for anything that cannot be stored exactly)."""
        enc = _Encoder()
        state = enc(tree)
        return cls(t=int(t), fingerprint=dict(fingerprint), state=state, arrays=enc.arrays, wall_time=float(wall_time))

    def tree(self) -> Any:
        """The decoded state tree (fresh tensors each call)."""
        return _decode(self.state, self.arrays)

    @property
    def engine(self) -> str:
        return str(self.fingerprint.get("engine"))

    def check(self, fingerprint: dict[str, Any]) -> None:
        """Raise :class:`SnapshotMismatch` naming the first field in which ``fingerprint`` (of the run
        that would resume) differs from the snapshot's."""
        for k in sorted(set(fingerprint) | set(self.fingerprint)):
            if fingerprint.get(k) != self.fingerprint.get(k):
                raise SnapshotMismatch(f"resume: the snapshot (step {self.t}) is of another run: its {k} is "
                                       f"{_short(self.fingerprint.get(k))}, this run's {_short(fingerprint.get(k))}; "
                                       "accepted: a snapshot taken by the same run (same problem, θ₀, algorithm, "
                                       "metrics, schedule, engine and threads)")

    def to_bytes(self) -> bytes:
        """One ``.npz``: the arrays and a JSON document (t, fingerprint, records, state) as bytes."""
        doc = {"format": FORMAT, "t": self.t, "fingerprint": self.fingerprint, "records": self.records,
               "wall_time": self.wall_time, "state": self.state}
        text = json.dumps(doc, sort_keys=True, allow_nan=True).encode()
        buf = io.BytesIO()
        np.savez(buf, **self.arrays, **{_JSON_MEMBER: np.frombuffer(text, dtype=np.uint8)})
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RunSnapshot:
        """Read :meth:`to_bytes`'s output (no pickle); a :class:`SnapshotError` if it is not one."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            doc = json.loads(arrays.pop(_JSON_MEMBER).tobytes().decode())
            if doc.get("format") != FORMAT:
                raise SnapshotError(f"snapshot format {doc.get('format')!r}; this version reads {FORMAT}")
            return cls(t=int(doc["t"]), fingerprint=doc["fingerprint"], state=doc["state"], arrays=arrays,
                       wall_time=float(doc.get("wall_time", 0.0)), records=doc.get("records") or {})
        except SnapshotError:
            raise
        except Exception as exc:  # noqa: BLE001 - any reader error: not a readable snapshot
            raise SnapshotError(f"not a readable snapshot ({type(exc).__name__}: {exc})") from None


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


# -- when snapshots are taken ---------------------------------------------------------------------------------


class Checkpoint:
    """When the loop takes a snapshot and where it goes. The loop asks :meth:`due` at every step
    boundary it reaches (every step of the generic loop; a compiled engine's segments end at
    :meth:`next_boundary`), hands a due snapshot to :meth:`save`, and a state that cannot be stored
    exactly to :meth:`refused` (once; no snapshot is taken after that)."""

    def __init__(self, save: Callable[[RunSnapshot], None], refused: Callable[[str], None] | None = None):
        self._save, self._refused = save, refused
        self.refusal: str | None = None

    def due(self, t: int) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def next_boundary(self, t: int, steps: int) -> int:
        """The next step > t at which a compiled segment stops so that :meth:`due` can be asked
        (default: the progress cadence, a hundredth of the run)."""
        every = max(1, steps // 100)
        return (t // every + 1) * every

    def save(self, snap: RunSnapshot) -> None:
        self._save(snap)

    def refused(self, why: str) -> None:
        self.refusal = why
        if self._refused is not None:
            self._refused(why)


class AtSteps(Checkpoint):
    """A snapshot at each of the given steps (tests; a researcher's own schedule)."""

    def __init__(self, steps: Iterable[int], save, refused=None):
        super().__init__(save, refused)
        self.steps = sorted({int(s) for s in steps})

    def due(self, t: int) -> bool:
        return t in self.steps

    def next_boundary(self, t: int, steps: int) -> int:
        return next((s for s in self.steps if s > t), steps)


def _clock() -> float:
    """The wall clock of :class:`EverySeconds` (monotonic seconds; tests replace it)."""
    return time.monotonic()


class EverySeconds(Checkpoint):
    """A snapshot every ``seconds`` of wall time (``clock``: seconds, monotonic; default
    :func:`_clock`), the first one ``seconds`` after the run started: a run shorter than that never
    writes one."""

    def __init__(self, seconds: float, save, refused=None, clock: Callable[[], float] | None = None):
        super().__init__(save, refused)
        self.seconds = float(seconds)
        self.clock = clock if clock is not None else (lambda: _clock())
        self.last = self.clock()
        self._rate_from: tuple[int, float] | None = None  # (step, clock) the rate is measured from

    def due(self, t: int) -> bool:
        now = self.clock()
        if now - self.last < self.seconds:
            return False
        self.last = now
        return True

    def next_boundary(self, t: int, steps: int) -> int:
        """Where the step at which the next snapshot falls due is predicted from the rate so far: a
        first segment of a hundredth of the run measures the rate, then each segment runs to about
        the predicted step (a compiled engine's segments cost a call each: cutting every run at every
        hundredth made the quick reproduction's compiled runs 40 % slower, and a run shorter than
        ``seconds`` now runs in two segments)."""
        now = self.clock()
        if self._rate_from is None or t < self._rate_from[0]:
            self._rate_from = (t, now)
        t0, c0 = self._rate_from
        if t <= t0 or now <= c0:
            return min(steps, t + max(1, steps // 100))
        rate = (t - t0) / (now - c0)  # steps per second
        ahead = int(rate * max(0.0, self.seconds - (now - self.last)))
        return min(steps, t + max(1, ahead))


def at_steps(steps: Iterable[int], save: Callable[[RunSnapshot], None], refused=None) -> AtSteps:
    """A :class:`Checkpoint` taking a snapshot at each of ``steps``."""
    return AtSteps(steps, save, refused)


def every_seconds(seconds: float, save: Callable[[RunSnapshot], None], refused=None,
                  clock: Callable[[], float] | None = None) -> EverySeconds:
    """A :class:`Checkpoint` taking a snapshot every ``seconds`` of wall time."""
    return EverySeconds(seconds, save, refused, clock)


__all__ = ["AtSteps", "Checkpoint", "EverySeconds", "RunSnapshot", "SnapshotError", "SnapshotMismatch", "at_steps",
           "digest", "every_seconds", "strip_static", "with_static"]
