"""Eftekhari, Zygalakis (2021): limitations of implicit bias in matrix sensing — initialization rank
matters. Settings from ``shared/papers/notes-003.md``; ``docs/eftekhari2021.md`` maps every figure and
claim to its module, settings and criterion.

* :mod:`.settings` — Example 1.1 (d = p = 30, rank 2, tr X♮ = 1, m = 240, unnormalized triu Gaussian
  A_i), the step convention (grad_scale 8), the two init ranks (2, 30), error bars (mean ± ½ std);
* :mod:`.example` — Figs. 1–3 and claims 1–3 (Fig. 3's literal overflow and its stable variant);
* :mod:`.toy` — Fig. 4 (ℳ_b of the d = p = m = 2 toy, exact torus);
* :mod:`.restarts` — Fig. 5 and claim 4 (Algorithm 1: literal and our terminating extension);
* :mod:`.ranks` — claim 5 (rank of U_t never increases);
* :mod:`.capture` — the init-rank sweep, figure ``eftekhari2021-capture`` and claim 6 (m/(d log d));
* :mod:`.metrics`, :mod:`.theory`, :mod:`.computations` — numerical rank and row-space leakage of
  U_t, formulas (capture rank, Jacobian/LICQ, toy torus), the stored LICQ check.
"""

from __future__ import annotations

from ..base import Paper
from . import figures, metrics  # metrics: this paper's registrations (<id>.<name>)
from .settings import PAPER as _ID

PAPER = Paper(
    id=_ID,
    title="Limitations of Implicit Bias in Matrix Sensing: Initialization Rank Matters",
    citation="A. Eftekhari, K. Zygalakis. arXiv:2008.12091 (v3, 2021)",
    figures=figures.FIGURES,
    claims=figures.CLAIMS,
    docs="docs/eftekhari2021.md",
)

__all__ = ["PAPER", "figures", "metrics"]
