"""Helpers of the ``overparam`` command line: option-value checks, printing, and the entry point that
turns user errors into one line on stderr with exit status 2 (see :mod:`overparam.cli`)."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import pydantic
import typer

from .errors import BackendError, SpecError, SweepError
from .registry import RegistryError

MAX_FAILURE_LINES = 5

def store_at(path: Path | None, claim_timeout: str | None = None, checkpoint_seconds: str | None = None):
    """The store at ``path``; ``claim_timeout``: the ``--claim-timeout`` text (seconds >= 0);
    ``checkpoint_seconds``: the ``--checkpoint-seconds`` text (seconds >= 0, 0: no snapshots)."""
    from .experiments.executors import check_checkpoint_seconds, check_claim_timeout
    from .experiments.store import Store

    extra = {} if checkpoint_seconds is None else {"checkpoint_seconds": check_checkpoint_seconds(checkpoint_seconds)}
    if claim_timeout is None:
        return Store(path, **extra)
    try:
        seconds = float(claim_timeout)
    except ValueError:
        seconds = -1.0
    if seconds < 0 or not math.isfinite(seconds):
        raise SpecError(f"--claim-timeout: got {claim_timeout!r}; accepted: seconds >= 0 (a finite number)")
    return Store(path, claim_timeout=check_claim_timeout(seconds), **extra)


def existing_store(path: Path | None):
    st = store_at(path)
    if not st.root.is_dir():
        raise SpecError(f"--store {str(st.root)!r}: no such store; accepted: a directory written by "
                        "`overparam run` or `overparam reproduce`")
    return st


def check_device(device: str | None) -> str | None:
    from .backend import resolve_device

    if device is None:
        return None
    if device not in ("cpu", "cuda"):
        raise SpecError(f"--device: got {device!r}; accepted: cpu, cuda")
    resolve_device(device)
    return device


def positive_int(option: str, text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise SpecError(f"{option}: got {text!r}; accepted: integers >= 1")
    return n


def workers_count(text: str | None) -> int:
    return max(1, os.cpu_count() or 1) if text is None else positive_int("--workers", text)


def check_dask(dask: str | None) -> None:
    if dask is not None:
        from .experiments.executors import check_dask_address

        check_dask_address(dask)


def progress(quiet: bool):
    from .experiments.executors import NullProgress

    if quiet:
        return NullProgress()
    from .progress import RichProgress

    return RichProgress()


def print_failures(failed, store, what: str = "run") -> None:
    for key, err in failed[:MAX_FAILURE_LINES]:
        typer.echo(f"{what} {key} failed: {err.splitlines()[0] if err else ''}", err=True)
    if len(failed) > MAX_FAILURE_LINES:
        typer.echo(f"... and {len(failed) - MAX_FAILURE_LINES} more failed {what}s", err=True)
    if what == "run" and any("still claimed by" not in (err or "") for _, err in failed):
        typer.echo(f"details: {store.root / 'failures'}; re-running retries the failed runs", err=True)


def plain(v: Any) -> Any:
    """A JSON-ready Python value: NaN/inf → null, NumPy scalars and arrays → numbers and lists."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    return v


def table(title: str, columns: list[str], rows, caption: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for col in columns:
        table.add_column(str(col), overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return json.dumps(v) if isinstance(v, dict) else str(v)


USER_ERRORS = (SpecError, BackendError, RegistryError, pydantic.ValidationError, FileNotFoundError,
               NotADirectoryError, IsADirectoryError, PermissionError)


def click_classes() -> tuple[type[BaseException], ...]:
    """(ClickException, NoArgsIsHelpError or None, Exit, Abort) of the click that Typer uses: the
    ``click`` package, or the copy that recent Typer versions carry inside themselves."""
    click_exc = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    mod = sys.modules[click_exc.__module__]
    no_args = getattr(mod, "NoArgsIsHelpError", None)
    exits = tuple({typer.Exit, getattr(mod, "Exit", typer.Exit)})
    aborts = tuple({typer.Abort, getattr(mod, "Abort", typer.Abort)})
    return click_exc, no_args, exits, aborts


def run_app(app: typer.Typer, argv: list[str] | None = None) -> None:
    """Run a Typer app as a console program: one-line errors with exit status 2 for user errors, 130
    when interrupted, the command's status otherwise."""
    click_exc, no_args, exits, aborts = click_classes()
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="overparam", standalone_mode=False)
    except exits as exc:
        sys.exit(exc.exit_code)
    except aborts:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except click_exc as exc:
        if no_args is not None and isinstance(exc, no_args):
            typer.echo(exc.format_message())  # bare `overparam`: the help, not an error
            sys.exit(0)
        msg = exc.format_message().strip().splitlines()
        typer.echo(f"error: {msg[0] if msg else type(exc).__name__}", err=True)
        sys.exit(2)
    except USER_ERRORS as exc:
        from .experiments.errors import one_line

        typer.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(2)
    except SweepError as exc:  # a helper thread or process could not start or died: not the user's input
        from .experiments.errors import one_line

        typer.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    if rv == 130:  # Typer's form of Ctrl-C outside standalone mode: it returns 130 (no command returns it)
        typer.echo("interrupted", err=True)
    sys.exit(rv if isinstance(rv, int) else 0)
