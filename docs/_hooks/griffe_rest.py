"""Griffe extension: render the package's reST-flavoured docstrings as Markdown for mkdocstrings.

The docstrings are written to read well in ``help()`` and use three reST conventions that Markdown
does not know; this extension rewrites them when the API reference is built (the source is left
as it is):

* Sphinx roles — ``:class:`~overparam.result.Trace```, ``:meth:`title <target>``` (also ``:func:``,
  ``:mod:``, ``:attr:``, ``:data:``, ``:exc:``, ``:obj:``) — become cross-references to the rendered object
  (an optional autoref: a target that has no page is shown as code, without a warning); relative
  (``.settings``) and bare (``evaluate``) targets are resolved against the object's module and class;
* simple tables (``====  ====`` rules) become pipe tables; continuation lines (first cell blank)
  join the row above;
* a paragraph ending in ``::`` (a literal block follows) ends in ``:``.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`([^`]+)`")
EXPLICIT = re.compile(r"(.*?)\s*<([\w.]+)>", flags=re.S)      # :meth:`title <target>`
RULE = re.compile(r"^( *)(=+)((?: +=+)+) *$")


def _lookup(collection: Any, path: str) -> Any | None:
    try:
        return collection[path]
    except Exception:  # griffe raises KeyError, AliasResolutionError, … for what is not there
        return None


def _candidates(obj: Any, target: str) -> list[str]:
    """Full paths ``target`` may mean, seen from ``obj`` (Python's own lookup order, roughly)."""
    module = obj if obj.is_module else obj.module
    if target.startswith("."):
        dots = len(target) - len(target.lstrip("."))
        base = module.path if module.is_init_module else module.parent.path if module.parent else module.path
        for _ in range(dots - 1):
            base = base.rsplit(".", 1)[0]
        return [f"{base}.{target.lstrip('.')}"]
    found = [target]
    scope = obj
    while scope is not None:
        found.append(f"{scope.path}.{target}")
        scope = scope.parent
    return found


def resolve(obj: Any, target: str) -> str | None:
    """The canonical path of the object ``target`` names from ``obj``, or ``None``."""
    for path in _candidates(obj, target):
        found = _lookup(obj.modules_collection, path)
        if found is not None:
            try:
                return found.canonical_path
            except Exception:
                return path
    return None


def roles_to_refs(obj: Any, text: str) -> str:
    """Sphinx roles → ``<autoref optional>`` cross-references (code spans when unresolved)."""

    def sub(m: re.Match) -> str:
        body = m.group(1)
        if explicit := EXPLICIT.fullmatch(body):
            shown, target = " ".join(explicit.group(1).split()), explicit.group(2)
        else:
            call = "()" if body.endswith("()") else ""
            target = body.removesuffix("()").lstrip("~")
            shown = (target.rsplit(".", 1)[-1] if body.startswith("~") else target.lstrip(".")) + call
        code = f"<code>{html.escape(shown)}</code>"
        path = resolve(obj, target)
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    return ROLE.sub(sub, text)


def _cells(line: str, starts: list[int]) -> list[str]:
    """Split ``line`` at the columns' starts; a word that overflows its column stays whole."""
    cuts = [0]
    for s in starts[1:]:
        b = max(s, cuts[-1])
        while 0 < b < len(line) and line[b - 1] != " ":
            b += 1
        cuts.append(b)
    cuts.append(max(len(line), cuts[-1]))
    return [line[a:b].strip() for a, b in zip(cuts[:-1], cuts[1:])]


def _pipe_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def tables_to_markdown(text: str) -> str:
    """reST simple tables (a rule, header, rule, rows, rule) → Markdown pipe tables."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = RULE.match(lines[i])
        rules = [j for j in range(i, len(lines)) if lines[j].strip() and RULE.match(lines[j])
                 and lines[j].strip() == lines[i].strip()] if m else []
        if not m or len(rules) < 3 or rules[1] - rules[0] != 2:
            out.append(lines[i])
            i += 1
            continue
        rule = lines[i]
        starts = [k.start() for k in re.finditer(r"=+", rule)]
        indent = m.group(1)
        header = _cells(lines[i + 1], starts)
        rows: list[list[str]] = []
        end = rules[2]
        for line in lines[rules[1] + 1:end]:
            if not line.strip():
                continue
            cells = _cells(line, starts)
            if rows and not cells[0]:
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
            else:
                rows.append(cells)
        if out and out[-1].strip():
            out.append("")
        out += [indent + _pipe_row(header), indent + _pipe_row(["---"] * len(header))]
        out += [indent + _pipe_row(r) for r in rows]
        if end + 1 < len(lines) and lines[end + 1].strip():
            out.append("")
        i = end + 1
    return "\n".join(out)


def literal_markers(text: str) -> str:
    """``Text::`` before a literal block → ``Text:``; a lone ``::`` line disappears."""
    text = re.sub(r"^[ \t]*::[ \t]*\n", "\n", text, flags=re.M)
    return re.sub(r"(\S)::[ \t]*$", r"\1:", text, flags=re.M)


def convert(obj: Any, text: str) -> str:
    return roles_to_refs(obj, literal_markers(tables_to_markdown(text)))


class RestToMarkdown(griffe.Extension):
    """Rewrite every docstring once the object tree is complete (``on_object``)."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.is_alias or obj.docstring is None:
            return
        obj.docstring.value = convert(obj, obj.docstring.value)
