"""Settings every Jiang–Chen–Ding (002) figure shares, and the spec builders.

Choices where the paper is silent or ambiguous (each a constant here or a keyword of the builders, so a
parameter of the specs; notes-002 §3.2, §5):

* **Step convention** — f = ½‖FGᵀ − X‖_F² (normalization "1/2") and ``gd`` with ``grad_scale = 1`` is
  exactly (GD-M), both factors updated from the same iterate (the engine's GD is Jacobi).
* **Init convention** — ``"theory"``: F₀, G₀ = ρ/(3√(m+n+k))·N(0, σ_1) with σ_1 = ‖X‖ and N(0, σ_1) of
  *variance* σ_1 (Lemma C.3), i.e. ``init.gaussian(scale = ρ√σ_1/(3√(m+n+k)))`` entrywise — used in
  Figs. 2 and 3 (§5 calls ρ "the initialization size"). ``"frobenius"``: ‖F₀‖_F = ‖G₀‖_F = ρ‖X‖_F
  (``normalize = "frobenius"``) — used in Fig. 1, whose caption speaks of ‖F₀‖_F ≪ / ≍ ‖X♮‖_F. For the
  Fig. 2 sizes the theory convention's ‖F₀‖_F ≈ 2.9ρ√σ_1.
* **Precision** — float64 everywhere (float32 floors at 2·10⁻⁷; notes-002 §7).
* **Seeds** — ``data_seed`` draws X; ``init_seed = 0`` for every replica unless a figure says otherwise.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any, Literal

from ...experiments.spec import RunSpec

PAPER = "jiang2023"
#: §5.1's step (Figs. 1–2; Fig. 1's step is not stated, we use §5.1's) and §5.2's (Fig. 3).
ETA_FIG12 = 0.5
ETA_FIG3 = 0.25
InitConvention = Literal["theory", "frobenius"]


@functools.lru_cache(maxsize=512)
def _problem_facts(problem_json: str, data_seed: int) -> dict[str, Any]:
    from ... import registry

    params = json.loads(problem_json)
    name = params.pop("name")
    prob = registry.get("problem", name)(**params, data_seed=data_seed, dtype="float64")
    return dict(prob.info)


def problem_facts(problem: dict[str, Any], data_seed: int) -> dict[str, Any]:
    """``info`` of the problem a spec builds (σ_1, σ_r, δ, ‖X‖_F, …), computed once per settings."""
    return _problem_facts(json.dumps(problem, sort_keys=True), data_seed)


#: Significant digits of an init scale computed from the data (σ_1, ‖X‖_F) as written into a spec.
SCALE_DIGITS = 12


def init_scale(rho: float, convention: InitConvention, *, facts: dict[str, Any], k: int) -> float:
    """The ``init.gaussian`` scale of init size ρ: entry std ρ√σ_1/(3√(m+n+k)) (``"theory"``) or the
    factor's Frobenius norm ρ‖X‖_F (``"frobenius"``), to :data:`SCALE_DIGITS` significant digits.

    σ_1 and ‖X‖_F come out of BLAS and LAPACK, whose last bits differ from one CPU to another (an
    Intel Xeon with AVX-512 and an AMD EPYC with AVX2 gave different ones): written in full, the
    spec and its store key would depend on the machine that built it.
    """
    m, n = facts["shape"]
    if convention == "theory":
        scale = rho * math.sqrt(facts["sigma_1"]) / (3.0 * math.sqrt(m + n + k))
    else:
        scale = rho * facts["x_fro"]
    return float(f"{scale:.{SCALE_DIGITS}g}")


def mf_spec(problem: dict[str, Any], *, k: int, eta: float, rhos: list[float], convention: InitConvention,
            steps: int, figure: str, data_seed: int = 0, init_seed: int = 0,
            metrics=("train_error_sq", "jiang2023_err_Xr"), log: dict[str, Any] | None = None,
            recipe: dict[str, Any] | None = None, stops: list[dict[str, Any]] | None = None,
            symmetric: bool = False) -> RunSpec:
    """GD-M on ``jiang2023_model_free`` with ``problem`` settings, one replica per ρ in ``rhos`` (they
    share X). ``symmetric`` runs App. C.3's FFᵀ variant (param ``symmetric``, F ← F − η(FFᵀ − X)F:
    ``grad_scale = ½`` on the ½‖·‖² loss, whose U-gradient is 2(FFᵀ − X)F)."""
    problem = {"name": "jiang2023_model_free", **problem}
    facts = problem_facts(problem, data_seed)
    scales = [init_scale(rho, convention, facts=facts, k=k) for rho in rhos]
    data: dict[str, Any] = {
        "problem": problem,
        "param": {"name": "symmetric" if symmetric else "asymmetric", "k": k},
        "algorithm": {"name": "gd", "eta": eta, "grad_scale": 0.5 if symmetric else 1.0},
        "init": {"name": "gaussian", "normalize": "entry" if convention == "theory" else "frobenius"},
        "steps": steps,
        "data_seed": data_seed,
        "init_seed": init_seed,
        "metrics": list(metrics),
        "log": log or {"points": 200},
        "replicas": {"init.scale": scales},
        "tags": {"paper": PAPER, "figure": figure, "init_convention": convention,
                 "rhos": ",".join(f"{r:.6g}" for r in rhos)},
    }
    if recipe is not None:
        data["recipe"] = recipe
    if stops is not None:
        data["stops"] = stops
    return RunSpec.parse(data)


def rhos_of(spec: RunSpec) -> list[float]:
    """The ρ of each replica (the builder's ``rhos``, kept in the tags)."""
    return [float(x) for x in spec.tags["rhos"].split(",")]


def oracle(metric: str) -> dict[str, Any]:
    """The ``early_stopping`` recipe with the oracle rule on ``metric`` (checked every step)."""
    return {"name": "early_stopping", "rule": "oracle", "metric": metric}


def events(ctx, spec: RunSpec, kind: str = "early_stop") -> dict[int, dict[str, Any]]:
    """``{replica: event}`` of a stored run's ``kind`` events (the oracle's chosen step and value)."""
    from .._shared import _missing

    if not ctx.has(spec):
        raise _missing(spec)
    meta = ctx.load(spec).meta
    return {int(e["replica"]): e for e in meta.get("events", []) if e.get("kind") == kind}


def worst(verdicts) -> str:
    """The verdict of a claim judged on every seed: the worst of the seeds' (not reproduced, inconclusive,
    partly reproduced, reproduced, in that order)."""
    for v in ("not reproduced", "inconclusive", "partly reproduced", "reproduced"):
        if v in verdicts:
            return v
    raise ValueError("no verdicts")
