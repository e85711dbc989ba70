"""Recipes: multi-stage runs as specs, stored, swept, resumed and executed like single runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from overparam.experiments import RunSpec, run_sweep
from overparam.experiments.execute import execute
from overparam.experiments.store import Store


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
