"""What ``overparam list`` and ``overparam results`` show, as data (the CLI only prints it).

* :func:`catalog` — papers (discovered from their packages), figures, claims and the registered
  problems, parameterizations, algorithms, initializations, metrics, regularizers, stop rules and
  recipes; optionally a store summary.
* :func:`store_summary` — runs, replicas by status and recorded failures of a store.
* :func:`results_frame` — the ``results`` query: final values or traces, filtered and with chosen columns.
"""

from __future__ import annotations

import re
from typing import Any

from .experiments.errors import SpecError
from .experiments.store import Store

SECTIONS = ("papers", "figures", "claims", "problems", "params", "algorithms", "inits", "metrics", "regularizers",
            "stops", "recipes", "baselines", "studies")
ALIASES = {"parameterizations": "params", "initializations": "inits"}
_KINDS = {"problems": "problem", "params": "param", "algorithms": "algorithm", "inits": "init", "metrics": "metric",
          "regularizers": "regularizer", "stops": "stop", "recipes": "recipe"}


#: The baselines the field compares implicit regularization against (``docs/baselines.md``): what each
#: is and how to use it (a function of :mod:`overparam.baselines` or a registered part for specs).
BASELINES: tuple[dict[str, str], ...] = (
    {"name": "nuclear_norm", "summary": "Nuclear-norm minimization (trace minimization with X ⪰ 0 for PSD "
     "problems), equality-constrained or noise-aware, via cvxpy (extra overparam[convex]).",
     "use": "overparam.baselines.nuclear_norm"},
    {"name": "scaled_gd", "summary": "ScaledGD (Tong, Ma, Chi 2021): gradient steps preconditioned by (UᵀU)⁻¹.",
     "use": "algorithm scaled_gd, lam = 0"},
    {"name": "scaled_gd_lambda", "summary": "ScaledGD(λ) (Xu, Shen, Ma, Tong, Chi 2023): preconditioner "
     "(UᵀU + λI)⁻¹, for over-parameterized U.", "use": "algorithm scaled_gd, lam > 0"},
    {"name": "mirror_descent", "summary": "Mirror descent on X (Wu & Rebeschini 2021).",
     "use": "algorithm mirror_descent, param direct"},
    {"name": "deep_factorization", "summary": "Deep matrix factorization X = W_N ⋯ W_1 trained by GD "
     "(Arora, Cohen, Hu, Luo 2019).", "use": "param deep"},
    {"name": "spectral_init", "summary": "Spectral initialization (Tong, Ma, Chi 2021): the top-k part of 𝒜*(y).",
     "use": "init spectral; overparam.baselines.spectral"},
    {"name": "glrl", "summary": "Greedy low-rank learning (Li, Luo, Lyu 2021): grow X = UUᵀ one column at a time "
     "from the top eigenvector of −∇f, training by GD to convergence after each.", "use": "recipe glrl, param symmetric"},
    {"name": "truncated_svd", "summary": "The best rank-r approximation X_r of the observed matrix (Jiang, Chen, "
     "Ding 2023's baseline).", "use": "overparam.baselines.truncated_svd"},
)

_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]*)`")
_ABBREVIATIONS = ("e.g", "i.e", "i.i.d", "al", "Eq", "Eqs", "Fig", "Figs", "Sec", "vs", "cf", "Thm", "App", "resp", "approx")


def first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph, on one line, without reStructuredText
    markup (``code`` → code, :func:`a.b` → a.b, :math:`x` → x)."""
    para = (doc or "").strip().split("\n\n")[0]
    text = " ".join(para.split())
    text = _ROLE.sub(lambda m: m.group(1).split(" <")[0], text)
    text = text.replace("``", "")
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if ch == "." and depth <= 0 and (i + 1 == len(text) or text[i + 1] == " "):
            word = text[:i].rsplit(" ", 1)[-1].lstrip("(")
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            return text[: i + 1]
    return text


def studies() -> list[dict[str, str]]:
    """The studies (:mod:`overparam.studies`), each with its command."""
    import importlib
    import pkgutil

    from . import studies as pkg

    out = []
    for info in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        name = info.name.replace("_", "-")
        out.append({"name": name, "summary": first_sentence(mod.__doc__), "command": f"overparam study {name}"})
    return out


def list_lines(sections: dict[str, list[dict[str, Any]]]) -> list[str]:
    """``overparam list`` as text: a heading per section, then one line per entry (its name and one
    sentence; ``--json`` has every field)."""
    lines: list[str] = []
    for label, rows in sections.items():
        if not rows:
            continue
        lines.append(f"{label} ({len(rows)})" if lines == [] else f"\n{label} ({len(rows)})")
        width = max(len(str(r.get("id", r.get("name", r.get("root", ""))))) for r in rows)
        for r in rows:
            name = str(r.get("id", r.get("name", r.get("root", ""))))
            if label == "papers":
                text = f"{r['title']} ({r['figures']} figures, {r['claims']} claims, {r['status']})"
            elif label == "figures":
                text = r["title"]
            elif label == "claims":
                text = first_sentence(r["statement"])
            elif label == "baselines":
                text = f"{r['summary']} [{r['use']}]"
            elif label == "studies":
                text = f"{r['summary']} [{r['command']}]"
            elif label == "store":
                text = f"{r['runs']} runs, replicas {r['replicas']}, {r['failures']} recorded failures"
            else:
                text = r["summary"]
            lines.append(f"  {name:<{width}}  {text}")
    return lines


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
            entry: dict[str, Any] = {"name": name, "summary": first_sentence(getattr(obj, "doc", None) or obj.__doc__)}
            if kind != "metric":
                entry["settings"] = registry.accepted_params(kind, name)
            rows.append(entry)
        sections[label] = rows
    sections["baselines"] = [dict(b) for b in BASELINES]
    sections["studies"] = studies()
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
