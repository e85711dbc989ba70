"""What the terminal shows: ``overparam results`` at 80 columns (whole numbers, the settings that vary)
and ``overparam list`` (one clean line per entry, baselines and studies included)."""

from __future__ import annotations

import json
import re

import pytest

from overparam.catalog import first_sentence
from overparam.cli import main
from tiny import tiny_toml

ALPHAS = [0.001, 0.0031622776601683794, 0.01, 0.031622776601683794]
SPEC = tiny_toml(tail=f"""
[replicas]
"init.scale" = {ALPHAS}
""")


def cli(capsys, monkeypatch, *args: str, columns: int = 80) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, _ = capsys.readouterr()
    return (0 if info.value.code is None else int(info.value.code)), out


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("terminal")
    (d / "spec.toml").write_text(SPEC)
    with pytest.raises(SystemExit) as info:
        main(["run", str(d / "spec.toml"), "--store", str(d / "store"), "--workers", "1", "--quiet"])
    assert info.value.code in (0, None)
    return d / "store"


def test_results_at_80_columns_shows_the_varying_setting_and_whole_numbers(capsys, monkeypatch, store):
    code, out = cli(capsys, monkeypatch, "results", "--store", str(store))
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80, out
    # the varying setting is a column (header broken after its dot), each value whole on one line
    assert "init." in out and "scale" in out, out
    body = [line for line in out.splitlines() if line.startswith("│")]
    assert len(body) == len(ALPHAS), out
    for alpha in ALPHAS:
        assert any(f" {alpha:.4g} " in line for line in body), (alpha, out)
    # every final error is printed whole (4 significant digits) on its row
    code, js = cli(capsys, monkeypatch, "results", "--store", str(store), "--json")
    for row in json.loads(js):
        assert any(f" {row['test_error']:.4g} " in line for line in body), (row["test_error"], out)
    # settings that are the same in every row are named once, not as columns
    assert "the same in every row:" in out and "problem.d" in out


def test_list_gives_one_clean_line_per_entry(capsys, monkeypatch):
    code, out = cli(capsys, monkeypatch, "list", columns=200)
    assert code == 0
    code, js = cli(capsys, monkeypatch, "list", "--json")
    data = json.loads(js)
    lines = out.splitlines()
    for section, rows in data.items():
        head = lines.index(f"{section} ({len(rows)})")
        entries = lines[head + 1: head + 1 + len(rows)]
        assert all(line.startswith("  ") for line in entries), (section, entries)
    assert "``" not in out and not re.search(r":(func|class|mod|data|math|meth):`", out)
    assert {b["name"] for b in data["baselines"]} >= {"nuclear_norm", "scaled_gd", "scaled_gd_lambda", "mirror_descent",
                                                      "deep_factorization", "spectral_init", "truncated_svd"}
    assert {s["name"] for s in data["studies"]} >= {"phase-transition", "init-scale", "glrl", "depth"}
    assert "glrl" in {b["name"] for b in data["baselines"]}
    assert "phase-transition" in out and "truncated_svd" in out
    # summaries end a sentence, not a line of the docstring
    gaussian = next(p for p in data["inits"] if p["name"] == "gaussian")["summary"]
    assert gaussian.endswith(".") and "scale" in gaussian


def test_first_sentence_strips_markup_and_keeps_abbreviations():
    doc = """Entries i.i.d. N(0, s²) as in Eq. 3 of :func:`overparam.init.gaussian` (``normalize``), e.g. here.
    Then more.

    Another paragraph."""
    assert first_sentence(doc) == ("Entries i.i.d. N(0, s²) as in Eq. 3 of overparam.init.gaussian (normalize), "
                                   "e.g. here.")
