"""The papers: one package per paper (``papers/<id>/``), discovered, not listed.

Every subpackage of ``overparam.papers`` is laid out the same way:

* ``__init__.py`` exposes ``PAPER`` (a :class:`~overparam.papers.base.Paper`: metadata, figures,
  declared claims), built from
* ``figures.py``, the index: ``FIGURES`` (its :class:`~overparam.papers.base.Figure` s) and
  ``CLAIMS`` (its declared claims), collected from the modules that declare them;
* ``metrics.py``, its registrations: metrics, problems, stop rules, recipes named ``<id>.<name>``
  (legacy names as aliases). The core never imports a paper: :mod:`overparam.registry` imports
  ``overparam.papers.<id>`` on the first lookup of a name in namespace ``<id>``;
* ``settings.py``, the choices its figures share; then theory, computations and figure modules.

A paper whose package has no figures or claims yet is listed as planned. Adding a paper adds a
package (plus its docs page and its tests); nothing here changes.

Generic helpers shared by papers live in :mod:`overparam.papers._shared`; the paper API in
:mod:`overparam.papers.base`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Any

from ..experiments.errors import SpecError
from .base import ClaimCheck, Context, Figure, Outcome, Paper, claim


def _package_names() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg and not info.name.startswith("_"))


def ids() -> list[str]:
    """The paper packages' names (paper ids), without importing them."""
    return _package_names()


@functools.cache
def papers() -> dict[str, Paper]:
    """Every paper package's ``PAPER``, by id: implemented ones first (in id order), then planned ones."""
    found: dict[str, Paper] = {}
    for name in _package_names():
        mod = importlib.import_module(f"{__name__}.{name}")
        paper = getattr(mod, "PAPER", None)
        if not isinstance(paper, Paper):
            raise TypeError(f"paper package {mod.__name__} does not expose PAPER (an overparam.papers.base.Paper)")
        if paper.id != name:
            raise ValueError(f"paper package {name!r} exposes PAPER with id {paper.id!r}; they must agree")
        found[paper.id] = paper
    return dict(sorted(found.items(), key=lambda kv: (not kv[1].implemented, kv[0])))


def __getattr__(name: str) -> Any:
    if name == "PAPERS":  # the discovered papers, as a dict (kept for existing callers)
        return papers()
    raise AttributeError(name)


def resolve_targets(targets: list[str] | None) -> tuple[list[Figure], list[ClaimCheck], list[str]]:
    """Figures and claim checks for paper, figure or claim ids (none: every implemented paper).

    A figure brings the claims declared with ``figure=<its id>``. Returns ``(figures, claims,
    pending)`` where ``pending`` names papers that are planned (no figures or claims yet)."""
    registry = papers()
    figures: list[Figure] = []
    claims: list[ClaimCheck] = []
    pending: list[str] = []
    if not targets:
        for p in registry.values():
            if p.implemented:
                figures += p.figures
                claims += p.claims
            else:
                pending.append(p.id)
        return figures, claims, pending
    by_fig = {f.id: f for p in registry.values() for f in p.figures}
    by_claim = {c.id: c for p in registry.values() for c in p.claims}
    for t in targets:
        if t in registry:
            p = registry[t]
            if not p.implemented:
                raise SpecError(f"target {t!r}: this paper has no figures or claims yet; implemented: "
                                f"{', '.join(k for k, v in registry.items() if v.implemented)}")
            figures += p.figures
            claims += p.claims
        elif t in by_fig:
            fig = by_fig[t]
            figures.append(fig)
            claims += [c for c in registry[fig.paper].claims if c.figure == fig.id]
        elif t in by_claim:
            claims.append(by_claim[t])
        else:
            accepted = sorted(registry) + sorted(by_fig) + sorted(by_claim)
            raise SpecError(f"target {t!r}: unknown; accepted: {', '.join(accepted)}")
    figures = list({f.id: f for f in figures}.values())
    claims = list({c.id: c for c in claims}.values())
    return figures, claims, pending


__all__ = ["ClaimCheck", "Context", "Figure", "Outcome", "Paper", "claim", "ids", "papers",
           "resolve_targets"]
