"""``gd_subspace``: the name earlier specs used for GD with 000's adaptive-subspace diagnostics.

The diagnostics themselves (S_t of 000 §4, Eqs. 16–18) are metrics of paper 000
(:mod:`overparam.papers.li2018.subspace`, registered as ``li2018.subspace_*`` with the legacy names
``subspace_*``); they follow any GD run, so this algorithm is ``gd`` under another name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._types import PosFloat
from ..registry import register
from .base import Composed
from .gd import gd


@register("algorithm", "gd_subspace")
def gd_subspace(eta: PosFloat | Sequence[PosFloat] | Mapping[str, Any], grad_scale: PosFloat = 1.0) -> Composed:
    """``gd`` (the name earlier specs used with the subspace metrics, which now follow any GD run)."""
    alg = gd(eta, grad_scale)
    alg.name = "gd_subspace"
    return alg
