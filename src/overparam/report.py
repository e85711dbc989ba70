"""The HTML reproduction report: every figure and every claim verdict on one self-contained page.

``reproduce()`` writes it after the figures and ``claims.json``; ``overparam report`` rebuilds it
from an output directory and a store. Figures pair with papers by id: each paper's declared figure
ids (the paths ``reproduce`` drew, or ``<out>/<figure id>.png`` when rebuilding), never by file
name prefix. Figures are embedded (base64 PNG), so the page can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import json
import time
from pathlib import Path
from typing import Any

from .experiments.claims import fmt, versus_text
from .experiments.store import Store

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ddd;padding:.35em .5em;
vertical-align:top;text-align:left}th{background:#f4f4f4}
.reproduced{background:#e6f4ea}.partly-reproduced{background:#eef3fb}.not-reproduced{background:#fde7e9}
.inconclusive{background:#fff4d6}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.9em;color:#555}
code{background:#f4f4f4;padding:0 .2em}
"""


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _store_summary(store: Store) -> dict[str, Any]:
    runs = 0
    status: dict[str, int] = {}
    for run in store.runs():
        runs += 1
        for rep in run.summary:
            status[rep["status"]] = status.get(rep["status"], 0) + 1
    return {"runs": runs, "replicas": status, "failures": len(store.failures())}


def _png(paths: list[Path]) -> Path | None:
    return next((Path(p) for p in paths if Path(p).suffix == ".png" and Path(p).is_file()), None)


def write_report(out_dir: Path, store: Store, *, figures: dict[str, list[Path]] | None = None,
                 title: str = "overparam reproduction report") -> Path:
    """Write ``out_dir/report.html`` from the figures and ``claims.json`` in ``out_dir``.

    ``figures`` maps figure ids to the files drawn (``reproduce`` passes them); without it, each
    declared figure id of each paper is looked up as ``out_dir/<id>.png``."""
    from . import __version__
    from .papers import papers

    out_dir = Path(out_dir)
    claims_path = out_dir / "claims.json"
    claims = json.loads(claims_path.read_text()) if claims_path.exists() else {"claims": [], "mode": "?"}
    summary = _store_summary(store)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>overparam {html.escape(__version__)} · mode: <b>{html.escape(claims.get('mode', '?'))}</b> · "
             f"generated {time.strftime('%Y-%m-%d %H:%M')} · store <code>{html.escape(str(store.root))}</code>: "
             f"{summary['runs']} runs, replicas by status {html.escape(json.dumps(summary['replicas']))}, "
             f"{summary['failures']} failed runs.</p>"]
    counts = claims.get("counts", {})
    if counts:
        parts.append("<p>Claims: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".</p>")
    for pid, paper in papers().items():
        pfigs = []
        for fig in paper.figures:
            png = _png(figures[fig.id]) if figures is not None and fig.id in figures else \
                _png([out_dir / f"{fig.id}.png"]) if figures is None else None
            if png is not None:
                pfigs.append((fig, png))
        pclaims = [c for c in claims.get("claims", []) if c.get("paper") == pid]
        parts.append(f"<h2>{html.escape(paper.title)}</h2><p>{html.escape(paper.citation)}</p>")
        if not paper.implemented:
            parts.append("<p><i>No reproduction module for this paper yet.</i></p>")
            continue
        if not pfigs and not pclaims:
            parts.append("<p><i>Not reproduced in this output directory.</i></p>")
        for fig, png in pfigs:
            claim_ids = ", ".join(c["id"] for c in pclaims if c.get("figure") == fig.id)
            parts.append(f"<figure>{_img(png)}<figcaption><b>{html.escape(fig.id)}</b>: {html.escape(fig.title)}"
                         f"{' — claims: ' + html.escape(claim_ids) if claim_ids else ''} "
                         f"(<a href='{html.escape(png.with_suffix('.pdf').name)}'>PDF</a>)</figcaption></figure>")
        if pclaims:
            parts.append("<table><tr><th>claim</th><th>verdict</th><th>paper says</th><th>we measure</th>"
                         "<th>criterion</th><th>measured (all)</th><th>setting</th><th>note</th></tr>")
            for c in pclaims:
                measured = "<br>".join(f"{html.escape(k)} = {html.escape(fmt(v))}" for k, v in c["measured"].items())
                paper_says, ours = versus_text(c.get("versus") or {}, "\n")
                if not paper_says:
                    paper_says, ours = c["paper_value"], ""
                crit = html.escape(c.get("criterion", ""))
                if c.get("criterion_revised"):
                    crit += "<br><i>revised: " + html.escape(c["criterion_revised"]) + "</i>"
                cls = c["verdict"].replace(" ", "-")
                parts.append(f"<tr class='{cls}'><td><b>{html.escape(c['id'])}</b><br>{html.escape(c['statement'])}"
                             f"</td><td>{html.escape(c['verdict'])}</td>"
                             f"<td>{html.escape(paper_says).replace(chr(10), '<br>')}</td>"
                             f"<td>{html.escape(ours).replace(chr(10), '<br>')}</td><td>{crit}</td><td>{measured}</td>"
                             f"<td>{html.escape(c['setting'])}</td><td>{html.escape(c.get('note', ''))}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    path = out_dir / "report.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
