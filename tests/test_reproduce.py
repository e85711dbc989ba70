"""``reproduce()`` from Python and ``overparam reproduce`` give the same claims.json; stored runs and
computations are reused; the report pairs figures with papers by id; every verdict is one of four."""

from __future__ import annotations

import json

import pytest

from overparam.cli import main
from overparam.experiments.claims import VERDICTS, Claim
from overparam.reproduce import reproduce

TARGETS = ["li2018-fig1", "li2018-claim8", "eftekhari2021-fig4"]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same quick targets through Python (first, computing, on a pool of two workers) and through the
    CLI (reusing the store, serially).

    Fig. 1's runs are shrunk for this module (d ∈ {12, 16} instead of {20, 40}, 1,500 steps instead of
    10⁴: the same 10 specs — 2 dims × 5 claim trials — each a fifth of the steps): what is tested here is the reproduction's
    machinery (pool, store reuse, report, claims.json), which reads whatever the runs measured; the
    quick-size numbers are checked in test_li2018_paper.py and drawn in test_figures.py (slow). On the
    pool, claim 8 and the toy Fig. 4 of eftekhari2021 (no runs) are checked and drawn by the workers;
    Fig. 1 and its claims, whose settings this process changed, by this process."""
    from overparam.papers.li2018 import fig1

    mp = pytest.MonkeyPatch()
    mp.setattr(fig1, "_dims", lambda quick: ((12, 16), 1))
    mp.setattr(fig1, "FIG1_STEPS", 1500)
    root = tmp_path_factory.mktemp("reproduce")
    py = reproduce(TARGETS, quick=True, store=root / "store", out=root / "py", executor="pool", workers=2)
    with pytest.raises(SystemExit) as info:
        main(["reproduce", *TARGETS, "--quick", "--store", str(root / "store"), "--out", str(root / "cli"),
              "--workers", "1", "--quiet"])
    yield root, py, info.value.code  # the module's later reproduce() calls read the same (shrunk) specs
    mp.undo()


def test_python_and_cli_claims_json_are_identical(both):
    """... and the pool's claims.json and figures are the serial ones, byte for byte."""
    root, py, code = both
    assert code in (0, None) and py.ok
    assert (root / "py" / "claims.json").read_bytes() == (root / "cli" / "claims.json").read_bytes()
    for fig in ("li2018-fig1", "eftekhari2021-fig4"):
        assert (root / "py" / f"{fig}.png").read_bytes() == (root / "cli" / f"{fig}.png").read_bytes()
    assert [c.id for c in py.claims] == ["li2018-claim1", "li2018-claim6", "li2018-claim8"]


def test_result_lists_figures_by_id_and_counts(both):
    root, py, _ = both
    assert set(py.figures) == {"li2018-fig1", "eftekhari2021-fig4"}
    assert {p.suffix for p in py.figures["li2018-fig1"]} == {".png", ".pdf"}
    assert py.figures["li2018-fig1"][0].stat().st_size > 10_000
    assert (py.runs_total, py.runs_computed, py.runs_skipped) == (10, 10, 0)
    assert (py.computations_computed, py.computations_skipped) == (5, 0)  # claim 8's Lemma A.1 on five data seeds
    again = reproduce(TARGETS, quick=True, store=root / "store", out=root / "again")
    assert (again.runs_computed, again.runs_skipped, again.computations_computed, again.computations_skipped) == \
        (0, 10, 0, 5)  # a cache hit for the runs and the stored computations
    assert [c.as_dict() for c in again.claims] == [c.as_dict() for c in py.claims]


def test_report_pairs_figures_with_papers_by_id(both):
    root, py, _ = both
    site = root / "py" / "site"
    assert py.report == site / "index.html" and "site/index.html" in (root / "py" / "report.html").read_text()
    page = (site / "li2018.html").read_text()
    assert "<img src='figures/li2018-fig1.png'" in page and "href='../li2018-fig1.pdf'" in page
    assert "<a href='#li2018-claim1'>li2018-claim1</a>" in page and "<tbody id='li2018-claim8'>" in page
    assert (site / "figures" / "li2018-fig1.png").read_bytes() == py.figures["li2018-fig1"][0].read_bytes()
    assert "10 of 10 stored" in page and "5 of 5 stored" in page  # the runs and computations these targets read
    (root / "py" / "li2018-stray.png").write_bytes(py.figures["li2018-fig1"][0].read_bytes())
    from overparam.experiments.store import Store
    from overparam.report import write_report

    rebuilt = write_report(root / "py", Store(root / "store"))
    assert rebuilt == py.report and sorted(p.name for p in (site / "figures").iterdir()) == [
        "eftekhari2021-fig4.png", "li2018-fig1.png"]
    assert "li2018-stray" not in "".join(p.read_text() for p in site.glob("*.html"))
    assert "<img src='figures/li2018-fig1.png'" in (site / "li2018.html").read_text()


def test_claims_record_criterion_and_paper_numbers(both):
    _, py, _ = both
    data = json.loads(py.claims_json.read_text())
    assert set(data["counts"]) == set(VERDICTS)
    for c in data["claims"]:
        assert c["verdict"] in VERDICTS and c["criterion"]
        assert {"versus", "criterion_revised", "figure", "paper_value", "source", "kind", "stability"} <= set(c)
        assert c["source"]["quote"] and c["source"]["section"] and c["kind"] in ("experiment", "theorem", "extension")
        assert {"seeds", "thresholds", "verdicts", "stable"} <= set(c["stability"])
    assert set(data["counts_by_kind"]) == {"paper", "extension"}
    assert data["device"] == "cpu"
    for c, claim in zip(data["claims"], py.claims, strict=True):  # the first number the check wrote (the
        name = next(iter(claim.versus or claim.measured))  # keys of claims.json are sorted)
        assert c["headline"]["quantity"] == name
    c6 = next(c for c in data["claims"] if c["id"] == "li2018-claim6")
    assert "loosened" in c6["criterion_revised"] and c6["versus"]
    md = py.claims_md.read_text()
    assert "| claim | kind | verdict | paper says | we measure | criterion |" in md
    assert "paper claim" in md.split("\n")[2]  # the count line counts the paper's claims apart from extensions


def test_verdict_vocabulary_is_enforced():
    assert VERDICTS == ("reproduced", "partly reproduced", "not reproduced", "inconclusive")
    with pytest.raises(ValueError):
        Claim(id="x", paper="p", statement="s", setting="", measured={}, paper_value="", verdict="mostly")


def test_targets_reproduced_one_at_a_time_build_one_report(both, tmp_path):
    """A later call into the same --out keeps the earlier call's claims and figures of the same mode
    (papers reproduced one at a time make one report); an output of the other mode is replaced."""
    import shutil

    root, py, _ = both
    out = tmp_path / "out"
    shutil.copytree(root / "py", out)
    later = reproduce(["li2018-claim8"], quick=True, store=root / "store", out=out)
    assert [c.id for c in later.claims] == ["li2018-claim8"] and later.figures == {}
    data = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in data["claims"]] == ["li2018-claim1", "li2018-claim6", "li2018-claim8"]
    assert data["counts"] == json.loads((root / "py" / "claims.json").read_text())["counts"]
    page = (out / "site" / "li2018.html").read_text()
    assert "<img src='figures/li2018-fig1.png'" in page and "<tbody id='li2018-claim1'>" in page

    data["mode"] = "full"  # as if a full-mode reproduction had written this directory
    (out / "claims.json").write_text(json.dumps(data))
    again = reproduce(["li2018-claim8"], quick=True, store=root / "store", out=out)
    assert [c["id"] for c in json.loads((out / "claims.json").read_text())["claims"]] == ["li2018-claim8"]
    assert again.figures == {} and "li2018-fig1.png" not in (out / "site" / "li2018.html").read_text()


def test_figures_and_claims_reading_a_run_in_common_go_to_one_worker_in_the_serial_order():
    from types import SimpleNamespace

    from overparam.drawcheck import groups

    a, b, c, d = (SimpleNamespace(id=i) for i in "abcd")
    tasks = [("figure", a), ("figure", b), ("claim", c), ("claim", d)]
    keys = {"a": ["run1"], "b": ["run2"], "c": ["run3", "run1"], "d": []}
    assert [[item.id for _, item in g] for g in groups(tasks, keys)] == [["a", "c"], ["b"], ["d"]]
    keys["d"] = ["run2", "run3"]  # d reads b's run and c's: one group, still in the serial order
    assert [[item.id for _, item in g] for g in groups(tasks, keys)] == [["a", "b", "c", "d"]]
