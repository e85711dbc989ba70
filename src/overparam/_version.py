"""The installed package's version (importlib.metadata), for provenance records.

Lower layers (the store, stored computations) read the version here, never from the package face
``overparam/__init__.py``, which imports every layer."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("overparam")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
