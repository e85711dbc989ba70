"""One figure style for every figure of the library (papers, studies, examples).

What a journal asks of a figure, written down once:

* **Sizes.** A one-column figure is :data:`ONE_COLUMN` = 3.5 in wide, a two-column one
  :data:`TWO_COLUMN` = 7.2 in; heights follow from the panels (:func:`figure`). Saved at
  :data:`DPI` = 150 (PNG) and as vector PDF.
* **Fonts.** :data:`FONT_PT` = 8 pt for labels and titles, :data:`SMALL_PT` = 7 pt for ticks and
  legends; nothing smaller (:data:`MIN_PT`). Mathematical symbols are mathtext (``$\\|X\\|_F$``), never
  literal ``_``/``^`` and never glyphs outside the font (𝒳 is ``$\\mathcal{X}$``).
* **Colours.** The Okabe–Ito palette (:data:`PALETTE`), safe for the common colour-vision deficiencies;
  a setting keeps its colour across panels, and line styles (:data:`LINESTYLES`) separate what colour
  cannot (train/test, two methods of one setting).
* **Seeds on a log axis.** A value over seeds drawn on a log axis is summarized by its geometric mean
  (the mean of log values) with a min–max band (:func:`log_center`, :func:`seed_band`): an arithmetic
  mean is dominated by the largest seed and misplaces the centre by orders of magnitude.
* **Where figures are shown.** The report site shows a two-column figure (a PNG at least
  :data:`WIDE_MIN_PX` wide, or twice as wide as tall) across the page (:data:`SITE_WIDE_PX` CSS pixels
  at a 1280 px window) and a one-column figure beside its text (:data:`SITE_NARROW_PX`);
  :func:`displayed_pt` gives the size a font appears at there, which the figure test keeps ≥
  :data:`MIN_PT`.

The style is applied per figure through :func:`styled` (a ``matplotlib.rc_context`` around a plot
function), so importing the library never changes a user's own matplotlib settings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

#: Figure widths in inches: one journal column and the full page.
ONE_COLUMN = 3.5
TWO_COLUMN = 7.2
#: Height of one row of panels (inches) for the two widths.
ROW_HEIGHT = 2.5
#: Raster resolution of the saved PNG.
DPI = 150
#: Font sizes (points): labels and titles; ticks and legends; the floor nothing goes below.
FONT_PT = 8.0
SMALL_PT = 7.0
MIN_PT = 7.0
#: Okabe & Ito (2008), "Color universal design": blue, vermillion, bluish green, reddish purple,
#: orange, sky blue, black, yellow (yellow last: it is faint on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P")
#: The report site (src/overparam/report/style.py): content at most 1200 px less the page padding
#: (2 × 1.25 em) and the card padding (2 × 1.25 em) and border: 1118 CSS px for a wide figure; a
#: narrow figure shares the card with its text, 11 : 9 after a 1.4 em gap: 603 CSS px.
SITE_WIDE_PX = 1118
SITE_NARROW_PX = 603
#: CSS pixels per inch (the browser's reference pixel).
CSS_PX_PER_IN = 96

RC: dict[str, Any] = {
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": SMALL_PT,
    "ytick.labelsize": SMALL_PT,
    "legend.fontsize": SMALL_PT,
    "legend.title_fontsize": SMALL_PT,
    "figure.titlesize": FONT_PT + 1,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.borderaxespad": 0.4,
    "axes.grid": False,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "axes.linewidth": 0.6,
    "mathtext.fontset": "dejavusans",
    "savefig.dpi": DPI,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "figure.constrained_layout.h_pad": 0.04,
    "figure.constrained_layout.w_pad": 0.04,
}


def rc_context():
    """A ``matplotlib.rc_context`` with :data:`RC` and the palette as the colour cycle."""
    import matplotlib
    from cycler import cycler

    matplotlib.use("Agg", force=False)
    return matplotlib.rc_context({**RC, "axes.prop_cycle": cycler(color=list(PALETTE))})


def styled(plot: Callable) -> Callable:
    """``plot`` run inside :func:`rc_context` (drawing and saving both see the style)."""
    if getattr(plot, "__styled__", False):
        return plot

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with rc_context():
            return plot(*args, **kwargs)

    wrapper.__styled__ = True  # type: ignore[attr-defined]
    return wrapper


def width(columns: int | float | str) -> float:
    """A figure width in inches: ``"one"``/1 → :data:`ONE_COLUMN`, ``"two"``/2 → :data:`TWO_COLUMN`,
    any other number is inches."""
    if columns in ("one", 1):
        return ONE_COLUMN
    if columns in ("two", 2):
        return TWO_COLUMN
    return float(columns)


def figure(ncols: int = 1, nrows: int = 1, *, columns: int | float | str | None = None,
           height: float | None = None, **kwargs):
    """A styled figure with a grid of panels: ``(fig, axes)`` with ``axes`` a 2-D array.

    ``columns`` defaults to one column for one panel and two columns otherwise; ``height`` defaults
    to :data:`ROW_HEIGHT` per row. Layout is matplotlib's constrained layout, so labels, titles,
    legends and colour bars are placed without overlapping."""
    import matplotlib.pyplot as plt

    if columns is None:
        columns = "one" if ncols == 1 else "two"
    w = width(columns)
    h = height if height is not None else ROW_HEIGHT * nrows
    with rc_context():
        fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), squeeze=False, layout="constrained", **kwargs)
    return fig, axes


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def colors(n: int) -> list[str]:
    """``n`` colours from the palette (cycling past its length)."""
    return [color(i) for i in range(n)]


def linestyle(i: int) -> str:
    return LINESTYLES[i % len(LINESTYLES)]


# -- seeds on a log axis -------------------------------------------------------------------------------


def log_center(values, axis: int = 0, *, floor: float = 1e-300, how: str = "geomean"):
    """The centre of positive values over seeds for a log axis, with its band:
    ``(center, low, high)`` along ``axis``.

    ``how="geomean"``: exp(mean(log v)); ``how="median"``: the median. The band is min–max. Values
    ≤ 0 (or below ``floor``) are raised to ``floor`` first: they cannot be placed on a log axis."""
    v = np.maximum(np.asarray(values, dtype=float), floor)
    if how == "geomean":
        c = np.exp(np.mean(np.log(v), axis=axis))
    elif how == "median":
        c = np.median(v, axis=axis)
    else:
        raise ValueError(f"how must be 'geomean' or 'median'; got {how!r}")
    return c, np.min(v, axis=axis), np.max(v, axis=axis)


#: What :func:`seed_band` draws, for legends and captions.
SEED_BAND_LABEL = "geometric mean over seeds, band min–max"


def seed_band(ax, x, values, *, color: str, label: str | None = None, ls: str = "-", floor: float = 1e-300,
              how: str = "geomean", alpha: float = 0.18):
    """Draw seeds × len(x) ``values`` on a log y-axis: the centre of :func:`log_center` as a line and
    the min–max band shaded. Returns the line."""
    c, lo, hi = log_center(values, axis=0, floor=floor, how=how)
    (line,) = ax.plot(x, c, color=color, ls=ls, label=label)
    ax.fill_between(x, lo, hi, color=color, alpha=alpha, lw=0)
    ax.set_yscale("log")
    return line


# -- where figures are shown -----------------------------------------------------------------------------


#: A saved PNG at least this wide (pixels) is a two-column figure: 3/4 of :data:`TWO_COLUMN` at :data:`DPI`.
WIDE_MIN_PX = int(0.75 * TWO_COLUMN * DPI)


def is_wide(png_width: int, png_height: int) -> bool:
    """Whether the site shows a PNG across the page (a two-column figure, or a flat one)."""
    return png_width >= WIDE_MIN_PX or png_width >= 2 * png_height


def site_width_px(png_width: int, png_height: int) -> int:
    """The CSS width the report site shows a PNG at (see :data:`SITE_WIDE_PX`)."""
    return SITE_WIDE_PX if is_wide(png_width, png_height) else SITE_NARROW_PX


def displayed_pt(font_pt: float, png_width: int, png_height: int) -> float:
    """The size a ``font_pt`` font appears at on the site: the saved figure (``png_width`` ×
    ``png_height`` pixels at :data:`DPI`) is scaled to :func:`site_width_px`, i.e. by
    (site px / 96) / (png_width / DPI)."""
    saved_in = png_width / DPI
    shown_in = site_width_px(png_width, png_height) / CSS_PX_PER_IN
    return font_pt * shown_in / saved_in


def wrap(text: str, chars: int) -> str:
    """``text`` broken into lines of at most ``chars`` characters (between words; mathtext ``$…$``
    spans are kept whole), for titles and labels of narrow panels."""
    words, lines, cur, in_math = [], [], "", False
    for w in text.split(" "):
        if in_math:
            words[-1] += " " + w
        else:
            words.append(w)
        if w.count("$") % 2:
            in_math = not in_math
    for w in words:
        if cur and len(cur) + 1 + len(w) > chars:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    return "\n".join(lines)


def save(fig, out_dir, name: str) -> list:
    """Save ``fig`` as ``<out_dir>/<name>.png`` (at :data:`DPI`) and ``.pdf``, both cropped to the drawn
    area with a 0.03 in margin, create ``out_dir`` if needed and close the figure; returns
    ``[png, pdf]``."""
    from pathlib import Path

    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, pdf = out_dir / f"{name}.png", out_dir / f"{name}.pdf"
    fig.savefig(png, dpi=DPI, bbox_inches="tight", pad_inches=0.03)
    fig.savefig(pdf, bbox_inches="tight", pad_inches=0.03)
    plt.close(fig)
    return [png, pdf]
