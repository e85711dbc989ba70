"""Compiled engines: the run loop's fast paths for common (problem, param, algorithm) pairs.

:func:`select_engine` is the one rule that decides which engine (or the generic loop) runs a
combination (:mod:`.select`); :class:`Engine` is what the run loop drives (:mod:`.base`). The
engines give the generic loop's numbers to round-off and the same bits whatever the log schedule,
the thread count or the replica batch (``tests/test_engines.py``).
"""

from .base import BATCH_METRICS, LANES_FROM, MAX_BYTES, MAX_RECORDS, Engine, next_boundary
from .select import loop_lanes, select_engine

__all__ = ["BATCH_METRICS", "LANES_FROM", "MAX_BYTES", "MAX_RECORDS", "Engine", "loop_lanes", "next_boundary",
           "select_engine"]
