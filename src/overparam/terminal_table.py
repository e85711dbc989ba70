"""A table that fits the terminal: what ``overparam results`` prints when no ``--columns`` are given.

* **Which columns.** The run's key (its first 8 characters: enough to tell runs apart and to pass to
  ``--where key=…`` prefixes), the settings that *vary* across the selected rows (a setting that is the
  same in every row says nothing about a row; it is named once in the caption), then replica, status,
  stop step and the final metrics. Columns that are empty in every row are left out.
* **Never a split number.** Every cell is printed whole on one line; headers may break. When the
  columns do not fit the terminal's width, the lowest-priority ones are left out and named in the
  caption (``--columns`` chooses, ``--csv``/``--json`` give everything).
"""

from __future__ import annotations

import math
from typing import Any

#: Flattened spec fields that are settings of a run (the rest are outcomes or bookkeeping).
SETTING_PREFIXES = ("problem.", "param.", "algorithm.", "init.", "regularizer.", "recipe.", "log.", "stops")
SETTING_FIELDS = ("steps", "data_seed", "init_seed", "algo_seed", "device", "dtype", "target_train_error",
                  "diverge_factor")
OUTCOMES = ("replica", "status", "stop_step", "train_error", "test_error", "loss")
TRACE_OUTCOMES = ("replica", "step", "train_error", "test_error", "loss")
KEY_CHARS = 8
#: Columns a row needs beyond its cells: a border and one space each side.
_PAD = 3


def fmt(v: Any) -> str:
    """A cell: floats to 4 significant digits, NaN as '–', lists comma-joined."""
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.4g}"
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    if v is None:
        return "–"
    return str(v)


def _is_setting(col: str) -> bool:
    return col.startswith(SETTING_PREFIXES) or col in SETTING_FIELDS


def _empty(series) -> bool:
    return bool(series.map(lambda v: v is None or (isinstance(v, float) and math.isnan(v))).all())


def choose(df, *, trace: bool = False) -> tuple[list[str], list[str]]:
    """``(columns to show in priority order, columns that are the same in every row)``.

    Priority: the key; settings that vary *within* a run (per replica: ``init.alpha``, ``algorithm.eta``
    …); the train and test errors; the other varying settings; replica, step, status, stop step, loss.
    A setting or outcome with one value in every row is named in the caption instead."""
    def values(c):
        return df[c].map(lambda v: repr(v) if isinstance(v, list | dict) else v)

    settings = [c for c in df.columns if _is_setting(c) and not c.startswith("tags.") and not _empty(df[c])]
    varying, constant = [], []
    for c in settings:
        (varying if values(c).nunique(dropna=False) > 1 else constant).append(c)
    per_replica = [c for c in varying if "key" in df.columns
                   and (df.assign(_v=values(c)).groupby("key")["_v"].nunique(dropna=False) > 1).any()]
    others = [c for c in varying if c not in per_replica]
    outcomes = [c for c in (TRACE_OUTCOMES if trace else OUTCOMES) if c in df.columns and not _empty(df[c])]
    errors = [c for c in ("train_error", "test_error") if c in outcomes]
    rest = [c for c in outcomes if c not in errors]
    for c in list(rest):
        if c in ("status", "stop_step") and values(c).nunique(dropna=False) == 1:
            rest.remove(c)
            constant.append(c)
    return ["key", *per_replica, *errors, *others, *rest], constant


def fit(df, columns: list[str], width: int) -> tuple[list[str], list[str]]:
    """The columns (in ``columns``' priority order) that fit ``width``, and those left out."""
    def need(c: str) -> int:
        cells = [fmt(v)[:KEY_CHARS] if c == "key" else fmt(v) for v in df[c]]
        longest = max((len(s) for s in cells), default=1)
        head = max((len(w) for w in c.replace("_", "_ ").replace(".", ". ").split()), default=1)
        return max(longest, head) + _PAD

    used, shown = 1, []
    for c in columns:
        n = need(c)
        if used + n <= width:
            shown.append(c)
            used += n
    return shown, [c for c in columns if c not in shown]


def render(title: str, df, columns: list[str], caption: str | None = None, width: int | None = None) -> None:
    """Print ``df[columns]`` as a Rich table whose cells never wrap."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=width) if width else Console()
    table = Table(title=title, caption=caption, caption_justify="left")
    for c in columns:
        longest = max((len(fmt(v)[:KEY_CHARS] if c == "key" else fmt(v)) for v in df[c]), default=1)
        header = c.replace(".", ".\n").replace("_", "_\n")  # headers break after . and _, cells never
        table.add_column(header, no_wrap=True, min_width=longest,
                         justify="right" if df[c].map(lambda v: isinstance(v, int | float)).all() else "left")
    for row in df[columns].itertuples(index=False):
        table.add_row(*[fmt(v)[:KEY_CHARS] if c == "key" else fmt(v) for c, v in zip(columns, row, strict=True)])
    console.print(table)
