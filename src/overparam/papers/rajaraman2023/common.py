"""Reading 001's runs back from the store: events of a recipe run, and column-norm statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...experiments.spec import RunSpec
from .._shared import _missing
from ..base import Context


def events(ctx: Context, spec: RunSpec, kind: str) -> dict[int, dict[str, Any]]:
    """The ``kind`` events (``prune``, ``sosp``) of a stored recipe run, by replica."""
    if not ctx.has(spec):
        raise _missing(spec)
    return {e["replica"]: e for e in ctx.load(spec).meta.get("events", []) if e["kind"] == kind}


def frac_at_least(norms, x) -> np.ndarray:
    """frac(x) = (1/k) #{i : ‖Ue_i‖ ≥ x · max_j ‖Ue_j‖} (Fig. 1, left panel), for every x given."""
    n = np.asarray(norms, dtype=float)
    return np.array([(n >= xi * n.max()).mean() for xi in np.atleast_1d(x)])


def settings_of(spec: RunSpec, replica: int) -> dict[str, Any]:
    """The replica's λ, β, α (init scale), threshold and init seed."""
    rep = spec.replicas[replica] if spec.replicas else {}
    return {"lam": rep.get("regularizer.lam"), "beta": rep.get("regularizer.beta"), "alpha": rep.get("init.scale"),
            "threshold": rep.get("recipe.threshold"), "init_seed": rep.get("init_seed", spec.init_seed)}
