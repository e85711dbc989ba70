"""Draw every paper's figures in quick mode into ``docs/figures/quick/`` and write each paper page's
"Figures (quick mode)" section (``docs/<paper id>.md``, between the markers below).

    PYTHONPATH=src python3 docs/_hooks/figures.py [--store DIR] [paper ids ...]

The runs a figure needs are computed into ``--store`` (default ``./overparam-results``; stored runs are
skipped, so a store of ``overparam reproduce --quick`` makes this a matter of seconds), then each figure
is drawn exactly as ``overparam reproduce`` draws it and its PNG is kept, reduced to a 256-colour
palette (a third of the size, no visible change for line plots). Run it after a change to a figure
and commit the PNGs with the pages. ``tests/test_docs.py`` checks that every page shows every figure
of its paper.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
OUT = DOCS / "figures" / "quick"
FULL = DOCS / "results" / "full"  # the published full-mode run (docs/_hooks/publish.py)
START = "<!-- figures:start (written by docs/_hooks/figures.py from a quick run; do not edit) -->"
END = "<!-- figures:end -->"


def section(paper) -> str:
    """The Markdown of a paper page's figure section: each figure in quick mode and, where the
    full-mode run is published (``docs/results/full/``, :mod:`publish`), at the paper's size below it."""
    full = [f for f in paper.figures if (FULL / f"{f.id}.png").is_file()]
    title = "## Figures (quick mode" + (", and full mode below each)" if full else ")")
    lines = [START, title, "",
             f"Drawn from `overparam reproduce {paper.id} --quick` (smaller settings than the paper's; each "
             "figure's full-mode settings are in its *Setting*). `overparam reproduce "
             f"{paper.id}` draws them at full size" + (", as shown under each quick figure (the published full-mode "
                                                      "run, `results/full/`)." if full else "."), ""]
    for f in paper.figures:
        lines += [f"### {f.title}", "", f"![{f.id}: {f.title}](figures/quick/{f.id}.png)", ""]
        if f in full:
            lines += ["*Full mode (the paper's sizes):*", "", f"![{f.id} (full mode): {f.title}](results/full/{f.id}.png)", ""]
        if f.setting:
            lines += [f"**Setting** ({f.id}). {f.setting}", ""]
        if f.paper_reports:
            lines += [f"**The paper reports.** {f.paper_reports}", ""]
    lines.append(END)
    return "\n".join(lines)


def write_section(page: Path, text: str) -> None:
    """Replace the marked section of ``page``, or insert it after the page's first paragraph."""
    src = page.read_text()
    if START in src:
        head, rest = src.split(START, 1)
        tail = rest.split(END, 1)[1]
        page.write_text(head + text + tail)
        return
    lines = src.split("\n")
    i = 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        i += 1  # the end of the first paragraph
    page.write_text("\n".join(lines[:i] + ["", text] + lines[i:]))


def palette_png(src: Path, dest: Path) -> Path:
    """``src`` saved as ``dest`` reduced to a 256-colour palette (a third of the size, no visible change)."""
    from PIL import Image

    with Image.open(src) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dest, optimize=True)
    return dest


def draw(paper, store, quick: bool = True) -> list[Path]:
    from overparam.experiments.computations import run_computations
    from overparam.experiments.executors import run_sweep
    from overparam.papers.base import Context

    ctx = Context(store=store, quick=quick)
    specs, comps = [], []
    for f in paper.figures:
        specs += ctx.specs(f.specs)
        comps += ctx.computations(f.computations)
    run_sweep(specs, store, workers=1)
    run_computations(comps, store, workers=1)
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in paper.figures:
            png = next(p for p in f.plot(ctx, Path(tmp)) if str(p).endswith(".png"))
            written.append(palette_png(png, OUT / f"{f.id}.png"))
    return written


def main(argv: list[str] | None = None) -> int:
    from overparam.experiments.store import Store
    from overparam.papers import papers

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", default="overparam-results")
    ap.add_argument("papers", nargs="*")
    args = ap.parse_args(argv)
    store = Store(args.store)
    for paper in papers().values():
        if not paper.implemented or (args.papers and paper.id not in args.papers):
            continue
        for p in draw(paper, store):
            print(p.relative_to(DOCS.parent))
        write_section(DOCS / f"{paper.id}.md", section(paper))
    return 0


if __name__ == "__main__":
    sys.exit(main())
