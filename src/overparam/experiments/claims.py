"""Checkable claims from the papers, in one form: what the paper says, what we measured, a verdict.

``reproduce`` writes every checked claim to ``claims.json`` (stable, documented keys) and
``claims.md`` (a table for people). ``--strict`` exits 1 when any claim is ``not reproduced``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Verdict = Literal["reproduced", "not reproduced", "inconclusive"]
VERDICTS = ("reproduced", "not reproduced", "inconclusive")


@dataclass
class Claim:
    """One checked claim.

    Attributes:
        id: ``<paper>-claim<N>`` (stable).
        paper: paper id (``li2018``, …).
        statement: the paper's claim, in words.
        setting: the setting we measured in (sizes, steps, seeds, quick or full).
        measured: the measured number(s), by name.
        paper_value: the paper's value or range, as the paper states it.
        verdict: ``reproduced``, ``not reproduced`` or ``inconclusive``.
        note: how the verdict was reached, and caveats.
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


def write_claims(claims: list[Claim], out_dir: Path, *, quick: bool) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"mode": "quick" if quick else "full", "claims": [c.as_dict() for c in claims],
            "counts": {v: sum(c.verdict == v for c in claims) for v in VERDICTS}}
    jpath = out_dir / "claims.json"
    jpath.write_text(json.dumps(data, indent=1, sort_keys=True))
    lines = [f"# Claims ({data['mode']} mode)", "",
             "| claim | verdict | measured | paper | setting |", "|---|---|---|---|---|"]
    for c in claims:
        measured = "; ".join(f"{k} = {fmt(v)}" for k, v in c.measured.items())
        lines.append(f"| **{c.id}**: {c.statement} | {c.verdict} | {measured} | {c.paper_value} | {c.setting} |")
    lines += ["", "## Notes", ""]
    for c in claims:
        if c.note:
            lines.append(f"- **{c.id}** ({c.verdict}): {c.note}")
    mpath = out_dir / "claims.md"
    mpath.write_text("\n".join(lines) + "\n")
    return jpath, mpath
