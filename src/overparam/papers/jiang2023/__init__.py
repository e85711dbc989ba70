"""Jiang, Chen, Ding (SIMODS 2023): algorithmic regularization in model-free overparametrized asymmetric
matrix factorization. Settings from ``shared/papers/notes-002.md``; ``docs/jiang2023.md`` maps every figure
and claim to its module, settings and criterion.

* :mod:`.settings` — shared choices (steps, init conventions) and the spec builder ``mf_spec``;
* :mod:`.problems` — problem ``jiang2023_model_free`` (the observed X; its generators);
* :mod:`.metrics` — ε_t to X_r (Frobenius and operator), distances to X_s, the ``jiang2023_spectral_count``
  stop rule (registered as ``jiang2023.<name>`` on the first lookup of that namespace);
* :mod:`.theory` — Thm 4.2 / A.1 calculators in log space, heuristic learning times, App. C.3's scalar
  recursion;
* :mod:`.fig1` — Fig. 1, claims 2 and 9 (early stopping under noise; practical rules vs the oracle);
* :mod:`.fig2` — Figs. 2a, 2b, claims 1 and 3;
* :mod:`.fig3` — Fig. 3a–d, claims 4–8.
"""

from __future__ import annotations

from ..base import Paper
from . import figures, metrics  # metrics: this paper's registrations (<id>.<name>)
from .settings import PAPER as _ID

PAPER = Paper(
    id=_ID,
    title="Algorithmic Regularization in Model-free Overparametrized Asymmetric Matrix Factorization",
    citation="L. Jiang, Y. Chen, L. Ding. SIAM J. Math. Data Sci. 5(3), 2023, arXiv:2203.02839",
    figures=figures.FIGURES,
    claims=figures.CLAIMS,
    docs="docs/jiang2023.md",
)

__all__ = ["PAPER", "figures", "metrics"]
