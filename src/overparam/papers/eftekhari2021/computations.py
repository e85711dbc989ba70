"""The stored computation of the 003 reproduction (cached in the store, keyed by its settings):

* ``eftekhari2021.licq`` — the Jacobian Dg(U): Δ ↦ 𝒜(ΔUᵀ) of Example 1.1's operator at the planted
  factor U♮ (rank 2, zero-padded to d × p) and at random rank-k factors: its rank against m
  (Assumption 3.1(ii) needs m) and the bound dk − k(k−1)/2, and σ_m (the capture radius of (6)
  is proportional to σ_m(ℳ_b)). Claim 6 reads it.
"""

from __future__ import annotations

from typing import Any

import torch

from ...backend import generator
from ...experiments.computations import computation
from .theory import licq


@computation("eftekhari2021.licq", version=1)
def licq_check(*, params: dict[str, Any], data_seed: int, ranks: list[int], seed: int,
               device: str = "cpu") -> dict[str, Any]:
    """LICQ at U♮ and at random rank-k U (k in ``ranks``, Gaussian factors, ‖U‖_F = 1) for the
    ``matrix_sensing`` problem built from ``params`` and ``data_seed``."""
    from ... import registry

    prob = registry.get("problem", "matrix_sensing")(**params, data_seed=data_seed, dtype="float64", device="cpu")
    A = prob.operator.adjoint(torch.eye(prob.m, dtype=torch.float64))
    d = A.shape[-1]
    W = prob.truth_factors[0]
    U_nat = torch.zeros(d, d, dtype=torch.float64)
    U_nat[:, : W.shape[1]] = W
    out: dict[str, Any] = {"planted": licq(A, U_nat)}
    g = generator(seed, "licq")
    for k in ranks:
        U = torch.randn(d, k, generator=g, dtype=torch.float64) @ torch.randn(k, d, generator=g, dtype=torch.float64)
        out[f"random_rank_{k}"] = licq(A, U / U.norm())
    out["operator_norm"] = float(torch.linalg.matrix_norm(A.reshape(prob.m, -1), ord=2))
    return out
