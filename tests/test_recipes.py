"""Recipes: multi-stage runs as specs, stored, swept, resumed and executed like single runs."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import overparam as op
from overparam.experiments import RunSpec, run_sweep
from overparam.experiments.execute import execute
from overparam.experiments.store import Store
from overparam.recipes import prune_finetune, restarts, run_recipe


def prune_spec(**changes) -> dict:
    """Symmetric sensing d = 10, r = 2, m = 150; group-Lasso GD → prune at 2√β → fine-tune, with four
    replicas whose λ grid prunes them to different widths (10, 9, 4, 2)."""
    spec = {
        "steps": 1500, "metrics": ["loss", "train_error", "test_error", "column_norms"],
        "problem": {"name": "matrix_sensing", "d": 10, "r": 2, "m": 150},
        "param": {"name": "symmetric"},
        "algorithm": {"name": "gd", "eta": 0.05},
        "init": {"name": "gaussian", "scale": 0.1},
        "regularizer": {"name": "group_lasso", "lam": 0.01, "beta": 1e-3},
        "recipe": {"name": "prune_finetune", "finetune_steps": 300},
        "log": {"points": 50},
        "replicas": {"regularizer.lam": [0.0, 0.003, 0.01, 0.05]},
    }
    return {**spec, **changes}


@pytest.fixture(scope="module")
def pruned():
    spec = RunSpec.parse(prune_spec())
    return spec, execute(spec)


def test_prune_finetune_is_one_result_with_stages_events_and_ragged_widths(pruned, tmp_path):
    spec, res = pruned
    prunes = {e["replica"]: e for e in res.events if e["kind"] == "prune"}
    widths = [prunes[r]["width"] for r in range(4)]
    assert len(set(widths)) == 4 and widths[-1] == 2  # λ = 0.05 keeps exactly r = 2 columns
    assert all(prunes[r]["step"] == 1500 and prunes[r]["threshold"] == pytest.approx(2 * 1e-3**0.5) for r in range(4))
    assert res.theta is None and [res.theta_of(r)["U"].shape[1] for r in range(4)] == widths
    frame = res.trace.to_frame()
    assert set(frame["stage"]) == {0, 1}
    assert frame.groupby("stage")["step"].agg(["min", "max"]).values.tolist() == [[0, 1500], [1500, 1800]]
    assert res.stop_step == [1800] * 4
    # stored: arrays per replica when widths differ, the trace with its stage column, events in meta
    store = Store(tmp_path)
    store.save(spec, res)
    run = store.load(spec.key())
    theta = run.theta()
    assert [t["U"].shape for t in theta] == [(10, w) for w in widths]
    assert "stage" in run.trace().columns
    assert sum(e["kind"] == "prune" for e in run.meta["events"]) == 4


def test_a_recipe_sweep_is_identical_across_serial_pool_and_dask(tmp_path):
    specs = [RunSpec.parse(prune_spec(data_seed=s, steps=400, recipe={"name": "prune_finetune", "finetune_steps": 100}))
             for s in (0, 1)]
    stores = {name: Store(tmp_path / name) for name in ("serial", "pool", "dask")}
    run_sweep(specs, stores["serial"], workers=1)
    run_sweep(specs, stores["pool"], workers=2)
    run_sweep(specs, stores["dask"], workers=2, dask="local")
    for s in specs:
        want = stores["serial"].load(s.key())
        for name in ("pool", "dask"):
            got = stores[name].load(s.key())
            a, b = got.arrays(), want.arrays()
            assert list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)
            pd.testing.assert_frame_equal(got.trace(), want.trace(), check_exact=True)
            assert got.meta["events"] == want.meta["events"]


KILL_SCRIPT = """
import json, sys
from overparam.experiments import RunSpec
from overparam.experiments.execute import execute
from overparam.experiments.store import Store
spec = RunSpec.parse(json.loads(sys.argv[1]))
def progress(t, steps):
    print(steps, t, flush=True)  # stage 2 is the one with finetune_steps
Store(sys.argv[2]).save(spec, execute(spec, progress=progress))
"""


def test_sigkill_during_stage_two_then_resume_gives_the_uninterrupted_result(tmp_path):
    spec = RunSpec.parse(prune_spec(steps=300, recipe={"name": "prune_finetune", "finetune_steps": 20000},
                                    log={"points": 30}))
    root = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, json.dumps(spec.canonical()), str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen_stage2 = False
    deadline = time.monotonic() + 120
    try:
        for line in proc.stdout:
            steps, t = map(int, line.split())
            if steps == 20000 and t >= 200:
                seen_stage2 = True
                break
            assert time.monotonic() < deadline
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert seen_stage2
    store = Store(root)
    assert not store.has(spec)  # nothing half-written is visible
    rep = run_sweep([spec], store, workers=1)  # resume: the killed run is computed again
    assert len(rep.computed) == 1 and rep.failed == []
    ref = Store(tmp_path / "ref")
    run_sweep([spec], ref, workers=1)
    a, b = store.load(spec.key()), ref.load(spec.key())
    assert all(np.array_equal(a.arrays()[k], b.arrays()[k]) for k in b.arrays())
    pd.testing.assert_frame_equal(a.trace(), b.trace(), check_exact=True)


def _restart_spec(mode: str) -> dict:
    """003 Example-1.1-like sensing (d = 12, rank 2), a rank-12 init of norm 2, window 20, τ = 0.999."""
    return {"steps": 3000, "metrics": ["train_error_sq", "test_error"],
            "problem": {"name": "matrix_sensing", "d": 12, "r": 2, "m": 100, "normalization": "1/8"},
            "param": {"name": "symmetric"}, "algorithm": {"name": "gd", "eta": 0.0005, "grad_scale": 8.0},
            "init": {"name": "low_rank", "rank": 12, "norm": 2.0},
            "recipe": {"name": "restarts", "window": 20, "tau": 0.999, "rank_step": 3, "factor": 0.5,
                       "min_rank": 2, "mode": mode},
            "log": {"points": 60}}


def test_restarts_record_rank_and_norm_and_the_terminating_mode_stops_testing():
    lit = execute(RunSpec.parse(_restart_spec("literal")))
    term = execute(RunSpec.parse(_restart_spec("terminating")))
    for res in (lit, term):
        r = [e for e in res.events if e["kind"] == "restart"]
        assert r, "no restart fired"
        ranks = [e["rank"] for e in r]
        assert ranks[:4] == [9, 6, 3, 2][: len(ranks[:4])] and all(x >= 2 for x in ranks)
        norms = [e["norm"] for e in r]
        assert norms == [2.0 * 0.5 ** (i + 1) for i in range(len(norms))]
        assert res.stop_step == [3000]
    term_restarts = [e for e in term.events if e["kind"] == "restart"]
    assert term_restarts[-1]["rank"] == 2 and sum(e["rank"] == 2 for e in term_restarts) == 1


def test_perturbed_then_plain_and_early_stopping():
    base = {"metrics": ["loss", "test_error"], "param": {"name": "symmetric", "k": 3},
            "problem": {"name": "matrix_sensing", "d": 6, "r": 1, "m": 60, "normalization": "1/(4m)"}}
    ipgd = RunSpec.parse({**base, "steps": 2000, "init": {"name": "zero"},
                          "algorithm": {"name": "ipgd", "eta": 0.2, "radius": 1e-12, "g_thres": 1e-9,
                                        "escape_time": 300, "f_thres": 1e-14},
                          "recipe": {"name": "perturbed_then_plain", "plain_steps": 200}})
    res = execute(ipgd)
    assert [e["kind"] for e in res.events][0] == "perturbation" and res.events[0]["step"] == 0
    assert set(res.trace.to_frame()["stage"]) == {0, 1} and res.final("test_error")[0] < 1e-8
    early = RunSpec.parse({**base, "steps": 400, "init": {"name": "gaussian", "scale": 1e-3},
                           "problem": {**base["problem"], "noise": 0.3},
                           "algorithm": {"name": "gd", "eta": 0.5}, "recipe": {"name": "early_stopping"}})
    res = execute(early)
    (ev,) = [e for e in res.events if e["kind"] == "early_stop"]
    frame = res.trace.to_frame()
    assert ev["rule"] == "oracle" and ev["value"] <= frame["test_error"].min() + 1e-15
    assert res.stop_step[0] == ev["chosen_step"] < 400


# -- recipes on objects ---------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def test_no_recipes_module_imports_the_experiment_layer():
    """Recipes sit below experiments (DESIGN.md, dependency rules): no import of ``overparam.experiments``,
    at module level or inside a function, in any module of ``src/overparam/recipes``."""
    bad = []
    for path in sorted((ROOT / "src" / "overparam" / "recipes").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                names = [target + "." + a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.startswith(("overparam.experiments", "..experiments", "...experiments")) for n in names):
                bad.append(f"{path.name}:{node.lineno}")
    assert bad == []


def _same(a, b) -> None:
    """Bit-identical results: trace (every column), per-replica final θ, status, steps and events."""
    pd.testing.assert_frame_equal(a.trace.to_frame(), b.trace.to_frame(), check_exact=True)
    assert len(a.theta_list) == len(b.theta_list)
    for ta, tb in zip(a.theta_list, b.theta_list, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(ta, tb, strict=True))
    assert a.status == b.status and a.stop_step == b.stop_step and a.events == b.events


def test_prune_finetune_from_objects_gives_the_spec_numbers_bit_for_bit():
    """Per-replica λ and η: after pruning the lanes split into groups of different widths, so the
    fine-tuning GD is built for subsets of replicas, by the spec's factory on one side and by the
    objects' factory on the other."""
    lams, etas = [0.0, 0.003, 0.01, 0.05], [0.05, 0.04, 0.05, 0.045]
    spec = RunSpec.parse(prune_spec(steps=600, log={"points": 40}, metrics=["loss", "test_error"],
                                    recipe={"name": "prune_finetune", "finetune_steps": 150, "finetune_eta": 0.03},
                                    replicas={"regularizer.lam": lams, "algorithm.eta": etas}))
    want = execute(spec)
    assert len({e["width"] for e in want.events if e["kind"] == "prune"}) > 1
    got = run_recipe(prune_finetune(finetune_steps=150, finetune_eta=0.03),
                     op.problems.matrix_sensing(d=10, r=2, m=150), op.params.Symmetric(), op.algorithms.gd(eta=etas),
                     init=op.init.gaussian(scale=0.1), regularizer=op.regularizers.group_lasso(lam=lams, beta=1e-3),
                     steps=600, metrics=["loss", "test_error"], log=op.LogSchedule(points=40))
    _same(got, want)


def test_restarts_from_objects_give_the_spec_numbers_bit_for_bit():
    """Fresh initializations (new rank and norm) come from the factory: spec and objects agree."""
    d = _restart_spec("terminating")
    want = execute(RunSpec.parse({**d, "steps": 1500}))
    assert any(e["kind"] == "restart" for e in want.events)
    got = run_recipe(restarts(window=20, tau=0.999, rank_step=3, factor=0.5, min_rank=2, mode="terminating"),
                     op.problems.matrix_sensing(d=12, r=2, m=100, normalization="1/8"), op.params.Symmetric(),
                     op.algorithms.gd(eta=0.0005, grad_scale=8.0), init=op.init.low_rank(rank=12, norm=2.0),
                     steps=1500, metrics=["train_error_sq", "test_error"], log=op.LogSchedule(points=60))
    _same(got, want)


def test_a_recipe_run_builds_its_regularizer_once(monkeypatch):
    """The group-Lasso penalty is constructed once per run, whatever the replicas and stages (001's
    Algorithm 1 with its per-replica SOSP certificate, and prune_finetune)."""
    from overparam import registry

    calls = []
    original = registry.get("regularizer", "group_lasso")

    @functools.wraps(original)  # the same signature: the spec schema is read from it
    def counting(*args, **kw):
        calls.append(kw)
        return original(*args, **kw)

    monkeypatch.setitem(registry._TABLES["regularizer"], "group_lasso", counting)
    for recipe in ({"name": "prune_finetune", "finetune_steps": 50},
                   {"name": "rajaraman2023.algorithm1", "finetune_steps": 50, "lanczos_steps": 5}):
        calls.clear()
        res = execute(RunSpec.parse(prune_spec(steps=200, recipe=recipe, log={"points": 10})))
        assert sum(e["kind"] == "prune" for e in res.events) == 4
        assert len(calls) == 1, recipe["name"]


def test_the_readme_recipe_snippet_runs_and_matches_the_spec_example():
    """The README's recipe-from-objects example runs as written, its prune_finetune equals the spec
    example above it bit for bit, and the hand-written three stages give the same numbers."""
    text = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "run_recipe" in b]
    assert len(blocks) == 1
    spec_block = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "RunSpec.parse" in b)
    ns: dict = {}
    exec(compile(spec_block, "README-spec", "exec"), ns)
    from_spec = ns["res"]  # the spec example's result (the objects block below rebinds res)
    exec(compile(blocks[0], "README-objects", "exec"), ns)
    assert [e["width"] for e in ns["res"].events if e["kind"] == "prune"] == [10, 9, 4, 2]
    _same(ns["res"], from_spec)
    assert set(ns["mine"].trace.to_frame()["stage"]) == {0, 1}
    assert np.array_equal(ns["mine"].final("test_error"), ns["res"].final("test_error"))
