"""Multi-stage recipes as specs: ``[recipe] name = "prune_finetune"`` (see :mod:`.base`, :mod:`.builtin`).

A recipe spec is validated, keyed, stored, swept, resumed and executed on every executor exactly
like a single run: :func:`execute_recipe` is what :func:`overparam.experiments.execute` calls.
"""

from __future__ import annotations

import time

from .. import registry
from ..result import Result
from .base import Lane, Recipe
from .builtin import early_stopping, perturbed_then_plain, prune_finetune, restarts


def execute_recipe(spec, *, progress=None) -> Result:
    """Run the recipe of ``spec`` (a :class:`~overparam.experiments.RunSpec` with ``recipe`` set)."""
    t0 = time.perf_counter()
    ctx = Recipe(spec, progress=progress)
    fn = registry.get("recipe", spec.recipe.name)(**(spec.component_params("recipe") or {}))
    fn(ctx)
    return ctx.result(t0)


__all__ = ["Lane", "Recipe", "early_stopping", "execute_recipe", "perturbed_then_plain", "prune_finetune",
           "restarts"]
