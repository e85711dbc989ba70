"""Li, Ma, Zhang (2018): the index of its figures and declared claims, in one place as in every paper
package (``papers/<id>/figures.py`` exposes ``FIGURES`` and ``CLAIMS``; ``PAPER`` is built from them).
The figures and claims are declared in the modules listed below; this module only collects them.

* :mod:`.fig1` — Fig. 1, claims 1, 6;
* :mod:`.dynamics` — Figs. 2–3, claims 2, 3, 7;
* :mod:`.baselines` — Fig. 4, claim 4;
* :mod:`.network` — Fig. 5, claims 5, 9;
* :mod:`.lemma_a1` — claim 8;
* :mod:`.convex` — claims 10, 11.
"""

from __future__ import annotations

from . import baselines, convex, dynamics, fig1, lemma_a1, network


def _claim_number(c) -> int:
    return int(c.id.rsplit("claim", 1)[1])


FIGURES = [*fig1.FIGURES, *dynamics.FIGURES, *baselines.FIGURES, *network.FIGURES]
CLAIMS = sorted([*fig1.CLAIMS, *dynamics.CLAIMS, *baselines.CLAIMS, *network.CLAIMS, *lemma_a1.CLAIMS, *convex.CLAIMS],
                key=_claim_number)

__all__ = ["CLAIMS", "FIGURES"]
