"""The HTML of the report site: the index and one page per paper. Every text is HTML-escaped here
(:func:`esc`); links and image sources are relative, so the site opens from the file system."""

from __future__ import annotations

import html
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .. import figstyle
from ..experiments.claims import VERDICTS, fmt, headline, is_paper_claim, revised_text, versus_text
from ..papers.base import Paper
from .collect import FigureFiles, Provenance


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def href(path: str) -> str:
    """A relative URL for a site-relative POSIX path (each segment percent-encoded)."""
    return "/".join(urllib.parse.quote(part) for part in path.split("/"))


@dataclass
class PaperView:
    """One paper as the site shows it: its figures in this output, its claims (``claims.json``
    dicts), the provenance of its runs, and the relative links of its figures' PNG and PDF."""

    paper: Paper
    figures: list[FigureFiles]
    claims: list[dict[str, Any]]
    provenance: Provenance | None
    png: dict[str, str] = field(default_factory=dict)  # figure id -> site-relative PNG path
    pdf: dict[str, str] = field(default_factory=dict)  # figure id -> site-relative PDF path

    @property
    def page(self) -> str:
        return f"{self.paper.id}.html"


@dataclass
class SiteView:
    """Everything the index shows."""

    title: str
    mode: str
    device: str
    generated: str
    version: str
    store: str
    store_summary: dict[str, Any]
    papers: list[PaperView]
    absent: list[Paper]  # implemented, but nothing of it in this output
    planned: list[Paper]


def verdict_badge(verdict: str) -> str:
    return f"<span class='badge v-{esc(verdict.replace(' ', '-'))}'>{esc(verdict)}</span>"


def mode_badge(mode: str) -> str:
    return f"<span class='badge mode mode-{esc(mode)}'>{esc(mode)} mode</span>"


def _badges(claims: list[dict[str, Any]]) -> str:
    return "".join(f"<span class='badge v-{v.replace(' ', '-')}'>{n} {esc(v)}</span>"
                   for v in VERDICTS if (n := sum(c.get("verdict") == v for c in claims)))


def counts_html(claims: list[dict[str, Any]]) -> str:
    """Verdict counts, the paper's claims (experiment + theorem) apart from our extensions, so that
    no count of the paper's claims holds a claim the authors did not make."""
    paper = [c for c in claims if is_paper_claim(c)]
    ext = [c for c in claims if c.get("kind") == "extension"]
    other = [c for c in claims if c not in paper and c not in ext]
    parts = [f"<span class='small muted'>{label}</span> {_badges(group)}"
             for label, group in ((_n(len(paper), "paper claim"), paper), (_n(len(ext), "extension"), ext),
                                  (_n(len(other), "unlabelled claim"), other)) if group]
    return f"<div class='counts'>{' '.join(parts) or '<span class=muted>no claims checked</span>'}</div>"


def kind_badge(kind: str) -> str:
    return f"<span class='badge kind kind-{esc(kind or 'unlabelled')}'>{esc(kind or 'unlabelled')}</span>"


def _page(title: str, header: str, body: str, footer: str) -> str:
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{esc(title)}</title><link rel='stylesheet' href='style.css'></head>\n<body>"
            f"<header class='top'><div class='wrap'>{header}</div></header>\n"
            f"<main class='wrap'>{body}</main>\n<footer class='wrap'>{footer}</footer></body></html>\n")


def _clip(text: str, n: int = 140) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _number(c: dict[str, Any]) -> str:
    """The claim's key number against the paper's, clipped (the paper page has them in full)."""
    name, ours, paper = (_clip(x) for x in headline(c))
    text = f"{esc(name)}: <b>{esc(ours)}</b>" if name else f"<b>{esc(ours)}</b>"
    return text + (f" <span class='muted'>(paper: {esc(paper)})</span>" if paper else "")


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _span(p: Provenance | None) -> str:
    if p is None or not p.first:
        return ""
    first, last = p.first[:16].replace("T", " "), p.last[:16].replace("T", " ")
    return first if first == last else f"{first} – {last}"


def _merged(views: list[PaperView]) -> Provenance:
    """The provenance of every paper in the site together."""
    out = Provenance()
    for v in views:
        p = v.provenance
        if p is None:
            continue
        out.runs += p.runs
        out.stored += p.stored
        out.computations += p.computations
        out.computations_stored += p.computations_stored
        out.wall_time += p.wall_time
        for name in ("versions", "git_commits", "torch", "devices", "hosts"):
            getattr(out, name).extend(x for x in getattr(p, name) if x not in getattr(out, name))
        if p.first:
            out.first = min(out.first or p.first, p.first)
            out.last = max(out.last, p.last)
    return out


def index_html(site: SiteView) -> str:
    """The index: every paper with its verdict counts, each claim's verdict and key number, and each
    figure as a thumbnail linking to its paper page; planned papers listed as planned."""
    allp = _merged(site.papers)
    devices = ", ".join(allp.devices) or site.device
    when = _span(allp) or "—"
    header = (f"<h1>{esc(site.title)}</h1><div class='sub'>{mode_badge(site.mode)} &nbsp;runs computed "
              f"{esc(when)} on <b>{esc(devices)}</b> · overparam {esc(', '.join(allp.versions) or site.version)}"
              f"{' · commit <code>' + esc(', '.join(c[:12] for c in allp.git_commits)) + '</code>' if allp.git_commits else ''}"
              f" · site generated {esc(site.generated)}</div>")
    body = []
    claims = [c for v in site.papers for c in v.claims]
    rows = []
    for v in site.papers:
        mine = [c for c in v.claims if is_paper_claim(c)]
        ext = [c for c in v.claims if not is_paper_claim(c)]
        cells = "".join(f"<td class='n{' zero' if not n else ''}'>{n}</td>"
                        for n in (sum(c.get("verdict") == verdict for c in mine) for verdict in VERDICTS))
        ext_text = ", ".join(f"{n} {verdict}" for verdict in VERDICTS
                             if (n := sum(c.get("verdict") == verdict for c in ext)))
        rows.append(f"<tr><td><a href='{href(v.page)}'><b>{esc(v.paper.id)}</b></a> "
                    f"<span class='muted small'>{esc(v.paper.citation)}</span></td>"
                    f"<td class='n'>{len(v.figures)}</td><td class='n'>{len(mine)}</td>{cells}"
                    f"<td class='n'>{len(ext)}</td><td class='small'>{esc(ext_text)}</td></tr>")
    head = "".join(f"<th style='text-align:center'>{esc(v)}</th>" for v in VERDICTS)
    body.append(f"<div class='card'><div class='cardhead'><h2>Verdicts</h2>{counts_html(claims)}</div>"
                f"<table class='overview'><tr><th>paper</th><th style='text-align:center'>figures</th>"
                f"<th style='text-align:center'>paper claims</th>{head}"
                f"<th style='text-align:center'>extensions</th><th>their verdicts</th></tr>{''.join(rows)}</table>"
                f"<p class='small muted' style='margin:.7em 0 0'>store <code>{esc(site.store)}</code>: "
                f"{site.store_summary.get('runs', 0)} runs, {site.store_summary.get('failures', 0)} failed · "
                f"{allp.stored} of {allp.runs} runs and {allp.computations_stored} of {allp.computations} "
                f"computations of these papers stored, {allp.wall_time / 60:.1f} min of compute</p></div>")
    for v in site.papers:
        glance = "".join(f"<tr><td class='id'><a href='{href(v.page)}#{esc(c['id'])}'>{esc(c['id'])}</a></td>"
                         f"<td class='v'>{verdict_badge(c['verdict'])}{measured_at(c, site.mode)}{_spread(c)}</td><td>"
                         f"{kind_badge(c.get('kind', '')) + ' ' if not is_paper_claim(c) else ''}"
                         f"{esc(c.get('statement', ''))}"
                         f"<div class='num'>{_number(c)}</div></td></tr>" for c in v.claims)
        thumbs = "".join(f"<a href='{href(v.page)}#{esc(f.figure.id)}' title='{esc(f.figure.title)}'>"
                         f"<img src='{href(v.png[f.figure.id])}' alt='{esc(f.figure.id)}' loading='lazy'>"
                         f"<b>{esc(f.figure.id)}</b><br>{esc(f.figure.title)}</a>" for f in v.figures)
        body.append(f"<section class='card' id='{esc(v.paper.id)}'><div class='cardhead'><div>"
                    f"<h2><a href='{href(v.page)}'>{esc(v.paper.title)}</a></h2>"
                    f"<div class='muted small'>{esc(v.paper.citation)} · <code>{esc(v.paper.id)}</code></div></div>"
                    f"{counts_html(v.claims)}</div>"
                    f"{'<table class=glance>' + glance + '</table>' if glance else ''}"
                    f"{'<div class=thumbs>' + thumbs + '</div>' if thumbs else ''}</section>")
    for p in site.absent:
        body.append(f"<section class='card planned'><h2>{esc(p.title)}</h2><div class='small'>{esc(p.citation)} · "
                    f"<code>{esc(p.id)}</code> — implemented, not reproduced in this output directory "
                    f"(<code>overparam reproduce {esc(p.id)}</code>)</div></section>")
    for p in site.planned:
        body.append(f"<section class='card planned'><h2>{esc(p.title)}</h2><div class='small'>{esc(p.citation)} · "
                    f"<code>{esc(p.id)}</code> — planned: no figures or claims yet</div></section>")
    footer = ("Verdicts: <b>reproduced</b> — the claim holds as the paper states it, sizes included; "
              "<b>partly reproduced</b> — the direction holds but a stated size does not, or only some settings "
              "agree; <b>not reproduced</b> — the measurement contradicts the claim; <b>inconclusive</b> — not "
              "enough runs to decide, or the verdict changes with the data seed or within a threshold's plausible "
              "range. Each criterion was written before the full-mode run. Kinds: <b>experiment</b> — the paper "
              "shows it in a figure or table; <b>theorem</b> — the paper proves it, we test it numerically; "
              "<b>extension</b> — ours, not stated by the paper (counted apart from the paper's claims). Also: "
              "<a href='../claims.md'>claims.md</a>, <a href='../claims.json'>claims.json</a>.")
    return _page(site.title, header, "".join(body), footer)


def _spread(c: dict[str, Any]) -> str:
    """Beside an unstable verdict: how the seeds and threshold ends split."""
    st = c.get("stability") or {}
    if not st or st.get("stable", True) or not st.get("spread"):
        return ""
    return f"<div class='small muted'>{esc(st['spread'])}</div>"


def measured_at(c: dict[str, Any], mode: str) -> str:
    """Under a verdict: the mode and the sizes it was measured at (``quick · d = 40, r = 1, m = 200``)."""
    sizes = c.get("sizes") or ""
    return f"<div class='small muted at'>{esc(mode)}{' · ' + esc(sizes) if sizes else ''}</div>"


def _claim_rows(c: dict[str, Any], mode: str) -> str:
    """Two rows per claim: id, statement, verdict, the paper's value and ours; then (full width) the
    criterion, the revised criterion, the note, and the setting with every measurement."""
    paper_says, ours = versus_text(c.get("versus") or {}, "\n")
    if not paper_says:
        paper_says = c.get("paper_value", "")
        ours = "\n".join(f"{k} = {fmt(v)}" for k, v in list((c.get("measured") or {}).items())[:3])

    def lines(text: str) -> str:
        return "<br>".join(esc(line) for line in text.split("\n"))

    more = []
    src = c.get("source") or {}
    if src.get("quote"):
        more.append(f"<blockquote class='source'>“{esc(src['quote'])}” "
                    f"<span class='muted small'>({esc(src.get('section', ''))})</span></blockquote>")
    more.append(f"<p><span class='label'>Criterion</span> {esc(c.get('criterion', ''))}</p>")
    if c.get("criterion_revised"):
        more.append(f"<div class='revised'>{esc(revised_text(c['criterion_revised']))}</div>")
    st = c.get("stability") or {}
    if st:
        ranges = ", ".join(f"{k} ∈ [{lo:g}, {hi:g}]" for k, (lo, hi) in (st.get("thresholds") or {}).items())
        seeds = st.get("seeds", 1)
        more.append(f"<p><span class='label'>Stability</span> {'stable' if st.get('stable') else 'not stable'} over "
                    f"{_n(seeds, 'data seed')}{' and ' + esc(ranges) if ranges else ''}"
                    f"{' — ' + esc(st['spread']) if st.get('spread') else ''}</p>")
    if c.get("note"):
        more.append(f"<p><span class='label'>Note</span> {esc(c['note'])}</p>")
    measured = "".join(f"<li>{esc(k)} = {esc(fmt(v))}</li>" for k, v in (c.get("measured") or {}).items())
    fig = f" · reads <a href='#{esc(c['figure'])}'>{esc(c['figure'])}</a>" if c.get("figure") else ""
    more.append(f"<details><summary>setting and every measurement</summary><p>{esc(c.get('setting', ''))}{fig}</p>"
                f"<ul>{measured}</ul></details>")
    return (f"<tbody id='{esc(c['id'])}'><tr class='head'><td><b>{esc(c['id'])}</b> {kind_badge(c.get('kind', ''))}"
            f"<br>{esc(c.get('statement', ''))}"
            f"</td><td class='v'>{verdict_badge(c['verdict'])}{measured_at(c, mode)}{_spread(c)}</td>"
            f"<td>{lines(paper_says)}</td>"
            f"<td>{lines(ours)}</td></tr><tr class='more'><td colspan='4'>{''.join(more)}</td></tr></tbody>")


def _provenance_html(v: PaperView, site: SiteView) -> str:
    p = v.provenance
    rows: list[tuple[str, str]] = [("mode", mode_badge(site.mode)), ("device asked", esc(site.device))]
    if p is not None:
        replicas = ", ".join(f"{n} {s}" for s, n in sorted(p.replicas.items()))
        rows += [("runs", f"{p.stored} of {p.runs} stored" + (f" ({esc(replicas)} replicas)" if replicas else "")),
                 ("computations", f"{p.computations_stored} of {p.computations} stored"),
                 ("computed", esc(_span(p) or "—") + f" · {p.wall_time / 60:.1f} min of compute"),
                 ("devices", esc(", ".join(p.devices) or "—")),
                 ("overparam", esc(", ".join(p.versions) or "—")),
                 ("git commit", "<br>".join(f"<code>{esc(c)}</code>" for c in p.git_commits) or "—"),
                 ("torch", esc(", ".join(p.torch) or "—")),
                 ("hosts", esc(", ".join(p.hosts) or "—"))]
    rows += [("store", f"<code>{esc(site.store)}</code>"), ("site generated", esc(site.generated) +
                                                           f" by overparam {esc(site.version)}")]
    if v.paper.docs:
        rows.append(("notes", f"<code>{esc(v.paper.docs)}</code> in the repository"))
    return "<dl class='prov'>" + "".join(f"<dt>{k}</dt><dd>{val}</dd>" for k, val in rows) + "</dl>"


def paper_html(v: PaperView, site: SiteView) -> str:
    """One paper: each figure beside its setting and what the paper reports, the claims table, and
    the provenance of the runs."""
    header = (f"<div class='crumb'><a href='index.html'>← {esc(site.title)}</a></div>"
              f"<h1>{esc(v.paper.title)}</h1><div class='sub'>{esc(v.paper.citation)} · "
              f"{mode_badge(site.mode)}</div>")
    body = [f"<div class='card'><div class='cardhead'><h2>{esc(v.paper.id)}: {_n(len(v.figures), 'figure')}, "
            f"{_n(len(v.claims), 'claim')}</h2>{counts_html(v.claims)}</div></div>"]
    for f in v.figures:
        fig = f.figure
        readers = [c["id"] for c in v.claims if c.get("figure") == fig.id]
        text = [f"<div class='head'><h2>{esc(fig.title)}</h2><div class='muted small'><code>{esc(fig.id)}</code>"
                + (f" · <a href='{href(v.pdf[fig.id])}'>PDF</a>" if fig.id in v.pdf else "") + "</div></div>"]
        if fig.setting:
            text.append(f"<div><div class='label'>Setting</div><p>{esc(fig.setting)}</p></div>")
        if fig.paper_reports:
            text.append(f"<div><div class='label'>The paper reports</div><p>{esc(fig.paper_reports)}</p></div>")
        if readers:
            links = " ".join(f"<span class='nowrap'><a href='#{esc(r)}'>{esc(r)}</a> {verdict_badge(c['verdict'])}</span>"
                             for r in readers for c in v.claims if c["id"] == r)
            text.append(f"<div><div class='label'>Claims that read it</div><p>{links}</p></div>")
        size = f.size
        wide = size is not None and figstyle.is_wide(*size)  # two-column figures: full width, text below
        dims = f" width='{size[0]}' height='{size[1]}'" if size else ""
        body.append(f"<section class='card fig{' wide' if wide else ''}' id='{esc(fig.id)}'>"
                    f"<a href='{href(v.png[fig.id])}'><img src='{href(v.png[fig.id])}'{dims} "
                    f"alt='{esc(fig.id)}: {esc(fig.title)}'></a><div class='text'>{''.join(text)}</div></section>")
    if v.claims:
        body.append("<h3>Claims</h3><table class='claims'><colgroup><col style='width:36%'><col style='width:12%'>"
                    "<col style='width:26%'><col style='width:26%'></colgroup><thead><tr><th>claim</th><th>verdict</th>"
                    "<th>the paper's value</th><th>our value</th></tr></thead>"
                    + "".join(_claim_rows(c, site.mode) for c in v.claims) + "</table>")
    body.append(f"<h3>Provenance</h3><div class='card'>{_provenance_html(v, site)}</div>")
    footer = "<a href='index.html'>All papers</a> · <a href='../claims.md'>claims.md</a>"
    return _page(f"{v.paper.id} — {site.title}", header, "".join(body), footer)
