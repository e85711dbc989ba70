"""What a reader would object to in a drawn figure, found from the rendered text boxes.

:func:`defects` draws a matplotlib figure with a renderer and lists, one line each:

* **overlap** — two text boxes that intersect: tick labels, axis labels, titles, legends and colour
  bars (their ticks and label), the figure's suptitle; compared pairwise by their rendered window
  extents (``get_window_extent(renderer)``), shrunk by :data:`TOLERANCE_PX` so that touching boxes do
  not count. A legend counts as one box; a legend drawn inside its own axes may cover that axes' data
  (that is what legends do), never another artist's text;
* **empty legend** — a legend with no entries;
* **unlabelled axis** — an x- or y-axis that shows tick labels but has no label;
* **mathtext** — a literal ``_`` or ``^`` in a label, title or legend text outside ``$…$``
  (mathtext that was meant but not written);
* **small text** — text that the report site shows below :data:`overparam.figstyle.MIN_PT` once it
  scales the saved PNG to its column (:func:`overparam.figstyle.displayed_pt`).

Warnings raised while drawing or saving (a missing glyph, an empty legend, a layout that failed) are
the caller's to catch: the figure test turns every one into a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import figstyle

#: Boxes are shrunk by this many pixels on each side before testing intersection.
TOLERANCE_PX = 1.0
_MATH = re.compile(r"\$[^$]*\$")


@dataclass(frozen=True)
class Box:
    what: str  # e.g. "axes 2 y tick '1e-3'"
    owner: int  # the axes index (−1: the figure)
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, tol: float = TOLERANCE_PX) -> bool:
        return (min(self.x1, other.x1) - max(self.x0, other.x0) > 2 * tol
                and min(self.y1, other.y1) - max(self.y0, other.y0) > 2 * tol)


def _visible_text(t) -> bool:
    return t.get_visible() and bool(t.get_text().strip())


def _box(what: str, owner: int, artist, renderer) -> Box | None:
    bb = artist.get_window_extent(renderer)
    if bb.width <= 0 or bb.height <= 0:
        return None
    return Box(what, owner, bb.x0, bb.y0, bb.x1, bb.y1)


def _name(fig, ax) -> str:
    label = ax.get_label()
    return f"axes {fig.axes.index(ax)}" + (f" ({label})" if label and not label.startswith("_") else "")


def _texts(fig, renderer):
    """(description, owner, Text) of every visible text, and the legends as (description, owner, Legend)."""
    texts, legends = [], []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        name = _name(fig, ax)
        for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            if not axis.get_visible():
                continue
            for t in axis.get_ticklabels(which="both"):
                if _visible_text(t) and _in_view(t, ax, renderer, letter):
                    texts.append((f"{name} {letter} tick '{t.get_text()}'", i, t))
            lab = axis.label
            if _visible_text(lab):
                texts.append((f"{name} {letter}-label '{lab.get_text()}'", i, lab))
        for title in (ax.title, ax._left_title, ax._right_title):
            if _visible_text(title):
                texts.append((f"{name} title '{title.get_text()}'", i, title))
        for t in ax.texts:
            if _visible_text(t):
                texts.append((f"{name} text '{t.get_text()}'", i, t))
        lg = ax.get_legend()
        if lg is not None and lg.get_visible():
            legends.append((f"{name} legend", i, lg))
    sup = getattr(fig, "_suptitle", None)
    for t in fig.texts:
        if _visible_text(t) and t is not sup and t is not getattr(fig, "_supxlabel", None) \
                and t is not getattr(fig, "_supylabel", None):
            texts.append((f"figure text '{t.get_text()}'", -1, t))
    if sup is not None and _visible_text(sup):
        texts.append((f"suptitle '{sup.get_text()}'", -1, sup))
    for lg in fig.legends:
        legends.append(("figure legend", -1, lg))
    return texts, legends


def _in_view(t, ax, renderer, letter: str) -> bool:
    """A tick label whose tick lies inside the axes' view (matplotlib keeps off-view ones invisible,
    but minor-tick labels can linger at the edges)."""
    lo, hi = sorted(ax.get_xlim() if letter == "x" else ax.get_ylim())
    pos = t.get_position()[0 if letter == "x" else 1]
    return lo - 1e-12 * max(abs(lo), abs(hi), 1) <= pos <= hi + 1e-12 * max(abs(lo), abs(hi), 1)


def overlaps(fig) -> list[str]:
    """Every pair of intersecting text boxes (see the module docstring), one line each."""
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    texts, legends = _texts(fig, renderer)
    boxes = [b for what, i, t in texts if (b := _box(what, i, t, renderer)) is not None]
    boxes += [b for what, i, lg in legends if (b := _box(what, i, lg, renderer)) is not None]
    group = _groups(fig)
    boxes = [Box(b.what, group.get(b.owner, b.owner), b.x0, b.y0, b.x1, b.y1) for b in boxes]
    out = []
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            A, B = boxes[a], boxes[b]
            if A.overlaps(B):
                out.append(f"overlap: {A.what} × {B.what}")
    # a text over another panel's plotting area (twin axes share one area)
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison:
            continue
        bb = ax.get_window_extent(renderer)
        area = Box(f"{_name(fig, ax)} plotting area", group.get(i, i), bb.x0, bb.y0, bb.x1, bb.y1)
        if area.owner != i:
            continue  # a twin: its area is its sibling's
        for B in boxes:
            if B.owner != area.owner and area.overlaps(B):
                out.append(f"overlap: {B.what} × {area.what}")
    return out


def _groups(fig) -> dict[int, int]:
    """Axes index → the index of the first axes at the same position (twinx/twiny share an area)."""
    first: dict[tuple, int] = {}
    out = {}
    for i, ax in enumerate(fig.axes):
        key = tuple(round(v, 6) for v in ax.get_position().bounds)
        out[i] = first.setdefault(key, i)
    return out


def empty_legends(fig) -> list[str]:
    out = []
    for ax in fig.axes:
        lg = ax.get_legend()
        if lg is not None and not [t for t in lg.get_texts() if t.get_text().strip()]:
            out.append(f"empty legend: {_name(fig, ax)}")
    for lg in fig.legends:
        if not [t for t in lg.get_texts() if t.get_text().strip()]:
            out.append("empty legend: figure legend")
    return out


def unlabelled_axes(fig) -> list[str]:
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            if not axis.get_visible():
                continue
            shows_ticks = any(_visible_text(t) and _in_view(t, ax, renderer, letter)
                              for t in axis.get_ticklabels(which="both"))
            if shows_ticks and not axis.label.get_text().strip():
                out.append(f"unlabelled axis: {_name(fig, ax)} {letter}")
    return out


def literal_markup(fig) -> list[str]:
    """Labels, titles and legend texts with ``_`` or ``^`` outside mathtext."""
    renderer = fig.canvas.get_renderer()
    texts, legends = _texts(fig, renderer)
    strings = [(what, t.get_text()) for what, _, t in texts if " tick " not in what]
    for what, _, lg in legends:
        strings += [(f"{what} entry", t.get_text()) for t in lg.get_texts()]
        title = lg.get_title()
        if title.get_text():
            strings.append((f"{what} title", title.get_text()))
    out = []
    for what, s in strings:
        bare = _MATH.sub("", s)
        if "_" in bare or "^" in bare:
            out.append(f"literal markup: {what}: {s!r}")
    return out


def small_text(fig, png_size: tuple[int, int]) -> list[str]:
    """Texts the site would show below :data:`overparam.figstyle.MIN_PT` (``png_size`` as saved)."""
    renderer = fig.canvas.get_renderer()
    texts, legends = _texts(fig, renderer)
    items = [(what, t) for what, _, t in texts]
    for what, _, lg in legends:
        items += [(f"{what} entry '{t.get_text()}'", t) for t in lg.get_texts()]
        if lg.get_title().get_text():
            items.append((f"{what} title", lg.get_title()))
    out = []
    seen = set()
    for what, t in items:
        pt = figstyle.displayed_pt(t.get_fontsize(), *png_size)
        if pt < figstyle.MIN_PT - 0.05 and what not in seen:
            seen.add(what)
            out.append(f"small text: {what} at {t.get_fontsize():.1f} pt shows as {pt:.1f} pt")
    return out


def defects(fig, png_size: tuple[int, int] | None = None) -> list[str]:
    """Every defect of a drawn figure (module docstring); ``png_size`` (width, height in pixels of the
    saved PNG) enables the text-size check."""
    out = overlaps(fig) + empty_legends(fig) + unlabelled_axes(fig) + literal_markup(fig)
    if png_size is not None:
        out += small_text(fig, png_size)
    return out
