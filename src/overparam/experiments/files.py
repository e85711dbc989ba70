"""Reading spec files: a TOML document as a dict, with one-line errors. Below both
:mod:`.spec` (single runs) and :mod:`.sweep` (grids), which read files through it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import SpecError


def load_toml(path: str | Path) -> dict[str, Any]:
    """The TOML document at ``path`` as a dict (one-line :class:`SpecError` when missing or invalid)."""
    p = Path(path)
    if p.is_dir():
        raise SpecError(f"spec file {str(p)!r}: is a directory; expected a TOML file")
    if not p.is_file():
        raise SpecError(f"spec file {str(p)!r}: not found")
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"spec file {str(p)!r}: invalid TOML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise SpecError(f"spec file {str(p)!r}: not a UTF-8 text file") from None


__all__ = ["load_toml"]
