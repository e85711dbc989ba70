"""Eftekhari, Zygalakis (2021): the index of its figures and declared claims, in one place as in every
paper package (``papers/<id>/figures.py`` exposes ``FIGURES`` and ``CLAIMS``; ``PAPER`` is built from
them). The figures and claims are declared in the modules listed below; this module only collects them.

* :mod:`.example` — Figs. 1–3, claims 1–3;
* :mod:`.toy` — Fig. 4;
* :mod:`.restarts` — Fig. 5, claim 4;
* :mod:`.ranks` — claim 5;
* :mod:`.capture` — the init-rank sweep, claim 6.
"""

from __future__ import annotations

from . import capture, example, ranks, restarts, toy


def _claim_number(c) -> int:
    return int(c.id.rsplit("claim", 1)[1])


FIGURES = [*example.FIGURES, *toy.FIGURES, *restarts.FIGURES, *capture.FIGURES]
CLAIMS = sorted([*example.CLAIMS, *restarts.CLAIMS, *ranks.CLAIMS, *capture.CLAIMS], key=_claim_number)

__all__ = ["CLAIMS", "FIGURES"]
