"""Multi-stage runs: recipes on built objects (see :mod:`.base`, :mod:`.factory`, :mod:`.builtin`).

A recipe is a function of a :class:`Recipe` context made of built components and a factory. From
Python, :func:`run_recipe` hands it the objects directly; a spec's ``[recipe]`` table is turned into
the same objects (and a factory that builds from the spec) by :func:`overparam.experiments.execute`,
which stores, sweeps and resumes it like a single run. Nothing here imports the experiment layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..algorithms import Algorithm
from ..params import Parameterization
from ..problems import Problem
from ..result import Result
from .base import RUN, Lane, Recipe
from .builtin import PruneFinetune, early_stopping, perturbed_then_plain, prune_finetune, prune_threshold, restarts, training_step
from .factory import Factory, ObjectFactory, setting_of
from .glrl import glrl, phase_iterates


def run_recipe(recipe: Callable[[Recipe], Any], problem: Problem, param: Parameterization, algorithm: Algorithm,
               **kw: Any) -> Result:
    """Run ``recipe`` (e.g. ``prune_finetune(finetune_steps=300)``, or any function of a
    :class:`Recipe`) on built objects; ``kw`` are :class:`Recipe`'s (``init``, ``steps``,
    ``regularizer``, ``metrics``, …). Returns the one :class:`~overparam.result.Result` of all stages.

    Args:
        recipe: the recipe (a registered recipe's factory called with its settings, or a function).
        problem: the problem.
        param: the parameterization.
        algorithm: the first stage's algorithm.
        **kw: the rest of :class:`Recipe`'s arguments.
    """
    kw.setdefault("label", getattr(recipe, "name", None) or getattr(recipe, "__name__", None) or type(recipe).__name__)
    ctx = Recipe(problem, param, algorithm, **kw)
    recipe(ctx)
    return ctx.result()


__all__ = ["RUN", "Factory", "Lane", "ObjectFactory", "PruneFinetune", "Recipe", "early_stopping",
           "glrl", "perturbed_then_plain", "phase_iterates",
           "prune_finetune", "prune_threshold", "restarts", "run_recipe", "setting_of",
           "training_step"]
