"""The HTML reproduction report: every figure and every claim verdict on one self-contained page.

``overparam reproduce`` writes it after the figures and ``claims.json``; ``overparam report``
rebuilds it from an output directory and a store. Figures are embedded (base64 PNG), so the
page can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import json
import time
from pathlib import Path
from typing import Any

from .experiments.claims import fmt
from .experiments.store import Store

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ddd;padding:.35em .5em;
vertical-align:top;text-align:left}th{background:#f4f4f4}
.reproduced{background:#e6f4ea}.not-reproduced{background:#fde7e9}.inconclusive{background:#fff4d6}
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


def write_report(out_dir: Path, store: Store, *, title: str = "overparam reproduction report") -> Path:
    """Write ``out_dir/report.html`` from the figures (``*.png``) and ``claims.json`` in ``out_dir``."""
    from . import __version__
    from .papers import PAPERS

    out_dir = Path(out_dir)
    claims_path = out_dir / "claims.json"
    claims = json.loads(claims_path.read_text()) if claims_path.exists() else {"claims": [], "mode": "?"}
    figs = sorted(out_dir.glob("*.png"))
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
    for pid, paper in PAPERS.items():
        pfigs = [f for f in figs if f.stem.startswith(pid + "-")]
        pclaims = [c for c in claims.get("claims", []) if c.get("paper") == pid]
        parts.append(f"<h2>{html.escape(paper.title)}</h2><p>{html.escape(paper.citation)}</p>")
        if not paper.implemented:
            parts.append("<p><i>No reproduction module for this paper yet.</i></p>")
            continue
        if not pfigs and not pclaims:
            parts.append("<p><i>Not reproduced in this output directory.</i></p>")
        for f in pfigs:
            parts.append(f"<figure>{_img(f)}<figcaption>{html.escape(f.stem)} "
                         f"(<a href='{html.escape(f.with_suffix('.pdf').name)}'>PDF</a>)</figcaption></figure>")
        if pclaims:
            parts.append("<table><tr><th>claim</th><th>verdict</th><th>measured</th><th>paper</th>"
                         "<th>setting</th><th>note</th></tr>")
            for c in pclaims:
                measured = "<br>".join(f"{html.escape(k)} = {html.escape(fmt(v))}" for k, v in c["measured"].items())
                cls = c["verdict"].replace(" ", "-")
                parts.append(f"<tr class='{cls}'><td><b>{html.escape(c['id'])}</b><br>{html.escape(c['statement'])}"
                             f"</td><td>{html.escape(c['verdict'])}</td><td>{measured}</td>"
                             f"<td>{html.escape(c['paper_value'])}</td><td>{html.escape(c['setting'])}</td>"
                             f"<td>{html.escape(c.get('note', ''))}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    path = out_dir / "report.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
