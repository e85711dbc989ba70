"""The ``overparam`` command line (Typer + Rich).

Commands: ``list``, ``run``, ``reproduce``, ``results``, ``report``, ``bench``, ``study`` (see docs/cli.md). Every
command takes ``--store DIR`` (default ``$OVERPARAM_STORE`` or ``./overparam-results``). The work is
done by the library (:func:`overparam.reproduce.reproduce`, :mod:`overparam.catalog`, the executors);
this module parses arguments and prints.

Exit status: 0 success; 1 when runs failed, a figure or claim could not be produced, or (with
``reproduce --strict``) a claim is not reproduced; 2 for user errors (bad spec values, unknown
names, missing files, bad options, unreachable schedulers), which print one line ``error: …`` on
stderr and never a traceback; 130 when interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .cli_support import (
    cell,
    check_dask,
    check_device,
    existing_store,
    plain,
    positive_int,
    print_failures,
    progress,
    run_app,
    store_at,
    table,
    workers_count,
)
from .errors import SpecError

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
ClaimTimeoutOpt = Annotated[str, typer.Option("--claim-timeout", metavar="SECONDS",
                                              help="How long to wait for a run another process holds (claims/ "
                                                   "in the store) before giving up on it; a wait is announced on "
                                                   "stderr, and runs still held then make the command exit 1")]
CheckpointOpt = Annotated[str, typer.Option("--checkpoint-seconds", metavar="SECONDS",
                                             help="A run still going after this many seconds writes a snapshot "
                                                  "to the store (partial/) every SECONDS; a killed sweep resumes "
                                                  "it from there with the same bits (0: no snapshots)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars and no summary (for scripts)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout (see docs/cli.md)")]

DEFAULT_OUT = Path("overparam-output")
MAX_TABLE_ROWS = 200  # the Rich table of `results`; --csv and --json print every row


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
    from .catalog import catalog

    chosen = catalog(what, store_at(store) if store is not None or what == "store" else None)
    if as_json:
        typer.echo(json.dumps(chosen, indent=1))
        return
    from .catalog import list_lines

    for line in list_lines(chosen):
        typer.echo(line)


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
    claim_timeout: ClaimTimeoutOpt = "600",
    checkpoint_seconds: CheckpointOpt = "600",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a spec file (one run, or a sweep over its grid table) into the store; stored runs are skipped."""
    from .experiments.executors import run_sweep
    from .experiments.sweep import load_sweep, parse_overrides

    n_workers, n_threads = workers_count(workers), _check_threads(positive_int("--threads", threads))
    check_dask(dask)
    overrides = parse_overrides(set_)
    if check_device(device) is not None:
        overrides["device"] = device
    specs = load_sweep(spec_file, overrides)
    st = store_at(store, claim_timeout, checkpoint_seconds)
    report = run_sweep(specs, st, workers=n_workers, dask=dask, threads=n_threads,
                       progress=progress(quiet or as_json))
    if as_json:
        failed = {k for k, _ in report.failed}
        out = {**report.as_dict(), "store": str(st.root),
               "runs": [{"key": s.key(), "stored": st.has(s), "failed": s.key() in failed} for s in specs]}
        typer.echo(json.dumps(out, indent=1, sort_keys=True))
    elif not quiet:
        by_other = f"{len(report.by_other)} computed by another process, " if report.by_other else ""
        typer.echo(f"{report.total} runs: {len(report.computed)} computed, {by_other}{report.skipped} already stored, "
                   f"{len(report.failed)} failed ({report.wall_time:.1f}s, {report.executor}) -> {st.root}")
        if len(specs) <= 20:
            rows = [[s.key()[:10], str(rep["replica"]), rep["status"], str(rep["stop_step"]),
                     *(f"{rep[k]:.3g}" if isinstance(rep.get(k), float) else "-"
                       for k in ("train_error", "test_error", "loss"))]
                    for s in specs if st.has(s) for rep in st.load(s.key()).summary]
            table("", ["key", "replica", "status", "stop_step", "train_error", "test_error", "loss"], rows)
    print_failures(report.failed, st)
    if report.failed:
        raise typer.Exit(1)


@app.command("reproduce")
def reproduce_cmd(
    targets: Annotated[list[str] | None, typer.Argument(help="Paper ids (li2018, …; see `overparam list papers`), "
                                                            "figure ids (li2018-fig1) or claim ids (li2018-claim1); "
                                                            "none: every implemented paper")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller settings, same figures (minutes, not hours)")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any claim is not reproduced")] = False,
    store: StoreOpt = None,
    out: OutOpt = DEFAULT_OUT,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    device: DeviceOpt = None,
    threads: ThreadsOpt = "1",
    claim_timeout: ClaimTimeoutOpt = "600",
    checkpoint_seconds: CheckpointOpt = "600",
    quiet: QuietOpt = False,
) -> None:
    """Reproduce paper figures and check their claims: runs into the store, figures (PNG + PDF),
    claims.json, claims.md and the report site (site/index.html; report.html forwards to it) into
    --out (see overparam.reproduce.reproduce)."""
    import shutil

    from .experiments.claims import summary_lines
    from .reproduce import reproduce

    n_workers, n_threads = workers_count(workers), _check_threads(positive_int("--threads", threads))
    check_dask(dask)
    executor = dask if dask is not None else "serial" if n_workers == 1 else "pool"
    res = reproduce(targets, quick=quick, store=store_at(store, claim_timeout, checkpoint_seconds), out=out,
                    executor=executor, workers=n_workers,
                    threads=n_threads, device=check_device(device) or "cpu", progress=progress(quiet))
    print_failures(res.runs_failed, store_at(store))
    print_failures(res.computations_failed, store_at(store), "computation")
    for line in res.problems:
        typer.echo(line, err=True)
    for line in res.warnings:
        typer.echo(f"warning: {line}", err=True)
    if not quiet:
        colors = {"reproduced": "green", "partly reproduced": "cyan", "not reproduced": "red",
                  "inconclusive": "yellow"}
        width = max(60, shutil.get_terminal_size((100, 24)).columns)
        for line, verdict in summary_lines(res.claims, width):  # one line per claim; the full table: the site
            if verdict is None:
                typer.secho(line, bold=True)
            else:  # color the verdict only (click drops the colors when stdout is not a terminal)
                at = line.find(verdict)
                typer.echo(line if at < 0 else
                           line[:at] + typer.style(verdict, fg=colors[verdict]) + line[at + len(verdict):])
        typer.echo(f"figures: {len(res.figures)} drawn (PNG + PDF) in {out}")
        typer.echo(f"claims: {res.claims_json}, {res.claims_md}")
        typer.echo(f"report: {res.report}")
        typer.echo(f"store: {res.store} ({res.runs_computed} runs computed, {res.runs_skipped} reused; "
                   f"{res.computations_computed} computations computed, {res.computations_skipped} reused; "
                   f"{res.wall_time:.1f}s)")
        if res.pending:
            typer.echo(f"planned, not yet reproducible: {', '.join(res.pending)}")
    if not res.ok:
        raise typer.Exit(1)
    if strict and res.not_reproduced:
        if quiet:
            typer.echo(f"not reproduced: {', '.join(res.not_reproduced)}", err=True)
        raise typer.Exit(1)


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
    verify: Annotated[bool, typer.Option("--verify", help="Check every stored run (files present, sha256 as "
                                                          "recorded, schemas); name each damaged one; exit 1 if "
                                                          "any")] = False,
    release_claims: Annotated[bool, typer.Option("--release-claims", help="Remove the claims (claims/ in the "
                                                                          "store) of processes that no longer run "
                                                                          "and say what was removed")] = False,
    release_all: Annotated[bool, typer.Option("--all", help="With --release-claims: remove every claim, live and "
                                                            "other hosts' too (only when no sweep is running)")]
    = False,
) -> None:
    """Query the store: one row per (run, replica) with spec fields, status and final metrics."""
    from .catalog import results_frame
    from .experiments.sweep import parse_overrides

    if as_json and as_csv:
        raise SpecError("results: --json and --csv both given; accepted: at most one of them")
    if release_all and not release_claims:
        raise SpecError("results --all: accepted only with --release-claims")
    if release_claims:
        removed, kept = existing_store(store).release_claims(all=release_all)
        if as_json:
            typer.echo(json.dumps({"removed": [{"key": c.key, "holder": c.describe(), "reason": why}
                                               for c, why in removed],
                                   "kept": [{"key": c.key, "holder": c.describe()} for c in kept]}, indent=1))
            return
        for c, why in removed:
            typer.echo(f"removed claim on run {c.key} ({c.describe()}): {why}")
        for c in kept:
            typer.echo(f"kept claim on run {c.key} ({c.describe()}): its process may still be computing it", err=True)
        typer.echo(f"{len(removed)} claims removed, {len(kept)} kept"
                   + ("; --all removes them too (only when no sweep is running)" if kept and not release_all else ""))
        return
    if verify:
        report = existing_store(store).verify()
        if as_json:
            typer.echo(json.dumps(report, indent=1))
        else:
            for d in report["damaged"]:
                typer.echo(f"damaged {d['key']}: {d['reason']}", err=True)
            n_old = len(report["schema_only"])
            typer.echo(f"{report['ok']} runs intact"
                       + (f" ({n_old} stored without content hashes, checked by schema only)" if n_old else "")
                       + f", {len(report['damaged'])} damaged"
                       + (" (a sweep that contains them recomputes them)" if report["damaged"] else ""))
            if report["partial"]:
                usable = sum(p["usable"] for p in report["partial"])
                typer.echo(f"{len(report['partial'])} unfinished runs have a snapshot in partial/ ({usable} usable by "
                           "this version: a sweep that contains them resumes them)")
        if report["damaged"]:
            raise typer.Exit(1)
        return
    filters = parse_overrides(where, option="--where")
    st = existing_store(store)
    df, cols = results_frame(st, filters, columns, trace)
    for key, why in sorted(st.skipped.items()):  # never dropped silently
        typer.echo(f"damaged {key}: {why} (left out; `overparam results --verify` lists all, a sweep that "
                   "contains it recomputes it)", err=True)
    if as_json:
        rows = [{str(k): plain(v) for k, v in row.items()} for row in df.to_dict("records")]
        typer.echo(json.dumps(rows, indent=1, allow_nan=False))
    elif as_csv:
        if trace and not df.empty:  # vector metrics (singular values, …) as JSON lists in one cell
            df = df.apply(lambda col: col.map(lambda v: json.dumps(plain(v)) if hasattr(v, "tolist") else v))
        typer.echo(df.to_csv(index=False), nl=False)
    elif cols or df.empty:
        what = "trace rows" if trace else "rows"
        caption = (f"first {MAX_TABLE_ROWS} of {len(df)} {what}; --csv or --json for all"
                   if len(df) > MAX_TABLE_ROWS else None)
        table(f"{len(df)} {what} from {st.root}", list(df.columns),
              ([cell(v) for v in row] for row in df.head(MAX_TABLE_ROWS).itertuples(index=False)), caption)
    else:
        from rich.console import Console

        from .terminal_table import choose, fit, render

        what = "trace rows" if trace else "rows"
        head = df.head(MAX_TABLE_ROWS)
        wanted, same = choose(df, trace=trace)
        shown, left = fit(head, wanted, Console().width)
        notes = []
        if same:
            notes.append("the same in every row: " + ", ".join(
                f"{c}={cell(head[c].iloc[0])}" if c in ("status", "stop_step") else c for c in same))
        if left:
            notes.append("not shown (terminal width): " + ", ".join(left) + "; --columns to choose")
        if len(df) > MAX_TABLE_ROWS:
            notes.append(f"first {MAX_TABLE_ROWS} of {len(df)} {what}")
        notes.append("--csv or --json for every column and row")
        render(f"{len(df)} {what} from {st.root}", head, shown, caption="\n".join(notes))


@app.command("report")
def report_cmd(store: StoreOpt = None, out: OutOpt = DEFAULT_OUT) -> None:
    """Rebuild the report site (--out/site/index.html, one page per paper) from --out (figures,
    claims.json) and the store; prints the index's path."""
    from .report import write_report

    if not out.is_dir():
        raise SpecError(f"--out {str(out)!r}: no such directory; accepted: an output directory written by "
                        "`overparam reproduce`")
    typer.echo(str(write_report(out, existing_store(store))))


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


study_app = typer.Typer(help="Studies that compare methods over a grid of problems (docs/phase_transition.md, "
                        "docs/studies.md).",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(study_app, name="study")


@study_app.command("phase-transition")
def phase_transition_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="d = 10, r = 1..3, 6 ratios, 4 trials (minutes)")] = False,
    methods: Annotated[str | None, typer.Option("--methods", help="Comma-separated subset of gd, gd_tiny, "
                                                                  "projected_gd, nuclear_norm, scaled_gd, ipgd_plus "
                                                                  "[default: all; nuclear_norm only with cvxpy]")]
    = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Recovered: relative error below this "
                                                                        "[default: 1e-2]")] = None,
    store: StoreOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for the tables and heatmaps")]
    = DEFAULT_OUT / "phase_transition",
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    threads: ThreadsOpt = "1",
    claim_timeout: ClaimTimeoutOpt = "600",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Probability of exact recovery over m/(dr) and r for six methods: heatmaps (PNG + PDF), the table
    (CSV + JSON) and the 50% boundaries at thresholds 1e-2, 1e-3, 1e-5; stored runs are reused (see
    overparam.studies.phase_transition)."""
    from .studies.phase_transition import run as run_study

    n_workers, n_threads = workers_count(workers), _check_threads(positive_int("--threads", threads))
    check_dask(dask)
    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods is not None else None
    res = run_study(quick=quick, methods=chosen, store=store_at(store, claim_timeout), out=out, workers=n_workers, dask=dask,
                    threads=n_threads, progress=progress(quiet or as_json), threshold=threshold)
    print_failures(res.failed, store_at(store))
    if as_json:
        typer.echo(json.dumps({**res.as_dict(), "boundaries": json.loads(res.boundaries.to_json(orient="records")),
                               "boundaries_by_threshold": json.loads(res.threshold_boundaries.to_json(
                                   orient="records"))}, indent=1))
    elif not quiet:
        for name, why in res.skipped_methods.items():
            typer.echo(f"skipped {name}: {why}", err=True)
        tb = res.threshold_boundaries.set_index(["threshold", "method", "r"])
        ts = sorted(set(res.threshold_boundaries["threshold"]), reverse=True)

        def at(t, b) -> str:
            row = tb.loc[(t, b.method, b.r)]
            return "-" if row["bound"] == "above" else f"{row['boundary_ratio']:.3g}" + (
                " (≤)" if row["bound"] == "below" else "")

        rows = [[b.method, str(b.r), *(at(t, b) for t in ts), f"{b.information_ratio:.3g}", f"{b.psd_dof_ratio:.3g}"]
                for b in res.boundaries.itertuples()]
        table("50% recovery boundary, m/(dr), at each recovery threshold (-: above the grid, ≤: below it)",
              ["method", "r", *(f"< {t:g}" for t in ts), "r(2d-r)/(dr)", "PSD dof/(dr)"], rows)
        typer.echo(f"figures: {res.files['png']}, {res.files['pdf']}")
        typer.echo(f"tables: {res.files['table_csv']}, {res.files['boundaries_csv']}, "
                   f"{res.files['thresholds_csv']}, {res.files['json']}")
        _study_store_line(res, store)
    if res.failed:
        raise typer.Exit(1)


@study_app.command("init-scale")
def init_scale_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="d = 10, r = 1..3, 11 ratios, 9 init scales, 4 trials "
                                                        "(minutes)")] = False,
    budget_check: Annotated[bool, typer.Option("--budget-check", help="Also rerun every trial with 2x the steps and "
                                                                      "report how many grid cells each boundary "
                                                                      "moves (at most 1 passes)")] = False,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Recovered: relative error below this "
                                                                        "[default: 1e-2]")] = None,
    store: StoreOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for the tables and heatmaps")]
    = DEFAULT_OUT / "init_scale",
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    threads: ThreadsOpt = "1",
    claim_timeout: ClaimTimeoutOpt = "600",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Probability that small-init GD (UU^T, k = d, U_0 = alpha I) recovers X*, over the init scale alpha
    and m/(dr), per rank r, beside trace minimization's boundary: heatmaps (PNG + PDF), the table and
    the 50% boundary per alpha and r (CSV + JSON); stored runs are reused (see overparam.studies.init_scale)."""
    from .studies.init_scale import boundary_matrix
    from .studies.init_scale import run as run_study

    n_workers, n_threads = workers_count(workers), _check_threads(positive_int("--threads", threads))
    check_dask(dask)
    res = run_study(quick=quick, store=store_at(store, claim_timeout), out=out, workers=n_workers, dask=dask,
                    threads=n_threads, progress=progress(quiet or as_json), threshold=threshold,
                    budget_check=budget_check)
    print_failures(res.failed, store_at(store))
    if as_json:
        payload = {**res.as_dict(), "boundaries": json.loads(res.boundaries.to_json(orient="records"))}
        if res.budget_check is not None:
            payload["budget_check"] = json.loads(res.budget_check.to_json(orient="records"))
        typer.echo(json.dumps(payload, indent=1))
    elif not quiet:
        for name, why in res.skipped.items():
            typer.echo(f"skipped {name}: {why}", err=True)
        m = boundary_matrix(res.boundaries, res.grid)
        table("50% recovery boundary, m/(dr) (> x: above the grid, ≤ x: below it)", list(m.columns),
              [list(map(str, row)) for row in m.itertuples(index=False)])
        if res.budget_check is not None:
            bc = res.budget_check
            f = res.grid.check_factor
            rows = [[f"{b.alpha:g}", str(b.r), "-" if b.bound == "above" else f"{b.boundary_ratio:.3g}",
                     "-" if getattr(b, f"bound_x{f}") == "above" else f"{getattr(b, f'boundary_ratio_x{f}'):.3g}",
                     f"{b.shift_cells:.2f}", str(b.changed), "ok" if b.ok else "MOVED"]
                    for b in bc.itertuples(index=False)]
            table(f"budget check: {res.grid.steps} vs {f * res.grid.steps} steps", ["alpha", "r", "boundary",
                  f"boundary x{f}", "shift (cells)", "trials changed", ""], rows)
            typer.echo("budget check: " + ("every boundary moved by at most one grid cell" if res.budget_ok else
                                           f"{int((~bc['ok']).sum())} boundaries moved by more than one grid cell: "
                                           "they are step-limited at this budget"))
        typer.echo(f"figures: {res.files['png']}, {res.files['pdf']}")
        typer.echo("tables: " + ", ".join(str(v) for k, v in res.files.items() if k.endswith(("csv", "json"))))
        _study_store_line(res, store)
    if res.failed:
        raise typer.Exit(1)


@study_app.command("glrl")
def glrl_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="d = 8, 3 seeds, short budgets (seconds)")] = False,
    store: StoreOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for the figures, glrl.json and claims")]
    = DEFAULT_OUT / "glrl",
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    threads: ThreadsOpt = "1",
    claim_timeout: ClaimTimeoutOpt = "600",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """GD against greedy low-rank learning (GLRL) and against the minimum-trace solution on both sides of the
    trace-minimization threshold: two figures, glrl.json and the extension claim (claims.json, claims.md)."""
    from .studies.glrl import run as run_study

    n_workers, n_threads = workers_count(workers), _check_threads(positive_int("--threads", threads))
    check_dask(dask)
    res = run_study(quick=quick, store=store_at(store, claim_timeout), out=out, workers=n_workers, dask=dask,
                    threads=n_threads, progress=progress(quiet or as_json))
    print_failures(res.failed, store_at(store))
    if as_json:
        typer.echo(json.dumps(res.as_dict(), indent=1))
    elif not quiet:
        rows = [[str(c["seed"]), f"{c['alpha']:g}", ", ".join(f"{v:.2g}" for v in c["closest"]),
                 "yes" if c["in_turn"] else "no"] for c in res.closest]
        table("closest approach of GD to GLRL's X_1, X_2, ... (relative to ||X*||)", ["seed", "alpha", "closest",
                                                                                   "in turn"], rows)
        typer.echo(f"claim {res.claim.id}: {res.claim.verdict}"
                   + (f" ({res.claim.stability.get('spread')})" if res.claim.stability.get("spread") else ""))
        typer.echo("files: " + ", ".join(str(p) for p in res.files.values()))
        _study_store_line(res, store)
    if res.failed:
        raise typer.Exit(1)


@study_app.command("depth")
def depth_cmd(
    quick: Annotated[bool, typer.Option("--quick", help="d = 20, r = 2, 4 entry counts, 3 seeds (about a minute)")]
    = False,
    budget_check: Annotated[bool | None, typer.Option("--budget-check/--no-budget-check",
                                                      help="Also train trials further (2x the steps, a 10x lower "
                                                           "target) and compare [default: full mode only]")] = None,
    nuclear: Annotated[bool, typer.Option("--nuclear/--no-nuclear",
                                          help="Add the nuclear-norm minimizer (needs cvxpy)")] = True,
    store: StoreOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for the tables and the figure")] = DEFAULT_OUT / "depth",
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    threads: ThreadsOpt = "1",
    claim_timeout: ClaimTimeoutOpt = "600",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Deep matrix factorization (N = 1, 2, 3) on matrix completion: unobserved-entry error and effective
    rank against the number of observed entries, beside the nuclear-norm minimizer: the figure (PNG + PDF)
    and tables (CSV + JSON); stored runs are reused (see overparam.studies.depth)."""
    from .studies.depth import budget_verdict
    from .studies.depth import run as run_study

    n_workers, n_threads = workers_count(workers), _check_threads(positive_int("--threads", threads))
    check_dask(dask)
    res = run_study(quick=quick, store=store_at(store, claim_timeout), out=out, workers=n_workers, dask=dask,
                    threads=n_threads, progress=progress(quiet or as_json), budget_check=budget_check,
                    nuclear=nuclear)
    print_failures(res.failed, store_at(store))
    if as_json:
        typer.echo(json.dumps({**res.as_dict(), "budget_check": budget_verdict(res.budget),
                               "summary": json.loads(res.summary.to_json(orient="records"))}, indent=1))
    elif not quiet:
        for name, why in res.skipped.items():
            typer.echo(f"skipped {name}: {why}", err=True)
        rows = [[s.method, str(s.m), f"{s.median_unobserved_error:.3g}", f"{s.median_effective_rank:.3g}",
                 f"{s.median_numerical_rank:.3g}", str(s.trials)] for s in res.summary.itertuples()]
        table("median over trials", ["method", "m", "unobserved error", "effective rank", "numerical rank",
                                     "trials"], rows)
        if res.budget is not None:
            v = budget_verdict(res.budget)
            typer.echo(f"budget check (2x steps, 10x lower target): {v['compared']} runs, {v['both_converged']} "
                       f"reached both targets; largest change: unobserved error {v['max_change_unobserved_error']:.2g}, "
                       f"effective rank {v['max_change_effective_rank']:.2g}, numerical rank "
                       f"{v['max_change_numerical_rank']:.2g}")
        typer.echo(f"figures: {res.files['png']}, {res.files['pdf']}")
        typer.echo(f"tables: {res.files['summary_csv']}, {res.files['outcomes_csv']}, {res.files['json']}")
        _study_store_line(res, store)
    if res.failed:
        raise typer.Exit(1)


def _study_store_line(res, store: Path | None) -> None:
    """A study's last line: the store, how many of its runs and computations were computed, the wall time."""
    typer.echo(f"store: {store_at(store).root} ({res.runs_computed} of {res.runs_total} runs and "
               f"{res.computations_computed} of {res.computations_total} computations computed; "
               f"{res.wall_time:.1f}s)")


def _check_threads(n: int) -> int:
    """``--threads`` within :func:`overparam.backend.max_threads` (imported here, not at the top: the
    backend imports torch, and ``overparam --help`` must not)."""
    from .backend import check_threads

    return check_threads(n, "--threads")


def main(argv: list[str] | None = None) -> None:
    """Console entry point (see the module docstring for exit statuses)."""
    run_app(app, argv)


if __name__ == "__main__":  # pragma: no cover
    main()
