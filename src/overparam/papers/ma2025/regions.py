"""Implicit regions M, their projections P_M, distances to the solution set 𝒳_M, and the deviation
rate of Ma–Liang–Fattahi (2025) §2–§3 and §7 (notes-004 §2.2–2.5, §4.3, pitfalls 6–7, 11).

Every function takes one replica's parameters θ (a tuple of tensors *without* the replica axis, or
with a leading replica axis where stated) and the problem's true rank or sparsity r.

**Regions and projections** (``signal_residual``: s = P_M(x), residual r = x − s, ‖r‖ = dist(x, M)):

* ``symmetric`` (X = UUᵀ, U ∈ ℝ^{d×r'}): M = {U : rank U ≤ r} (§7: Eq. 79 without the norm and
  column-space constraints). P_M = rank-r truncated SVD (Eckart–Young), ‖r‖ = (Σ_{i>r} σ_i(U)²)^{1/2}.
* ``asymmetric`` (X = UVᵀ): the rank-balanced region M = {(U, V) : rank [U; V] ≤ r} [R, notes §2.5]:
  exactly closed under GD, since [U⁺; V⁺] = [[I, −η∇L], [−η∇Lᵀ, I]] [U; V]. P_M = rank-r truncated SVD
  of the stacked W = [U; V].
* ``hadamard`` with ``kind = "uv"`` (x = u⊙v, 004 Example 2): the balanced k-sparse region
  M̃ = {(u, v) : |u| = |v| entrywise, ‖u‖₀ ≤ k}. Exact projection: keep the k coordinates with the
  largest |u_i| + |v_i| and set |u_i| = |v_i| = (|u_i| + |v_i|)/2 with the signs kept; zero the rest.
* ``hadamard`` with ``kind = "uu-vv"`` (x = u⊙u − v⊙v, the sparse problem u⊙u − v⊙v; Vaškevičius et
  al. 2019): the "non-redundant" k-sparse region M = {(u, v) : u_i v_i = 0 ∀i, |supp u ∪ supp v| ≤ k}
  [our choice: the paper's Example 2 region is for u⊙v; this one is the analogue for u⊙u − v⊙v]. It
  is closed under GD (u⁺ = (1 − 2ηg)⊙u, v⁺ = (1 + 2ηg)⊙v keep every zero) and its image is every
  k-sparse vector. Exact projection: keep the k coordinates with the largest max(|u_i|, |v_i|) and
  zero the smaller entry of each kept pair; zero the rest.

**Solution set** 𝒳_M (``solution_distance``):

* symmetric: {U⋆R : R ∈ O(r')} with U⋆ = [VΣ^{1/2}, 0] (Procrustes, notes pitfall 11):
  dist² = ‖U‖² + ‖U⋆‖² − 2‖U⋆ᵀU‖_*;
* asymmetric: no closed form (GL(r) ambiguity; the factors are *not* balanced after discrete GD, so
  the distance to the balanced solutions {[PΣ^{1/2}; QΣ^{1/2}]R} overestimates it by orders of
  magnitude); we use the first-order projection of :func:`asymmetric_solution_distance`;
* hadamard: per coordinate, the nearest point of the (finite) M-solution set: uv — (u, v) =
  ±(√|β_i|, sgn(β_i)√|β_i|); uu-vv — u_i = ±√β_i, v_i = 0 for β_i > 0, u_i = 0, v_i = ±√−β_i for
  β_i < 0, and (0, 0) off the support.

**Deviation rate** (Def. 5, Eq. 11; weights reconstructed, notes §2.3): with H = ∇²f(s) = QΛQᵀ at the
signal, H₋ = QΛ₋Qᵀ, H₊ = QΛ₊Qᵀ,

    γ₋(x) = −⟨r, H₋ r⟩/‖r‖²,   γ₊(x) = ⟨r, H₊ r⟩/‖r‖²,   γ(x) = w₋ γ₋(x) − w₊ γ₊(x)

with (w₋, w₊) = (3/2, 1/2) by default (from the proof of Prop. 1: ‖(I − ηH)r‖² ≤ ‖r‖²(1 + 3ηγ₋ − ηγ₊),
√(1 + z) ≤ 1 + z/2). The first-order rate γ₋ − γ₊ = −⟨r, Hr⟩/‖r‖² is also returned. H is the dense
Hessian, built from D Hessian-vector products (:meth:`overparam.objective.Objective.hvp`, autograd)
in one batched call: the D unit vectors ride on the replica axis. At the sizes used here (D ≤ 1000)
this is exact and affordable; a Lanczos estimate would be needed beyond that.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...objective import Objective

#: Def. 5 weights (w₋, w₊) of γ = w₋γ₋ − w₊γ₊ [R: reconstructed from the proof of Prop. 1].
GAMMA_WEIGHTS = (1.5, 0.5)


# -- projections ----------------------------------------------------------------------------------------


def _truncate(W: torch.Tensor, r: int) -> torch.Tensor:
    """Best rank-r approximation of W (…, a, b) by truncated SVD."""
    P, s, Qh = torch.linalg.svd(W, full_matrices=False)
    k = min(r, s.shape[-1])
    return (P[..., :, :k] * s[..., None, :k]) @ Qh[..., :k, :]


def project(kind: str, theta: tuple[torch.Tensor, ...], r: int) -> tuple[torch.Tensor, ...]:
    """P_M(θ) for region ``kind`` (``symmetric``, ``asymmetric``, ``uv``, ``uu-vv``; module docstring).
    ``theta`` blocks may carry a leading replica axis (the projection is per replica)."""
    if kind == "symmetric":
        (U,) = theta
        return (_truncate(U, r),)
    if kind == "asymmetric":
        U, V = theta
        S = _truncate(torch.cat([U, V], dim=-2), r)
        return S[..., : U.shape[-2], :], S[..., U.shape[-2]:, :]
    u, v = theta
    if kind == "uv":
        score = u.abs() + v.abs()
        idx = score.topk(min(r, score.shape[-1]), dim=-1).indices
        keep = torch.zeros_like(score, dtype=torch.bool).scatter(-1, idx, True)
        a = 0.5 * score * keep
        su = torch.where(u < 0, -1.0, 1.0).to(u.dtype)
        sv = torch.where(v < 0, -1.0, 1.0).to(v.dtype)
        return su * a, sv * a
    if kind == "uu-vv":
        score = torch.maximum(u.abs(), v.abs())
        idx = score.topk(min(r, score.shape[-1]), dim=-1).indices
        keep = torch.zeros_like(score, dtype=torch.bool).scatter(-1, idx, True)
        bigger_u = u.abs() >= v.abs()
        return u * (keep & bigger_u), v * (keep & ~bigger_u)
    raise ValueError(f"ma2025 region: got {kind!r}; accepted: symmetric, asymmetric, uv, uu-vv")


def region_kind(param) -> str:
    """The implicit region of a parameterization (module docstring)."""
    name = param.name
    if name in ("symmetric", "asymmetric"):
        return name
    if name == "hadamard":
        return param.kind
    raise ValueError(f"ma2025: no implicit region for param {name!r}; accepted: symmetric, asymmetric, hadamard")


def signal_residual(kind: str, theta, r: int):
    """(s, r) = (P_M(x), x − P_M(x)) blockwise."""
    s = project(kind, theta, r)
    return s, tuple(p - q for p, q in zip(theta, s, strict=True))


def flat_norm(blocks) -> torch.Tensor:
    """‖θ‖ over all blocks, per replica (blocks carry the replica axis first)."""
    return torch.stack([(b * b).flatten(1).sum(-1) for b in blocks]).sum(0).sqrt()


# -- the solution set -----------------------------------------------------------------------------------


def low_rank_truth_factor(problem, kind: str, width: int) -> torch.Tensor:
    """U⋆ = [VΣ^{1/2}, 0] (d × r', symmetric) or W⋆ = [PΣ^{1/2}; QΣ^{1/2}] padded to r' columns."""
    X = problem.truth()
    r = problem.r
    if kind == "symmetric":
        lam, V = torch.linalg.eigh(0.5 * (X + X.mT))
        lam, V = lam.flip(-1)[:r], V.flip(-1)[:, :r]
        F = V * lam.clamp_min(0).sqrt()
    else:
        P, s, Qh = torch.linalg.svd(X, full_matrices=False)
        F = torch.cat([P[:, :r] * s[:r].sqrt(), Qh[:r].mT * s[:r].sqrt()], dim=0)
    if width < r:
        raise ValueError(f"ma2025: search rank r' = {width} is below the true rank r = {r}")
    return torch.cat([F, F.new_zeros(F.shape[0], width - r)], dim=1)


def procrustes_distance(W: torch.Tensor, W_star: torch.Tensor) -> torch.Tensor:
    """min_{R ∈ O(k)} ‖W − W⋆R‖_F per replica, W (R, a, k): R = ABᵀ from the SVD W⋆ᵀW = AΣBᵀ, then the
    norm of the difference itself (the closed form ‖W‖² + ‖W⋆‖² − 2‖W⋆ᵀW‖_* cancels catastrophically
    near the solution set: it cannot resolve distances below ≈ 1e-8)."""
    A, _, Bh = torch.linalg.svd(W_star.mT @ W)
    D = W - W_star @ (A @ Bh)
    return D.flatten(1).norm(dim=-1)


def asymmetric_solution_distance(U: torch.Tensor, V: torch.Tensor, X_star: torch.Tensor, r: int) -> torch.Tensor:
    """dist((U, V), 𝒳_M) for the rank-balanced region, 𝒳_M = {(U', V') : U'V'ᵀ = X⋆, rank [U'; V'] ≤ r},
    to first order: from the signal (U_s, V_s) = P_M(U, V), the minimum-norm correction (ΔU, ΔV) = (ΛV_s,
    ΛᵀU_s) with U_sU_sᵀΛ + ΛV_sV_sᵀ = X⋆ − U_sV_sᵀ (a Sylvester equation, pseudo-inverted; the correction
    keeps the row spaces, so it stays in M) lands on 𝒳_M up to O(‖ΔU, ΔV‖²); returns ‖(U, V) − (U_s + ΔU,
    V_s + ΔV)‖. Exact in the limit of a small signal error (the regime of claim 2), an upper bound otherwise."""
    (Us, Vs) = project("asymmetric", (U, V), r)
    E = X_star - Us @ Vs.mT
    a, P = torch.linalg.eigh(Us @ Us.mT)
    b, Q = torch.linalg.eigh(Vs @ Vs.mT)
    den = a.unsqueeze(-1) + b.unsqueeze(-2)
    tol = 1e-12 * den.amax((-2, -1), keepdim=True).clamp_min(1e-300)
    Et = P.mT @ E @ Q
    Lt = torch.where(den > tol, Et / torch.where(den > tol, den, torch.ones_like(den)), torch.zeros_like(Et))
    Lam = P @ Lt @ Q.mT
    dU = U - (Us + Lam @ Vs)
    dV = V - (Vs + Lam.mT @ Us)
    return ((dU * dU).flatten(1).sum(-1) + (dV * dV).flatten(1).sum(-1)).sqrt()


def sparse_solution_distance(kind: str, u: torch.Tensor, v: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """dist((u, v), 𝒳_M) per replica for the Hadamard problems (module docstring)."""
    a = beta.abs().sqrt()
    if kind == "uv":
        sg = torch.where(beta < 0, -1.0, 1.0).to(u.dtype)
        d_plus = (u - a) ** 2 + (v - sg * a) ** 2
        d_minus = (u + a) ** 2 + (v + sg * a) ** 2
        per = torch.minimum(d_plus, d_minus)
    else:
        pos = beta > 0
        neg = beta < 0
        du = torch.where(pos, (u.abs() - a) ** 2, u * u)
        dv = torch.where(neg, (v.abs() - a) ** 2, v * v)
        per = du + dv
    return per.sum(-1).sqrt()


def solution_distance(kind: str, theta, problem) -> torch.Tensor:
    """dist(x, 𝒳_M) per replica (θ with the replica axis)."""
    if kind == "symmetric":
        W = theta[0]
        return procrustes_distance(W, low_rank_truth_factor(problem, kind, W.shape[-1]).to(W))
    if kind == "asymmetric":
        U, V = theta
        return asymmetric_solution_distance(U, V, problem.truth().to(U), problem.r)
    u, v = theta
    return sparse_solution_distance(kind, u, v, problem.X_star.to(u))


# -- the deviation rate ------------------------------------------------------------------------------------


def dense_hessians(objective: Objective, theta) -> torch.Tensor:
    """∇²f(θ_i) for every replica i, (R, D, D), from R·D Hessian-vector products in one batched
    autograd call (the unit vectors ride on the replica axis; symmetrized)."""
    R = theta[0].shape[0]
    shapes = [p.shape[1:] for p in theta]
    sizes = [int(torch.Size(s).numel()) for s in shapes]
    D = sum(sizes)
    big = tuple(p.repeat_interleave(D, dim=0) for p in theta)  # (R·D, …): replica i rows i·D … i·D + D − 1
    E = torch.eye(D, dtype=theta[0].dtype, device=theta[0].device).repeat(R, 1)
    vs, off = [], 0
    for s, n in zip(shapes, sizes, strict=True):
        vs.append(E[:, off:off + n].reshape(R * D, *s))
        off += n
    cols = objective.hvp(big, tuple(vs))
    H = torch.cat([c.reshape(R, D, -1) for c in cols], dim=-1)  # row j of replica i: H e_j
    return 0.5 * (H + H.mT)


@dataclass
class Rates:
    """Deviation rates per replica (module docstring); NaN where ‖r‖ = 0."""

    gamma_minus: torch.Tensor
    gamma_plus: torch.Tensor
    residual: torch.Tensor

    def gamma(self, weights: tuple[float, float] = GAMMA_WEIGHTS) -> torch.Tensor:
        return weights[0] * self.gamma_minus - weights[1] * self.gamma_plus

    @property
    def first_order(self) -> torch.Tensor:
        """γ₋ − γ₊ = −⟨r, ∇²f(s) r⟩/‖r‖², the first-order log-growth rate of ‖r‖ per unit η."""
        return self.gamma_minus - self.gamma_plus


def deviation_rates(objective: Objective, kind: str, theta, r: int) -> Rates:
    """γ₋, γ₊ (Def. 5) at every replica of θ (replica axis first), from the dense Hessian at the
    signal s = P_M(x) along the residual."""
    s, res = signal_residual(kind, theta, r)
    H = dense_hessians(objective, s)
    lam, Q = torch.linalg.eigh(H)
    rv = torch.cat([b.flatten(1) for b in res], dim=-1)  # (R, D)
    nsq = (rv * rv).sum(-1)
    c2 = (Q.mT @ rv.unsqueeze(-1)).squeeze(-1) ** 2
    safe = torch.where(nsq > 0, nsq, torch.ones_like(nsq))
    g_minus = (c2 * (-lam).clamp_min(0)).sum(-1) / safe
    g_plus = (c2 * lam.clamp_min(0)).sum(-1) / safe
    nan = torch.full_like(nsq, float("nan"))
    return Rates(torch.where(nsq > 0, g_minus, nan), torch.where(nsq > 0, g_plus, nan), nsq.sqrt())
