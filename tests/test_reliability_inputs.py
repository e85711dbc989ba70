"""Reliability, inputs: every registered constructor and every keyword of ``run()`` refuses a bad value
with an :class:`~overparam.errors.OverparamError` that names it; guards that stop a sweep before any
work (grid size, worker count, a device this machine lacks); a run that overflows reports its last
finite metrics."""

from __future__ import annotations

import math
import re
import typing

import numpy as np
import pytest
from tests.tiny import tiny_spec

import overparam as op
from overparam import registry
from overparam.errors import OverparamError, SettingError
from overparam.experiments import RunSpec, SpecError, run_sweep
from overparam.experiments.executors import max_workers
from overparam.experiments.spec import MAX_GRID_POINTS
from overparam.experiments.store import Store
from overparam.experiments.sweep import expand
from overparam.schedule import LogSchedule

# -- every registered constructor, every numeric setting --------------------------------------------------


def _lower_bound(ann) -> tuple[float, bool] | None:
    """(bound, strict) of the first ``Gt``/``Ge`` constraint found anywhere in ``ann``."""
    for meta in getattr(ann, "__metadata__", ()):
        for m in [meta, *getattr(meta, "metadata", [])]:
            if hasattr(m, "gt"):
                return m.gt, True
            if hasattr(m, "ge"):
                return m.ge, False
    for arg in typing.get_args(ann):
        found = _lower_bound(arg)
        if found is not None:
            return found
    return None


def _numeric_settings():
    for kind in registry.KINDS:
        if kind == "metric":  # metrics are plain functions of a snapshot: no settings
            continue
        for name in registry.names(kind):
            for field, info in registry.schema(kind, name).model_fields.items():
                if registry._numeric(info.annotation):
                    ann = typing.Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
                    yield kind, name, field, _lower_bound(ann), registry._accepts_bool(info.annotation)


NUMERIC = list(_numeric_settings())


def test_the_registry_has_numeric_settings_to_check():
    assert len(NUMERIC) >= 100, len(NUMERIC)  # 157 when written: a registry change that hid them fails here


@pytest.mark.parametrize("kind, name, field, bound, bools", NUMERIC, ids=[f"{k}.{n}.{f}" for k, n, f, *_ in NUMERIC])
def test_every_registered_constructor_refuses_a_bad_number_naming_it(kind, name, field, bound, bools):
    bad = [math.nan, math.inf, -math.inf, "x"] + ([] if bools else [True])
    if bound is not None:
        low, strict = bound
        bad.append(low if strict else low - 1)
    make = registry.get(kind, name)
    for value in bad:
        with pytest.raises(SettingError) as exc:
            make(**{field: value})
        msg = str(exc.value)
        assert f"{kind}.{field}" in msg and "\n" not in msg, (value, msg)
        assert isinstance(exc.value, OverparamError) and isinstance(exc.value, ValueError)


@pytest.mark.parametrize("make", [
    lambda: op.algorithms.gd(eta=-1), lambda: op.algorithms.gd(eta=float("nan")),
    lambda: op.algorithms.sgd(eta=0.1, batch_size=0), lambda: op.init.scaled_identity(alpha=-1),
    lambda: op.params.Symmetric(k=0), lambda: op.problems.matrix_sensing(d=True, r=1, m=5),
    lambda: LogSchedule(every=0), lambda: LogSchedule(points=-1), lambda: LogSchedule(points=1.5),
])
def test_the_issues_constructor_examples_are_setting_errors(make):
    with pytest.raises(OverparamError) as exc:
        make()
    assert isinstance(exc.value, ValueError) and "\n" not in str(exc.value)


# -- run()'s own keywords ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parts():
    prob = op.problems.matrix_sensing(d=6, r=1, m=30, data_seed=0)
    return prob, op.params.Symmetric(), op.algorithms.gd(eta=0.05), op.init.gaussian(scale=0.01)


@pytest.mark.parametrize("kwargs, field", [
    ({"diverge_factor": -1}, "diverge_factor"), ({"diverge_factor": float("nan")}, "diverge_factor"),
    ({"diverge_factor": float("inf")}, "diverge_factor"), ({"diverge_factor": True}, "diverge_factor"),
    ({"steps": 1.5}, "steps"), ({"steps": True}, "steps"), ({"steps": -1}, "steps"), ({"steps": "10"}, "steps"),
    ({"target_train_error": 0}, "target_train_error"), ({"target_train_error": float("nan")}, "target_train_error"),
    ({"log": "x"}, "log"), ({"log": {"points": 3}}, "log"),
    ({"init_seed": -1}, "init_seed"), ({"init_seed": 1.5}, "init_seed"), ({"algo_seed": [0, -2]}, "algo_seed"),
    ({"init_seed": []}, "init_seed"), ({"step_offset": -1}, "step_offset"),
    ({"init": "gaussian"}, "init"), ({"stops": [1]}, "stops"), ({"progress": 5}, "progress"),
    ({"regularizer": "x"}, "regularizer"), ({"metrics": "loss"}, "metrics"),
    ({"init": None, "theta0": "zeros"}, "theta0"),
])
def test_run_keywords_are_validated_before_work(parts, kwargs, field):
    prob, param, algo, init = parts
    kw = {"steps": 5, "init": init, **kwargs}
    with pytest.raises(OverparamError) as exc:
        op.run(prob, param, algo, **kw)
    assert str(exc.value).startswith(f"{field}:") and isinstance(exc.value, ValueError)


def test_run_parts_of_the_wrong_kind_are_named(parts):
    """Before: AttributeError / TypeError from inside the loop (``'str' object has no attribute ...``)."""
    prob, param, algo, init = parts
    for args, field in (((prob, "symmetric", algo), "param"), ((prob, param, "gd"), "algorithm"),
                        (("sensing", param, algo), "problem")):
        with pytest.raises(OverparamError, match=rf"^{field}: got"):
            op.run(*args, init=init, steps=2)


def test_run_keywords_accept_numpy_integers_and_seed_lists(parts):
    prob, param, algo, init = parts
    res = op.run(prob, param, algo, init=init, steps=np.int64(3), init_seed=np.array([0, 1]), algo_seed=(0, 0),
                 diverge_factor=np.float64(1e6), target_train_error=1e-12, log=LogSchedule(points=2))
    assert res.R == 2


# -- a run that overflows keeps its last finite metrics ---------------------------------------------------


@pytest.mark.parametrize("lean", [True, False])
def test_an_overflowing_run_reports_its_last_finite_metrics(parts, lean):
    """η = 50 from scale 1: the loss grows 1e2 → 1e14 → 1e52 → 1e167 → inf (step 4). With a factor
    of 1e300 only the overflow stops it; with 5 log points only steps 0, 1 are logged. The final
    metrics must be step 3's (the last finite iterate), the stop step 4 — before, they were step 1's."""
    prob, param, _, _ = parts
    res = op.run(prob, param, op.algorithms.gd(eta=50.0), init=op.init.gaussian(scale=1.0), steps=10_000,
                 metrics=["loss", "train_error"], diverge_factor=1e300, log=LogSchedule(points=5), lean=lean)
    frame = res.trace.to_frame()
    assert res.status == ["diverged"] and res.stop_step == [4]
    assert frame.step.tolist() == [0, 1, 3]
    last = float(res.final("loss")[0])
    assert math.isfinite(last) and last > 1e150 and last == frame.loss.iloc[-1]
    # the same numbers as a run that logs every step
    every = op.run(prob, param, op.algorithms.gd(eta=50.0), init=op.init.gaussian(scale=1.0), steps=10_000,
                   metrics=["loss"], diverge_factor=1e300, log=LogSchedule(points=0, every=1), lean=lean)
    assert every.trace.to_frame().step.tolist() == [0, 1, 2, 3] and float(every.final("loss")[0]) == last


# -- sweep guards: grid size, workers, device -------------------------------------------------------------


def test_a_huge_range_fails_before_it_is_expanded():
    with pytest.raises(SpecError, match=r"grid.data_seed = .*1,000,000,000 values; accepted: at most 100,000"):
        expand({**tiny_spec(steps=1), "grid": {"data_seed": {"stop": 10**9}}})


def test_a_huge_grid_fails_before_it_is_expanded(monkeypatch):
    import overparam.experiments.sweep as sweep

    made = []
    real = RunSpec.parse
    monkeypatch.setattr(sweep.RunSpec, "parse", lambda d: made.append(1) or real(d))
    with pytest.raises(SpecError, match=r"grid: 1,000,000 points \(data_seed 1,000 × init_seed 1,000\)"):
        expand({**tiny_spec(steps=1), "grid": {"data_seed": {"stop": 1000}, "init_seed": {"stop": 1000}}})
    assert made == []  # not one spec made
    assert MAX_GRID_POINTS == 100_000
    assert len(expand({**tiny_spec(steps=1), "grid": {"data_seed": {"stop": 3}}})) == 3


def test_the_cli_reports_a_huge_grid_in_one_line(tmp_path, capsys):
    from tests.tiny import tiny_toml

    from overparam.cli import main

    path = tmp_path / "s.toml"
    path.write_text(tiny_toml(steps=1))
    with pytest.raises(SystemExit) as exc:
        main(["run", str(path), "--store", str(tmp_path / "s"), "--set", "grid.data_seed={stop=1000000000}", "--quiet"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "at most 100,000" in err


@pytest.mark.parametrize("dask", [None, "local"])
def test_local_workers_are_capped(tmp_path, dask):
    spec = RunSpec.parse(tiny_spec(steps=1))
    with pytest.raises(SpecError, match=rf"--workers: got {max_workers() + 1}; accepted: 1 to {max_workers()}"):
        run_sweep([spec], Store(tmp_path / "s"), workers=max_workers() + 1, dask=dask)
    for bad in (0, True, 2.0):
        with pytest.raises(SpecError, match="--workers"):
            run_sweep([spec], Store(tmp_path / "s"), workers=bad)
    assert not (tmp_path / "s").exists()  # nothing started


def test_a_cuda_spec_without_a_gpu_fails_before_any_run(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    specs = [RunSpec.parse(tiny_spec(steps=1, data_seed=s)) for s in range(2)]
    specs.append(RunSpec.parse(tiny_spec(steps=1, device="cuda")))
    with pytest.raises(SpecError, match="device = 'cuda': no CUDA device"):
        run_sweep(specs, Store(tmp_path / "s"), workers=1)
    assert not (tmp_path / "s").exists()  # not one run computed, no failure records


@pytest.mark.parametrize("changes, what", [
    ({"param": {"name": "symmetric", "k": 10**8}}, "1 replica(s) of 'symmetric'"),  # before: exit 1, a failed allocation
    ({"problem": {"name": "matrix_sensing", "d": 200, "r": 1, "m": 1000},
      "replicas": {"init_seed": {"stop": 100_000}}}, "100000 replica(s)"),  # before: ran out of memory
])
def test_iterates_that_cannot_fit_in_memory_are_refused_at_validation(changes, what):
    with pytest.raises(SpecError, match=rf"param: {re.escape(what)}.*GiB for their iterates.*accepted: fewer replicas"):
        RunSpec.parse(tiny_spec(steps=1, **changes))


def test_the_operator_memory_guard_covers_a_huge_m():
    with pytest.raises(SpecError, match=r"problem: the operator needs .* GiB"):
        RunSpec.parse(tiny_spec(steps=1, problem={"name": "matrix_sensing", "d": 8, "r": 1, "m": 10**11}))


# -- the issue's numbered input defects, on the command line: one line, exit 2, before any run --------------

FACTORIZATION = ['problem={name = "matrix_factorization", d1 = 6, d2 = 5, r = 1}', "param.name=asymmetric"]


@pytest.mark.parametrize("sets, field", [
    (FACTORIZATION + ["problem.noise_op_norm=inf"], "problem.noise_op_norm"),  # 1: inf broke the key
    (["target_train_error=inf"], "target_train_error"),  # 1
    (["grid.algorithm.eta=[0.01, inf]"], "algorithm.eta"),  # 1: aborted differently per executor
    (["problem.m=100000000000"], "the operator needs"),  # 3
    (["grid.data_seed={stop=1000000000}"], "grid.data_seed"),  # 3
    (["problem.r=9"], "problem.r"),  # 6
    (["log.every=0"], "log.every"),  # 6
    (['algorithm={name = "sgd", eta = 0.01, batch_size = 41}'], "algorithm.batch_size"),  # 6: m = 40
    (['init={name = "low_rank", rank = 9, norm = 1.0}'], "init.rank"),  # 6: d = 8
    (["device=cuda"], "device = 'cuda'"),  # 6 (no GPU here: see the fixture)
    (["problem.d=true"], "problem.d"),  # 10: ran as d = 1
    (['problem.truth="gaussian"', "problem.spectrum=[2.0]"], "problem.spectrum"),  # 10: silently ignored
])
def test_the_issues_input_defects_are_one_line_exit_2_before_any_run(tmp_path, capsys, monkeypatch, sets, field):
    import torch
    from tests.tiny import tiny_toml

    from overparam.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = tmp_path / "s.toml"
    path.write_text(tiny_toml(steps=1))
    args = ["run", str(path), "--store", str(tmp_path / "s"), "--quiet"]
    for s in sets:
        args += ["--set", s]
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and field in err, err
    assert not (tmp_path / "s" / "runs").exists() and not (tmp_path / "s" / "failures").exists()
