"""Checkable claims from the papers, in one form: what the paper says, what we measured, a verdict.

Every paper uses the same four verdicts (:data:`VERDICTS`):

* ``reproduced`` — the measurement agrees with the claim as the paper states it, sizes included;
* ``partly reproduced`` — the direction holds but a size the paper states does not, or only some
  settings agree;
* ``not reproduced`` — the measurement contradicts the claim;
* ``inconclusive`` — not enough runs or budget to decide.

Each claim carries its ``criterion``, written in the claim's definition before its full-mode run;
a criterion changed after a result was seen keeps the old one in ``criterion_revised`` (shown as
"criterion revised after the first run: before … / after …"). ``versus`` pairs each number the
paper gives with ours.

Provenance: ``source`` (``{"quote": the paper's own words, "section": where they stand}``) and
``kind`` (:data:`KINDS`): ``experiment`` (the paper shows it in a figure or table), ``theorem``
(the paper proves it; we test it numerically) or ``extension`` (ours: the paper does not state
it). Counts of *paper claims* (experiment + theorem, :data:`PAPER_KINDS`) never include
extensions.

Stability: every numeric threshold of a criterion is a :class:`Threshold` with a plausible range;
the check is evaluated at the nominal values, at both ends of each range and on each data seed
alone, and :func:`stable_verdict` keeps the verdict only when all of them agree (``inconclusive``
with the spread otherwise). ``stability`` in ``claims.json`` records every evaluation.

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
#: What a claim is: shown by the paper, proved by the paper, or ours.
KINDS: tuple[str, ...] = ("experiment", "theorem", "extension")
#: The kinds that count as the paper's own claims.
PAPER_KINDS: tuple[str, ...] = ("experiment", "theorem")


@dataclass(frozen=True)
class Threshold:
    """A numeric threshold of a criterion: its nominal ``value`` and the plausible range
    ``[low, high]`` (``low ≤ value ≤ high``) with a one-line ``reason`` for the range. The verdict
    must not change between ``low`` and ``high``."""

    value: float
    low: float
    high: float
    reason: str

    def __post_init__(self):
        if not (self.low <= self.value <= self.high):
            raise ValueError(f"threshold: needs low ≤ value ≤ high; got {self.low} ≤ {self.value} ≤ {self.high}")
        if not self.reason.strip():
            raise ValueError("threshold: a one-line reason for the range is required")


def check_provenance(claim_id: str, source: Any, kind: Any) -> None:
    """Raise ``ValueError`` unless ``source`` has a non-empty ``quote`` and ``section`` and ``kind``
    is one of :data:`KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"claim {claim_id}: kind {kind!r} not in {KINDS}")
    if not isinstance(source, dict) or not all(isinstance(source.get(k), str) and source[k].strip()
                                               for k in ("quote", "section")):
        raise ValueError(f"claim {claim_id}: source needs a non-empty 'quote' and 'section'; got {source!r}")


def _g(x: float) -> str:
    return f"{x:g}"


def stable_verdict(nominal: str, seeds: dict[Any, str], ends: dict[str, str],
                   failed: dict[Any, str] | None = None) -> tuple[str, str, bool]:
    """``(verdict, spread, stable)`` from the verdict at the nominal thresholds on all seeds, the
    verdict on each data seed alone (``seeds``; empty when the claim's runs span one seed) and at
    each end of each threshold range (``ends``: ``"name=value" -> verdict``). The verdict is the
    nominal one when every evaluation shares it; otherwise ``inconclusive`` and ``spread`` says how
    the evaluations split (e.g. "reproduced 4/5 seeds, partly reproduced 1/5; at recovered=1e-4:
    partly reproduced"). ``failed``: seeds on which the check could not be evaluated alone (they
    are named in the spread and leave the verdict to the others)."""
    parts = []
    seed_verdicts = list(seeds.values())
    if seeds and any(v != nominal for v in seed_verdicts):
        n = len(seed_verdicts)
        by = [(v, k) for v in VERDICTS if (k := seed_verdicts.count(v))]
        by.sort(key=lambda p: -p[1])
        parts.append(", ".join(f"{v} {k}/{n}" + (" seeds" if i == 0 else "") for i, (v, k) in enumerate(by)))
    off = {k: v for k, v in ends.items() if v != nominal}
    if off:
        parts.append("; ".join(f"at {k}: {v}" for k, v in off.items()))
    stable = not parts
    if failed:
        parts.append("not evaluable on one seed alone: " + ", ".join(f"seed {s}" for s in failed))
    if stable:
        return nominal, "; ".join(parts), True
    return "inconclusive", f"{nominal} at the nominal thresholds; " + "; ".join(parts), False


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
        source: ``{"quote": the paper's words, "section": where they stand}``.
        kind: one of :data:`KINDS` (``""`` only in records written before provenance existed).
        stability: ``{"seeds": n, "thresholds": {name: [low, high]}, "verdicts": {"nominal": v,
            "seed <s>": v, "<name>=<value>": v, …}, "stable": bool, "spread": text}``.
        decisive: empty, or the name (a key of ``versus``, else of ``measured``) of the measurement
            that decided a verdict other than ``reproduced`` — the half of the claim that failed;
            :func:`headline` shows it instead of the first pair.
        sizes: the sizes the runs and computations were measured at, in one line
            (:func:`overparam.experiments.sizes.claim_sizes`; the mode is claims.json's).
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
    source: dict[str, str] = field(default_factory=dict)
    kind: str = ""
    stability: dict[str, Any] = field(default_factory=dict)
    decisive: str = ""
    sizes: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict {self.verdict!r} not in {VERDICTS}")
        if self.kind and self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind {self.kind!r} not in {KINDS}")

    @property
    def is_paper_claim(self) -> bool:
        """True for the paper's own claims (experiment, theorem); extensions and unlabelled records: False."""
        return self.kind in PAPER_KINDS

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
    """``(quantity, ours, paper's)``: the claim's key number against the paper's. For a verdict other
    than ``reproduced`` whose claim names its ``decisive`` measurement, that measurement (the half
    that failed: its ``versus`` pair, else its ``measured`` value and the paper's value); otherwise
    the first pair of ``versus``, or (when the paper gives no number) the first measurement and the
    paper's value; ours through :func:`short`. ``claims.json`` keeps it as ``headline`` (its keys
    are sorted, so "first" is read from the :class:`Claim`, in the order its check wrote them)."""
    if isinstance(claim, dict) and isinstance(claim.get("headline"), dict):
        h = claim["headline"]
        return str(h.get("quantity", "")), str(h.get("ours", "")), str(h.get("paper", ""))
    c = claim.as_dict() if isinstance(claim, Claim) else claim
    versus, measured = c.get("versus") or {}, c.get("measured") or {}
    decisive = c.get("decisive") or ""
    if decisive and c.get("verdict") != "reproduced":
        if decisive in versus:
            pair = versus[decisive]
            return str(decisive), short(pair.get("ours")), str(pair.get("paper", ""))
        if decisive in measured:
            return str(decisive), short(measured[decisive]), str(c.get("paper_value", ""))
    if versus:
        name, pair = next(iter(versus.items()))
        return str(name), short(pair.get("ours")), str(pair.get("paper", ""))
    if measured:
        name, value = next(iter(measured.items()))
        return str(name), short(value), str(c.get("paper_value", ""))
    return "", "", str(c.get("paper_value", ""))


def _field(c: Claim | dict[str, Any], name: str) -> Any:
    return c.get(name) if isinstance(c, dict) else getattr(c, name)


def is_paper_claim(c: Claim | dict[str, Any]) -> bool:
    """A record of the paper's own claims (kind experiment or theorem)."""
    return _field(c, "kind") in PAPER_KINDS


def verdict_counts(claims: list) -> dict[str, int]:
    return {v: n for v in VERDICTS if (n := sum(_field(c, "verdict") == v for c in claims))}


def counts_by_kind(claims: list) -> dict[str, dict[str, int]]:
    """``{"paper": verdict counts of the paper's claims, "extension": those of our extensions}``
    (records without a kind count with neither)."""
    return {"paper": verdict_counts([c for c in claims if is_paper_claim(c)]),
            "extension": verdict_counts([c for c in claims if _field(c, "kind") == "extension"])}


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def counts_text(claims: list) -> str:
    """"4 paper claims: 3 reproduced, 1 partly reproduced; 1 extension: 1 not reproduced" — paper
    claims (experiment + theorem) and extensions counted apart, so that no count of the paper's
    claims holds a claim the authors did not make."""
    by = counts_by_kind(claims)
    out = []
    for key, word in (("paper", "paper claim"), ("extension", "extension")):
        n = sum(by[key].values())
        if n:
            out.append(f"{_n(n, word)}: " + ", ".join(f"{k} {v}" for v, k in by[key].items()))
    unlabelled = [c for c in claims if _field(c, "kind") not in KINDS]
    if unlabelled:
        out.append(f"{_n(len(unlabelled), 'unlabelled claim')}: "
                   + ", ".join(f"{k} {v}" for v, k in verdict_counts(unlabelled).items()))
    return "; ".join(out) or "no claims"


def revised_text(revised: str) -> str:
    """How a criterion's history is shown: "criterion revised after the first run: before … / after …"
    (``revised`` is written as "before … / after …" or as free text, shown after the prefix)."""
    return f"criterion revised after the first run: {revised}" if revised else ""


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


def summary_lines(claims: list[Claim], width: int = 100) -> list[tuple[str, str | None]]:
    """The terminal summary of ``reproduce``: per paper a count line (paper claims and extensions
    apart, :func:`counts_text`), then one line per claim — id, ``ext`` for an extension, verdict (an
    unstable one followed by its spread), our key number, the paper's, and what it is
    (:func:`headline`), clipped with "…" so that no line is longer than ``width`` characters. Returns
    ``(line, verdict)`` pairs (verdict ``None`` on count lines) so that a caller may colour the verdicts;
    the full table is in claims.md and the site."""
    lines: list[tuple[str, str | None]] = []
    papers = list(dict.fromkeys(c.paper for c in claims))
    id_w = max((len(c.id) for c in claims), default=0)
    verdict_w = max(len(v) for v in VERDICTS)
    for paper in papers:
        mine = [c for c in claims if c.paper == paper]
        lines.append((_clip(f"{paper}: {counts_text(mine)}", width), None))
        for c in mine:
            name, ours, paper_value = headline(c)
            number = ours + (f" (paper: {paper_value})" if paper_value else "") + (f" · {name}" if name else "")
            if c.stability and not c.stability.get("stable", True) and c.stability.get("spread"):
                number = f"({c.stability['spread'].replace(' at the nominal thresholds', ' nominally')}) {number}"
            tag = "ext" if c.kind == "extension" else "   "
            head = f"  {c.id:<{id_w}} {tag} {c.verdict:<{verdict_w}}  "
            lines.append((_clip(head + " ".join(number.split()), width).rstrip(), c.verdict))
    return lines


def claims_payload(claims: list[Claim], *, quick: bool, device: str = "cpu") -> dict[str, Any]:
    """The content of ``claims.json``: mode, the device the runs were asked on, every claim, the
    count of each verdict over all claims (``counts``) and apart for the paper's claims and our
    extensions (``counts_by_kind``)."""
    return {"mode": "quick" if quick else "full", "device": device,
            "claims": [{**c.as_dict(), "headline": dict(zip(("quantity", "ours", "paper"), headline(c), strict=True))}
                       for c in claims],
            "counts": {v: sum(c.verdict == v for c in claims) for v in VERDICTS},
            "counts_by_kind": counts_by_kind(claims)}


def write_claims(claims: list[Claim], out_dir: Path, *, quick: bool, device: str = "cpu") -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = claims_payload(claims, quick=quick, device=device)
    jpath = out_dir / "claims.json"
    jpath.write_text(json.dumps(data, indent=1, sort_keys=True))
    lines = [f"# Claims ({data['mode']} mode)", "",
             "Verdicts: " + counts_text(claims) + ".", "",
             "| claim | kind | verdict | paper says | we measure | criterion |", "|---|---|---|---|---|---|"]
    for c in claims:
        paper, ours = versus_text(c.versus, "<br>")
        if not paper:
            paper = c.paper_value
            ours = "<br>".join(f"{k} = {fmt(v)}" for k, v in list(c.measured.items())[:4])
        spread = c.stability.get("spread", "") if c.stability else ""
        verdict = c.verdict + (f" ({spread})" if spread and not c.stability.get("stable", True) else "")
        verdict += f"<br>{data['mode']} mode" + (f": {c.sizes}" if c.sizes else "")
        lines.append(f"| **{c.id}**: {c.statement} | {c.kind or '?'} | {verdict} | {paper} | {ours} | {c.criterion} |")
    lines += ["", "## Sources, settings, measurements and notes", ""]
    for c in claims:
        lines.append(f"### {c.id} ({c.kind or 'unlabelled'}; {c.verdict})")
        lines.append("")
        if c.source:
            lines.append(f"- the paper ({c.source.get('section', '')}): “{c.source.get('quote', '')}”")
        lines.append(f"- setting: {c.setting}")
        lines.append("- measured: " + "; ".join(f"{k} = {fmt(v)}" for k, v in c.measured.items()))
        if c.stability:
            st = c.stability
            ranges = ", ".join(f"{k} ∈ [{_g(a)}, {_g(b)}]" for k, (a, b) in st.get("thresholds", {}).items())
            lines.append(f"- stability: {'stable' if st.get('stable') else 'not stable'} over "
                         f"{_n(st.get('seeds', 1), 'data seed')}" + (f" and {ranges}" if ranges else "")
                         + (f" — {st['spread']}" if st.get("spread") else ""))
        if c.criterion_revised:
            lines.append(f"- {revised_text(c.criterion_revised)}")
        if c.note:
            lines.append(f"- note: {c.note}")
        lines.append("")
    mpath = out_dir / "claims.md"
    mpath.write_text("\n".join(lines))
    return jpath, mpath
