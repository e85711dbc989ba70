"""The stored computations of the Li–Ma–Zhang reproduction: checks that compute something themselves,
keyed by their settings and cached in the store (:mod:`overparam.experiments.computations`).

* ``li2018.rip_estimate`` — a sampled (lower-bound) RIP constant of a spec's operator (claim 7);
* ``li2018.lemma_a1_uniform`` — Lemma A.1's truncated operator at finite m, uniformly over rank-r X
  (claim 8);
* ``li2018.nuclear_norm`` — the minimum-trace solution of a spec's data (claim 10, Fig. 4's convex
  baseline), with cvxpy (the ``convex`` extra).
"""

from __future__ import annotations

from typing import Any

from ...experiments.computations import computation
from .diagnostics import lemma_a1_uniform as _lemma_a1_uniform
from .diagnostics import rip_constant_estimate


@computation("li2018.rip_estimate", version=1)
def rip_estimate(*, problem: str, params: dict[str, Any], data_seed: int, rank: int, samples: int, seed: int,
                 psd: bool = False, device: str = "cpu") -> dict[str, Any]:
    """Sampled RIP constant (a lower bound on δ) of problem ``problem`` built with ``params`` and
    ``data_seed`` (the operator a run with those settings sees), on rank-``rank`` symmetric X."""
    from ... import registry

    prob = registry.get("problem", problem)(**params, data_seed=data_seed, dtype="float64", device=device)
    est = rip_constant_estimate(prob.operator, rank, samples=samples, seed=seed, psd=psd)
    return {"delta": est.delta, "ratio_min": est.ratio_min, "ratio_max": est.ratio_max, "rank": est.rank,
            "samples": est.samples}


@computation("li2018.lemma_a1_uniform", version=1)
def lemma_a1_uniform(**settings: Any) -> dict[str, Any]:
    """:func:`overparam.papers.li2018.diagnostics.lemma_a1_uniform` as a stored computation."""
    return _lemma_a1_uniform(**settings)


@computation("li2018.nuclear_norm", version=1)
def nuclear_norm_solution(*, problem: str, params: dict[str, Any], data_seed: int, eps: float = 0.0,
                          solver: str = "CLARABEL", psd: bool | None = None) -> dict[str, Any]:
    """The minimum-trace PSD (or nuclear-norm) solution for the operator and y of problem ``problem``
    built with ``params`` and ``data_seed`` (the data a run with those settings sees):
    :func:`overparam.baselines.nuclear_norm`, with X stored as nested lists (float64) and its relative
    error ‖X − X⋆‖_F/‖X⋆‖_F as ``test_error`` (NaN when unsolved)."""
    from ... import registry
    from ...baselines import nuclear_norm

    prob = registry.get("problem", problem)(**params, data_seed=data_seed, dtype="float64", device="cpu")
    res = nuclear_norm(prob, eps=eps, solver=solver, psd=psd)
    truth = prob.truth()
    rel = float((res.X - truth).norm() / truth.norm()) if truth is not None and res.solved else float("nan")
    return {"X": res.X.tolist(), "status": res.status, "objective": res.objective, "solve_time_s": res.solve_time_s,
            "solver": res.solver, "psd": res.psd, "eps": res.eps, "test_error": rel}
