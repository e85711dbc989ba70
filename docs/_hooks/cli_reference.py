"""MkDocs hook: the command-line reference, generated from the Typer app at build time.

``docs/cli-reference.md`` holds the marker ``<!-- cli-reference -->``; this hook replaces it with
one section per command of ``typer.main.get_command(overparam.cli.app)`` — what the ``overparam``
program parses: its help text, usage line, and every argument and option with the help record Click
prints for ``--help`` (metavar, help, default). Nothing is written by hand, so it cannot drift.
(``mkdocs-click`` does not see Typer ≥ 0.2x's options: Typer vendors its own Click classes.)
"""

from __future__ import annotations

MARKER = "<!-- cli-reference -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"``{text}``"


def reference(prog: str = "overparam") -> str:
    """The reference as Markdown: the program's help, then a section per command (sorted)."""
    import typer

    from overparam.cli import app

    root = typer.main.get_command(app)
    root_ctx = root.context_class(root, info_name=prog)
    lines = [" ".join((root.help or "").split()), "", "```text", root.get_usage(root_ctx), "```", ""]
    for name in sorted(root.commands):
        cmd = root.commands[name]
        if cmd.hidden:
            continue
        ctx = root.context_class(cmd, info_name=name, parent=root_ctx)
        lines += [f"## `{prog} {name}`", "", (cmd.help or "").strip(), "", "```text", cmd.get_usage(ctx), "```", ""]
        rows = [(p.param_type_name, p.get_help_record(ctx)) for p in cmd.get_params(ctx) if not p.hidden]
        rows = [(kind, rec) for kind, rec in rows if rec is not None]
        if rows:
            lines += ["| argument / option | kind | what it does |", "|---|---|---|"]
            lines += [f"| {_code(rec[0])} | {kind} | {_cell(rec[1])} |" for kind, rec in rows]
            lines.append("")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, reference())
    return markdown
