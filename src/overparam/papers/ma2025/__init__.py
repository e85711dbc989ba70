"""Ma, Liang, Fattahi (2025): implicit regularization of gradient descent with infinitesimal
perturbations (IPGD, IPGD+). Settings and reconstructions from ``shared/papers/notes-004.md``;
``docs/ma2025.md`` maps every figure and claim to its module, settings and criterion.

* :mod:`.settings` — every stripped number we chose (radius, g_thres, T, f_thres, η, dimensions), with reasons;
* :mod:`.problems` — the §7 problem instances (three singular values, sparse β⋆) as registered problems;
* :mod:`.regions` — implicit regions M and projections P_M, distances to 𝒳_M, the deviation rate (Def. 5);
* :mod:`.metrics` — residual, distance, error metrics and the Γ_t diagnostic (registered as ``ma2025.<name>``);
* :mod:`.analysis` — per-replica summaries of stored IPGD+ runs (Γ_T along the kept path, Eq. 127);
* :mod:`.figures` — Figs. 2, 4, 5, 6, the radius sweep, and claims 1–5.

IPGD is the engine's ``ipgd`` algorithm (Gradient → Perturb → Descend) and IPGD+ its
``perturbed_then_plain`` recipe; Jin et al.'s PGD is the same algorithm with a large radius.
"""

from ..base import Paper
from . import figures, metrics  # metrics: this paper's registrations (ma2025.<name>)

PAPER = Paper(
    id="ma2025",
    title="Understanding the Implicit Regularization of Gradient Descent in Over-parameterized Models",
    citation="J. Ma, G. Liang, S. Fattahi. arXiv:2505.17304 (2025)",
    figures=figures.FIGURES,
    claims=figures.CLAIMS,
    docs="docs/ma2025.md",
)

__all__ = ["PAPER", "figures", "metrics"]
