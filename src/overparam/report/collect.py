"""What the report site shows, gathered from an output directory and a store (no HTML here).

* :func:`load_claims` — ``<out>/claims.json`` (mode, device, claims, counts), or an empty record;
* :func:`figure_files` — each declared figure's PNG and PDF, paired by **figure id**: the paths
  ``reproduce`` drew, or ``<out>/<figure id>.png`` / ``.pdf`` when rebuilding (never a file-name prefix);
* :func:`runs_provenance` — versions, git commits, devices, hosts, times and counts of the stored
  runs and computations a paper's figures and claims read, from each run's ``meta.json``;
* :func:`store_summary` — runs, replicas by status and failed runs of the whole store.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

from ..experiments.computations import Computation
from ..experiments.errors import SpecError, one_line
from ..experiments.spec import RunSpec
from ..experiments.store import Store
from ..papers.base import Context, Figure, Paper


class ClaimsFileError(SpecError):
    """``<out>/claims.json`` exists but is not a claims file as ``reproduce`` writes it."""


def load_claims(out_dir: Path) -> dict[str, Any]:
    """``<out>/claims.json`` as written by :func:`overparam.experiments.claims.write_claims`; without
    one, ``{"mode": "?", "claims": [], "counts": {}}``. A file that is not one (not UTF-8 JSON, not a
    table, ``mode``/``device`` not text, ``claims`` not a list of claims with their fields of the right
    types, ``counts`` not a table) raises a one-line :class:`ClaimsFileError` naming the file."""
    path = Path(out_dir) / "claims.json"
    if not path.exists():
        return {"mode": "?", "claims": [], "counts": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        problem = _claims_problem(data)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problem = f"not UTF-8 JSON ({one_line(exc)})"
    if problem:
        raise ClaimsFileError(f"claims file {str(path)!r}: not a claims.json written by `overparam reproduce`: "
                              f"{problem}; accepted: remove it, or reproduce into this --out again")
    return {"mode": "?", "claims": [], "counts": {}, **data}


def _claims_problem(data: Any) -> str | None:
    """What makes ``data`` not the content of a claims.json (None when it is one)."""
    from dataclasses import fields

    from ..experiments.claims import VERDICTS, Claim

    if not isinstance(data, dict):
        return f"expected a table, got {type(data).__name__}"
    for key in ("mode", "device"):
        if key in data and not isinstance(data[key], str):
            return f"{key} = {data[key]!r}: expected text"
    if not isinstance(data.get("counts", {}), dict):
        return f"counts = {data['counts']!r}: expected a table"
    claims = data.get("claims", [])
    if not isinstance(claims, list):
        return f"claims = {claims!r}: expected a list of claims"
    names = {f.name for f in fields(Claim)}
    text = ("id", "paper", "statement", "setting", "paper_value", "verdict", "note", "criterion", "criterion_revised")
    tables = ("measured", "versus", "extra", "headline")
    for i, c in enumerate(claims):
        if not isinstance(c, dict):
            return f"claims[{i}] = {c!r}: expected a table"
        bad = next((k for k in text if k in c and not isinstance(c[k], str)), None) or next(
            (k for k in tables if k in c and not isinstance(c[k], dict)), None)
        if bad is not None:
            return f"claims[{i}].{bad} = {c[bad]!r}: expected {'text' if bad in text else 'a table'}"
        if c.get("figure") is not None and not isinstance(c["figure"], str):
            return f"claims[{i}].figure = {c['figure']!r}: expected text or none"
        if any(not isinstance(v, dict) for v in c.get("versus", {}).values()):
            return f"claims[{i}].versus: expected a table of {{paper, ours}} tables"
        missing = [f.name for f in fields(Claim) if f.name in names and f.name not in c
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            return f"claims[{i}]: missing {missing[0]!r}"
        if c["verdict"] not in VERDICTS:
            return f"claims[{i}].verdict = {c['verdict']!r}: accepted: {', '.join(VERDICTS)}"
    return None


@dataclass
class FigureFiles:
    """One drawn figure: its declaration and the files ``reproduce`` wrote (PNG required, PDF optional)."""

    figure: Figure
    png: Path
    pdf: Path | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) in pixels from the PNG header, or None if it is not a PNG."""
        with self.png.open("rb") as fh:
            head = fh.read(24)
        if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
            return None
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def figure_files(paper: Paper, out_dir: Path, drawn: dict[str, list[Path]] | None) -> list[FigureFiles]:
    """The figures of ``paper`` present in this output, in declaration order. ``drawn`` maps figure
    ids to the paths drawn (``reproduce`` passes it; a figure it does not name is absent); ``None``:
    look for ``<out>/<figure id>.png`` and ``.pdf``."""
    found = []
    for fig in paper.figures:
        paths = drawn.get(fig.id, []) if drawn is not None else [Path(out_dir) / f"{fig.id}.png",
                                                                 Path(out_dir) / f"{fig.id}.pdf"]
        png = next((Path(p) for p in paths if Path(p).suffix == ".png" and Path(p).is_file()), None)
        pdf = next((Path(p) for p in paths if Path(p).suffix == ".pdf" and Path(p).is_file()), None)
        if png is not None:
            found.append(FigureFiles(fig, png, pdf))
    return found


@dataclass
class Provenance:
    """Where and how the stored runs and computations of one paper were made (``meta.json`` of each)."""

    runs: int = 0  # runs the paper's figures and claims read in this mode
    stored: int = 0  # of which are in the store
    replicas: dict[str, int] = field(default_factory=dict)  # replicas by status
    computations: int = 0
    computations_stored: int = 0
    versions: list[str] = field(default_factory=list)
    git_commits: list[str] = field(default_factory=list)
    torch: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    first: str = ""  # earliest ``finished`` time of a run
    last: str = ""  # latest
    wall_time: float = 0.0  # seconds, summed over runs and computations


def _add(values: list[str], v: Any) -> None:
    if v is not None and str(v) not in values:
        values.append(str(v))


def runs_provenance(store: Store, specs: list[RunSpec], computations: list[Computation] = ()) -> Provenance:
    """The provenance of ``specs`` (deduplicated by key) and ``computations`` as found in ``store``."""
    prov = Provenance()
    keys = list(dict.fromkeys(s.key() for s in specs))
    prov.runs = len(keys)
    times = []
    for key in keys:
        if not store.has(key):
            continue
        meta = store.load(key).meta
        prov.stored += 1
        for status, n in (meta.get("status") or {}).items():
            prov.replicas[status] = prov.replicas.get(status, 0) + int(n)
        _add(prov.versions, meta.get("version"))
        _add(prov.git_commits, meta.get("git_commit"))
        _add(prov.torch, meta.get("torch"))
        _add(prov.devices, meta.get("device"))
        _add(prov.hosts, meta.get("host"))
        prov.wall_time += float(meta.get("wall_time") or 0.0)
        if meta.get("finished"):
            times.append(str(meta["finished"]))
    comps = list({c.key(): c for c in computations}.values())
    prov.computations = len(comps)
    for comp in comps:
        meta_path = comp.path(store) / "computation.json"
        if not comp.has(store):
            continue
        prov.computations_stored += 1
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            _add(prov.versions, meta.get("overparam"))
            _add(prov.torch, meta.get("torch"))
            prov.wall_time += float(meta.get("wall_time") or 0.0)
            if meta.get("created"):
                times.append(str(meta["created"]))
    if times:
        prov.first, prov.last = min(times), max(times)
    return prov


def paper_provenance(paper: Paper, store: Store, *, mode: str, device: str, figure_ids: set[str],
                     claim_ids: set[str]) -> Provenance | None:
    """:func:`runs_provenance` of the runs and computations that the figures ``figure_ids`` and the
    claims ``claim_ids`` of ``paper`` read in ``mode`` (``quick``/``full``) on ``device``; ``None``
    when the mode is unknown (no ``claims.json``)."""
    if mode not in ("quick", "full"):
        return None
    ctx = Context(store=store, quick=mode == "quick", device=device)
    specs: list[RunSpec] = []
    comps: list[Computation] = []
    items = [f for f in paper.figures if f.id in figure_ids] + [c for c in paper.claims if c.id in claim_ids]
    try:
        for item in items:
            specs += ctx.specs(item.specs)
            comps += ctx.computations(item.computations)
    except SpecError:
        return None
    return runs_provenance(store, specs, comps)


def store_summary(store: Store) -> dict[str, Any]:
    """Runs, replicas by status and failed runs in the whole store."""
    runs = 0
    status: dict[str, int] = {}
    for run in store.runs():
        runs += 1
        for rep in run.summary:
            status[rep["status"]] = status.get(rep["status"], 0) + 1
    return {"runs": runs, "replicas": status, "failures": len(store.failures())}
