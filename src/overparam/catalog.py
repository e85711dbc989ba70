"""What ``overparam list`` and ``overparam results`` show, as data (the CLI only prints it).

* :func:`catalog` — papers (discovered from their packages), figures, claims and the registered
  problems, parameterizations, algorithms, initializations, metrics, regularizers, stop rules and
  recipes; optionally a store summary.
* :func:`store_summary` — runs, replicas by status and recorded failures of a store.
* :func:`results_frame` — the ``results`` query: final values or traces, filtered and with chosen columns.
"""

from __future__ import annotations

from typing import Any

from .experiments.errors import SpecError
from .experiments.store import Store

SECTIONS = ("papers", "figures", "claims", "problems", "params", "algorithms", "inits", "metrics", "regularizers",
            "stops", "recipes")
ALIASES = {"parameterizations": "params", "initializations": "inits"}
_KINDS = {"problems": "problem", "params": "param", "algorithms": "algorithm", "inits": "init", "metrics": "metric",
          "regularizers": "regularizer", "stops": "stop", "recipes": "recipe"}


def store_summary(store: Store) -> dict[str, Any]:
    runs, status = 0, {}
    for run in store.runs():
        runs += 1
        for rep in run.summary:
            status[rep["status"]] = status.get(rep["status"], 0) + 1
    return {"root": str(store.root), "runs": runs, "replicas": status, "failures": len(store.failures())}


def catalog(what: str | None = None, store: Store | None = None) -> dict[str, list[dict[str, Any]]]:
    """The sections of ``overparam list`` (all but ``store`` when ``what`` is None; ``store`` is added
    when asked for or when ``store`` is given)."""
    from . import registry
    from .papers import papers

    what = ALIASES.get(what, what) if what is not None else None
    accepted = [*SECTIONS, "store"]
    if what is not None and what not in accepted:
        raise SpecError(f"list {what!r}: unknown section; accepted: {', '.join(accepted)}, parameterizations")
    ps = papers().values()
    sections: dict[str, list[dict[str, Any]]] = {
        "papers": [{"id": p.id, "title": p.title, "figures": len(p.figures), "claims": len(p.claims),
                    "status": "implemented" if p.implemented else "planned"} for p in ps],
        "figures": [{"id": f.id, "paper": f.paper, "title": f.title} for p in ps for f in p.figures],
        "claims": [{"id": c.id, "paper": c.paper, "statement": c.statement} for p in ps for c in p.claims],
    }
    for label, kind in _KINDS.items():
        rows = []
        for name in registry.names(kind):
            obj = registry.get(kind, name)
            doc = (getattr(obj, "doc", None) or obj.__doc__ or "").strip().splitlines()
            entry: dict[str, Any] = {"name": name, "summary": doc[0] if doc else ""}
            if kind != "metric":
                entry["settings"] = registry.accepted_params(kind, name)
            rows.append(entry)
        sections[label] = rows
    if what == "store" or (what is None and store is not None):
        if store is None:
            store = Store()
        if not store.root.is_dir():
            raise SpecError(f"--store {str(store.root)!r}: no such store; accepted: a directory written by "
                            "`overparam run` or `overparam reproduce`")
        sections["store"] = [store_summary(store)]
    return {what: sections[what]} if what else sections


def results_frame(store: Store, where: dict[str, Any], columns: str | None, trace: bool):
    """The ``results`` table: one row per (run, replica) — or per logged step with ``trace`` — filtered
    on equality by ``where`` (dotted names) and cut to ``columns`` (comma-separated)."""
    filters = {k.replace(".", "__"): v for k, v in where.items()}
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else []
    if columns is not None and not cols:
        raise SpecError(f"--columns {columns!r}: accepted: comma-separated column names")
    if trace:
        return store.trace_table(columns=[c for c in cols if c not in ("key", "replica")], **filters), cols
    df = store.table(**filters)
    missing = [c for c in cols if c not in df.columns]
    if missing and not df.empty:
        raise SpecError(f"--columns {missing[0]}: no such column; accepted: {', '.join(sorted(df.columns))}")
    return (df[cols] if cols and not df.empty else df), cols
