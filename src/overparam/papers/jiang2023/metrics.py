"""What 002 (Jiang, Chen, Ding 2023) registers by name, registered as ``jiang2023.<name>`` when the
registry first looks up a name of this paper's namespace (the ``jiang2023_<name>`` names below are the
legacy aliases earlier specs use): its problem (:mod:`.problems`), its metrics and its stop rule.

Metrics (every one reads the problem's ``references``, so it applies to ``jiang2023_model_free`` only):

* ``jiang2023_err_Xr`` — ε_t = ‖F_tG_tᵀ − X_r‖_F / ‖X_r‖_F, the relative Frobenius error to the best
  rank-r approximation of the observed X (§5.2's ε before the min over t);
* ``jiang2023_err_Xr_op`` — ‖F_tG_tᵀ − X_r‖ / σ_1, the operator-norm error on the theorems' absolute scale
  εσ_1 (Thm 4.2, Eq. 4.1), from the rank-(k + r) factored form (QR of two thin matrices, no m×n SVD);
* ``jiang2023_dist_Xs`` — the vector ‖F_tG_tᵀ − X_s‖_F, s = 1, …, n_top (absolute; Fig. 2a's solid lines;
  from Gram matrices, so accurate to ~10⁻⁸ relative only).

Stop rule ``jiang2023_spectral_count`` (ours; the paper gives no practical rule): stop when the r
leading singular values of F_tG_tᵀ have converged (relative change ≤ ``rtol`` over ``window`` steps)
while the (r+1)-th is still ≤ ``tau`` · σ_r(F_tG_tᵀ). It sees only the iterates, never X_r or X♮.
"""

from __future__ import annotations

import torch

from ...metrics import MetricError, Snapshot, metric
from ...registry import register
from ...stops import StopRule
from . import problems  # noqa: F401  (registers jiang2023_model_free)


def _refs(snap: Snapshot) -> dict[str, torch.Tensor]:
    refs = snap.problem.references
    if "U_top" not in refs:
        raise MetricError("the jiang2023 metrics read the references of problem 'jiang2023_model_free'")
    return refs


def _factors(snap: Snapshot) -> tuple[torch.Tensor, torch.Tensor]:
    fac = snap.param.factors(snap.theta)
    if fac is None:
        raise MetricError("the jiang2023 metrics need a factored parameterization (FGᵀ or FFᵀ)")
    return fac


def distances_to_truncations(snap: Snapshot, s_max: int) -> torch.Tensor:
    """(R, s_max): ‖LRᵀ − X_s‖_F for s = 1..s_max, with X_s = Σ_{i≤s} σ_i u_i v_iᵀ, from k×k Gram
    matrices: ‖LRᵀ‖² − 2 Σ_{i≤s} σ_i (u_iᵀL)(Rᵀv_i) + Σ_{i≤s} σ_i² (cancellation: accurate to ~10⁻⁸
    relative only, enough for Fig. 2a's dips; ε_t uses the factored route)."""
    refs = _refs(snap)
    L, R = _factors(snap)
    U, S, V = refs["U_top"][:, :s_max], refs["S_top"][:s_max], refs["V_top"][:, :s_max]
    own = ((L.mT @ L) * (R.mT @ R)).sum((-2, -1))
    proj = ((U.mT @ L) * (V.mT @ R)).sum(-1)  # (R, s): u_iᵀ L Rᵀ v_i
    cross = torch.cumsum(S * proj, dim=-1)
    star = torch.cumsum(S * S, dim=-1)
    return (own[:, None] - 2 * cross + star).clamp_min(0.0).sqrt()


def _difference_core(snap: Snapshot) -> torch.Tensor:
    """(R, k+r, k+r): R_a R_bᵀ with F_tG_tᵀ − X_r = [F, −U_rΣ_r][G, V_r]ᵀ = Q_a (R_a R_bᵀ) Q_bᵀ (thin QRs), so
    its Frobenius and operator norms are those of the small core, accurate to round-off of σ_1 (the Gram
    route ‖FGᵀ‖² − 2⟨FGᵀ, X_r⟩ + ‖X_r‖² loses half the digits: a floor near 10⁻⁸ relative)."""
    r = snap.problem.r
    refs = _refs(snap)
    L, R = _factors(snap)
    Rn = L.shape[0]
    U, S, V = refs["U_top"][:, :r], refs["S_top"][:r], refs["V_top"][:, :r]
    A = torch.cat([L, (-U * S).expand(Rn, -1, -1)], dim=-1)
    B = torch.cat([R, V.expand(Rn, -1, -1)], dim=-1)
    _, Ra = torch.linalg.qr(A)
    _, Rb = torch.linalg.qr(B)
    return Ra @ Rb.mT


@metric("jiang2023.err_Xr", needs_matrix=True, legacy="jiang2023_err_Xr")
def err_Xr(snap: Snapshot) -> torch.Tensor:
    """ε_t = ‖F_tG_tᵀ − X_r‖_F / ‖X_r‖_F, X_r the truncated SVD of the observed X (002 §5.2), r = the
    problem's target rank (computed from the factored difference, :func:`_difference_core`)."""
    r = snap.problem.r
    return torch.linalg.matrix_norm(_difference_core(snap)) / _refs(snap)["S_top"][:r].norm()


@metric("jiang2023.err_Xr_op", needs_matrix=True, legacy="jiang2023_err_Xr_op")
def err_Xr_op(snap: Snapshot) -> torch.Tensor:
    """‖F_tG_tᵀ − X_r‖ / σ_1 (operator norm; Thm 4.2's ε in ‖·‖ ≤ εσ_1, Eq. 4.1), from the factored
    difference (:func:`_difference_core`), no m×n SVD."""
    return torch.linalg.matrix_norm(_difference_core(snap), ord=2) / _refs(snap)["S_top"][0]


@metric("jiang2023.dist_Xs", vector=True, needs_matrix=True, legacy="jiang2023_dist_Xs")
def dist_Xs(snap: Snapshot) -> torch.Tensor:
    """‖F_tG_tᵀ − X_s‖_F for s = 1, …, n_top (absolute; 002 Fig. 2a's solid lines)."""
    return distances_to_truncations(snap, int(_refs(snap)["S_top"].numel()))


class SpectralCount(StopRule):
    """Ours (notes-002 §7 (b)): at steps t ≡ 0 (mod ``window``), stop a replica when its r leading
    singular values moved by ≤ ``rtol`` (relative, each) since the previous check and
    σ_{r+1}(F_tG_tᵀ) ≤ ``tau`` · σ_r(F_tG_tᵀ). Checks every ``window`` steps only (the singular values
    of F_tG_tᵀ cost a QR of each factor)."""

    name = "jiang2023_spectral_count"

    def __init__(self, r: int, window: int, rtol: float, tau: float):
        self.r, self.window, self.rtol, self.tau = r, window, rtol, tau

    def init(self, ctx):
        return None

    def check(self, state, t, snap):
        if t % self.window:
            return state, None
        s = snap.singular_values[:, : self.r + 1].detach()
        if state is None:
            return s, None
        top, prev = s[:, : self.r], state[:, : self.r]
        moved = ((top - prev).abs() / top.clamp_min(torch.finfo(top.dtype).tiny)).amax(-1)
        hit = (moved <= self.rtol) & (s[:, self.r] <= self.tau * s[:, self.r - 1])
        return s, hit


@register("stop", "jiang2023.spectral_count", legacy="jiang2023_spectral_count")
def spectral_count(r: int, window: int = 20, rtol: float = 1e-3, tau: float = 0.1) -> SpectralCount:
    """Stop when σ_1..σ_r(F_tG_tᵀ) changed by ≤ ``rtol`` over ``window`` steps and σ_{r+1} ≤ ``tau``·σ_r
    (ours, 002 has no practical rule)."""
    if r < 1 or window < 1 or rtol < 0 or tau <= 0:
        raise ValueError(f"stop 'jiang2023_spectral_count': got r={r}, window={window}, rtol={rtol}, tau={tau}; "
                         "accepted: r >= 1, window >= 1, rtol >= 0, tau > 0")
    return SpectralCount(r, window, rtol, tau)
