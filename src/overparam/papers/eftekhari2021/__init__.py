"""Eftekhari, Zygalakis (2021) — planned: metadata only.

Its figures, claims, metrics and formulas go in this package; nothing outside it changes."""

from ..base import Paper

PAPER = Paper(
    id="eftekhari2021",
    title="Limitations of Implicit Bias in Matrix Sensing: Initialization Rank Matters",
    citation="A. Eftekhari, K. Zygalakis. arXiv:2008.12091 (v3, 2021)",
)
