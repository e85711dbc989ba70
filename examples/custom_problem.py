"""How to add a problem: a registered factory, usable from Python and from specs.

The new problem: symmetric matrix sensing with *Rademacher* measurement matrices (entries ±1,
symmetrized) instead of Gaussian ones — a question one may ask of 000's theory (does GD from small
init still find the low-rank X⋆ when the A_i are not Gaussian?). Loss, stated as every factory
states it: L(X) = (1/(2m)) Σ_i (⟨A_i, X⟩ − y_i)².

    python examples/custom_problem.py [--quick]

In the library the factory goes in ``src/overparam/problems/factories.py`` (which ``import
overparam`` imports, so every worker process knows the name); in your own code, in a module that
you import before building specs — here, this script, run in-process with ``execute``.
"""

import argparse
from typing import Annotated

import torch
from pydantic import Field

import overparam as op
from overparam.backend import generator, resolve_device, resolve_dtype  # seeded: same seed, same data
from overparam.errors import OverparamError
from overparam.experiments import RunSpec, execute
from overparam.losses import SquaredLoss, normalization_constant
from overparam.operators import GaussianSensing  # any stack of m sensing matrices (packed if symmetric)
from overparam.problems import Problem, low_rank_truth
from overparam.registry import register

PosInt = Annotated[int, Field(ge=1)]       # constrained types: they become the spec schema, ranges included
Seed = Annotated[int, Field(ge=0)]


@register("problem")                                # the name is the function's: "rademacher_sensing"
def rademacher_sensing(d: PosInt, r: PosInt, m: PosInt, *, data_seed: Seed = 0, device: str | None = None,
                       dtype: str | None = None) -> Problem:
    """Symmetric sensing with A_i = (B_i + B_iᵀ)/2, B_i with i.i.d. ±1 entries; X⋆ = U⋆U⋆ᵀ of rank r
    (000's unit-column Gaussian U⋆). Loss: L(X) = (1/(2m)) Σ_i (⟨A_i, X⟩ − y_i)².

    A spec passes ``data_seed``, ``device`` and ``dtype`` (fields of the spec, not of the problem):
    draw in float64 on the CPU from the seed, then move — the same seed gives the same instance
    on every device and in both precisions."""
    L, _ = low_rank_truth((d, d), r, seed=data_seed, psd=True)          # X⋆ = L Lᵀ, float64 on CPU
    g = generator(data_seed, "rademacher")                              # tagged: independent of the truth
    B = torch.randint(0, 2, (m, d, d), generator=g, dtype=torch.float64) * 2 - 1
    A = GaussianSensing.from_matrices((B + B.mT) / 2)                   # stored packed: m × d(d+1)/2
    X_star = L @ L.T
    c = normalization_constant("1/(2m)", m=m)
    prob = Problem(operator=A, y=A.forward(X_star), loss=SquaredLoss(c), X_star=X_star, truth_factors=(L, L),
                   info={"name": "rademacher_sensing", "shape": [d, d], "r": r, "m": m, "normalization": "1/(2m)",
                         "c": c, "data_seed": data_seed})
    return prob.to(resolve_device(device), resolve_dtype(dtype))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller problem")
    args = ap.parse_args()
    d, r, m, steps = (20, 2, 200, 1500) if args.quick else (50, 3, 1200, 5000)

    # 1. From Python, like any factory (settings are checked: rademacher_sensing(d=0, ...) is a one-line error).
    prob = rademacher_sensing(d=d, r=r, m=m, data_seed=1)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.1 / d ** 0.5),
                 init=op.init.scaled_identity(alpha=[1e-3, 1e-1]), steps=steps, metrics=["train_error", "test_error"])
    print(f"rademacher_sensing d={d} r={r} m={m}: final test error per α (1e-3, 1e-1):",
          ", ".join(f"{v:.2e}" for v in res.final("test_error")))

    # 2. From a spec: the registry turned the signature into the spec's schema, so specs validate,
    #    key and store it like the built-in problems.
    #    (data_seed is a field of the spec, passed on to the factory.)
    spec = RunSpec.parse({"problem": {"name": "rademacher_sensing", "d": d, "r": r, "m": m}, "data_seed": 1,
                          "param": "symmetric", "algorithm": {"name": "gd", "eta": 0.1 / d ** 0.5},
                          "init": {"name": "scaled_identity", "alpha": 1e-3}, "steps": steps,
                          "metrics": ["test_error"]})
    lone = execute(spec).final("test_error")[0]
    print(f"spec key {spec.key()}: test error {lone:.2e} (same as α = 1e-3 above)")
    assert abs(lone - res.final("test_error")[0]) <= 1e-9 * lone     # batched replicas agree to rounding
    try:
        RunSpec.parse({**spec.model_dump(), "problem": {"name": "rademacher_sensing", "d": d, "r": r, "m": 0}})
    except OverparamError as e:                  # a SpecError: one line naming field and range
        print(f"a bad setting is refused: {e}")


if __name__ == "__main__":
    main()
