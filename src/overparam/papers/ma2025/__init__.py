"""Ma, Liang, Fattahi (2025) — planned: metadata only.

Its figures, claims, metrics and formulas go in this package; nothing outside it changes."""

from ..base import Paper

PAPER = Paper(
    id="ma2025",
    title="Understanding the Implicit Regularization of Gradient Descent in Over-parameterized Models",
    citation="J. Ma, G. Liang, S. Fattahi. arXiv:2505.17304 (2025)",
)
