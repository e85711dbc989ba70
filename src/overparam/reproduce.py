"""``reproduce()``: reproduce paper figures and check their claims, from Python or the command line.

    import overparam.reproduce as rp
    res = rp.reproduce(["li2018"], quick=True, store="results", out="output", executor="pool")
    res.figures["li2018-fig1"]        # [PNG, PDF]
    [c.verdict for c in res.claims]   # one of the four verdicts each
    res.claims_json, res.report       # res.report: <out>/site/index.html

It collects the runs (specs) and stored computations of every target, computes what the store lacks
with the chosen executor, then draws the figures and checks the claims from the store alone (on a
process pool too with ``executor="pool"`` and ``workers > 1``: :mod:`overparam.drawcheck`), and
writes ``claims.json``, ``claims.md`` and the report site (``site/index.html``, one page per
paper; ``report.html`` forwards to it, see :mod:`overparam.report`) into ``out``. ``overparam
reproduce`` calls it and only prints.
"""

from __future__ import annotations

import os
import sys
import time
import types
from dataclasses import dataclass, field, fields
from pathlib import Path

from .drawcheck import draw_and_check, worker_pool
from .experiments.claims import Claim, write_claims
from .experiments.computations import run_computations
from .experiments.errors import SpecError
from .experiments.executors import run_sweep
from .experiments.store import Store


@dataclass
class ReproduceResult:
    """What :func:`reproduce` produced: paths, claims, and what was computed or reused."""

    figures: dict[str, list[Path]]
    claims: list[Claim]
    claims_json: Path
    claims_md: Path
    report: Path  # the report site's index, <out>/site/index.html
    store: Path
    quick: bool
    runs_total: int = 0
    runs_computed: int = 0
    runs_skipped: int = 0
    runs_failed: list[tuple[str, str]] = field(default_factory=list)
    computations_computed: int = 0
    computations_skipped: int = 0
    computations_failed: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # figures not drawn, claims not checked
    pending: list[str] = field(default_factory=list)  # planned papers (no figures or claims yet)
    warnings: list[str] = field(default_factory=list)  # e.g. an earlier claims.json that was not one
    executor: str = "serial"
    wall_time: float = 0.0

    @property
    def ok(self) -> bool:
        """No run or computation failed and every figure and claim was produced."""
        return not (self.problems or self.runs_failed or self.computations_failed)

    @property
    def not_reproduced(self) -> list[str]:
        return [c.id for c in self.claims if c.verdict == "not reproduced"]


def _executor(executor: str, workers: int | None) -> tuple[int, str | None]:
    """(workers, dask) for ``executor``: ``serial``, ``pool``, ``dask`` (a LocalCluster) or an address."""
    n = workers if workers is not None else max(1, os.cpu_count() or 1)
    if executor == "serial":
        return 1, None
    if executor == "pool":
        return n, None
    if executor in ("dask", "local"):
        return n, "local"
    if "://" in executor or ":" in executor:
        return n, executor
    raise SpecError(f"executor: got {executor!r}; accepted: serial, pool, dask, or a Dask scheduler address")


def _earlier_output(out: Path, quick: bool, claims: list[Claim], drawn: dict[str, list[Path]],
                    warnings: list[str] | None = None) -> tuple[list[Claim], dict[str, list[Path]]]:
    """What an earlier ``reproduce`` of the same mode left in ``out`` for targets this call did not
    check or draw: its claims (from ``claims.json``) and its figures (``<out>/<figure id>.png``), so
    that reproducing papers one at a time into one directory builds one report. An output of the
    other mode (quick vs full) contributes nothing: its claims are replaced, never mixed with this
    mode's. A ``claims.json`` that is not one (garbage, hand-edited) contributes nothing either, and
    says so: one line appended to ``warnings`` (the CLI prints it on stderr), never a silent loss."""
    from .papers import papers
    from .report.collect import ClaimsFileError, figure_files, load_claims

    try:
        data = load_claims(out)
    except ClaimsFileError as exc:
        if warnings is not None:
            warnings.append(f"{exc}; this call's claims and figures replace the earlier output, which is not kept")
        return [], {}
    if data["mode"] != ("quick" if quick else "full"):
        return [], {}
    names = {f.name for f in fields(Claim)}
    now = {c.id for c in claims}
    kept = []
    for d in data["claims"]:
        if not isinstance(d, dict) or d.get("id") in now:
            continue
        try:
            kept.append(Claim(**{k: v for k, v in d.items() if k in names}))
        except (TypeError, ValueError):
            continue
    figures = {f.figure.id: [p for p in (f.png, f.pdf) if p is not None]
               for paper in papers().values() for f in figure_files(paper, out, None) if f.figure.id not in drawn}
    return kept, figures


def reproduce(targets: list[str] | str | None = None, *, quick: bool = False, store: Store | str | Path | None = None,
              out: str | Path = "overparam-output", executor: str = "serial", workers: int | None = None,
              threads: int = 1, device: str = "cpu", progress=None) -> ReproduceResult:
    """Reproduce ``targets`` (paper, figure or claim ids; ``None``: every implemented paper).

    Args:
        targets: ids such as ``"li2018"``, ``"li2018-fig1"``, ``"li2018-claim8"``.
        quick: the smaller settings of every figure and claim (minutes, not hours).
        store: a :class:`Store` or its directory (default ``$OVERPARAM_STORE`` or ``./overparam-results``).
        out: where figures (PNG + PDF), ``claims.json``, ``claims.md`` and the report site
            (``site/``, and ``report.html`` forwarding to it) go. Claims and figures an earlier call
            of the same mode left there for other targets are kept, so papers reproduced one at a
            time into one directory make one report; the other mode's are replaced.
        executor: ``"serial"``, ``"pool"`` (``workers`` processes), ``"dask"`` (a LocalCluster of
            ``workers``) or a Dask scheduler address; runs and computations use the same choice, and
            with ``"pool"`` the figures and claims are drawn and checked on a pool of ``workers``
            processes too (the same results, in the same order, as serially).
        threads: BLAS threads per run.
        device: ``"cpu"`` or ``"cuda"`` for every run and computation (part of their identity).
        progress (Progress | None): an :class:`overparam.experiments.executors.Progress` for the runs
            (default none).
    """
    from .papers import resolve_targets  # the papers load when a reproduction runs, not on import
    from .papers.base import Context
    from .report import write_report

    t0 = time.perf_counter()
    if isinstance(targets, str):
        targets = [targets]
    n_workers, dask = _executor(executor, workers)
    st = store if isinstance(store, Store) else Store(store)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {str(out)!r}: exists and is not a directory; accepted: a directory")
    figures, checks, pending = resolve_targets(list(targets) if targets else None)
    ctx = Context(store=st, quick=quick, device=device)
    specs, comps = [], []
    for item in (*figures, *checks):
        specs += ctx.specs(item.specs)
        comps += ctx.computations(item.computations)
    sweep = run_sweep(specs, st, workers=n_workers, dask=dask, threads=threads, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    with worker_pool(n_workers if dask is None else 1, threads) as pool:  # one start-up for both phases
        creport = run_computations(comps, st, workers=n_workers, dask=dask, threads=threads, pool=pool)
        phase = draw_and_check(figures, checks, ctx, out, pool=pool)
    drawn, claims, problems = phase.figures, phase.claims, phase.problems
    notes: list[str] = []
    kept, earlier = _earlier_output(out, quick, claims, drawn, notes)
    written = sorted(kept + claims, key=lambda c: c.paper)  # stable: each paper's claims in their order
    jpath, mpath = write_claims(written, out, quick=quick, device=device)
    html = write_report(out, st, figures={**earlier, **drawn})
    return ReproduceResult(
        figures=drawn, claims=claims, claims_json=jpath, claims_md=mpath, report=html, store=st.root, quick=quick,
        runs_total=sweep.total, runs_computed=len(sweep.computed), runs_skipped=sweep.skipped,
        runs_failed=list(sweep.failed), computations_computed=len(creport.computed),
        computations_skipped=creport.skipped, computations_failed=list(creport.failed), problems=problems,
        pending=pending, warnings=notes, executor=sweep.executor if specs else ("serial" if dask is None else "dask"),
        wall_time=time.perf_counter() - t0,
    )


__all__ = ["ReproduceResult", "reproduce"]


class _CallableModule(types.ModuleType):
    """``overparam.reproduce`` is this module *and* callable as :func:`reproduce`: ``import overparam
    as op; op.reproduce(["li2018"], quick=True)`` works whether or not the submodule was imported
    before (importing a submodule sets the package's attribute to the module)."""

    def __call__(self, *args, **kwargs) -> ReproduceResult:
        return reproduce(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
