"""The reproduction report: a self-contained offline site in ``<out>/site/``.

::

    <out>/site/index.html        every paper: verdict counts, each claim's verdict and key number,
                                 each figure as a thumbnail linking to its paper page; planned papers
    <out>/site/<paper id>.html   each figure beside the paper's setting and what the paper reports
                                 (the figure's declaration), the claims table (the paper's value, ours,
                                 verdict, criterion, revised criterion, note) and the provenance of the
                                 paper's runs (versions, git commit, torch, device, times, store, counts)
    <out>/site/style.css         the one stylesheet (system fonts; no CDN, font or script)
    <out>/site/figures/<id>.png  the figures' PNGs, copied; the PDFs are linked in ``<out>`` (``../``)
    <out>/report.html            a small page that forwards to ``site/index.html``

``reproduce()`` writes it after the figures and ``claims.json``; ``overparam report`` rebuilds it
from an output directory and a store. Figures pair with papers by **id**: each paper's declared
figure ids (the paths ``reproduce`` drew, or ``<out>/<figure id>.png`` when rebuilding), never by
file-name prefix. Links are relative, so the site opens from the file system (``file://``); the
site is written to a fresh directory and swapped in, so a figure gone from the output leaves no
stale copy.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from ..experiments.store import Store
from .collect import figure_files, load_claims, paper_provenance, store_summary
from .pages import PaperView, SiteView, index_html, paper_html
from .style import CSS

SITE_DIR = "site"


def _redirect_html() -> str:
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta http-equiv='refresh' content='0; url=site/index.html'><title>overparam report</title></head>"
            "<body><p>The report is a site: <a href='site/index.html'>site/index.html</a>.</p></body></html>\n")


def write_report(out_dir: Path, store: Store, *, figures: dict[str, list[Path]] | None = None,
                 title: str = "overparam reproduction report") -> Path:
    """Write the site ``out_dir/site/`` (and the forwarding ``out_dir/report.html``) from the
    figures and ``claims.json`` in ``out_dir`` and the runs in ``store``; returns ``site/index.html``.

    ``figures`` maps figure ids to the files drawn (``reproduce`` passes them); without it, each
    declared figure id of each paper is looked up as ``out_dir/<id>.png`` (and ``.pdf``)."""
    from .. import __version__
    from ..papers import papers

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    site_dir = out_dir / SITE_DIR
    data = load_claims(out_dir)
    mode, device = str(data.get("mode", "?")), str(data.get("device", "cpu"))
    views: list[PaperView] = []
    absent, planned = [], []
    for pid, paper in papers().items():
        if not paper.implemented:
            planned.append(paper)
            continue
        figs = figure_files(paper, out_dir, figures)
        claims = [c for c in data["claims"] if c.get("paper") == pid]
        if not figs and not claims:
            absent.append(paper)
            continue
        prov = paper_provenance(paper, store, mode=mode, device=device, figure_ids={f.figure.id for f in figs},
                                claim_ids={c["id"] for c in claims})
        view = PaperView(paper, figs, claims, prov)
        for f in figs:
            view.png[f.figure.id] = f"figures/{f.figure.id}.png"
            if f.pdf is not None:
                view.pdf[f.figure.id] = Path(os.path.relpath(f.pdf.resolve(), site_dir.resolve())).as_posix()
        views.append(view)
    site = SiteView(title=title, mode=mode, device=device, generated=time.strftime("%Y-%m-%d %H:%M %Z"),
                    version=__version__, store=str(store.root), store_summary=store_summary(store), papers=views,
                    absent=absent, planned=planned)
    tmp = out_dir / f".{SITE_DIR}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    (tmp / "figures").mkdir(parents=True)
    try:
        (tmp / "style.css").write_text(CSS)
        for v in views:
            for f in v.figures:
                shutil.copyfile(f.png, tmp / v.png[f.figure.id])
            (tmp / v.page).write_text(paper_html(v, site))
        (tmp / "index.html").write_text(index_html(site))
        old = out_dir / f".{SITE_DIR}.old.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        if site_dir.exists():
            site_dir.rename(old)
        tmp.rename(site_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    (out_dir / "report.html").write_text(_redirect_html())
    return site_dir / "index.html"


__all__ = ["SITE_DIR", "write_report"]
