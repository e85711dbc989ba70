"""Moved: 000's formulas live in :mod:`overparam.papers.li2018.theory` (one package per paper).
This name re-exports them so existing imports keep working."""

from .papers.li2018.theory import *  # noqa: F403
from .papers.li2018.theory import __all__  # noqa: F401
