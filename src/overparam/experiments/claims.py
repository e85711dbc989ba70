"""Checkable claims from the papers, in one form: what the paper says, what we measured, a verdict.

Every paper uses the same four verdicts (:data:`VERDICTS`):

* ``reproduced`` — the measurement agrees with the claim as the paper states it, sizes included;
* ``partly reproduced`` — the direction holds but a size the paper states does not, or only some
  settings agree;
* ``not reproduced`` — the measurement contradicts the claim;
* ``inconclusive`` — not enough runs or budget to decide.

Each claim carries its ``criterion``, written in the claim's definition before its full-mode run;
a criterion changed after a result was seen keeps the old one in ``criterion_revised`` ("what it
was, what it became, and why"). ``versus`` pairs each number the paper gives with ours.

``reproduce`` writes every checked claim to ``claims.json`` (stable, documented keys) and
``claims.md`` (a table for people); :func:`summary_lines` is the one-line-per-claim terminal
summary. ``--strict`` exits 1 when any claim is ``not reproduced``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Verdict = Literal["reproduced", "partly reproduced", "not reproduced", "inconclusive"]
VERDICTS: tuple[str, ...] = ("reproduced", "partly reproduced", "not reproduced", "inconclusive")


@dataclass
class Claim:
    """One checked claim.

    Attributes:
        id: ``<paper>-claim<N>`` (stable).
        paper: paper id (``li2018``, …).
        statement: the paper's claim, in words (written once, in the claim's definition).
        criterion: when each verdict is given, as written before the full-mode run.
        setting: the setting we measured in (sizes, steps, seeds, quick or full).
        measured: the measured number(s), by name.
        paper_value: the paper's value or range, as the paper states it.
        verdict: one of :data:`VERDICTS`.
        note: how the verdict was reached, and caveats.
        figure: the id of the figure this claim reads (``None``: its own runs or computations).
        versus: ``{quantity: {"paper": the paper's number (text), "ours": our number}}`` wherever the
            paper gives a number.
        criterion_revised: empty, or what the criterion was before it was changed after a result
            was seen, what it became, and why.
    """

    id: str
    paper: str
    statement: str
    setting: str
    measured: dict[str, Any]
    paper_value: str
    verdict: Verdict
    note: str = ""
    figure: str | None = None
    criterion: str = ""
    versus: dict[str, dict[str, Any]] = field(default_factory=dict)
    criterion_revised: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict {self.verdict!r} not in {VERDICTS}")

    def as_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=_num))


def _num(o: Any) -> Any:
    try:
        return float(o)
    except (TypeError, ValueError):
        return str(o)


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


def versus_text(versus: dict[str, dict[str, Any]], sep: str = "; ") -> tuple[str, str]:
    """(paper column, ours column) of the claims table: the paper's numbers and ours, same order."""
    paper = sep.join(f"{k}: {v['paper']}" for k, v in versus.items())
    ours = sep.join(f"{k}: {fmt(v['ours'])}" for k, v in versus.items())
    return paper, ours


def short(v: Any, items: int = 4) -> str:
    """:func:`fmt` with lists and dicts cut to their first ``items`` entries (``…`` and the count after)."""
    if isinstance(v, (list, tuple)) and len(v) > items:
        return "[" + ", ".join(short(x) for x in v[:items - 1]) + f", … ({len(v)})]"
    if isinstance(v, dict) and len(v) > items:
        return "{" + ", ".join(f"{k}: {short(x)}" for k, x in list(v.items())[:items - 1]) + f", … ({len(v)})}}"
    return fmt(v)


def headline(claim: Claim | dict[str, Any]) -> tuple[str, str, str]:
    """``(quantity, ours, paper's)``: the claim's key number against the paper's — the first pair of
    ``versus``, or (when the paper gives no number) the first measurement and the paper's value;
    ours through :func:`short`. ``claims.json`` keeps it as ``headline`` (its keys are sorted, so
    "first" is read from the :class:`Claim`, in the order its check wrote them)."""
    if isinstance(claim, dict) and isinstance(claim.get("headline"), dict):
        h = claim["headline"]
        return str(h.get("quantity", "")), str(h.get("ours", "")), str(h.get("paper", ""))
    c = claim.as_dict() if isinstance(claim, Claim) else claim
    versus, measured = c.get("versus") or {}, c.get("measured") or {}
    if versus:
        name, pair = next(iter(versus.items()))
        return str(name), short(pair.get("ours")), str(pair.get("paper", ""))
    if measured:
        name, value = next(iter(measured.items()))
        return str(name), short(value), str(c.get("paper_value", ""))
    return "", "", str(c.get("paper_value", ""))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


def summary_lines(claims: list[Claim], width: int = 100) -> list[tuple[str, str | None]]:
    """The terminal summary of ``reproduce``: per paper a count line, then one line per claim — id,
    verdict, our key number, the paper's, and what it is (:func:`headline`), clipped with "…" so that no
    line is longer than ``width`` characters. Returns ``(line, verdict)`` pairs (verdict ``None`` on
    count lines) so that a caller may colour the verdicts; the full table is in claims.md and the site."""
    lines: list[tuple[str, str | None]] = []
    papers = list(dict.fromkeys(c.paper for c in claims))
    id_w = max((len(c.id) for c in claims), default=0)
    verdict_w = max(len(v) for v in VERDICTS)
    for paper in papers:
        mine = [c for c in claims if c.paper == paper]
        counts = ", ".join(f"{n} {v}" for v in VERDICTS if (n := sum(c.verdict == v for c in mine)))
        lines.append((_clip(f"{paper}: {len(mine)} claim{'s' * (len(mine) != 1)} — {counts}", width), None))
        for c in mine:
            name, ours, paper_value = headline(c)
            number = ours + (f" (paper: {paper_value})" if paper_value else "") + (f" · {name}" if name else "")
            head = f"  {c.id:<{id_w}}  {c.verdict:<{verdict_w}}  "
            lines.append((_clip(head + " ".join(number.split()), width).rstrip(), c.verdict))
    return lines


def claims_payload(claims: list[Claim], *, quick: bool, device: str = "cpu") -> dict[str, Any]:
    """The content of ``claims.json``: mode, the device the runs were asked on, every claim, and the
    count of each verdict."""
    return {"mode": "quick" if quick else "full", "device": device,
            "claims": [{**c.as_dict(), "headline": dict(zip(("quantity", "ours", "paper"), headline(c), strict=True))}
                       for c in claims],
            "counts": {v: sum(c.verdict == v for c in claims) for v in VERDICTS}}


def write_claims(claims: list[Claim], out_dir: Path, *, quick: bool, device: str = "cpu") -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = claims_payload(claims, quick=quick, device=device)
    jpath = out_dir / "claims.json"
    jpath.write_text(json.dumps(data, indent=1, sort_keys=True))
    lines = [f"# Claims ({data['mode']} mode)", "",
             "Verdicts: " + ", ".join(f"{n} {v}" for v, n in data["counts"].items()) + ".", "",
             "| claim | verdict | paper says | we measure | criterion |", "|---|---|---|---|---|"]
    for c in claims:
        paper, ours = versus_text(c.versus, "<br>")
        if not paper:
            paper = c.paper_value
            ours = "<br>".join(f"{k} = {fmt(v)}" for k, v in list(c.measured.items())[:4])
        lines.append(f"| **{c.id}**: {c.statement} | {c.verdict} | {paper} | {ours} | {c.criterion} |")
    lines += ["", "## Settings, measurements and notes", ""]
    for c in claims:
        lines.append(f"### {c.id} ({c.verdict})")
        lines.append("")
        lines.append(f"- setting: {c.setting}")
        lines.append("- measured: " + "; ".join(f"{k} = {fmt(v)}" for k, v in c.measured.items()))
        if c.criterion_revised:
            lines.append(f"- criterion revised: {c.criterion_revised}")
        if c.note:
            lines.append(f"- note: {c.note}")
        lines.append("")
    mpath = out_dir / "claims.md"
    mpath.write_text("\n".join(lines))
    return jpath, mpath
