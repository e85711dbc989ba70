"""A bounded memo of what a reproduction reads from its store, shared by every view of one
:class:`~overparam.experiments.claimcheck.Context`.

A claim's check is evaluated many times (nominal thresholds, both ends of every threshold range,
each data seed alone: :meth:`~overparam.experiments.claimcheck.ClaimCheck.check`), and every
evaluation reads the same stored runs and derives the same values from them. A stored run never
changes (its key is the hash of its spec: same spec, same bits), so the first read can serve the
others:

* :class:`Memo` holds values by key, least recently used first out once their estimated size
  passes ``max_bytes`` (:data:`MAX_BYTES`): memory stays flat however many runs a reproduction
  reads. :meth:`Memo.get` hands out a *copy* of the value held (:func:`handed_out`), so a caller
  that mutates what it got (adds a DataFrame column, edits a dict) never changes what the next
  caller sees; arrays inside a held DataFrame's object cells are made read-only, since a DataFrame's
  copy shares them.
* :class:`MemoRun` is a stored run read through a memo: the same attributes as
  :class:`~overparam.experiments.store.StoredRun` (``spec``, ``summary``, ``meta``, ``trace()``,
  ``arrays()``, ``theta()``), each file read once.

The memo is scoped to its context: ``reproduce`` builds one context per reproduction (one per
worker process in the parallel figure and claim phase), and a context's views (``for_seed``,
``with_thresholds``) share it.
"""

from __future__ import annotations

import copy
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from .store import Store, theta_of

#: Estimated bytes a memo holds at most before it drops its least recently used values.
MAX_BYTES = 512 * 1024**2


def size_of(value: Any) -> int:
    """A cheap estimate of the bytes ``value`` holds (arrays and DataFrames by their buffers,
    containers by their items, anything else by ``sys.getsizeof``)."""
    import pandas as pd

    if isinstance(value, np.ndarray):
        return int(value.nbytes) + 112
    if isinstance(value, pd.DataFrame):
        n = int(value.memory_usage(index=True, deep=False).sum())
        for col in [c for c in value.columns if value[c].dtype.kind == "O"]:
            n += sum(size_of(v) for v in value[col].to_numpy())
        return n
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(size_of(k) + size_of(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sys.getsizeof(value) + sum(size_of(v) for v in value)
    return sys.getsizeof(value)


def _freeze(value: Any) -> Any:
    """Make the arrays a copy of ``value`` would share read-only (the arrays in a DataFrame's object
    cells, which ``DataFrame.copy`` does not copy); containers are walked. Returns ``value``."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        for col in [c for c in value.columns if value[c].dtype.kind == "O"]:
            for v in value[col].to_numpy():
                if isinstance(v, np.ndarray):
                    v.flags.writeable = False
    elif isinstance(value, dict):
        for v in value.values():
            _freeze(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _freeze(v)
    return value


def handed_out(value: Any) -> Any:
    """What :meth:`Memo.get` returns for a held ``value``: a deep copy (numbers, strings and
    ``None`` as they are), so the caller owns it."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value
    return copy.deepcopy(value)


class Memo:
    """Values by key, computed once (:meth:`get`) and dropped least recently used first once their
    estimated size passes ``max_bytes``; ``hits`` and ``misses`` count the lookups."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def nbytes(self) -> int:
        """The estimated bytes held now (:func:`size_of`)."""
        return self._bytes

    def get(self, key: Hashable, fn: Callable[[], Any]) -> Any:
        """The value of ``key``, computed by ``fn()`` the first time; a copy of what is held
        (:func:`handed_out`). A value that raises is not held (the next call tries again)."""
        if key in self._items:
            self.hits += 1
            self._items.move_to_end(key)
            return handed_out(self._items[key][0])
        self.misses += 1
        value = _freeze(fn())
        size = size_of(value)
        if size <= self.max_bytes:
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return handed_out(value)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


class MemoRun:
    """A stored run read through a :class:`Memo`: ``spec``, ``summary``, ``meta``, ``trace()``,
    ``arrays()`` and ``theta()`` as :class:`~overparam.experiments.store.StoredRun` gives them, each
    file read from the store once per memo and every value handed out as the caller's own copy."""

    def __init__(self, store: Store, key: str, memo: Memo):
        self.store = store
        self.key = key
        self._memo = memo

    def _read(self, what: str, fn: Callable[[Any], Any]) -> Any:
        return self._memo.get(("run", str(self.store.root), self.key, what), lambda: fn(self.store.load(self.key)))

    @property
    def path(self):
        return self.store.path(self.key)

    @property
    def spec(self):
        return self._read("spec", lambda run: run.spec)

    @property
    def summary(self) -> list[dict[str, Any]]:
        return self._read("summary", lambda run: run.summary)

    @property
    def meta(self) -> dict[str, Any]:
        return self._read("meta", lambda run: run.meta)

    def trace(self):
        """The trace as a pandas DataFrame (vector metrics as read-only array cells)."""
        return self._read("trace", lambda run: run.trace())

    def arrays(self) -> dict[str, np.ndarray]:
        return self._read("arrays", lambda run: run.arrays())

    def theta(self) -> dict[str, np.ndarray] | list[dict[str, np.ndarray]]:
        return theta_of(self.arrays())


__all__ = ["MAX_BYTES", "Memo", "MemoRun", "handed_out", "size_of"]
