"""The command line: bad input gives exit status 2 and one line on stderr (never a traceback), and
the --json outputs keep their documented keys (docs/cli.md)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import torch

from overparam.cli import main
from tiny import tiny_toml

SPEC = tiny_toml(tail="""
[replicas]
init_seed = [0, 1]

[grid]
data_seed = [0, 1]
""")


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``overparam ARGS`` in this process; (exit status, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "sweep.toml").write_text(SPEC)
    (d / "invalid.toml").write_text("steps = = 1\n")
    (d / "unknown.toml").write_text(SPEC.replace("steps = 50", "steps = 50\nstepz = 3"))
    (d / "range.toml").write_text(SPEC.replace("m = 40", "m = -40"))
    (d / "a_file").write_text("not a store")
    return d


@pytest.fixture(scope="module")
def store(files):
    """A store filled through the CLI (serially): 2 runs x 2 replicas."""
    root = files / "store"
    with pytest.raises(SystemExit) as info:
        main(["run", str(files / "sweep.toml"), "--store", str(root), "--workers", "1", "--quiet"])
    assert info.value.code in (0, None)
    return root


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BAD_INPUT = {
    "missing spec file": (["run", "{d}/nope.toml"], "not found"),
    "spec path is a directory": (["run", "{d}"], "is a directory"),
    "invalid TOML": (["run", "{d}/invalid.toml"], "invalid TOML"),
    "unknown field": (["run", "{d}/unknown.toml"], "stepz: unknown field; accepted:"),
    "out-of-range value": (["run", "{d}/range.toml"], "problem.m = -40"),
    "bad --set syntax": (["run", "{d}/sweep.toml", "--set", "problem.d"], "expected key=value"),
    "bad --set value": (["run", "{d}/sweep.toml", "--set", "problem.d=abc"], "problem.d = 'abc'"),
    "unknown --set field": (["run", "{d}/sweep.toml", "--set", "problem.dd=3"], "problem.dd: unknown setting"),
    "unknown reproduce target": (["reproduce", "li2099", "--store", "{d}/s"], "target 'li2099': unknown; accepted"),
    "bad --device": (["run", "{d}/sweep.toml", "--device", "gpu"], "--device: got 'gpu'; accepted: cpu, cuda"),
    "--workers 0": (["run", "{d}/sweep.toml", "--workers", "0"], "--workers: got '0'; accepted: integers >= 1"),
    "--workers not a number": (["run", "{d}/sweep.toml", "--workers", "abc"], "--workers: got 'abc'; accepted"),
    "--threads 0": (["reproduce", "li2018", "--threads", "0"], "--threads: got '0'"),
    "unknown --where column": (["results", "--store", "{store}", "--where", "nope=1"], "--where nope: no such column"),
    "bad --where syntax": (["results", "--store", "{store}", "--where", "nope"], "--where 'nope': expected key=value"),
    "unknown --columns": (["results", "--store", "{store}", "--columns", "key,nope"], "--columns nope"),
    "--store is a file": (["run", "{d}/sweep.toml", "--store", "{d}/a_file"], "not a directory"),
    "no such store": (["results", "--store", "{d}/no-store"], "no such store"),
    "unreachable --dask": (["run", "{d}/sweep.toml", "--store", "{d}/s", "--dask", "tcp://127.0.0.1:{port}"],
                           "cannot reach the scheduler"),
    "malformed --dask": (["run", "{d}/sweep.toml", "--dask", "nowhere"], "--dask 'nowhere': accepted"),
    "unknown list section": (["list", "gizmos"], "list 'gizmos': unknown section; accepted"),
    "--json with --csv": (["results", "--store", "{store}", "--json", "--csv"], "--json and --csv"),
    "unknown command": (["frobnicate"], "frobnicate"),
    "unknown option": (["run", "{d}/sweep.toml", "--frob"], "--frob"),
    "missing argument": (["run"], "Missing argument"),
    "report without output": (["report", "--store", "{store}", "--out", "{d}/no-out"], "--out"),
}
if not torch.cuda.is_available():
    BAD_INPUT["--device cuda without CUDA"] = (["run", "{d}/sweep.toml", "--device", "cuda"], "no CUDA device")


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line(case, capsys, files, store):
    args, expected = BAD_INPUT[case]
    argv = [a.format(d=files, store=store, port=_closed_port()) for a in args]
    code, out, err = cli(capsys, *argv)
    assert code == 2, (case, code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, (case, err)
    assert lines[0].startswith("error: ") and "Traceback" not in err + out
    assert expected in lines[0], (case, lines[0])


def test_python_dash_m_entry_point_reports_errors_in_one_line(files):
    ok = subprocess.run([sys.executable, "-m", "overparam.cli", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "reproduce" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "overparam.cli", "run", str(files / "nope.toml")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


LIST_KEYS = {
    "papers": {"id", "title", "figures", "claims", "status"},
    "figures": {"id", "paper", "title"},
    "claims": {"id", "paper", "statement"},
    "problems": {"name", "summary", "settings"},
    "params": {"name", "summary", "settings"},
    "algorithms": {"name", "summary", "settings"},
    "inits": {"name", "summary", "settings"},
    "metrics": {"name", "summary"},
    "regularizers": {"name", "summary", "settings"},
    "stops": {"name", "summary", "settings"},
    "recipes": {"name", "summary", "settings"},
    "baselines": {"name", "summary", "use"},
    "studies": {"name", "summary", "command"},
}


def test_list_json_schema(capsys, store):
    code, out, _ = cli(capsys, "list", "--json")
    data = json.loads(out)
    assert code == 0 and list(data) == list(LIST_KEYS)
    for section, keys in LIST_KEYS.items():
        assert data[section], section
        assert all(set(row) == keys for row in data[section]), section
    assert {p["id"] for p in data["papers"]} == {"li2018", "rajaraman2023", "jiang2023", "eftekhari2021", "ma2025"}
    assert "matrix_sensing" in {p["name"] for p in data["problems"]}
    code, out, _ = cli(capsys, "list", "parameterizations", "--json")
    assert list(json.loads(out)) == ["params"]
    code, out, _ = cli(capsys, "list", "store", "--store", str(store), "--json")
    assert json.loads(out) == {"store": [{"root": str(store), "runs": 2, "replicas": {"completed": 4}, "failures": 0}]}


RESULT_KEYS = {"key", "replica", "status", "stop_step", "wall_time", "problem.name", "param.name", "algorithm.name",
               "init.name", "steps", "data_seed", "init_seed", "algo_seed", "device", "dtype", "loss", "train_error",
               "test_error"}


def test_results_json_csv_and_traces(capsys, store):
    from overparam.experiments import Store

    code, out, _ = cli(capsys, "results", "--store", str(store), "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4
    assert all(set(r) >= RESULT_KEYS for r in rows)
    table = Store(store).table()
    # full precision: the JSON numbers are the stored numbers
    assert [r["test_error"] for r in rows] == table["test_error"].tolist()
    assert [(r["key"], r["replica"]) for r in rows] == sorted((r["key"], r["replica"]) for r in rows)
    code, out, _ = cli(capsys, "results", "--store", str(store), "--where", "data_seed=1", "--where", "replica=0",
                       "--json", "--columns", "key,replica,test_error")
    assert [set(r) for r in json.loads(out)] == [{"key", "replica", "test_error"}]
    code, out, _ = cli(capsys, "results", "--store", str(store), "--csv", "--where", "init_seed=1")
    lines = out.strip().splitlines()
    assert lines[0].split(",")[0] == "key" and len(lines) == 3
    code, out, _ = cli(capsys, "results", "--store", str(store), "--trace", "--json", "--where", "data_seed=0",
                       "--where", "replica=1", "--columns", "init_seed")
    trace = json.loads(out)
    assert {"key", "init_seed", "step", "replica", "loss", "train_error", "singular_values"} <= set(trace[0])
    assert {r["replica"] for r in trace} == {1} and {r["init_seed"] for r in trace} == {1}
    assert [r["step"] for r in trace] == sorted(r["step"] for r in trace) and trace[-1]["step"] == 50
    assert len(trace[0]["singular_values"]) == 8
    code, out, _ = cli(capsys, "results", "--store", str(store), "--trace", "--csv", "--where", "data_seed=0")
    header, first = out.splitlines()[:2]
    assert header.startswith("key,") and "[" in first  # vector metrics as JSON lists


def test_run_json_schema_and_resume(capsys, files, store):
    code, out, _ = cli(capsys, "run", str(files / "sweep.toml"), "--store", str(store), "--json", "--workers", "1")
    rep = json.loads(out)
    assert code == 0
    assert set(rep) == {"total", "skipped", "computed", "computed_by_other", "failed", "claimed", "executor",
                        "wall_time", "store", "runs"}
    assert (rep["total"], rep["skipped"], rep["computed"], rep["failed"]) == (2, 2, 0, [])
    assert all(set(r) == {"key", "stored", "failed"} and r["stored"] for r in rep["runs"])
    # an override makes new specs: only those are computed
    code, out, _ = cli(capsys, "run", str(files / "sweep.toml"), "--store", str(store), "--json", "--workers", "1",
                       "--set", "grid.data_seed=[1,2]")
    rep = json.loads(out)
    assert (rep["total"], rep["skipped"], rep["computed"]) == (2, 1, 1)


def test_failed_runs_exit_1_with_a_line_each(capsys, files, tmp_path):
    """A run that passes validation but fails while running (the subspace diagnostics follow a
    full-gradient step; SGD has none) is recorded per grid point and the sweep goes on."""
    code, out, err = cli(capsys, "run", str(files / "sweep.toml"), "--store", str(tmp_path / "s"), "--quiet",
                         "--workers", "1", "--set", "algorithm.name=sgd", "--set", 'metrics=["subspace_E_norm"]')
    assert code == 1 and "Traceback" not in err
    assert sum(line.startswith("run ") and "failed: ValueError" in line for line in err.splitlines()) == 2


def test_contradicting_settings_exit_2_before_any_run(capsys, files, tmp_path):
    code, out, err = cli(capsys, "run", str(files / "sweep.toml"), "--store", str(tmp_path / "s"), "--quiet",
                         "--workers", "1", "--set", "param.name=hadamard")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "param.name = 'hadamard'" in err
    assert not (tmp_path / "s" / "runs").exists()


def test_no_arguments_prints_help(capsys):
    code, out, err = cli(capsys)
    assert code == 0 and "reproduce" in out and err == ""


def _claim(id: str, verdict: str, **kw):
    from overparam.experiments.claims import Claim

    return Claim(id=id, paper=id.split("-")[0], statement="s", setting="", measured=kw.pop("measured", {"m": 1.0}),
                 paper_value=kw.pop("paper_value", "qualitative"), verdict=verdict, **kw)


def test_reproduce_summary_one_line_per_claim_within_100_columns(capsys, monkeypatch, tmp_path):
    """The terminal summary: per paper a count line (the paper's claims apart from our extensions), then
    one line per claim (id, "ext" for an extension, verdict, key number against the paper's), none longer
    than the terminal's 100 columns; the full table is in the site."""
    import overparam.reproduce as rp

    long = {"a very long quantity name " * 3: {"paper": "≈ 1e-1 " * 10, "ours": [0.123456] * 20}}
    claims = [_claim("li2018-claim2", "partly reproduced", versus={"α=1 test error": {"paper": "≈ 1e-1", "ours": 6.0976}},
                     kind="experiment"),
              _claim("li2018-claim5", "not reproduced", versus=long, kind="theorem"),
              _claim("ma2025-claim1", "reproduced", measured={"slope": 187.16}, paper_value="≈ 200", kind="experiment"),
              _claim("ma2025-claim2", "inconclusive", measured={}, paper_value="", kind="extension")]

    def fake(targets, **kw):
        out = kw["out"]
        return rp.ReproduceResult(figures={}, claims=claims, claims_json=out / "claims.json",
                                  claims_md=out / "claims.md", report=out / "site" / "index.html", store=tmp_path,
                                  quick=True)

    monkeypatch.setattr(rp, "reproduce", fake)
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = cli(capsys, "reproduce", "li2018", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"))
    lines = out.splitlines()[:6]  # then the paths of the figures, claims, report and store
    assert code == 0 and all(len(line) <= 100 for line in lines), [len(x) for x in lines]
    assert lines[:6] == [
        "li2018: 2 paper claims: 1 partly reproduced, 1 not reproduced",
        "  li2018-claim2     partly reproduced  6.1 (paper: ≈ 1e-1) · α=1 test error",
        lines[2],
        "ma2025: 1 paper claim: 1 reproduced; 1 extension: 1 inconclusive",  # extensions counted apart
        "  ma2025-claim1     reproduced         187 (paper: ≈ 200) · slope",
        "  ma2025-claim2 ext inconclusive",
    ] and lines[2].startswith("  li2018-claim5     not reproduced     [0.123, 0.123, 0.123, … (20)] (paper: ≈ 1e-1 ≈")
    assert lines[2].endswith("…")
    assert len(lines[2]) == 100 and "report: " in out and "claims.md" in out and "figures: 0 drawn" in out
