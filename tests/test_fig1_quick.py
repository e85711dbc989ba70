"""Li–Ma–Zhang Fig. 1 in quick mode, end to end through the command line: runs into a store,
PNG + PDF, claims.json with claim 1, and a second invocation that reuses every stored run."""

import json

import pytest

from overparam.cli import main


def _reproduce(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "li2018-fig1", "--quick", "--store", str(tmp_path / "store"),
              "--out", str(tmp_path / "out"), "--workers", "2", "--quiet"])
    return exc.value.code, capsys.readouterr()


def test_quick_fig1_end_to_end(tmp_path, capsys):
    code, _ = _reproduce(tmp_path, capsys)
    assert code == 0
    out = tmp_path / "out"
    assert (out / "li2018-fig1.png").stat().st_size > 10_000
    assert (out / "li2018-fig1.pdf").exists()
    assert (out / "report.html").exists()
    claims = json.loads((out / "claims.json").read_text())
    (c1,) = [c for c in claims["claims"] if c["id"] == "li2018-claim1"]
    assert c1["verdict"] in ("reproduced", "not reproduced", "inconclusive")
    assert any("alpha=1e-3" in k for k in c1["measured"])
    runs = list((tmp_path / "store" / "runs").glob("*/*"))
    assert len(runs) == 6  # 2 dimensions x 3 trials, 7 alphas batched as replicas in each
    # again: every run is reused, nothing recomputed, same claim
    code, _ = _reproduce(tmp_path, capsys)
    assert code == 0
    again = json.loads((out / "claims.json").read_text())
    assert again["claims"] == claims["claims"]
