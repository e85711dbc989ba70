"""The ``overparam`` command line (Typer + Rich).

Commands: ``list``, ``run``, ``reproduce``, ``results``, ``report`` (see docs/cli.md). Every command
takes ``--store DIR`` (default ``$OVERPARAM_STORE`` or ``./overparam-results``).

Exit status: 0 success; 1 when runs failed, a figure or claim could not be produced, or (with
``reproduce --strict``) a claim is not reproduced; 2 for user errors (bad spec values, unknown
names, missing files, bad options, unreachable schedulers), which print one line ``error: …`` on
stderr and never a traceback; 130 when interrupted.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

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
    rich_markup_mode=None,  # help texts contain [brackets] (TOML tables, defaults) that are not markup
)

StoreOpt = Annotated[Path | None, typer.Option("--store", help="Results store directory "
                                                                "[default: $OVERPARAM_STORE or ./overparam-results]")]
OutOpt = Annotated[Path, typer.Option("--out", help="Directory for figures, claims and the report")]
WorkersOpt = Annotated[str | None, typer.Option("--workers", metavar="N",
                                                help="Worker processes (1: serial; with --dask local: LocalCluster "
                                                     "size) [default: CPU count]")]
DaskOpt = Annotated[str | None, typer.Option("--dask", help="Run on Dask: 'local' (a LocalCluster on 127.0.0.1) or "
                                                           "a scheduler address such as tcp://host:8786")]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="cpu or cuda: where every run computes "
                                                               "[default: as the spec says, cpu]")]
ThreadsOpt = Annotated[str, typer.Option("--threads", metavar="N",
                                         help="BLAS threads per run, the same for every executor")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars and no summary (for scripts)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout (see docs/cli.md)")]

DEFAULT_OUT = Path("overparam-output")
MAX_FAILURE_LINES = 5
MAX_TABLE_ROWS = 200  # the Rich table of `results`; --csv and --json print every row
LIST_ALIASES = {"parameterizations": "params", "initializations": "inits"}


# -- helpers ---------------------------------------------------------------------------------------------


def _store(path: Path | None):
    from .experiments.store import Store

    return Store(path)


def _existing_store(path: Path | None):
    st = _store(path)
    if not st.root.is_dir():
        raise SpecError(f"--store {str(st.root)!r}: no such store; accepted: a directory written by "
                        "`overparam run` or `overparam reproduce`")
    return st


def _check_device(device: str | None) -> str | None:
    from .backend import resolve_device

    if device is None:
        return None
    if device not in ("cpu", "cuda"):
        raise SpecError(f"--device: got {device!r}; accepted: cpu, cuda")
    resolve_device(device)
    return device


def _positive_int(option: str, text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise SpecError(f"{option}: got {text!r}; accepted: integers >= 1")
    return n


def _workers(text: str | None) -> int:
    return max(1, os.cpu_count() or 1) if text is None else _positive_int("--workers", text)


def _threads(text: str) -> int:
    return _positive_int("--threads", text)


def _check_dask(dask: str | None) -> None:
    if dask is not None:
        from .experiments.executors import check_dask_address

        check_dask_address(dask)


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

    return run_sweep(specs, store, workers=workers, dask=dask, threads=threads, progress=_progress(quiet))


def _print_failures(report, store) -> None:
    for key, err in report.failed[:MAX_FAILURE_LINES]:
        typer.echo(f"run {key} failed: {err.splitlines()[0] if err else ''}", err=True)
    if len(report.failed) > MAX_FAILURE_LINES:
        typer.echo(f"... and {len(report.failed) - MAX_FAILURE_LINES} more failed runs", err=True)
    if report.failed:
        typer.echo(f"details: {store.root / 'failures'}; re-running retries the failed runs", err=True)


def _plain(v: Any) -> Any:
    """A JSON-ready Python value: NaN/inf → null, NumPy scalars and arrays → numbers and lists."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def _records(df) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in df.to_dict("records")]


# -- commands ----------------------------------------------------------------------------------------------


@app.command("list")
def list_cmd(
    what: Annotated[str | None, typer.Argument(help="papers, figures, claims, problems, params (or "
                                                   "parameterizations), algorithms, inits, metrics, or store "
                                                   "[default: all but store]")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List papers, figures, claims and the registered parts (problems, parameterizations, ...)."""
    from . import registry
    from .papers import PAPERS

    what = LIST_ALIASES.get(what, what) if what is not None else None
    sections: dict[str, Any] = {}
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
            entry: dict[str, Any] = {"name": name, "summary": doc[0] if doc else ""}
            if kind != "metric":
                entry["settings"] = registry.accepted_params(kind, name)
            rows.append(entry)
        sections[label] = rows
    accepted = [*sections, "store"]
    if what is not None and what not in accepted:
        raise SpecError(f"list {what!r}: unknown section; accepted: {', '.join(accepted)}, parameterizations")
    if what == "store" or (what is None and store is not None):
        st = _existing_store(store)
        runs, status = 0, {}
        for run in st.runs():
            runs += 1
            for rep in run.summary:
                status[rep["status"]] = status.get(rep["status"], 0) + 1
        sections["store"] = [{"root": str(st.root), "runs": runs, "replicas": status, "failures": len(st.failures())}]
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
            table.add_row(*(", ".join(v) if isinstance(v, list) else
                            json.dumps(v) if isinstance(v, dict) else str(v) for v in row.values()))
        console.print(table)


@app.command("run")
def run_cmd(
    spec_file: Annotated[Path, typer.Argument(help="A run or sweep spec (TOML)", show_default=False)],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a field: --set problem.d=100; "
                                                               "grid axes: --set grid.data_seed=[0,1] "
                                                               "(repeatable)")] = None,
    store: StoreOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    device: DeviceOpt = None,
    threads: ThreadsOpt = "1",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a spec file (one run, or a sweep over its grid table) into the store; stored runs are skipped."""
    from .experiments.sweep import load_sweep, parse_overrides

    n_workers, n_threads = _workers(workers), _threads(threads)
    _check_dask(dask)
    overrides = parse_overrides(set_)
    if _check_device(device) is not None:
        overrides["device"] = device
    specs = load_sweep(spec_file, overrides)
    st = _store(store)
    report = _sweep(specs, st, workers=n_workers, dask=dask, threads=n_threads, quiet=quiet or as_json)
    if as_json:
        failed = {k for k, _ in report.failed}
        out = report.as_dict()
        out["store"] = str(st.root)
        out["runs"] = [{"key": s.key(), "stored": st.has(s), "failed": s.key() in failed} for s in specs]
        typer.echo(json.dumps(out, indent=1, sort_keys=True))
    else:
        _echo(f"{report.total} runs: {len(report.computed)} computed, {report.skipped} already stored, "
              f"{len(report.failed)} failed ({report.wall_time:.1f}s, {report.executor}) -> {st.root}", quiet)
        if len(specs) <= 20 and not quiet:
            _print_run_table(st, specs)
    _print_failures(report, st)
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
    targets: Annotated[list[str] | None, typer.Argument(help="Paper ids (li2018, rajaraman2023, jiang2023, "
                                                            "eftekhari2021, ma2025) or figure ids (li2018-fig1); "
                                                            "none: every implemented paper")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller settings, same figures (minutes, not hours)")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any claim is not reproduced")] = False,
    store: StoreOpt = None,
    out: OutOpt = DEFAULT_OUT,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    device: DeviceOpt = None,
    threads: ThreadsOpt = "1",
    quiet: QuietOpt = False,
) -> None:
    """Reproduce paper figures and check their claims: runs into the store, figures (PNG + PDF),
    claims.json, claims.md and report.html into --out."""
    from .experiments.claims import write_claims
    from .papers import resolve_targets
    from .papers.base import Context
    from .report import write_report

    n_workers, n_threads = _workers(workers), _threads(threads)
    _check_dask(dask)
    device = _check_device(device) or "cpu"
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {str(out)!r}: exists and is not a directory; accepted: a directory")
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
    report = _sweep(specs, st, workers=n_workers, dask=dask, threads=n_threads, quiet=quiet)
    _print_failures(report, st)
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
        if quiet:
            bad = [c.id for c in claims if c.verdict == "not reproduced"]
            typer.echo(f"not reproduced: {', '.join(bad)}", err=True)
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
    where: Annotated[list[str] | None, typer.Option("--where", help="Filter on equality: --where problem.d=100; "
                                                                   "a list matches any: --where init_seed=[0,1] "
                                                                   "(repeatable)")] = None,
    columns: Annotated[str | None, typer.Option("--columns", help="Comma-separated columns to show")] = None,
    trace: Annotated[bool, typer.Option("--trace", help="The recorded traces of the matching rows (one row per "
                                                        "run, replica and logged step) instead of final values")]
    = False,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout")] = False,
) -> None:
    """Query the store: one row per (run, replica) with spec fields, status and final metrics."""
    from .experiments.sweep import parse_overrides

    if as_json and as_csv:
        raise SpecError("results: --json and --csv both given; accepted: at most one of them")
    filters = {k.replace(".", "__"): v for k, v in parse_overrides(where, option="--where").items()}
    st = _existing_store(store)
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else []
    if columns is not None and not cols:
        raise SpecError(f"--columns {columns!r}: accepted: comma-separated column names")
    if trace:
        df = st.trace_table(columns=[c for c in cols if c not in ("key", "replica")], **filters)
    else:
        df = st.table(**filters)
        missing = [c for c in cols if c not in df.columns]
        if missing and not df.empty:
            raise SpecError(f"--columns {missing[0]}: no such column; accepted: {', '.join(sorted(df.columns))}")
        if cols and not df.empty:
            df = df[cols]
    if as_json:
        typer.echo(json.dumps(_records(df), indent=1, allow_nan=False))
    elif as_csv:
        if trace and not df.empty:  # vector metrics (singular values, …) as JSON lists in one cell
            df = df.apply(lambda col: col.map(lambda v: json.dumps(_plain(v)) if hasattr(v, "tolist") else v))
        typer.echo(df.to_csv(index=False), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        show = df
        if not cols and not df.empty:
            pref = (["key", "replica", "step", "train_error", "test_error", "loss"] if trace else
                    ["key", "problem.name", "param.name", "algorithm.name", "replica", "status", "stop_step",
                     "train_error", "test_error", "loss"])
            show = df[[c for c in pref if c in df.columns]]
        what = "trace rows" if trace else "rows"
        caption = (f"first {MAX_TABLE_ROWS} of {len(df)} {what}; --csv or --json for all"
                   if len(show) > MAX_TABLE_ROWS else None)
        table = Table(title=f"{len(df)} {what} from {st.root}", caption=caption)
        for col in show.columns:
            table.add_column(str(col))
        for row in show.head(MAX_TABLE_ROWS).itertuples(index=False):
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
        Console().print(table)


@app.command("report")
def report_cmd(store: StoreOpt = None, out: OutOpt = DEFAULT_OUT) -> None:
    """Rebuild the HTML report from --out (figures, claims.json) and the store."""
    from .report import write_report

    if not out.is_dir():
        raise SpecError(f"--out {str(out)!r}: no such directory; accepted: an output directory written by "
                        "`overparam reproduce`")
    path = write_report(out, _existing_store(store))
    typer.echo(str(path))


@app.command("bench")
def bench_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="Fewer repeats; the n=10000 dense-mask peer is extrapolated "
                                                        "(labelled), so its speedup is a lower bound")] = False,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Benchmark the library against the NumPy peers and the memory-read limit (docs: benchmarks/RESULTS.md).

    Exit status 0 when every performance target is met, 1 otherwise."""
    from .bench import main as bench_main

    del store  # accepted for uniformity with the other commands; benchmarks store nothing
    raise typer.Exit(bench_main(quick=quick, as_json=as_json))


# -- entry point ---------------------------------------------------------------------------------------------

USER_ERRORS = (SpecError, BackendError, RegistryError, pydantic.ValidationError, FileNotFoundError,
               NotADirectoryError, IsADirectoryError, PermissionError)


def _click_classes() -> tuple[type[BaseException], ...]:
    """(ClickException, NoArgsIsHelpError or None, Exit, Abort) of the click that Typer uses: the
    ``click`` package, or the copy that recent Typer versions carry inside themselves."""
    click_exc = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    mod = sys.modules[click_exc.__module__]
    no_args = getattr(mod, "NoArgsIsHelpError", None)
    exits = tuple({typer.Exit, getattr(mod, "Exit", typer.Exit)})
    aborts = tuple({typer.Abort, getattr(mod, "Abort", typer.Abort)})
    return click_exc, no_args, exits, aborts


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors with exit status 2 for user errors (see the module doc)."""
    click_exc, no_args, exits, aborts = _click_classes()
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
        typer.echo(f"error: {one_line(exc)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
