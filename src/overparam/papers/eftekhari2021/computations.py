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


@computation("eftekhari2021.factored_gd", version=1)
def factored_gd(*, params: dict[str, Any], data_seed: int, ranks: list[int], trials: int, norm: float, eta: float,
                grad_scale: float, steps: int, check_every: int, seed: int, device: str = "cpu") -> dict[str, Any]:
    """GD (3) from rank-r₀ inits U₀ = LRᵀ·norm/‖LRᵀ‖_F (Gaussian L, R; ``trials`` per r₀ in ``ranks``),
    run in two arithmetics side by side on the ``matrix_sensing`` problem of ``params``/``data_seed``:

    * **exact-arithmetic emulation** — with V₀ an orthonormal basis of row(U₀) (p × r₀), GD keeps
      U_t = W_tV₀ᵀ in exact arithmetic (Lemma C.1's mechanism: U_{t+1} = (I − 4η𝒜*(r_t))U_t), so the
      factored update W_{t+1} = (U_t − η·grad_scale·∇_U G(U_t))V₀ is run: the round-off outside row(U₀)
      is removed every step. At every ``check_every``-th step the unprojected step's leakage
      ‖ΔU_t(I − V₀V₀ᵀ)‖_F/(‖S_t‖₂‖U_t‖_F) is recorded (ΔU_t = −S_tU_t the full d × p GD step from U_t,
      S_t = η·grad_scale·(∇L + ∇Lᵀ), ∇L the problem's gradient at U_tU_tᵀ, checked against
      ``problem.grad`` once; the denominator is the step's round-off scale, so the ratio stays
      meaningful where the step itself vanishes): Lemma C.1 says it is zero;
    * **float64** — the same GD without projection (the library's runs), its final test error and
      numerical rank (σ_i(U) > 1e-10·σ_1(U)).

    Returns per r₀ and trial: the largest step leakage, the final test errors ‖UUᵀ − X♮‖_F² in both
    arithmetics, and the numerical ranks (the emulation's is ≤ r₀ by construction)."""
    from ... import registry

    prob = registry.get("problem", "matrix_sensing")(**params, data_seed=data_seed, dtype="float64", device="cpu")
    X = prob.truth()
    d = X.shape[0]
    g = generator(seed, "factored_gd")
    A = prob.operator.adjoint(torch.eye(prob.m, dtype=torch.float64)).reshape(prob.m, -1)  # row i: vec(A_i)
    y = A @ X.reshape(-1)
    Xt = torch.randn(d, d, generator=g, dtype=torch.float64)
    c = float((prob.grad(Xt).reshape(-1) @ A.mT @ (A @ Xt.reshape(-1) - y))
              / ((A.mT @ (A @ Xt.reshape(-1) - y)).norm() ** 2))  # ∇L(X) = c·𝒜*(𝒜(X) − b) (the loss's scale)
    if not torch.allclose(prob.grad(Xt), c * (A.mT @ (A @ Xt.reshape(-1) - y)).reshape(d, d), rtol=1e-10, atol=0):
        raise RuntimeError("factored_gd: the dense gradient does not match the problem's")

    def grad_L(U: torch.Tensor) -> torch.Tensor:  # ∇L(UUᵀ) as the problem defines it (checked above)
        return c * (A.mT @ (A @ (U @ U.mT).reshape(-1) - y)).reshape(d, d)

    def step(U: torch.Tensor) -> tuple[torch.Tensor, float]:
        G = grad_L(U)
        S = eta * grad_scale * (G + G.mT)
        return -S @ U, float(torch.linalg.matrix_norm(S, ord=2)) * float(U.norm())

    def nrank(U: torch.Tensor) -> int:
        s = torch.linalg.svdvals(U)
        return int((s > 1e-10 * s[0]).sum())

    out: dict[str, Any] = {}
    for r0 in ranks:
        rows = []
        for _ in range(trials):
            L = torch.randn(d, r0, generator=g, dtype=torch.float64)
            R = torch.randn(d, r0, generator=g, dtype=torch.float64)
            U0 = L @ R.mT
            U0 = U0 * (norm / U0.norm())
            V0, _ = torch.linalg.qr(R)
            P0 = V0 @ V0.mT
            W, U = U0 @ V0, U0.clone()
            worst = 0.0
            for t in range(steps):
                Ue = W @ V0.mT
                dU, scale = step(Ue)
                if t % check_every == 0 and scale > 0:
                    worst = max(worst, float((dU - dU @ P0).norm()) / scale)
                W = (Ue + dU) @ V0
                U = U + step(U)[0]
            Ue = W @ V0.mT
            rows.append({"max_step_leakage": worst,
                         "test_error_exact": float(((Ue @ Ue.mT - X) ** 2).sum()),
                         "test_error_float64": float(((U @ U.mT - X) ** 2).sum()),
                         "rank_exact": nrank(Ue), "rank_float64": nrank(U),
                         "leakage_float64": float((U - U @ P0).norm() / U.norm())})
        out[str(r0)] = rows
    return out
