"""Every script in examples/ runs in its quick form, in a fresh directory, as a researcher would run it
(``python examples/<name>.py --quick``): exit status 0 and the output it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg", "OVERPARAM_STORE": str(cwd / "default-store")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{name}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_every_example_is_tested():
    tested = {"sensing_run", "dask_sweep", "query_store", "own_data", "custom_problem", "custom_algorithm",
              "custom_metric", "paper_package"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_sensing_run(tmp_path):
    out = run_example("sensing_run", tmp_path)
    assert "test_error" in out and len([ln for ln in out.splitlines() if "completed" in ln]) == 4
    assert (tmp_path / "sensing_run.png").stat().st_size > 10_000


def test_dask_sweep_then_query_store(tmp_path):
    out = run_example("dask_sweep", tmp_path, "--store", "st")
    assert "6 specs: 6 computed, 0 already stored, 0 failed (dask" in out
    out = run_example("query_store", tmp_path, "--store", "st")
    assert "computing it serially" not in out                            # it read what Dask stored
    assert "24 rows, 6 runs" in out and "median test error (rows: m, columns: α)" in out
    assert "traces at m = 160" in out


def test_query_store_fills_an_empty_store(tmp_path):
    out = run_example("query_store", tmp_path, "--store", "empty")
    assert "computing it serially" in out and "24 rows, 6 runs" in out


def test_own_data(tmp_path):
    out = run_example("own_data", tmp_path, "--data", "d")
    assert "loaded A (200, 15, 15), y (200,)" in out
    assert {p.name for p in (tmp_path / "d").iterdir()} == {"A.npy", "y.npy", "X_star.npy", "X_hat.npy"}


def printed_in_docs(page: str) -> list[str]:
    """The lines of the "What it prints (quick form):" block of a how-to page."""
    text = (EXAMPLES.parent / "docs" / "howto" / f"{page}.md").read_text()
    block = text.split("What it prints (quick form):", 1)[1].split("```", 2)[1]
    return [ln for ln in block.splitlines() if ln.strip()]


@pytest.mark.parametrize("name, page, expected", [
    ("custom_problem", "add-problem", "a bad setting is refused: problem.m = 0"),
    ("custom_algorithm", "add-algorithm", "heavy_ball(β=0) = gd bit for bit: True"),
    ("custom_metric", "add-metric", "checks passed"),
    ("paper_package", "add-paper", "demo2018-claim1: reproduced"),
])
def test_howto_examples(tmp_path, name, page, expected):
    out = run_example(name, tmp_path)
    assert expected in out
    for line in printed_in_docs(page):          # the page shows what the script prints
        assert line in out, f"docs/howto/{page}.md shows {line!r}; the script printed:\n{out}"
