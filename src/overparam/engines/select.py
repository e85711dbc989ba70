"""The one rule that decides which engine runs a (problem, param, algorithm, metrics, stops)
combination: :func:`select_engine`. ``run()`` calls it to pick its loop and
:mod:`overparam.experiments.grouping` calls it to decide whether specs may share a batched run;
nothing else restates it.

=======================  ==========================================  ===============================
pair                     engine                                      papers
=======================  ==========================================  ===============================
Symmetric × packed       :class:`~.sym_packed.SymPackedEngine`:      000 small d, 001 Fig. 2,
Gaussian sensing         numba segments, many steps per call         003 Ex. 1.1, 004 (MS)
(A ≤ ``MAX_BYTES``)
Asymmetric × identity    :class:`~.factorization.FactorizationEngine`: 002 (factorization)
(factorization)          the generic step's own tensor operations
=======================  ==========================================  ===============================

Both need: the algorithm exactly plain GD (pieces ``[Gradient, Descend]``, any per-replica /
per-block η), no regularizer, no stop rules, no stateful diagnostic among the metrics, a squared
loss, float64 or float32, the CPU. Everything else runs the generic loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..algorithms.base import Composed
from ..algorithms.pieces import Descend, Gradient
from ..losses import SquaredLoss
from ..operators.gaussian import GaussianSensing
from ..operators.identity import IdentityOperator
from ..params import Asymmetric, Symmetric
from . import base
from .base import Engine


def _plain_gd(algorithm) -> bool:
    return type(algorithm) is Composed and [type(p) for p in algorithm.pieces] == [Gradient, Descend]


def _has_diagnostic(metrics: Sequence[Any]) -> bool:
    from ..metrics import resolve

    objs = resolve([m for m in metrics]) if metrics else []
    return any(getattr(m, "diagnostic", None) is not None for m in objs)


def select_engine(problem, param, algorithm, *, metrics: Sequence[Any] = (), stops: Sequence[Any] = (),
                  regularizer: Any = None, device: torch.device | str | None = None) -> type[Engine] | None:
    """The engine class that runs this combination, or ``None`` for the generic loop.

    ``metrics``: names or :class:`~overparam.metrics.Metric` objects; ``device``: where the run
    computes (default: the problem's device). Cheap: it builds nothing."""
    dev = torch.device(device) if device is not None else problem.device
    if dev.type != "cpu" or regularizer is not None or len(stops) or not _plain_gd(algorithm):
        return None
    if type(problem.loss) is not SquaredLoss or problem.dtype not in (torch.float64, torch.float32):
        return None
    if _has_diagnostic(metrics):
        return None
    op = problem.operator
    if (type(param) is Symmetric and type(op) is GaussianSensing and op.packed and op.A.ndim == 2
            and op.A.is_contiguous() and op.nbytes <= base.MAX_BYTES and problem.y.ndim == 1):
        try:
            import numba  # noqa: F401
        except ImportError:  # pragma: no cover - numba is a dependency
            return None
        from .sym_packed import SymPackedEngine

        return SymPackedEngine
    if type(param) is Asymmetric and type(op) is IdentityOperator and not op.symmetric_domain:
        from .factorization import FactorizationEngine

        return FactorizationEngine
    return None


def loop_lanes(problem, param, algorithm, *, metrics: Sequence[Any] = (), stops: Sequence[Any] = (),
               regularizer: Any = None, device: torch.device | str | None = None) -> int:
    """Up to how many replicas the *generic loop* computes each replica of this combination
    independently of the batch (0: no such promise): where no engine runs it
    (:func:`select_engine`) and it is what the engines need too — plain GD, no regularizer, no stop
    rule, no stateful diagnostic, a squared loss, float64/float32 on the CPU, full-batch
    observations — under a symmetric or asymmetric factorization, on an operator whose lane kernels
    say so (``LinearOperator.max_lanes``; :mod:`overparam.lanes`). The batched products of the
    factorization's chain rule are per replica."""
    if select_engine(problem, param, algorithm, metrics=metrics, stops=stops, regularizer=regularizer,
                     device=device) is not None:
        return 0
    dev = torch.device(device) if device is not None else problem.device
    if dev.type != "cpu" or regularizer is not None or len(stops) or not _plain_gd(algorithm):
        return 0
    if type(problem.loss) is not SquaredLoss or problem.dtype not in (torch.float64, torch.float32):
        return 0
    if _has_diagnostic(metrics) or type(param) not in (Symmetric, Asymmetric) or problem.y.ndim != 1:
        return 0
    return problem.operator.max_lanes()
