"""Validation before any run (issue 23, defects 1, 7, 8 and 11): a spec or sweep that cannot run as
written is refused in one line naming the field the user wrote, before anything is computed or
stored; what validation accepts runs as written.

* per-replica values only for the settings whose constructor declares them (a ``Sequence`` arm in
  its signature), never for a setting that is not a number; per-block tables only where declared
  (a ``Mapping`` arm); one block per replica (``algorithm.eta.F``) keeps the other blocks' base value;
* a recipe's preconditions (its regularizer, its init, its settings' ranges, the metrics it reads);
* a garbage ``claims.json``, a malformed ``--where``, bad ``from_arrays`` data.
"""

from __future__ import annotations

import inspect
import json
import typing

import numpy as np
import pytest
import torch
from tests.tiny import tiny_spec, tiny_toml

import overparam as op
from overparam import registry
from overparam.errors import OverparamError
from overparam.experiments import RunSpec, SpecError
from overparam.experiments.execute import execute

REPLICA_KINDS = ("algorithm", "init", "regularizer", "recipe")


def _cli(args, capsys):
    from overparam.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _run_refused(tmp_path, capsys, sets, field, *, tail=""):
    """``overparam run`` on the tiny spec with ``--set`` ``sets``: exit 2, one line naming ``field``,
    nothing stored."""
    path = tmp_path / "s.toml"
    path.write_text(tiny_toml(steps=3, tail=tail))
    args = ["run", str(path), "--store", str(tmp_path / "s"), "--quiet", "--workers", "1"]
    for s in sets:
        args += ["--set", s]
    code, _, err = _cli(args, capsys)
    assert code == 2 and err.count("\n") == 1 and field in err and "Traceback" not in err, err
    assert not (tmp_path / "s" / "runs").exists() and not (tmp_path / "s" / "failures").exists()
    return err


RESTARTS = ['init={name = "low_rank", rank = 3, norm = 0.01}',
            'recipe={name = "restarts", window = 5, tau = 0.999, rank_step = 1, min_rank = 1}']


# -- defect 1: a per-replica setting that is not a number --------------------------------------------------


@pytest.mark.parametrize("sets, tail, field", [
    (RESTARTS, '[replicas]\n"recipe.mode" = ["literal", "terminating"]\n', "replicas.recipe.mode"),
    (['algorithm={name = "sgd", eta = 0.01, batch_size = 10}'],
     '[replicas]\n"algorithm.replacement" = [true, false]\n', "replicas.algorithm.replacement"),
])
def test_a_non_numeric_per_replica_setting_is_refused_before_any_run(tmp_path, capsys, sets, tail, field):
    err = _run_refused(tmp_path, capsys, sets, field, tail=tail)
    assert "[grid]" in err  # says how to run each value: as its own run


def _required_value(info):
    """A value a required setting accepts (for building a component generically)."""
    ann = info.annotation
    arms = typing.get_args(ann) or (ann,)
    if any(typing.get_origin(a) is typing.Literal for a in arms):
        return next(typing.get_args(a)[0] for a in arms if typing.get_origin(a) is typing.Literal)
    return 1 if registry._numeric(ann) and int in arms else 0.5 if registry._numeric(ann) else "x"


def _non_numeric_settings():
    for kind in REPLICA_KINDS:
        for name in registry.names(kind):
            model = registry.schema(kind, name)
            for field, info in model.model_fields.items():
                if not registry._numeric(info.annotation):
                    yield kind, name, field


NON_NUMERIC = list(_non_numeric_settings())


def test_there_are_non_numeric_settings_of_every_replica_kind_to_check():
    assert {k for k, _, _ in NON_NUMERIC} >= {"algorithm", "recipe"}, NON_NUMERIC


@pytest.mark.parametrize("kind, name, field", NON_NUMERIC)
def test_every_non_numeric_setting_is_refused_per_replica(kind, name, field):
    """Found from the registry's schemas, not from a list of names: each such setting, given per
    replica, is refused naming ``replicas.<kind>.<setting>``."""
    model = registry.schema(kind, name)
    comp = {"name": name, **{f: _required_value(i) for f, i in model.model_fields.items() if i.is_required()}}
    default = model.model_fields[field].default
    values = [default, default] if default not in (None, inspect.Parameter.empty) else ["a", "b"]
    data = tiny_spec(steps=1, **{kind: comp}, replicas={f"{kind}.{field}": values})
    with pytest.raises(SpecError) as info:
        RunSpec.parse(data)
    assert str(info.value).startswith(f"replicas.{kind}.{field}:") and "\n" not in str(info.value), info.value


@pytest.mark.parametrize("key, values", [
    ("problem.name", ["matrix_sensing", "matrix_sensing"]), ("problem.noise", [0.0, 0.1]),
    ("param.name", ["symmetric", "symmetric"]), ("param.k", [4, 8]), ("stops.window", [5, 6]),
])
def test_settings_of_the_other_kinds_are_never_per_replica(key, values):
    """problem, param and stops settings (numbers or not) are one per run: refused naming the key."""
    data = tiny_spec(steps=1, stops=[{"name": "plateau", "window": 5}], replicas={key: values})
    with pytest.raises(SpecError, match=rf"^replicas\[0\]\.{key}: not a per-replica setting"):
        RunSpec.parse(data)


def test_the_refusals_advice_works_each_value_in_grid_is_its_own_run():
    from overparam.experiments.sweep import expand

    data = tiny_spec(steps=1, init={"name": "low_rank", "rank": 3, "norm": 0.01},
                     recipe={"name": "restarts", "window": 5, "min_rank": 1},
                     grid={"recipe.mode": ["literal", "terminating"]})
    assert [s.recipe.params["mode"] for s in expand(data)] == ["literal", "terminating"]


def test_a_non_numeric_setting_given_as_a_list_in_python_is_refused():
    with pytest.raises(OverparamError, match=r"algorithm\.replacement"):
        op.algorithms.sgd(eta=0.01, batch_size=10, replacement=[True, False])


# -- defect 7: per-replica recipe settings, per-block tables, one block per replica --------------------------


@pytest.mark.parametrize("sets, tail, field", [
    (RESTARTS, '[replicas]\n"recipe.window" = [5, 6]\n', "replicas.recipe.window"),  # was: TypeError int % list
    (RESTARTS, "", "recipe.window"),  # a per-block table for a recipe setting (set below)
    (['regularizer={name = "group_lasso", lam = {U = 0.1}, beta = 0.01}'], "", "regularizer.lam"),
])
def test_per_replica_and_per_block_values_the_constructor_does_not_take_are_refused(tmp_path, capsys, sets,
                                                                                     tail, field):
    if not tail and field == "recipe.window":
        sets = [*sets, "recipe.window={U = 5}"]
    _run_refused(tmp_path, capsys, sets, field, tail=tail)


def _factorization(**changes):
    spec = tiny_spec(steps=20, metrics=("loss", "train_error"),
                     problem={"name": "matrix_factorization", "d1": 6, "d2": 5, "r": 1},
                     param={"name": "asymmetric", "k": 3}, algorithm={"name": "gd", "eta": 0.05})
    return RunSpec.parse({**spec, **changes})


def test_one_block_per_replica_keeps_the_other_blocks_base_value():
    """``"algorithm.eta.F" = [...]`` (advertised) runs replica i with η_F = the i-th value and η_G = the
    base η: the same numbers as the runs with ``eta = {F = …, G = 0.05}`` one at a time."""
    batched = execute(_factorization(replicas={"algorithm.eta.F": [0.01, 0.1]}))
    for i, eta_f in enumerate((0.01, 0.1)):
        alone = execute(_factorization(algorithm={"name": "gd", "eta": {"F": eta_f, "G": 0.05}}))
        np.testing.assert_allclose(batched.final("loss")[i], alone.final("loss")[0], rtol=1e-12)


def test_per_block_init_settings_stay_accepted_where_the_init_draws_blocks_apart():
    """gaussian draws F and G on their own: a per-block scale (and one block per replica) is accepted;
    balanced draws them jointly: a per-block scale is refused at validation, naming init.scale."""
    spec = _factorization(init={"name": "gaussian", "scale": {"F": 1e-3, "G": 1.0}},
                          replicas={"init.scale.F": [1e-3, 1e-2]})
    assert spec.component_params("init")["scale"] == {"F": [1e-3, 1e-2], "G": 1.0}
    with pytest.raises(SpecError, match=r"^init\.scale = "):
        _factorization(init={"name": "balanced", "scale": {"F": 1e-3, "G": 1.0}})


# -- defect 8: recipe preconditions at validation, the whole sweep first ---------------------------------------


@pytest.mark.parametrize("sets, field", [
    (['recipe={name = "prune_finetune"}'], "regularizer"),
    (['recipe={name = "restarts"}'], "init.name"),
    ([*RESTARTS, "recipe.factor=1.0"], "recipe.factor"),
    (['metrics=["loss"]', 'recipe={name = "early_stopping", rule = "oracle"}'], "recipe.metric"),
    (['recipe={name = "early_stopping", rule = "discrepancy"}'], "recipe.noise_energy"),
])
def test_recipe_preconditions_are_checked_at_validation(tmp_path, capsys, sets, field):
    _run_refused(tmp_path, capsys, sets, field)


def test_one_bad_point_of_a_sweep_stops_it_before_any_run(tmp_path, capsys):
    """The first grid point is valid and the second not (factor = 1.0): nothing is computed."""
    _run_refused(tmp_path, capsys, RESTARTS, "recipe.factor", tail="[grid]\n\"recipe.factor\" = [0.5, 1.0]\n")


# -- defect 11: claims.json, --where, from_arrays, the field the user wrote ---------------------------------------


GARBAGE = ["{not json", "[1, 2, 3]", '{"claims": 5}', '{"claims": [1, 2]}', '{"mode": 3, "claims": []}',
           '{"claims": [{"paper": "li2018"}]}', "\u00ff\u00fe".encode("latin-1")]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_report_names_a_garbage_claims_file_in_one_line(tmp_path, capsys, garbage):
    (tmp_path / "store").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    path = out / "claims.json"
    path.write_bytes(garbage if isinstance(garbage, bytes) else garbage.encode())
    code, _, err = _cli(["report", "--out", str(out), "--store", str(tmp_path / "store")], capsys)
    assert code == 2 and err.count("\n") == 1 and "claims.json" in err and "Traceback" not in err, err


def test_reproduce_warns_in_one_line_about_a_garbage_claims_file(tmp_path, capsys):
    """reproduce goes on without the earlier output, saying so (never silently)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "claims.json").write_text("{not json")
    code, _, err = _cli(["reproduce", "li2018-claim8", "--quick", "--store", str(tmp_path / "store"),
                         "--out", str(out), "--workers", "1", "--quiet"], capsys)
    warnings = [line for line in err.splitlines() if "claims.json" in line]
    assert code in (0, None) and len(warnings) == 1 and "Traceback" not in err, err
    assert [c["id"] for c in json.loads((out / "claims.json").read_text())["claims"]] == ["li2018-claim8"]


@pytest.mark.parametrize("where", ["init_seed=[0,", "init_seed={stop = ", 'problem.name="matrix'])
def test_a_malformed_where_value_is_refused(tmp_path, capsys, where):
    (tmp_path / "store").mkdir()
    code, _, err = _cli(["results", "--where", where, "--store", str(tmp_path / "store")], capsys)
    assert code == 2 and err.count("\n") == 1 and "--where" in err, err


def _sensing_arrays(m=12, d=3):
    g = np.random.default_rng(0)
    return g.standard_normal((m, d, d)), g.standard_normal(m)


@pytest.mark.parametrize("change, name", [
    (lambda A, y: (A, np.where(np.arange(len(y)) == 2, np.nan, y)), "y"),
    (lambda A, y: (np.where(np.arange(A.size).reshape(A.shape) == 5, np.inf, A), y), "A"),
    (lambda A, y: (A[:0], y[:0]), "A"),
    (lambda A, y: (A.astype(np.complex128), y), "A"),
    (lambda A, y: (A, y + 1j), "y"),
    (lambda A, y: (torch.as_tensor(A, dtype=torch.complex128), y), "A"),
])
def test_from_arrays_refuses_non_finite_empty_and_complex_data(change, name):
    A, y = change(*_sensing_arrays())
    with pytest.raises(OverparamError) as info:
        op.problems.from_arrays(A, y)
    assert str(info.value).startswith(f"{name}:") and "\n" not in str(info.value), info.value


def test_from_arrays_refuses_a_non_finite_truth():
    A, y = _sensing_arrays()
    with pytest.raises(OverparamError, match=r"^X_star:"):
        op.problems.from_arrays(A, y, X_star=np.full((3, 3), np.nan))


def test_an_unknown_block_is_named_as_written():
    data = tiny_spec(problem={"name": "matrix_factorization", "d1": 6, "d2": 5, "r": 1},
                     param={"name": "asymmetric"}, algorithm={"name": "gd", "eta": {"F": 0.1, "H": 0.2}})
    with pytest.raises(SpecError, match=r"^algorithm\.eta\.H: "):
        RunSpec.parse(data)


def test_a_recipe_min_rank_beyond_the_factors_is_named_as_recipe_min_rank():
    data = tiny_spec(init={"name": "low_rank", "rank": 3, "norm": 0.01},
                     recipe={"name": "restarts", "min_rank": 9})  # d = 8
    with pytest.raises(SpecError, match=r"^recipe\.min_rank: "):
        RunSpec.parse(data)


def test_the_paper_style_specs_still_validate():
    """Per-replica settings the constructors declare (init.rank, init.scale, regularizer.lam/beta,
    recipe.threshold, algorithm.radius) stay accepted."""
    RunSpec.parse(tiny_spec(init={"name": "low_rank", "rank": 1, "norm": 0.1},
                            replicas={"init.rank": [1, 2], "init.norm": [0.1, 0.2], "algorithm.eta": [0.01, 0.02]}))
    RunSpec.parse(tiny_spec(regularizer={"name": "group_lasso", "lam": 0.1, "beta": 0.01},
                            recipe={"name": "prune_finetune"},
                            replicas={"regularizer.lam": [0.1, 0.2], "recipe.threshold": [0.1, 0.2]}))
