"""The tiny sensing experiment shared by the spec, store, executor and CLI tests: d = 8, r = 1, m = 40,
GD with η = 0.05 from a Gaussian init of scale 0.01. One place, so a change to the spec format is made once."""

from __future__ import annotations

METRICS = ("loss", "train_error", "test_error", "singular_values")


def tiny_spec(steps: int = 50, metrics: tuple[str, ...] | None = METRICS, **changes) -> dict:
    """The experiment as a dict for ``RunSpec.parse``; ``changes`` replace top-level fields."""
    spec = {
        "steps": steps,
        "problem": {"name": "matrix_sensing", "d": 8, "r": 1, "m": 40},
        "param": {"name": "symmetric"},
        "algorithm": {"name": "gd", "eta": 0.05},
        "init": {"name": "gaussian", "scale": 0.01},
    }
    if metrics is not None:
        spec["metrics"] = list(metrics)
    return {**spec, **changes}


def tiny_toml(steps: int = 50, metrics: tuple[str, ...] = METRICS, *, d: int = 8, m: int = 40, head: str = "",
              tail: str = "") -> str:
    """The experiment as a TOML file's text; ``head`` goes among the top-level keys, ``tail`` after the
    tables (``[replicas]``, ``[grid]``)."""
    names = ", ".join(f'"{name}"' for name in metrics)
    return f"""
steps = {steps}
metrics = [{names}]
{head}
[problem]
name = "matrix_sensing"
d = {d}
r = 1
m = {m}

[param]
name = "symmetric"

[algorithm]
name = "gd"
eta = 0.05

[init]
name = "gaussian"
scale = 0.01
{tail}"""
