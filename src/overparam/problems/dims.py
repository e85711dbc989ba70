"""What a problem's settings imply before any data is drawn: the variable's shape, the number of
measurements m, and the bytes its operator will hold — so that a spec is checked (r ≤ d, p or m,
an operator that fits in memory, a batch no larger than m, an init rank that fits) before a sweep
starts, not by a failure record per grid point.

:func:`problem_dims` answers for the built-in problems; a problem without an entry is checked
when it is built (at run time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..backend import BackendError


@dataclass(frozen=True)
class Dims:
    """The shape of the variable X, the measurement count m, and the operator's stored bytes (float64)."""

    shape: tuple[int, ...]
    m: int
    nbytes: int


def _rank(r: int, *dims: int) -> None:
    if r > min(dims):
        raise BackendError(f"problem.r: got {r}; accepted: 1 <= r <= {min(dims)} (the smaller dimension)")


def _sensing(s: dict[str, Any], d1: int, d2: int, packed: bool) -> Dims:
    _rank(s["r"], d1, d2)
    cols = d1 * (d1 + 1) // 2 if packed else d1 * d2
    stored = s.get("operator", "stored") == "stored"
    return Dims((d1, d2), s["m"], 8 * s["m"] * cols if stored else 8 * min(s["m"], 4096) * cols)


def problem_dims(name: str, s: dict[str, Any]) -> Dims | None:
    """:class:`Dims` for the built-in problem ``name`` with settings ``s`` (None when unknown); raises a
    one-line :class:`~overparam.backend.BackendError` for settings that contradict each other."""
    truth = s.get("truth")
    prescribed = s.get("spectrum") is not None or s.get("kappa", 1.0) != 1.0
    if truth is not None and truth != "orthonormal" and prescribed:
        what = "spectrum" if s.get("spectrum") is not None else "kappa"
        raise BackendError(f"problem.{what}: applies to truth 'orthonormal' only; this truth is {truth!r}, whose "
                           f"spectrum is random; accepted: truth = 'orthonormal' with {what}")
    if name == "matrix_sensing":
        return _sensing(s, s["d"], s["d"], packed=True)
    if name == "asymmetric_sensing":
        return _sensing(s, s["d1"], s["d2"], packed=False)
    if name == "matrix_factorization":
        if s.get("symmetric") and s["d1"] != s["d2"]:
            raise BackendError(f"problem.d2: a symmetric factorization needs d1 == d2; got {s['d1']}, {s['d2']}")
        _rank(s["r"], s["d1"], s["d2"])
        return Dims((s["d1"], s["d2"]), s["d1"] * s["d2"], 8 * s["d1"] * s["d2"])
    if name in ("matrix_completion", "one_bit_completion"):
        _rank(s["r"], s["d1"], s["d2"])
        if name == "matrix_completion" and (s.get("p") is None) == (s.get("m") is None):
            raise BackendError("problem.p: give exactly one of p (sampling rate) or m (entry count)")
        n = s["d1"] * s["d2"]
        m = s.get("m") or max(1, int(round(s["p"] * n)))
        if m > n:
            raise BackendError(f"problem.m: got {m}; accepted: m <= d1·d2 = {n} observed entries")
        return Dims((s["d1"], s["d2"]), m, 24 * m)
    if name == "quadratic_network":
        _rank(s["r"], s["d"], s["d"])
        return Dims((s["d"], s["d"]), s["m"], 8 * s["m"] * s["d"])
    if name == "sparse_regression":
        if s["k"] > s["d"]:
            raise BackendError(f"problem.k: got {s['k']}; accepted: 1 <= k <= d = {s['d']}")
        return Dims((s["d"],), s["n"], 8 * s["n"] * s["d"])
    return None
