"""Jiang, Chen, Ding (2023): the index of its figures and declared claims, in one place as in every paper
package (``papers/<id>/figures.py`` exposes ``FIGURES`` and ``CLAIMS``; ``PAPER`` is built from them).
The figures and claims are declared in the modules listed below; this module only collects them.

* :mod:`.fig1` — Fig. 1, claims 2, 9;
* :mod:`.fig2` — Figs. 2a, 2b, claims 1, 3;
* :mod:`.fig3` — Fig. 3a–d, claims 4–8.
"""

from __future__ import annotations

from . import fig1, fig2, fig3


def _claim_number(c) -> int:
    return int(c.id.rsplit("claim", 1)[1])


FIGURES = [*fig1.FIGURES, *fig2.FIGURES, *fig3.FIGURES]
CLAIMS = sorted([*fig1.CLAIMS, *fig2.CLAIMS, *fig3.CLAIMS], key=_claim_number)

__all__ = ["CLAIMS", "FIGURES"]
