"""The ``overparam`` command line (Typer + Rich).

Commands: ``list``, ``run``, ``reproduce``, ``results``, ``report``. User errors (bad spec values,
unknown names, missing files, unreachable schedulers, …) print one line ``error: …`` on stderr and
exit with status 2, never a traceback. ``reproduce --strict`` exits 1 when a claim is not
reproduced; any command exits 1 when runs fail.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import pydantic
import typer

from .backend import BackendError
from .experiments.errors import SpecError, one_line
from .registry import RegistryError

app = typer.Typer(
    name="overparam",
    help="Implicit regularization in over-parameterized low-rank and sparse recovery: run experiments, "
         "reproduce the papers, query results.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
)

StoreOpt = Annotated[Path | None, typer.Option("--store", help="Results store directory "
                                                                "[default: $OVERPARAM_STORE or ./overparam-results]")]
OutOpt = Annotated[Path, typer.Option("--out", help="Directory for figures, claims and the report")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", help="Parallel worker processes [default: CPU count]")]
DaskOpt = Annotated[str | None, typer.Option("--dask", help="Run on Dask: 'local' (LocalCluster) or a scheduler "
                                                           "address such as tcp://host:8786")]
DeviceOpt = Annotated[str, typer.Option("--device", help="cpu or cuda")]
ThreadsOpt = Annotated[int, typer.Option("--threads", help="BLAS threads per run (same for every executor)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars; minimal output")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout")]

DEFAULT_OUT = Path("overparam-output")


# -- helpers ---------------------------------------------------------------------------------------------


def _store(path: Path | None):
    from .experiments.store import Store

    return Store(path)


def _check_device(device: str) -> str:
    from .backend import resolve_device

    if device not in ("cpu", "cuda"):
        raise SpecError(f"--device: got {device!r}; accepted: cpu, cuda")
    resolve_device(device)
    return device


def _workers(n: int | None) -> int:
    if n is None:
        return max(1, os.cpu_count() or 1)
    if n < 1:
        raise SpecError(f"--workers: got {n}; accepted: integers >= 1")
    return n


def _progress(quiet: bool):
    from .experiments.executors import NullProgress

    if quiet:
        return NullProgress()
    from .progress import RichProgress

    return RichProgress()


def _echo(msg: str, quiet: bool = False) -> None:
    if not quiet:
        typer.echo(msg)


def _sweep(specs, store, *, workers, dask, threads, quiet):
    from .experiments.executors import run_sweep

    report = run_sweep(specs, store, workers=_workers(workers), dask=dask, threads=threads, progress=_progress(quiet))
    return report


def _print_failures(report) -> None:
    for key, err in report.failed:
        typer.echo(f"run {key} failed: {err.splitlines()[0]}", err=True)


# -- commands ----------------------------------------------------------------------------------------------


@app.command("list")
def list_cmd(
    what: Annotated[str | None, typer.Argument(help="papers, figures, claims, problems, params, algorithms, "
                                                   "inits or metrics [default: all]")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List papers, figures, claims and the registered parts (problems, parameterizations, …)."""
    from . import registry
    from .papers import PAPERS

    sections: dict[str, list[dict[str, Any]]] = {}
    sections["papers"] = [{"id": p.id, "title": p.title, "figures": len(p.figures), "claims": len(p.claims),
                           "status": "implemented" if p.implemented else "no module yet"} for p in PAPERS.values()]
    sections["figures"] = [{"id": f.id, "paper": f.paper, "title": f.title} for p in PAPERS.values() for f in p.figures]
    sections["claims"] = [{"id": c.id, "paper": c.paper, "statement": c.statement}
                          for p in PAPERS.values() for c in p.claims]
    kinds = {"problems": "problem", "params": "param", "algorithms": "algorithm", "inits": "init", "metrics": "metric"}
    for label, kind in kinds.items():
        rows = []
        for name in registry.names(kind):
            obj = registry.get(kind, name)
            doc = (getattr(obj, "doc", None) or obj.__doc__ or "").strip().splitlines()
            entry = {"name": name, "summary": doc[0] if doc else ""}
            if kind != "metric":
                entry["settings"] = registry.accepted_params(kind, name)
            rows.append(entry)
        sections[label] = rows
    if what is not None and what not in sections:
        raise SpecError(f"list {what!r}: accepted: {', '.join(sections)}")
    chosen = {what: sections[what]} if what else sections
    if as_json:
        typer.echo(json.dumps(chosen, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for label, rows in chosen.items():
        if not rows:
            continue
        table = Table(title=label, show_lines=False)
        for col in rows[0]:
            table.add_column(col)
        for row in rows:
            table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in row.values()))
        console.print(table)


@app.command("run")
def run_cmd(
    spec_file: Annotated[Path, typer.Argument(help="A run or sweep spec (TOML)", show_default=False)],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a field: --set problem.d=100 "
                                                               "(grid axes: --set grid.data_seed=[0,1])")] = None,
    store: StoreOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    device: DeviceOpt = "cpu",
    threads: ThreadsOpt = 1,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a spec file (one run, or a sweep over its [grid]) into the store; finished runs are skipped."""
    from .experiments.sweep import load_sweep, parse_overrides

    overrides = parse_overrides(set_)
    if device != "cpu":
        overrides["device"] = _check_device(device)
    specs = load_sweep(spec_file, overrides)
    st = _store(store)
    report = _sweep(specs, st, workers=workers, dask=dask, threads=threads, quiet=quiet or as_json)
    if as_json:
        out = report.as_dict()
        out["runs"] = [{"key": s.key(), "stored": st.has(s)} for s in specs]
        typer.echo(json.dumps(out, indent=1, sort_keys=True))
    else:
        _echo(f"{report.total} runs: {len(report.computed)} computed, {report.skipped} already stored, "
              f"{len(report.failed)} failed ({report.wall_time:.1f}s) -> {st.root}", quiet)
        if len(specs) <= 20 and not quiet:
            _print_run_table(st, specs)
    _print_failures(report)
    if report.failed:
        raise typer.Exit(1)


def _print_run_table(store, specs) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for col in ("key", "replica", "status", "stop_step", "train_error", "test_error", "loss"):
        table.add_column(col)
    for s in specs:
        if not store.has(s):
            continue
        for rep in store.load(s.key()).summary:
            table.add_row(s.key()[:10], str(rep["replica"]), rep["status"], str(rep["stop_step"]),
                          *(f"{rep[k]:.3g}" if isinstance(rep.get(k), float) else "-"
                            for k in ("train_error", "test_error", "loss")))
    Console().print(table)


@app.command("reproduce")
def reproduce_cmd(
    targets: Annotated[list[str] | None, typer.Argument(help="Paper ids (li2018, …) or figure ids (li2018-fig1); "
                                                            "none: every implemented paper")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller settings, same figures (minutes, not hours)")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any claim is not reproduced")] = False,
    store: StoreOpt = None,
    out: OutOpt = DEFAULT_OUT,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    device: DeviceOpt = "cpu",
    threads: ThreadsOpt = 1,
    quiet: QuietOpt = False,
) -> None:
    """Reproduce paper figures and check their claims: runs into the store, figures (PNG + PDF),
    claims.json / claims.md and report.html into --out."""
    from .experiments.claims import write_claims
    from .papers import resolve_targets
    from .papers.base import Context
    from .report import write_report

    _check_device(device)
    figures, checks, pending = resolve_targets(targets)
    st = _store(store)
    ctx = Context(store=st, quick=quick, device=device)
    specs = []
    for f in figures:
        specs += ctx.specs(f.specs)
    for c in checks:
        specs += ctx.specs(c.specs)
    mode = "quick" if quick else "full"
    _echo(f"reproducing {len(figures)} figures and {len(checks)} claims ({mode} mode): "
          f"{len({s.key() for s in specs})} runs", quiet)
    report = _sweep(specs, st, workers=workers, dask=dask, threads=threads, quiet=quiet)
    _print_failures(report)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    problems = bool(report.failed)
    for f in figures:
        try:
            written += f.plot(ctx, out)
        except SpecError as exc:
            typer.echo(f"figure {f.id} not drawn: {exc}", err=True)
            problems = True
    claims = []
    for c in checks:
        try:
            claims.append(c.check(ctx))
        except SpecError as exc:
            typer.echo(f"claim {c.id} not checked: {exc}", err=True)
            problems = True
    jpath, mpath = write_claims(claims, out, quick=quick)
    html_path = write_report(out, st)
    if not quiet:
        _print_claims(claims)
        typer.echo(f"figures: {', '.join(str(p) for p in written if p.suffix == '.png')}")
        typer.echo(f"claims: {jpath}, {mpath}")
        typer.echo(f"report: {html_path}")
        typer.echo(f"store: {st.root} ({len(report.computed)} runs computed, {report.skipped} reused, "
                   f"{report.wall_time:.1f}s)")
        if pending:
            typer.echo(f"not yet reproducible (no module yet): {', '.join(pending)}")
    if problems:
        raise typer.Exit(1)
    if strict and any(c.verdict == "not reproduced" for c in claims):
        raise typer.Exit(1)


def _print_claims(claims) -> None:
    from rich.console import Console
    from rich.table import Table

    from .experiments.claims import fmt

    table = Table(title="claims")
    for col in ("claim", "verdict", "measured", "paper"):
        table.add_column(col, overflow="fold")
    colors = {"reproduced": "green", "not reproduced": "red", "inconclusive": "yellow"}
    for c in claims:
        measured = "; ".join(f"{k} = {fmt(v)}" for k, v in list(c.measured.items())[:4])
        table.add_row(c.id, f"[{colors[c.verdict]}]{c.verdict}[/]", measured, c.paper_value)
    Console().print(table)


@app.command("results")
def results_cmd(
    where: Annotated[list[str] | None, typer.Option("--where", help="Filter: --where problem.d=100 (repeatable)")] = None,
    columns: Annotated[str | None, typer.Option("--columns", help="Comma-separated columns to show")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout")] = False,
) -> None:
    """Query the store: one row per (run, replica) with spec fields, status and final metrics."""
    from .experiments.sweep import parse_overrides

    if as_json and as_csv:
        raise SpecError("results: choose one of --json or --csv")
    filters = parse_overrides(where)
    st = _store(store)
    if not st.root.exists():
        raise SpecError(f"--store {str(st.root)!r}: no such store")
    df = st.table(**{k.replace(".", "__"): v for k, v in filters.items()})
    if columns:
        cols = [c.strip() for c in columns.split(",") if c.strip()]
        missing = [c for c in cols if c not in df.columns]
        if missing and not df.empty:
            raise SpecError(f"--columns {missing[0]}: no such column; columns: {', '.join(sorted(df.columns))}")
        df = df[[c for c in cols if c in df.columns]] if not df.empty else df
    if as_json:
        typer.echo(df.to_json(orient="records", indent=1))
    elif as_csv:
        typer.echo(df.to_csv(index=False), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        show = df
        if not columns and not df.empty:
            pref = ["key", "problem.name", "param.name", "algorithm.name", "replica", "status", "stop_step",
                    "train_error", "test_error", "loss"]
            show = df[[c for c in pref if c in df.columns]]
        table = Table(title=f"{len(df)} rows from {st.root}")
        for col in show.columns:
            table.add_column(str(col))
        for row in show.itertuples(index=False):
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
        Console().print(table)


@app.command("report")
def report_cmd(store: StoreOpt = None, out: OutOpt = DEFAULT_OUT) -> None:
    """Rebuild the HTML report from --out (figures, claims.json) and the store."""
    from .report import write_report

    if not out.exists():
        raise SpecError(f"--out {str(out)!r}: no such directory (run `overparam reproduce` first)")
    path = write_report(out, _store(store))
    typer.echo(str(path))


# -- entry point ---------------------------------------------------------------------------------------------

USER_ERRORS = (SpecError, BackendError, RegistryError, pydantic.ValidationError, FileNotFoundError,
               NotADirectoryError, PermissionError)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors with exit status 2 for user errors."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="overparam", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        typer.echo(f"error: {exc.format_message().splitlines()[0]}", err=True)
        sys.exit(2)
    except USER_ERRORS as exc:
        typer.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
