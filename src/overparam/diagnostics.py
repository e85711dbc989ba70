"""Moved: 000's numerical checks live in :mod:`overparam.papers.li2018.diagnostics`, the fitting
helpers in :mod:`overparam.papers._shared`. This name re-exports them so existing imports keep working."""

from .papers.li2018.diagnostics import *  # noqa: F403
from .papers.li2018.diagnostics import __all__  # noqa: F401
