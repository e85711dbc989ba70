"""Li, Ma, Zhang (COLT 2018): algorithmic regularization in over-parameterized matrix sensing and
quadratic-activation networks. Settings from ``shared/papers/notes-000.md`` §5 (App. B of the paper);
``docs/li2018.md`` maps every figure and claim to its module, settings and criterion.

* :mod:`.settings` — the shared choices (``ETA``, ``GRAD_SCALE``, ``ERROR_BAR``, ``TRIALS``) and spec builders;
* :mod:`.fig1` — Fig. 1 and claims 1, 6;
* :mod:`.dynamics` — Figs. 2–3 and claims 2, 3, 7 (long runs, no early stopping, escape time);
* :mod:`.baselines` — Fig. 4 and claim 4 (projected GD on the PSD cone versus factorized GD);
* :mod:`.network` — Fig. 5 and claims 5, 9 (the quadratic network, Algorithm 1);
* :mod:`.lemma_a1` — claim 8 (Lemma A.1 at finite m, a stored computation);
* :mod:`.convex` — claim 10 (the small-α limit of GD and the minimum-trace solution);
* :mod:`.metrics`, :mod:`.theory`, :mod:`.diagnostics`, :mod:`.computations` — the paper's own metrics,
  formulas, numerical checks and stored computations.

Choices where the paper is silent, shared by every figure (constants of :mod:`.settings`):

* **Step convention** — ``GRAD_SCALE = 0.5``: "step size 0.0025" is applied to the paper's Eq. 5,
  U ← (I − η M_t) U, half the exact gradient of the 1/(2m) loss (Eq. 1); grad_scale = 1 only
  rescales time by 2 (notes-000 §5.6).
* **Error bars** — ``ERROR_BAR = "std"``: mean ± one standard deviation over the 3 trials.
* **Trials** — X⋆ fixed (``truth_seed = 0``), {A_i} resampled (``data_seed`` = trial 0, 1, 2).
"""

from __future__ import annotations

from ..base import Paper
from . import figures, metrics  # metrics: this paper's registrations (<id>.<name>)
from .settings import PAPER as _ID

PAPER = Paper(
    id=_ID,
    title="Algorithmic Regularization in Over-parameterized Matrix Sensing and Neural Networks with "
          "Quadratic Activations",
    citation="Y. Li, T. Ma, H. Zhang. COLT 2018 (PMLR 75:2–47), arXiv:1712.09203",
    figures=figures.FIGURES,
    claims=figures.CLAIMS,
    docs="docs/li2018.md",
)

__all__ = ["PAPER", "figures", "metrics"]
