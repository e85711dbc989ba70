"""Interleaved timing: every repeat times each contender once, so ratios are paired within a repeat.

On a shared machine the speed of everything drifts with the load of the neighbours. Timing the
contenders of a case one after the other inside each repeat (``ours``, ``baseline``, ``read``,
``ours``, …) and forming the ratios repeat by repeat cancels most of that drift; the median over
repeats is the reported value, min and max show the spread.

Every sample measures the steady state a GD loop runs in: the contender first runs untimed for
as long as the sample will last, then enough timed calls to last ``min_time``. The untimed run
matters: a 100 MB operator is partly served from the CPU's last-level cache when a loop reads it
over and over (1.7 ms per read here, 30 GB/s from DRAM alone would be 3.4 ms), and a contender
that just streamed 200 MB (the einsum peer) evicts it; one warm call was measured not to be
enough to return to the steady state, a warm period as long as the sample is. Contenders slower
than ``warm_below`` seconds per call skip the warm period.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    """Median, min and max of a sample (seconds, or a dimensionless ratio)."""

    median: float
    min: float
    max: float

    @classmethod
    def of(cls, xs: list[float]) -> Stats:
        return cls(statistics.median(xs), min(xs), max(xs))

    def scaled(self, f: float) -> Stats:
        return Stats(self.median * f, self.min * f, self.max * f)

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.min, "max": self.max}


def _once(fn: Callable[[], object], inner: int) -> float:
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def calibrate(fn: Callable[[], object], min_time: float) -> int:
    """Calls per timed sample so that a sample lasts at least ``min_time`` seconds (timer noise)."""
    t = _once(fn, 1)
    return max(1, min(1000, int(min_time / max(t, 1e-9)) + 1)) if t < min_time else 1


def interleaved(fns: dict[str, Callable[[], object]], *, repeats: int, warmup: int = 1,
                min_time: float = 0.05, warm_below: float = 0.25) -> dict[str, list[float]]:
    """Seconds per call of every function, ``repeats`` samples each, timed round-robin."""
    inner, single = {}, {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        single[name] = _once(fn, 1)
        inner[name] = calibrate(fn, min_time)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if single[name] < warm_below:
                _once(fn, inner[name])
            samples[name].append(_once(fn, inner[name]))
    return samples


def ratio(num: list[float], den: list[float]) -> Stats:
    """Paired ratios num_i / den_i over repeats."""
    return Stats.of([a / b for a, b in zip(num, den, strict=True)])
