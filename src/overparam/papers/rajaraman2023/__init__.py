"""Rajaraman, Devvrit, Mokhtari, Ramchandran (NeurIPS 2023) — planned: metadata only.

Its figures, claims, metrics and formulas go in this package; nothing outside it changes."""

from ..base import Paper

PAPER = Paper(
    id="rajaraman2023",
    title="Greedy Pruning with Group Lasso Provably Generalizes for Matrix Sensing",
    citation="N. Rajaraman, Devvrit, A. Mokhtari, K. Ramchandran. NeurIPS 2023, arXiv:2303.11453",
)
