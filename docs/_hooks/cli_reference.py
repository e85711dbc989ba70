"""MkDocs hook: expose the Typer app as a Click command for the ``mkdocs-click`` directive.

``docs/cli-reference.md`` renders ``overparam_docs_cli:command`` — the command that
``typer.main.get_command`` builds from :data:`overparam.cli.app`, i.e. exactly what the
``overparam`` program parses. Nothing is written by hand, so the reference cannot drift.
"""

import sys
import types


def on_config(config):
    import typer

    from overparam.cli import app

    module = types.ModuleType("overparam_docs_cli")
    module.command = typer.main.get_command(app)
    sys.modules[module.__name__] = module
    return config
