"""User-facing errors: one line that names the field, the value and what is accepted."""

from __future__ import annotations

import pydantic

from ..errors import SpecError

__all__ = ["SpecError", "one_line"]


def one_line(exc: BaseException, prefix: str = "") -> str:
    """A single line describing ``exc``; pydantic errors become ``field = value: reason``."""
    if isinstance(exc, pydantic.ValidationError):
        parts = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__")
            path = ".".join(p for p in (prefix, loc) if p)
            msg = err.get("msg", "invalid").removeprefix("Value error, ")
            if not err.get("loc") and not prefix:
                parts.append(msg)
            elif err.get("type") == "extra_forbidden":
                parts.append(f"{path}: unknown field")
            elif msg.startswith(path + ":") or (path and msg.startswith(path.split(".")[0] + ".")):
                parts.append(msg)
            elif "input" in err and err.get("type") != "missing":
                parts.append(f"{path} = {err['input']!r}: {msg}")
            else:
                parts.append(f"{path}: {msg}")
        return "; ".join(parts)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
