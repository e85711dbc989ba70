"""Iterations to a relative error: ScaledGD(λ) against over-parameterized GD on the same instance.

ScaledGD(λ) (Xu, Shen, Ma, Tong, Chi 2023) preconditions over-parameterized GD by (UᵀU + λI)⁻¹ so that
its iteration count to a relative error ε depends on κ = σ₁(X⋆)/σ_r(X⋆) only logarithmically; GD's
grows with κ (the r-th direction grows at rate ∝ σ_r). :func:`scaled_gd_versus_gd` measures both on
000's symmetric sensing problem with an orthonormal truth of condition number κ (eigenvalues from 1
down to 1/κ), from the same small Gaussian init U₀ (entries N(0, α²)), width k > r:

* GD: U ← U − η ∇_U f, f = (1/(2m)) Σ(⟨A_i, UUᵀ⟩ − y_i)², exact gradient 2·(1/m)Σ r_i A_i U;
* ScaledGD(λ): U ← U − η s ∇_U f (UᵀU + λI)⁻¹ with s = ½, i.e. the paper's
  X ← X − η ∇f(X)(XᵀX + λI)⁻¹ on f(X) = (1/(4m))‖𝒜(XXᵀ) − y‖², λ = σ_r(X⋆) (the paper takes λ
  proportional to σ_min(M⋆)).

The count is the first step whose relative error ‖UUᵀ − X⋆‖_F/‖X⋆‖_F ≤ ε (a ``metric`` stop rule).
``docs/baselines.md`` has the table (``benchmarks/scaledgd_iterations.py`` prints it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import algorithms, init, params, problems
from ..backend import threads
from ..run import run
from ..stops import metric_crossing


def iterations_to_tolerance(problem, param, algorithm, start, *, tol: float, steps: int,
                            init_seed: int = 0) -> tuple[int | None, float]:
    """(first step with relative test error ≤ tol, or None within ``steps``; the final relative error)."""
    res = run(problem, param, algorithm, init=start, steps=steps, init_seed=init_seed, metrics=["test_error"],
              stops=[metric_crossing("test_error", below=tol)])
    err = float(res.final("test_error")[0])
    return (int(res.stop_step[0]) if err <= tol else None), err


def scaled_gd_versus_gd(kappas: Sequence[float] = (1.0, 10.0, 100.0), *, lam_factors: Sequence[float] = (1.0,),
                        d: int = 20, r: int = 2, m: int = 200, k: int = 6, alpha: float = 1e-10, tol: float = 1e-6,
                        eta_gd: float = 0.15, eta_scaled: float = 0.3, steps: int = 20_000,
                        data_seed: int = 0) -> list[dict[str, Any]]:
    """One row per κ: iterations of GD and of ScaledGD(λ = c·σ_r) for each c in ``lam_factors`` to relative
    error ``tol`` (``scaled_gd`` is the first factor's count; ``scaled_gd@c`` each factor's)."""
    rows = []
    with threads(1):
        for kappa in kappas:
            prob = problems.matrix_sensing(d=d, r=r, m=m, truth="orthonormal", kappa=kappa, data_seed=data_seed)
            sigma_r = float(torch.linalg.eigvalsh(prob.truth())[-r])
            par, start = params.Symmetric(k=k), init.gaussian(scale=alpha)
            row: dict[str, Any] = {"kappa": kappa, "lam": sigma_r * lam_factors[0]}
            for j, c in enumerate(lam_factors):
                n_s, e_s = iterations_to_tolerance(
                    prob, par, algorithms.scaled_gd(eta=eta_scaled, lam=c * sigma_r, grad_scale=0.5), start,
                    tol=tol, steps=steps)
                row[f"scaled_gd@{c:g}"], row[f"scaled_gd_error@{c:g}"] = n_s, e_s
                if j == 0:
                    row["scaled_gd"], row["scaled_gd_error"] = n_s, e_s
            row["gd"], row["gd_error"] = iterations_to_tolerance(prob, par, algorithms.gd(eta=eta_gd), start,
                                                                 tol=tol, steps=steps)
            rows.append(row)
    return rows


__all__ = ["iterations_to_tolerance", "scaled_gd_versus_gd"]
