"""overparam: implicit regularization of gradient methods in over-parameterized low-rank and sparse
recovery — problems, parameterizations, algorithms, one run loop, and the five papers' experiments.

    import overparam as op
    prob = op.problems.matrix_sensing(d=100, r=5, m=2500, data_seed=0)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.0025, grad_scale=0.5),
                 init=op.init.scaled_identity(alpha=[1e-3, 1e-2, 1e-1, 1.0]), steps=10_000)
    res.final("test_error")
    op.reproduce(["li2018"], quick=True)   # imports the papers only when called

Importing the package imports the core (problems … experiments) and no paper: a paper's names
(``<id>.<name>``) are registered when that namespace is first looked up (:mod:`overparam.registry`).
"""

from typing import Any

from . import algorithms, baselines, experiments, init, metrics, operators, params, problems, recipes, regularizers, stops
from .algorithms import Algorithm
from .init import Init
from .metrics import Metric, Snapshot
from .objective import Evaluation, Objective
from .params import Parameterization
from .problems import Problem
from .result import Result, Trace
from .run import run
from ._version import __version__
from .schedule import LogSchedule


def __getattr__(name: str) -> Any:
    """``op.reproduce(...)`` and ``op.papers`` without importing the papers on ``import overparam``."""
    if name in ("reproduce", "papers", "studies", "report"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Algorithm",
    "Evaluation",
    "Init",
    "LogSchedule",
    "Metric",
    "Objective",
    "Parameterization",
    "Problem",
    "Result",
    "Snapshot",
    "Trace",
    "__version__",
    "algorithms",
    "baselines",
    "experiments",
    "init",
    "metrics",
    "operators",
    "params",
    "problems",
    "recipes",
    "regularizers",
    "reproduce",
    "run",
    "stops",
]
