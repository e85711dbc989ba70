"""The five papers: each a module of figure specs, plots and claim checks.

``PAPERS`` lists all five; a paper whose module is not written yet has no figures or claims and
``reproduce`` says so instead of producing anything.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from ..experiments.errors import SpecError
from .base import ClaimCheck, Figure, Paper
from .li2018 import PAPER_INFO as _LI2018

PAPERS: dict[str, Paper] = {
    "li2018": _LI2018,
    "rajaraman2023": Paper(
        "rajaraman2023", "Greedy Pruning with Group Lasso Provably Generalizes for Matrix Sensing",
        "N. Rajaraman, Devvrit, A. Mokhtari, K. Ramchandran. NeurIPS 2023, arXiv:2303.11453"),
    "jiang2023": Paper(
        "jiang2023", "Algorithmic Regularization in Model-free Overparametrized Asymmetric Matrix Factorization",
        "L. Jiang, Y. Chen, L. Ding. SIAM J. Math. Data Sci. 5(3), 2023, arXiv:2203.02839"),
    "eftekhari2021": Paper(
        "eftekhari2021", "Limitations of Implicit Bias in Matrix Sensing: Initialization Rank Matters",
        "A. Eftekhari, K. Zygalakis. arXiv:2008.12091 (v3, 2021)"),
    "ma2025": Paper(
        "ma2025", "Understanding the Implicit Regularization of Gradient Descent in Over-parameterized Models",
        "J. Ma, G. Liang, S. Fattahi. arXiv:2505.17304 (2025)"),
}


def load_metrics() -> list[str]:
    """Import every paper package's ``metrics`` module (if it has one), so that paper-specific
    metrics are registered by name; ``import overparam`` calls this. Returns the modules loaded."""
    loaded = []
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg and (Path(__path__[0]) / info.name / "metrics.py").is_file():
            loaded.append(importlib.import_module(f"{__name__}.{info.name}.metrics").__name__)
    return loaded


def resolve_targets(targets: list[str] | None) -> tuple[list[Figure], list[ClaimCheck], list[str]]:
    """Figures and claim checks for paper ids / figure ids (none: every implemented paper).

    Returns ``(figures, claims, pending)`` where ``pending`` names papers without a module yet.
    """
    figures: list[Figure] = []
    claims: list[ClaimCheck] = []
    pending: list[str] = []
    if not targets:
        for p in PAPERS.values():
            if p.implemented:
                figures += p.figures
                claims += p.claims
            else:
                pending.append(p.id)
        return figures, claims, pending
    by_fig = {f.id: f for p in PAPERS.values() for f in p.figures}
    by_claim = {c.id: c for p in PAPERS.values() for c in p.claims}
    for t in targets:
        if t in PAPERS:
            p = PAPERS[t]
            if not p.implemented:
                raise SpecError(f"target {t!r}: this paper has no reproduction module yet; implemented: "
                                f"{', '.join(k for k, v in PAPERS.items() if v.implemented)}")
            figures += p.figures
            claims += p.claims
        elif t in by_fig:
            fig = by_fig[t]
            figures.append(fig)
            claims += [c for c in PAPERS[fig.paper].claims if c.specs is fig.specs]
        elif t in by_claim:
            claims.append(by_claim[t])
        else:
            accepted = sorted(PAPERS) + sorted(by_fig)
            raise SpecError(f"target {t!r}: unknown; accepted: {', '.join(accepted)}")
    # keep order, drop duplicates
    figures = list({f.id: f for f in figures}.values())
    claims = list({c.id: c for c in claims}.values())
    return figures, claims, pending


__all__ = ["PAPERS", "ClaimCheck", "Figure", "Paper", "load_metrics", "resolve_targets"]
