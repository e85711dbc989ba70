"""Rajaraman, Devvrit, Mokhtari, Ramchandran (NeurIPS 2023): greedy pruning with group Lasso for
over-parameterized matrix sensing. Formulas and settings from ``shared/papers/notes-001.md``;
``docs/rajaraman2023.md`` maps every figure and claim to its module, settings and criterion.

* :mod:`.algorithm` — Algorithm 1 as recipe ``rajaraman2023.algorithm1`` (train with λR_β → SOSP
  certificate with Lanczos λ_min → prune at 2√β → fine-tune) and as one call, :func:`.algorithm.algorithm1`;
* :mod:`.settings` — the shared choices (truth, losses, step convention, init) and spec builders;
* :mod:`.fig1` — Fig. 1 (population column norms) and claims 1, 2;
* :mod:`.fig2` — Fig. 2 (vanilla GD against prune + fine-tune, noiseless and σ = 0.1) and claims 3, 4, 5;
* :mod:`.sensitivity` — the λ × β × α grid and claim 6 (the weight-decay failure mode);
* :mod:`.metrics` — registrations (recipe; ``rajaraman2023.op_norm``, ``rajaraman2023.max_cos``).
"""

from __future__ import annotations

from ..base import Paper
from . import figures, metrics  # metrics: this paper's registrations (<id>.<name>)
from .settings import PAPER as _ID

PAPER = Paper(
    id=_ID,
    title="Greedy Pruning with Group Lasso Provably Generalizes for Matrix Sensing",
    citation="N. Rajaraman, Devvrit, A. Mokhtari, K. Ramchandran. NeurIPS 2023, arXiv:2303.11453",
    figures=figures.FIGURES,
    claims=figures.CLAIMS,
    docs="docs/rajaraman2023.md",
)

__all__ = ["PAPER", "figures", "metrics"]
