"""Metrics of 003 (Eftekhari, Zygalakis 2021) that no other paper uses, registered as
``eftekhari2021.<name>`` when the registry first looks up a name of this paper's namespace (the
``eftekhari2021_<name>`` names below are the legacy aliases earlier specs use):

* ``eftekhari2021_u_singular_values`` — σ_1(U) ≥ … ≥ σ_p(U) of the factor itself (vector). The
  engine's ``singular_values`` are those of X = UUᵀ, σ_i(X) = σ_i(U)², which cannot resolve
  σ_i(U)/σ_1(U) below √ε ≈ 1e-8; the SVD of U resolves ≈ 1e-16.
* ``eftekhari2021_numerical_rank`` — #{i : σ_i(U) > ``NUMRANK_RTOL``·σ_1(U)}, the numerical rank
  of U_t (Lemma C.1: rank U(t) ≤ rank U₀; for GD (3), U_{k+1} = (I − 4η𝒜*(r_k))U_k, so
  row(U_{k+1}) ⊆ row(U_k) in exact arithmetic, notes-003 §2.5). Tolerance 1e-10 relative: a
  rank-r₀ init has σ_{r₀+1}(U₀)/σ_1(U₀) ≈ 1e-16 (round-off), its nonzero σ's lie within 1e-3 of σ_1.
* ``eftekhari2021_row_leakage`` (a stateful diagnostic) — ‖U_t(I − P₀)‖_F / ‖U_t‖_F with P₀ the
  projector onto the row space of the stage's first iterate U₀ (numerical rank at ``NUMRANK_RTOL``):
  the part of U_t outside row(U₀), zero in exact arithmetic for GD. Each stage of a recipe starts
  a new run, so after a restart P₀ is the new init's row space.
"""

from __future__ import annotations

import torch

from ...metrics import Diagnostic, Snapshot, diagnostic_metrics, metric
from ...params import per_matrix

#: Relative tolerance of the numerical rank: σ_i(U) counts when σ_i(U) > NUMRANK_RTOL · σ_1(U).
NUMRANK_RTOL = 1e-10


def _factor(theta) -> torch.Tensor:
    U = theta[0]
    if U.ndim != 3:
        raise ValueError("the 003 rank metrics need a matrix factor U (param 'symmetric')")
    return U


def numerical_rank(U: torch.Tensor, rtol: float = NUMRANK_RTOL) -> torch.Tensor:
    """#{i : σ_i(U) > rtol·σ_1(U)} per replica (``U`` is ``(R, d, p)`` or ``(d, p)``)."""
    s = per_matrix(torch.linalg.svdvals, U)
    return (s > rtol * s[..., :1]).sum(-1)


@metric("eftekhari2021.u_singular_values", vector=True, needs_matrix=True, legacy="eftekhari2021_u_singular_values")
def u_singular_values(snap: Snapshot) -> torch.Tensor:
    """σ_i(U_t), decreasing (the factor's, not X's)."""
    return per_matrix(torch.linalg.svdvals, _factor(snap.theta))


@metric("eftekhari2021.numerical_rank", needs_matrix=True, legacy="eftekhari2021_numerical_rank")
def numerical_rank_metric(snap: Snapshot) -> torch.Tensor:
    """#{i : σ_i(U_t) > 1e-10·σ_1(U_t)} (module docstring)."""
    return numerical_rank(_factor(snap.theta)).to(snap.theta[0].dtype)


def _row_projector(U: torch.Tensor) -> torch.Tensor:
    """P = V Vᵀ, V the right singular vectors of one U with σ_i > 1e-10·σ_1."""
    _, s, Vh = torch.linalg.svd(U, full_matrices=False)
    V = Vh.mT * (s > NUMRANK_RTOL * s[:1]).to(U.dtype)
    return V @ V.mT


class RowLeakage(Diagnostic):
    """P₀ = V₀V₀ᵀ from the right singular vectors of U₀ above the tolerance; reads ‖U_t − U_tP₀‖_F/‖U_t‖_F."""

    name = "eftekhari2021_row_space"
    outputs = ("eftekhari2021_row_leakage",)

    def init(self, objective, theta, algorithm):
        U = _factor(theta)
        return {"P": per_matrix(_row_projector, U)}

    def update(self, state, t, theta, out, objective):
        return state

    def read(self, state, snap):
        U = _factor(snap.theta)
        perp = U - U @ state["P"]
        return {"eftekhari2021_row_leakage": perp.flatten(1).norm(dim=-1) / U.flatten(1).norm(dim=-1)}

    def select(self, state, keep):
        return {"P": state["P"][keep]}


ROW_SPACE = RowLeakage()
diagnostic_metrics(ROW_SPACE, names={"eftekhari2021_row_leakage": "eftekhari2021.row_leakage"}, docs={
    "eftekhari2021_row_leakage": "‖U_t(I − P₀)‖_F/‖U_t‖_F, P₀ the projector onto row(U₀) of the stage's first "
                                 "iterate (003 Lemma C.1's discrete form: zero in exact arithmetic for GD)."})
