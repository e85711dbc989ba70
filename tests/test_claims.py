"""The claims layer: provenance (the paper's words, section and kind) on every claim, counts that keep
the paper's claims apart from our extensions, and the stability of a verdict over data seeds and over
the plausible range of every threshold."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest

from overparam.experiments.claims import KINDS, Claim, Threshold, counts_text, summary_lines, write_claims
from overparam.experiments.spec import RunSpec
from overparam.experiments.store import Store
from overparam.papers import papers
from overparam.papers.base import Context, Outcome, claim
from tiny import tiny_spec

PAPER_FILES = {"li2018": "000", "rajaraman2023": "001", "jiang2023": "002", "eftekhari2021": "003", "ma2025": "004"}
SOURCE = {"quote": "the paper's words", "section": "§1"}


def all_claims():
    return [c for p in papers().values() for c in p.claims]


# -- provenance --------------------------------------------------------------------------------------------


def test_every_claim_has_quote_section_and_kind():
    claims = all_claims()
    assert len(claims) >= 36
    for c in claims:
        assert c.kind in KINDS, c.id
        assert c.source.get("quote", "").strip() and c.source.get("section", "").strip(), c.id


def test_a_claim_without_provenance_is_refused():
    kw = dict(id="p-claim1", paper="p", statement="s", paper_value="v", criterion="c")
    with pytest.raises(TypeError):  # source and kind are required arguments
        claim(**kw)(lambda ctx: None)
    with pytest.raises(ValueError, match="kind"):
        claim(**kw, source=SOURCE, kind="observation")(lambda ctx: None)
    for bad in ({"quote": "", "section": "§1"}, {"quote": "words"}, {"section": "§1"}, "words"):
        with pytest.raises(ValueError, match="source"):
            claim(**kw, source=bad, kind="experiment")(lambda ctx: None)


def _norm(text: str) -> str:
    """The paper text as extracted (PDF or markdown) and a quote compare equal up to whitespace, line-end
    hyphenation, ligatures (NFKC), typographic quotes and markdown emphasis/underline markup."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"</?u>", "", text)
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00ad": "", "*": ""}))
    return re.sub(r"[\s\-‐‑]+", "", text)


def quote_occurs(quote: str, text: str) -> bool:
    """``quote`` occurs in ``text``; "…" joins fragments that must occur in this order."""
    t, pos = _norm(text), 0
    for frag in quote.split("…"):
        f = _norm(frag)
        if not f:
            continue
        i = t.find(f, pos)
        if i < 0:
            return False
        pos = i + len(f)
    return True


def test_quote_matching_normalizes_only_layout():
    text = "We show that the gap nar-\nrows as α de-\ncreases. The ﬁnal error is small."
    assert quote_occurs("the gap narrows as α decreases", text)
    assert quote_occurs("We show … The final error is small.", text)
    assert not quote_occurs("The final error is small. … We show", text)  # order matters
    assert not quote_occurs("the gap widens as α decreases", text)


def _papers_dir() -> Path | None:
    env = os.environ.get("OVERPARAM_PAPERS")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "papers").is_dir():
            return parent / "shared" / "papers"
    return None


@pytest.mark.skipif(_papers_dir() is None, reason="the paper texts (shared/papers) are not beside this checkout")
def test_every_quote_occurs_in_its_paper():
    root = _papers_dir()
    texts = {pid: next(root.glob(f"{n}_*.txt")).read_text() for pid, n in PAPER_FILES.items()}
    missing = [c.id for c in all_claims() if not quote_occurs(c.source["quote"], texts[c.paper])]
    assert not missing, f"quotes not found verbatim in the paper text: {missing}"


# -- counts ------------------------------------------------------------------------------------------------


def _record(id: str, verdict: str, kind: str) -> Claim:
    return Claim(id=id, paper=id.split("-")[0], statement="s", setting="", measured={"x": 1.0}, paper_value="",
                 verdict=verdict, kind=kind, source=dict(SOURCE))


def test_counts_keep_extensions_apart_from_the_papers_claims(tmp_path):
    claims = [_record("p-claim1", "reproduced", "experiment"), _record("p-claim2", "partly reproduced", "theorem"),
              _record("p-claim3", "not reproduced", "extension")]
    assert counts_text(claims) == ("2 paper claims: 1 reproduced, 1 partly reproduced; "
                                   "1 extension: 1 not reproduced")
    lines = summary_lines(claims, width=200)
    assert lines[0] == ("p: 2 paper claims: 1 reproduced, 1 partly reproduced; 1 extension: 1 not reproduced", None)
    assert " ext " in lines[3][0] and " ext " not in lines[1][0]
    import json

    jpath, mpath = write_claims(claims, tmp_path, quick=True)
    data = json.loads(jpath.read_text())
    assert data["counts_by_kind"] == {"paper": {"reproduced": 1, "partly reproduced": 1},
                                      "extension": {"not reproduced": 1}}
    assert "Verdicts: 2 paper claims: 1 reproduced, 1 partly reproduced; 1 extension: 1 not reproduced." in \
        mpath.read_text()


def test_revised_criterion_is_shown_as_before_and_after(tmp_path):
    c = _record("p-claim1", "reproduced", "experiment")
    c.criterion_revised = "before: x ≤ 1 / after: x ≤ 2, because …"
    _, mpath = write_claims([c], tmp_path, quick=True)
    assert "- criterion revised after the first run: before: x ≤ 1 / after: x ≤ 2" in mpath.read_text()


# -- stability ---------------------------------------------------------------------------------------------


def _specs(seeds):
    return lambda quick: [RunSpec.parse(tiny_spec(steps=1, data_seed=s)) for s in seeds]


def _error_claim(errors: dict[int, float], threshold: Threshold):
    """A claim over per-seed errors: reproduced when every seed's error ≤ the 'recovered' line, partly
    reproduced when the median is below 10× that line, not reproduced otherwise."""

    @claim(id="p-claim1", paper="p", statement="s", paper_value="v", criterion="error ≤ recovered",
           source=SOURCE, kind="experiment", specs=_specs(sorted(errors)), thresholds={"recovered": threshold})
    def check(ctx: Context) -> Outcome:
        line = ctx.threshold("recovered")
        errs = sorted(errors[s.data_seed] for s in ctx.specs(check.specs))
        if all(e <= line for e in errs):
            verdict = "reproduced"
        elif errs[len(errs) // 2] <= 10 * line:
            verdict = "partly reproduced"
        else:
            verdict = "not reproduced"
        return Outcome(measured={"errors": errs}, verdict=verdict)

    return check


def _ctx(tmp_path):
    return Context(store=Store(tmp_path / "store"), quick=True)


def test_a_verdict_that_flips_between_seeds_is_inconclusive_with_the_spread(tmp_path):
    c = _error_claim({0: 1e-9, 1: 1e-9, 2: 1e-6}, Threshold(1e-8, low=1e-8, high=1e-8, reason="fixed"))
    out = c.check(_ctx(tmp_path))
    st = out.stability
    assert out.verdict == "inconclusive" and not st["stable"] and st["seeds"] == 3
    assert st["verdicts"]["nominal"] == "partly reproduced"
    assert st["verdicts"]["seed 0"] == st["verdicts"]["seed 1"] == "reproduced"
    assert st["verdicts"]["seed 2"] == "not reproduced"
    assert "reproduced 2/3 seeds, not reproduced 1/3" in st["spread"] and st["spread"] in out.note


def test_a_verdict_that_flips_at_a_threshold_end_is_inconclusive(tmp_path):
    c = _error_claim({0: 1e-6}, Threshold(1e-5, low=1e-8, high=1e-4, reason="any line far below the signal"))
    out = c.check(_ctx(tmp_path))
    st = out.stability
    assert out.verdict == "inconclusive" and not st["stable"] and st["seeds"] == 1
    assert st["thresholds"] == {"recovered": [1e-8, 1e-4]}
    assert st["verdicts"] == {"nominal": "reproduced", "recovered=1e-08": "not reproduced",
                              "recovered=0.0001": "reproduced"}
    assert "at recovered=1e-08: not reproduced" in st["spread"]


def test_a_stable_verdict_is_kept(tmp_path):
    c = _error_claim({0: 1e-12, 1: 1e-11, 2: 1e-12}, Threshold(1e-8, low=1e-10, high=1e-4, reason="r"))
    out = c.check(_ctx(tmp_path))
    assert out.verdict == "reproduced" and out.stability["stable"] and out.stability["spread"] == ""
    assert set(out.stability["verdicts"]) == {"nominal", "seed 0", "seed 1", "seed 2", "recovered=1e-10",
                                              "recovered=0.0001"}
    assert out.source == SOURCE and out.kind == "experiment"


def test_a_check_that_cannot_run_on_one_seed_alone_is_named_not_hidden(tmp_path):
    @claim(id="p-claim2", paper="p", statement="s", paper_value="v", criterion="c", source=SOURCE,
           kind="theorem", specs=_specs([0, 1]))
    def check(ctx: Context) -> Outcome:
        a, b = ctx.specs(check.specs)  # needs both seeds at once
        return Outcome(measured={}, verdict="reproduced")

    out = check.check(_ctx(tmp_path))
    assert out.verdict == "reproduced" and out.stability["stable"], out.stability
    assert out.stability["verdicts"]["seed 0"].startswith("not evaluable")
    assert "not evaluable on one seed alone: seed 0, seed 1" in out.stability["spread"]


def test_threshold_reads_come_from_the_framework(tmp_path):
    with pytest.raises(ValueError):
        Threshold(1.0, low=2.0, high=3.0, reason="r")
    with pytest.raises(ValueError):
        Threshold(1.0, low=0.5, high=3.0, reason=" ")

    @claim(id="p-claim3", paper="p", statement="s", paper_value="v", criterion="c", source=SOURCE,
           kind="experiment")
    def check(ctx: Context) -> Outcome:
        ctx.threshold("recovered")
        return Outcome(measured={}, verdict="reproduced")

    with pytest.raises(KeyError, match="recovered"):
        check.check(_ctx(tmp_path))


def test_seed_filter_restricts_every_spec_read(tmp_path):
    ctx = _ctx(tmp_path)
    fn = _specs([0, 1, 2])
    assert [s.data_seed for s in ctx.specs(fn)] == [0, 1, 2]
    assert [s.data_seed for s in ctx.for_seed(1).specs(fn)] == [1]
    assert [s.data_seed for s in ctx.for_seed(1).for_seed(None).specs(fn)] == [0, 1, 2]



def test_a_claim_over_computations_is_judged_per_seed_too(tmp_path):
    """Seeds inside stored computations (``data_seed``, else ``seed``) count and are judged alone, as runs."""
    from overparam.experiments.claimcheck import computation_seed
    from overparam.experiments.computations import Computation, save_result

    ctx = _ctx(tmp_path)
    comps = [Computation(fn="p.mc", module="tests", version=1, settings={"seed": s, "n": 4}) for s in (0, 1)]
    shared = Computation(fn="p.const", module="tests", version=1, settings={"n": 4})  # no seed: every view
    for comp, err in ((comps[0], 1e-9), (comps[1], 1e-6), (shared, 0.0)):
        save_result(comp, ctx.store, {"error": err}, 0.0)
    assert [computation_seed(c) for c in (*comps, shared)] == [0, 1, None]
    assert ctx.for_seed(1).computations(lambda q: [*comps, shared]) == [comps[1], shared]

    @claim(id="p-claim5", paper="p", statement="s", paper_value="v", criterion="error ≤ 1e-8", source=SOURCE,
           kind="theorem", computations=lambda q: [*comps, shared],
           thresholds={"recovered": Threshold(1e-8, low=1e-8, high=1e-8, reason="fixed")})
    def check(ctx: Context) -> Outcome:
        errs = [ctx.result(c)["error"] for c in ctx.computations(check.computations)]
        ok = all(e <= ctx.threshold("recovered") for e in errs)
        return Outcome(measured={"errors": errs}, verdict="reproduced" if ok else "not reproduced")

    out = check.check(ctx)
    st = out.stability
    assert st["seeds"] == 2 and out.verdict == "inconclusive" and not st["stable"]
    assert st["verdicts"] == {"nominal": "not reproduced", "seed 0": "reproduced", "seed 1": "not reproduced",
                              "recovered=1e-08": "not reproduced"}

# -- every numeric threshold is declared ---------------------------------------------------------------------

#: A comparison with a number in a criterion's text: "≤ 1e-8", "≥ 0.9", "within ±15 %", "> 10^-0.5".
COMPARISON = re.compile(r"(≤|≥|<|>|±|within)\s*[-−]?\s*(\d|½)")


def undeclared(c) -> bool:
    """A claim whose criterion compares with a number but which declares no threshold range."""
    return bool(COMPARISON.search(c.criterion)) and not c.thresholds


def test_a_criterion_with_a_numeric_threshold_declares_its_range():
    @claim(id="p-claim4", paper="p", statement="s", paper_value="v", criterion="reproduced when the error ≤ 1e-8",
           source=SOURCE, kind="experiment")
    def bare(ctx: Context) -> Outcome:
        return Outcome(measured={}, verdict="reproduced")

    assert undeclared(bare)  # the test below would catch it
    missing = [c.id for c in all_claims() if undeclared(c)]
    assert not missing, f"criteria with numeric thresholds but no declared range: {missing}"
    for c in all_claims():
        for name, t in c.thresholds.items():
            assert t.low <= t.value <= t.high and len(t.reason) > 10, (c.id, name)


def test_the_terminal_shows_the_spread_beside_an_unstable_verdict(tmp_path):
    c = _error_claim({0: 1e-6}, Threshold(1e-5, low=1e-8, high=1e-4, reason="r")).check(_ctx(tmp_path))
    (head, _), (line, verdict) = summary_lines([c], width=300)
    assert head == "p: 1 paper claim: 1 inconclusive" and verdict == "inconclusive"
    assert "inconclusive       (reproduced nominally; at recovered=1e-08: not reproduced) [1e-06]" in line


def test_store_reads_honour_the_seed_filter(tmp_path):
    from overparam.experiments import run_sweep
    from overparam.papers._shared import replica_traces, summaries

    ctx = _ctx(tmp_path)
    specs = [RunSpec.parse(tiny_spec(steps=3, data_seed=s)) for s in (0, 1)]
    run_sweep(specs, ctx.store)
    assert [len(replica_traces(ctx, s)) for s in specs] == [1, 1]
    one = ctx.for_seed(1)
    assert [len(replica_traces(one, s)) for s in specs] == [0, 1]
    assert summaries(ctx.store, one.specs(lambda q: specs))["data_seed"].tolist() == [1]


# -- reads shared by a check's evaluations ------------------------------------------------------------------


def test_a_checks_evaluations_share_one_read_and_a_callers_mutation_stays_its_own(tmp_path, monkeypatch):
    """Every view of one check (nominal, both threshold ends, each seed alone: 5 evaluations here) reads
    each stored run once and derives a ctx.memo value once; what one evaluation mutates (a trace column,
    a summary table, a memo value, a vector metric's array) is not what the next one sees."""
    from overparam.experiments import run_sweep
    from overparam.experiments.store import StoredRun
    from overparam.papers._shared import replica_traces, summaries

    ctx = _ctx(tmp_path)
    specs = [RunSpec.parse(tiny_spec(steps=3, data_seed=s)) for s in (0, 1)]
    run_sweep(specs, ctx.store)
    reads, derived, pristine = [], [], []
    real_trace = StoredRun.trace
    monkeypatch.setattr(StoredRun, "trace", lambda self: reads.append(self.key) or real_trace(self))

    @claim(id="p-claim6", paper="p", statement="s", paper_value="v", criterion="loss ≤ line", source=SOURCE,
           kind="experiment", specs=lambda q: specs,
           thresholds={"line": Threshold(10.0, low=5.0, high=20.0, reason="any line above the tiny run's error")})
    def check(ctx: Context) -> Outcome:
        views = [spec for spec in ctx.specs(check.specs)]
        rows = [replica_traces(ctx, spec)[0][1] for spec in views]
        table = summaries(ctx, views)
        extra = ctx.memo(("p.extra", tuple(s.key() for s in views)), lambda: derived.append(1) or [1.0])
        pristine.append("mutated" not in rows[0] and "mutated" not in table and extra == [1.0]
                        and rows[0]["loss"].iloc[-1] > 0)
        for r in rows:  # a careless caller: every change stays in its own copy
            r["mutated"] = 1
            r.loc[:, "loss"] = -1.0
        table["mutated"] = 1
        extra.append(2.0)
        with pytest.raises(ValueError):  # a vector metric's array is shared by the copies: read-only
            rows[0]["singular_values"].iloc[0][0] = 0.0
        ok = all(float(r["train_error"].iloc[-1]) <= ctx.threshold("line") for r in rows)
        return Outcome(measured={}, verdict="reproduced" if ok else "not reproduced")

    out = check.check(ctx)
    assert len(pristine) == 5 and all(pristine)
    assert sorted(reads) == sorted(s.key() for s in specs)  # each run's trace read once for all 5 views
    assert len(derived) == 3  # the memo value once per set of runs: both seeds, seed 0, seed 1
    assert out.verdict == "reproduced" and out.stability["stable"], out.stability


def test_the_memo_is_bounded_and_drops_the_least_recently_used():
    import numpy as np

    from overparam.experiments.memo import Memo

    memo = Memo(max_bytes=3 * 8_200)
    for i in range(3):
        memo.get(i, lambda: np.zeros(1000))
    memo.get(0, lambda: None)  # a hit: 0 is now the most recent
    memo.get(3, lambda: np.zeros(1000))
    assert 1 not in memo and {0, 2, 3} <= {k for k in range(4) if k in memo}
    assert memo.nbytes <= memo.max_bytes and (memo.hits, memo.misses) == (1, 4)
    memo.get("big", lambda: np.zeros(10_000))  # larger than the whole memo: handed out, not held
    assert "big" not in memo and len(memo) == 3


# -- headline: a verdict other than reproduced shows the measurement that failed ---------------------------


def _two_part(verdict: str, decisive: str = "") -> Claim:
    return Claim(id="p-claim9", paper="p", statement="s", setting="", paper_value="v", verdict=verdict,
                 measured={"train": 1.8e-14, "test": 6.1},
                 versus={"train error": {"paper": "< 1e-4", "ours": 1.8e-14},
                         "test error": {"paper": "≈ 1e-1", "ours": 6.1}}, decisive=decisive)


def test_a_partly_verdicts_headline_shows_the_failing_half():
    from overparam.experiments.claims import claims_payload, headline

    assert headline(_two_part("partly reproduced", "test error")) == ("test error", "6.1", "≈ 1e-1")
    assert headline(_two_part("not reproduced", "test")) == ("test", "6.1", "v")  # a measured entry
    # a reproduced claim, or one that names nothing, keeps its first pair
    assert headline(_two_part("reproduced", "test error"))[0] == "train error"
    assert headline(_two_part("partly reproduced"))[0] == "train error"
    row = claims_payload([_two_part("partly reproduced", "test error")], quick=True)["claims"][0]
    assert row["headline"] == {"quantity": "test error", "ours": "6.1", "paper": "≈ 1e-1"}
    assert row["decisive"] == "test error"
    line = [text for text, v in summary_lines([_two_part("partly reproduced", "test error")]) if v][0]
    assert "6.1 (paper: ≈ 1e-1) · test error" in line


def test_an_outcome_names_only_a_measurement_it_has():
    with pytest.raises(ValueError, match="decisive"):
        Outcome(measured={"a": 1}, verdict="partly reproduced", decisive="b")

