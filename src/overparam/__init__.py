"""overparam: implicit regularization of gradient methods in over-parameterized low-rank and sparse
recovery — problems, parameterizations, algorithms, one run loop, and the five papers' experiments.

    import overparam as op
    prob = op.problems.matrix_sensing(d=100, r=5, m=2500, data_seed=0)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.0025, grad_scale=0.5),
                 init=op.init.scaled_identity(alpha=[1e-3, 1e-2, 1e-1, 1.0]), steps=10_000)
    res.final("test_error")
"""

from importlib.metadata import PackageNotFoundError, version

from . import algorithms, baselines, experiments, init, metrics, operators, params, problems, recipes, regularizers, stops
from .algorithms import Algorithm
from .init import Init
from .metrics import Metric, Snapshot
from .objective import Evaluation, Objective
from .papers import load_metrics as _load_paper_metrics
from .params import Parameterization
from .problems import Problem
from .result import Result, Trace
from .run import run
from .schedule import LogSchedule

_load_paper_metrics()  # paper-specific metrics (papers/<id>/metrics.py) register by name, as specs expect

try:
    __version__ = version("overparam")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

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
    "run",
    "stops",
]
