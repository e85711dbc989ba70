"""One error class for every user error the library raises.

``OverparamError`` is the base of every error that reports bad input or an unusable setting; each
kind also subclasses the builtin a caller would expect (``ValueError`` for values, ``KeyError``
for unknown names), so ``except ValueError`` keeps working:

=================  ==================================================  ===========================
class              raised for                                          also a
=================  ==================================================  ===========================
``SpecError``      specs, sweep files, overrides, CLI arguments, the   ``ValueError``
                   store location
``BackendError``   dtype, device, thread and seed settings; shapes     ``ValueError``
                   of user arrays; settings that cannot be honoured
``ParamError``     a parameterization that cannot represent a problem  ``ValueError``
``MetricError``    a metric that cannot be computed for a run          ``ValueError``
``SettingError``   a constructor's setting out of range (``gd(eta=-1)``)  ``ValueError``
``RegistryError``  an unknown name (problem, algorithm, …)             ``KeyError``
=================  ==================================================  ===========================

Every message is one line naming the field, the value and what is accepted.
"""

from __future__ import annotations


class OverparamError(Exception):
    """Base class of the library's user errors (see the module docstring)."""


class SettingError(OverparamError, ValueError):
    """A registered constructor called with a setting outside its accepted range (Python API)."""


class BackendError(OverparamError, ValueError):
    """A dtype, device or thread setting that cannot be honoured (re-exported by
    :mod:`overparam.backend`; defined here so that the command line catches it without importing
    torch)."""


class SpecError(OverparamError, ValueError):
    """A spec, sweep file, override or CLI argument that cannot be used as given (re-exported by
    :mod:`overparam.experiments.errors`; defined here so that the command line needs no import of
    the experiment layer to report one)."""


class SweepError(RuntimeError):
    """A sweep that cannot go on: a helper thread or process could not start or died. One line
    naming the cause; the CLI exits 1 (not a user error, not a failed run). Re-exported by
    :mod:`overparam.experiments.executors`; defined here so that the command line catches it
    without importing the experiment layer."""
