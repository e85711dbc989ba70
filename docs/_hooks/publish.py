"""Publish a reproduction's verdicts (and, in full mode, its figures) with the docs, and write each
paper page's "Verdicts, quick and full mode" section.

    PYTHONPATH=src python3 docs/_hooks/publish.py full DIR    # DIR: an `overparam reproduce --out` folder
    PYTHONPATH=src python3 docs/_hooks/publish.py quick DIR   # the same for `overparam reproduce --quick`
    PYTHONPATH=src python3 docs/_hooks/publish.py pages       # only rewrite the pages' sections

``full``: ``DIR/claims.json`` (its top-level ``"mode"`` must be ``"full"``), ``claims.md`` and every
figure's PNG (reduced to a 256-colour palette; the PDFs are not needed) go to ``docs/results/full/``.
``quick``: ``claims.json`` and ``claims.md`` go to ``docs/results/quick/`` (the quick figures are
drawn by ``figures.py`` into ``docs/figures/quick/``). The papers in ``DIR`` replace theirs in an
earlier publication; other papers' claims and figures are kept, so that one paper's full mode can
be published when its run ends (``claims.md`` is then rewritten from the merged claims). Then each
implemented paper's page gets its figure section (``figures.section``: the full-mode figure under
each quick one) and its verdict table, each verdict with the sizes it was measured at.
``tests/test_docs.py`` checks what is published.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import figures  # noqa: E402  (the sibling hook: the figure section and the palette PNG)

DOCS = figures.DOCS
RESULTS = DOCS / "results"
START = "<!-- verdicts:start (written by docs/_hooks/publish.py from docs/results/; do not edit) -->"
END = "<!-- verdicts:end -->"


def load(mode: str) -> dict | None:
    """The published ``claims.json`` of ``mode`` (None when nothing is published)."""
    path = RESULTS / mode / "claims.json"
    return json.loads(path.read_text()) if path.is_file() else None


def publish(mode: str, src: Path) -> list[Path]:
    """Copy ``src``'s claims (and full-mode PNGs) into ``docs/results/<mode>/``, merged with what is
    there (the papers of ``src`` replace theirs); returns the files written."""
    from overparam.experiments.claims import Claim, write_claims

    data = json.loads((src / "claims.json").read_text())
    if data.get("mode") != mode:
        raise SystemExit(f"{src / 'claims.json'}: mode {data.get('mode')!r}; expected {mode!r}")
    dest = RESULTS / mode
    dest.mkdir(parents=True, exist_ok=True)
    new_papers = {c["paper"] for c in data["claims"]}
    old = load(mode)
    kept = [c for c in (old or {}).get("claims", []) if c["paper"] not in new_papers]
    written = []
    if mode == "full":
        for png in dest.glob("*.png"):
            if png.name.split("-")[0] in new_papers:
                png.unlink()
        for png in sorted(src.glob("*.png")):
            written.append(figures.palette_png(png, dest / png.name))
    if not kept:
        for name in ("claims.json", "claims.md"):
            shutil.copyfile(src / name, dest / name)
    else:  # rewrite both files from the merged claims, in paper order
        fields = set(Claim.__dataclass_fields__)
        merged = sorted(kept + data["claims"], key=lambda c: c["paper"])
        claims = [Claim(**{k: v for k, v in c.items() if k in fields}) for c in merged]
        write_claims(claims, dest, quick=mode == "quick", device=data.get("device", "cpu"))
    written += [dest / "claims.json", dest / "claims.md"]
    return written


def _cell(c: dict | None) -> str:
    if c is None:
        return "—"
    st = c.get("stability") or {}
    seeds = st.get("seeds")
    spread = f" ({st['spread']})" if st.get("spread") and not st.get("stable", True) else ""
    at = "; ".join(x for x in (c.get("sizes") or "", f"{seeds} data seed{'s' if seeds != 1 else ''}"
                                                        if seeds else "") if x)
    return f"**{c['verdict']}**{spread}" + (f" — {at}" if at else "")


def verdict_section(paper, quick: dict | None, full: dict | None) -> str:
    """The Markdown of a paper page's verdict table: each claim's verdict in quick and full mode."""
    def by_id(data):
        return {c["id"]: c for c in (data or {}).get("claims", []) if c["paper"] == paper.id}

    q, f = by_id(quick), by_id(full)
    lines = [START, "## Verdicts, quick and full mode", ""]
    if not f:
        lines += [f"The full-mode run of {paper.id} is not published yet (`overparam reproduce {paper.id}` "
                  "computes it); the quick-mode verdicts:", ""]
    else:
        lines += ["Each verdict with the sizes and data seeds it was measured at (quick mode: smaller settings; "
                  "full mode: the paper's). Published with the docs: `results/quick/claims.json`, "
                  "`results/full/claims.json` and their `claims.md`.", ""]
    lines += ["| claim | kind | quick mode | full mode |", "|---|---|---|---|"]
    for check in paper.claims:
        statement = check.statement if len(check.statement) <= 110 else check.statement[:109].rstrip() + "…"
        lines.append(f"| **{check.id}**: {statement} | {check.kind} | {_cell(q.get(check.id))} | "
                     f"{_cell(f.get(check.id))} |")
    lines.append(END)
    return "\n".join(lines)


def write_pages() -> list[Path]:
    """Every implemented paper's figure and verdict sections, from what ``docs/results/`` holds."""
    from overparam.papers import papers

    quick, full = load("quick"), load("full")
    pages = []
    for paper in papers().values():
        if not paper.implemented:
            continue
        page = DOCS / f"{paper.id}.md"
        figures.write_section(page, figures.section(paper))
        text = page.read_text()
        table = verdict_section(paper, quick, full)
        if START in text:
            head, rest = text.split(START, 1)
            page.write_text(head + table + rest.split(END, 1)[1])
        else:  # right after the figure section
            head, rest = text.split(figures.END, 1)
            page.write_text(head + figures.END + "\n\n" + table + rest)
        pages.append(page)
    return pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("full", "quick", "pages"))
    ap.add_argument("src", nargs="?", type=Path, help="an `overparam reproduce --out` folder (full, quick)")
    args = ap.parse_args(argv)
    if args.mode != "pages":
        if args.src is None:
            ap.error(f"{args.mode}: give the reproduction's output folder")
        for p in publish(args.mode, args.src):
            print(p.relative_to(DOCS.parent))
    for p in write_pages():
        print(p.relative_to(DOCS.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
