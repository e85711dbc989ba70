"""overparam: implicit regularization of gradient methods in over-parameterized low-rank and sparse
recovery — problems, parameterizations, algorithms, one run loop, and the five papers' experiments.

    import overparam as op
    prob = op.problems.matrix_sensing(d=100, r=5, m=2500, data_seed=0)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.0025, grad_scale=0.5),
                 init=op.init.scaled_identity(alpha=[1e-3, 1e-2, 1e-1, 1.0]), steps=10_000)
    res.final("test_error")
    op.reproduce(["li2018"], quick=True)   # imports the papers only when called

Importing the package imports nothing heavy: each name of the face imports its module on first use,
and no name imports a paper; a paper's names (``<id>.<name>``) are registered when that namespace is
first looked up (:mod:`overparam.registry`).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

#: the face's names: submodules, and classes/functions with the submodule that defines them. Nothing
#: is imported until it is used (PEP 562), so ``import overparam`` and ``overparam --help`` stay fast.
_SUBMODULES = ("algorithms", "baselines", "experiments", "init", "metrics", "operators", "params", "problems",
               "recipes", "regularizers", "stops", "registry", "papers", "studies", "report")
_NAMES = {"run": "run", "reproduce": "reproduce", "Algorithm": "algorithms", "Init": "init", "Metric": "metrics",
          "Snapshot": "metrics", "Evaluation": "objective", "Objective": "objective", "Parameterization": "params",
          "Problem": "problems", "Result": "result", "Trace": "result", "LogSchedule": "schedule"}


def __getattr__(name: str) -> Any:
    """The face's names on first use. ``op.run`` and ``op.reproduce`` are the functions; where the
    submodule of the same name was imported first, the package's attribute is that module, which is
    callable as the function (:mod:`overparam.run`, :mod:`overparam.reproduce`), so both work."""
    if name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES, *_NAMES})


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
