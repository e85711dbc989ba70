"""Rajaraman, Devvrit, Mokhtari, Ramchandran (2023): the index of its figures and declared claims, in one
place as in every paper package (``papers/<id>/figures.py`` exposes ``FIGURES`` and ``CLAIMS``;
``PAPER`` is built from them). The figures and claims are declared in the modules listed below; this
module only collects them.

* :mod:`.fig1` — Fig. 1 and its claims;
* :mod:`.fig2` — Fig. 2 and its claims;
* :mod:`.sensitivity` — the sensitivity figure and claims.
"""

from __future__ import annotations

from . import fig1, fig2, sensitivity

FIGURES = [*fig1.FIGURES, *fig2.FIGURES, *sensitivity.FIGURES]
CLAIMS = [*fig1.CLAIMS, *fig2.CLAIMS, *sensitivity.CLAIMS]

__all__ = ["CLAIMS", "FIGURES"]
