"""Jiang, Chen, Ding (SIMODS 2023) — planned: metadata only.

Its figures, claims, metrics and formulas go in this package; nothing outside it changes."""

from ..base import Paper

PAPER = Paper(
    id="jiang2023",
    title="Algorithmic Regularization in Model-free Overparametrized Asymmetric Matrix Factorization",
    citation="L. Jiang, Y. Chen, L. Ding. SIAM J. Math. Data Sci. 5(3), 2023, arXiv:2203.02839",
)
