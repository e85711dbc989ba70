"""Specs and sweeps: TOML, --set overrides, grids and seeds, Python construction, the key as identity,
and one-line errors that name the field, the value and what is accepted."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from overparam.experiments import RunSpec, SpecError, expand, grid, load_sweep
from overparam.experiments.sweep import parse_overrides
from tiny import tiny_spec, tiny_toml

BASE = tiny_spec(metrics=None)

TOML = tiny_toml(metrics=("loss", "train_error", "test_error"), head="data_seed = 3", tail="""
[replicas]
"init_seed" = [0, 1, 2]
"init.scale" = [0.1, 0.01, 0.001]

[grid]
"problem.m" = [40, 60]
algo_seed = [0, 1]
""")


def base(**changes):
    d = copy.deepcopy(BASE)
    d.update(changes)
    return d


def test_toml_sweep_expands_grid_and_zips_replicas(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(TOML)
    specs = load_sweep(path)
    assert len(specs) == 4
    assert sorted((s.problem.params["m"], s.algo_seed) for s in specs) == [(40, 0), (40, 1), (60, 0), (60, 1)]
    s = specs[0]
    assert s.data_seed == 3 and s.steps == 50 and s.metrics == ("loss", "train_error", "test_error")
    assert s.n_replicas == 3
    reps = s.replica_settings()
    assert [r["init_seed"] for r in reps] == [0, 1, 2]
    assert [r["init.scale"] for r in reps] == [0.1, 0.01, 0.001]
    assert all(r["algo_seed"] == s.algo_seed for r in reps)
    assert len({x.key() for x in specs}) == 4


def test_unquoted_dotted_keys_and_range_tables_mean_the_same(tmp_path):
    quoted = TOML
    unquoted = (TOML.replace('"init.scale"', "init.scale").replace('"problem.m"', "problem.m")
                .replace("algo_seed = [0, 1]", "algo_seed = {start = 0, stop = 2}"))
    (tmp_path / "a.toml").write_text(quoted)
    (tmp_path / "b.toml").write_text(unquoted)
    assert [s.key() for s in load_sweep(tmp_path / "a.toml")] == [s.key() for s in load_sweep(tmp_path / "b.toml")]


def test_replicas_as_a_list_of_tables_match_the_zipped_form():
    zipped = RunSpec.parse(base(replicas={"init_seed": [0, 1], "init.scale": [0.1, 0.2]}))
    listed = RunSpec.parse(base(replicas=[{"init_seed": 0, "init": {"scale": 0.1}},
                                          {"init_seed": 1, "init.scale": 0.2}]))
    assert listed.key() == zipped.key() and listed.n_replicas == 2


def test_set_overrides_fields_grid_axes_and_seeds(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(TOML)
    overrides = parse_overrides(["problem.d=10", "algorithm.eta=1e-2", "steps=20", "grid.data_seed=[5,6,7]",
                                 "grid.algo_seed={stop=1}", "init.scale=0.5", "tags.figure=demo"])
    assert overrides["problem.d"] == 10 and overrides["algorithm.eta"] == 0.01
    assert overrides["grid.data_seed"] == [5, 6, 7] and overrides["grid.algo_seed"] == {"stop": 1}
    specs = load_sweep(path, overrides)
    # problem.m (2) x data_seed (3) x algo_seed (1)
    assert len(specs) == 6
    assert {s.data_seed for s in specs} == {5, 6, 7} and {s.algo_seed for s in specs} == {0}
    assert all(s.problem.params["d"] == 10 and s.steps == 20 and s.algorithm.params["eta"] == 0.01 for s in specs)
    assert all(s.tags == {"figure": "demo"} for s in specs)
    assert parse_overrides(["init.basis=identity"]) == {"init.basis": "identity"}  # not TOML: a plain string


def test_python_construction_matches_toml_and_dict(tmp_path):
    py = RunSpec(problem={"name": "matrix_sensing", "d": 8, "r": 1, "m": 40}, param="symmetric",
                 algorithm={"name": "gd", "eta": 0.05}, init={"name": "gaussian", "scale": 0.01}, steps=50)
    assert py.key() == RunSpec.parse(base()).key()
    path = tmp_path / "one.toml"
    path.write_text(TOML.split("[replicas]")[0].replace("data_seed = 3", ""))
    assert RunSpec.from_toml(path).key() == py.key()
    assert RunSpec.from_toml(path, **{"problem.d": 9}).problem.params["d"] == 9
    (tmp_path / "sweep.toml").write_text(TOML)
    with pytest.raises(SpecError, match="grid"):
        RunSpec.from_toml(tmp_path / "sweep.toml")
    specs = grid(py, {"init_seed": [0, 1, 2], "problem.m": [40, 50]})
    assert len(specs) == 6 and len({s.key() for s in specs}) == 6
    assert py.with_overrides(**{"problem.m": 50, "init_seed": 1}).key() in {s.key() for s in specs}


def test_key_ignores_spelling_defaults_order_and_tags():
    k = RunSpec.parse(base()).key()
    explicit = base(algorithm={"name": "gd", "eta": 0.05, "grad_scale": 1.0}, data_seed=0, init_seed=0,
                    device="cpu", dtype="float64", log={"points": 200})
    assert RunSpec.parse(explicit).key() == k
    reordered = dict(reversed(list(base().items())))
    reordered["problem"] = {"m": 40, "r": 1, "d": 8, "name": "matrix_sensing"}
    assert RunSpec.parse(reordered).key() == k
    assert RunSpec.parse(base(tags={"figure": "x"})).key() == k
    assert RunSpec.parse(base(algorithm={"name": "gd", "eta": 0.05, "grad_scale": 1})).key() == k  # 1 == 1.0
    # a change that can change a number changes the key
    for change in (dict(steps=51), dict(init_seed=1), dict(data_seed=1), dict(dtype="float32"),
                   dict(problem={"name": "matrix_sensing", "d": 8, "r": 1, "m": 41}),
                   dict(algorithm={"name": "gd", "eta": 0.05, "grad_scale": 0.5}), dict(replicas={"init_seed": [0]})):
        assert RunSpec.parse(base(**change)).key() != k, change


def test_key_is_the_same_in_another_process():
    specs = {name: base(**chg) for name, chg in [("a", {}), ("b", {"replicas": {"init_seed": [0, 1]}}),
                                                  ("c", {"init": {"name": "scaled_identity", "alpha": 1e-3}})]}
    here = {n: RunSpec.parse(d).key() for n, d in specs.items()}
    code = ("import json, sys; from overparam.experiments import RunSpec; "
            "d = json.load(sys.stdin); print(json.dumps({n: RunSpec.parse(s).key() for n, s in d.items()}))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(specs), capture_output=True, text=True,
                         env=env, check=True)
    assert json.loads(out.stdout) == here


def test_canonical_json_round_trips_to_the_same_key():
    s = RunSpec.parse(base(replicas={"init.scale": [0.1, 0.2]}, tags={"label": "t"}))
    again = RunSpec.parse(json.loads(json.dumps({**s.canonical(), "tags": s.tags})))
    assert again.key() == s.key() and again.tags == s.tags
    assert RunSpec.model_validate_json(s.model_dump_json()).key() == s.key()


def _drop(d, *path):
    node = d
    for p in path[:-1]:
        node = node[p]
    node.pop(path[-1])
    return d


BAD = [
    # (spec document, substrings the one-line message must contain)
    (base(stepz=3), ["stepz", "unknown field", "accepted", "steps"]),
    (base(problem={**BASE["problem"], "dd": 3}), ["problem.dd", "accepted", "d, r, m"]),
    (base(param={"name": "nope"}), ["param.name", "'nope'", "accepted", "symmetric"]),
    (base(problem={**BASE["problem"], "d": -1}), ["problem.d", "-1", "greater than or equal to 1"]),
    (base(problem={**BASE["problem"], "d": "abc"}), ["problem.d", "'abc'", "valid integer"]),
    (base(steps=-5), ["steps", "-5", "greater than or equal to 0"]),
    (base(metrics=["loss", "nope"]), ["metrics", "'nope'", "accepted", "train_error"]),
    (base(dtype="float16"), ["dtype", "'float16'", "float64", "float32"]),
    (base(algorithm={"name": "gd", "eta": -1.0}), ["algorithm.eta", "-1.0", "greater than 0"]),
    (base(replicas={"init_seed": [0, 1], "algo_seed": [0]}), ["replicas", "different lengths"]),
    (base(replicas={"problem.d": [1, 2]}), ["replicas[0].problem.d", "accepted", "init_seed"]),
    (base(replicas={"init_seed": [0, -1]}), ["replicas[1].init_seed", "-1", "integers >= 0"]),
    (base(grid={"init_seed": []}), ["grid.init_seed", "[]", "non-empty list"]),
    (base(grid={"init_seed": {"stop": "x"}}), ["grid.init_seed", "'x'", "integers"]),
    (base(log={"pointz": 3}), ["log.pointz", "accepted", "points, every"]),
    (_drop(base(), "init", "name"), ["init.name", "missing", "accepted", "gaussian"]),
    (_drop(base(), "problem", "m"), ["problem.m", "required"]),
]


@pytest.mark.parametrize("doc,expected", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_specs_give_one_line_errors_naming_field_value_and_accepted(doc, expected):
    with pytest.raises(SpecError) as info:
        expand(doc)
    msg = str(info.value)
    assert "\n" not in msg
    for part in expected:
        assert part in msg, (part, msg)


@pytest.mark.parametrize("pair,expected", [("problem.d", "expected key=value"), ("=3", "dotted field name"),
                                           ("a..b=1", "dotted field name")])
def test_bad_overrides(pair, expected):
    with pytest.raises(SpecError, match=expected):
        parse_overrides([pair])
    with pytest.raises(SpecError, match="--where"):
        parse_overrides([pair], option="--where")


def test_missing_and_invalid_spec_files(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_sweep(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("steps = = 3\n")
    with pytest.raises(SpecError, match="invalid TOML"):
        load_sweep(tmp_path / "bad.toml")
    with pytest.raises(SpecError, match="is a directory"):
        load_sweep(tmp_path)
