"""000's adaptive signal subspace S_t (§4, Eqs. 16–18) as a stateful diagnostic of any GD run.

GD on X = UUᵀ is U_{t+1} = (I − η N_t) U_t with N_t = s (G_t + G_tᵀ), G_t = ∇_X L(U_tU_tᵀ) and
s = ``grad_scale`` (on 000's 1/(2m) loss with s = ½, N_t = M_t = (1/m) Σ_i ⟨A_i, U_tU_tᵀ − X⋆⟩ A_i
and this is Eq. 5). The diagnostic :class:`SubspaceTracker` propagates an orthonormal d × r basis
Q_t of S_t with *the same* matrix (notes-000 §3.5 and pitfall 13), reading G_t and η s from each
step:

    S_0 = span(U⋆),   S_{t+1} = (I − η N_t) S_t,   Q_{t+1} = qr((I − η N_t) Q_t),

and the proof's decomposition (16) U_t = Z_t + E_t, Z_t = P_{S_t} U_t, E_t = (I − P_{S_t}) U_t gives
the diagnostics (per replica, at θ_t; metrics ``li2018.<output>``, registered in :mod:`.metrics`, whose
legacy names are the outputs' own):

* ``subspace_E_norm`` — ‖E_t‖ (spectral); Thm 4.2 (20): ≤ 4‖E_0‖ = 4α during phase 1;
* ``subspace_sin`` — sin(Z_t, U⋆), the sine of the largest principal angle between S_t and
  span(U⋆), ‖(I − U⋆U⋆ᵀ) Q_t‖ (= the angle of span(Z_t) since Q_tᵀU_t has rank r whenever U_t is
  invertible, which GD from αB keeps for η‖N_t‖ < 1); Thm 4.2 (19): ≲ ηρt;
* ``subspace_sigma_min`` — σ_min(U⋆ᵀ Z_t) (the r-th singular value); (21)–(22): ≥ ‖E_t‖ and grows
  geometrically at rate ≥ 1 + η/(8κ) up to 1/(2√κ);
* ``subspace_Z_norm`` — ‖Z_t‖; (23): ≤ 5;

and ``li2018.M_norm`` — ‖M_t‖ with M_t = (1/m) 𝒜*(𝒜(U_tU_tᵀ) − y) (Eq. 4, independent of s and of the
loss normalization; Lemma D.8: O(1)) is a plain metric of the snapshot.

U⋆ here is the orthonormal eigenbasis of X⋆ (000 §2.1: X⋆ = U⋆Σ⋆U⋆ᵀ), read from
``problem.truth_factors``. **The diagnostic reads the ground truth**; the algorithm never does:
Q_t is a passenger and the iterates are those of ``gd``. The outputs are computed only at the
steps the run records, including the final step T (from the tracked Q_T). ``gd_subspace``
(:mod:`overparam.algorithms.subspace`) is the name earlier specs used for GD with these metrics; it
is ``gd``.
"""

from __future__ import annotations

import torch

from ...algorithms.base import scale_like
from ...metrics import Diagnostic
from ...params import per_matrix

SUBSPACE_OUTPUTS = ("subspace_E_norm", "subspace_sin", "subspace_sigma_min", "subspace_Z_norm")


def orthonormal_truth_basis(problem) -> torch.Tensor:
    """The d × r orthonormal eigenbasis U⋆ of X⋆ = L Lᵀ (left singular vectors of L)."""
    if problem.truth_factors is None:
        raise ValueError("the subspace diagnostics track S_0 = span(U⋆): the problem needs a ground truth "
                         "(truth_factors); this one has none")
    L, R = problem.truth_factors
    if L is not R and not torch.equal(L, R):
        raise ValueError("the subspace diagnostics need a symmetric PSD truth X⋆ = U⋆U⋆ᵀ")
    r = problem.r or L.shape[-1]
    Uo, s, _ = torch.linalg.svd(L, full_matrices=False)
    return Uo[:, :r].contiguous()


def _spectral_norm(M: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(M, ord=2)


def _q_factor(M: torch.Tensor) -> torch.Tensor:
    return torch.linalg.qr(M)[0]


def subspace_diagnostics(U: torch.Tensor, Q: torch.Tensor, U_star: torch.Tensor) -> dict[str, torch.Tensor]:
    """‖E_t‖, sin(S_t, U⋆), σ_min(U⋆ᵀZ_t), ‖Z_t‖ for U ``(R, d, k)``, Q ``(R, d, r)``, U⋆ ``(d, r)``."""
    W = Q.mT @ U  # (R, r, k): Z = Q W
    Z = Q @ W
    E = U - Z
    r = Q.shape[-1]
    sv_E = per_matrix(_spectral_norm, E)
    perp = Q - U_star @ (U_star.mT @ Q)
    sin = per_matrix(_spectral_norm, perp).clamp(max=1.0)
    s_UZ = per_matrix(torch.linalg.svdvals, U_star.mT @ Z)  # (R, min(r, k))
    sigma_min = s_UZ[..., r - 1] if s_UZ.shape[-1] >= r else torch.zeros_like(sv_E)
    Z_norm = per_matrix(_spectral_norm, W)
    return {"subspace_E_norm": sv_E, "subspace_sin": sin, "subspace_sigma_min": sigma_min, "subspace_Z_norm": Z_norm}


def propagate_basis(Q: torch.Tensor, NQ: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """qr((I − η N) Q) from NQ = N Q; the factor's signs are irrelevant (only the span is used)."""
    return per_matrix(_q_factor, Q - scale_like(step, Q) * NQ)


class SubspaceTracker(Diagnostic):
    """Q_0 = U⋆, Q_{t+1} = qr((I − η s (G_t + G_tᵀ)) Q_t): S_t of 000 §4 for GD on X = UUᵀ."""

    name = "subspace"
    outputs = SUBSPACE_OUTPUTS

    def init(self, objective, theta, algorithm):
        if objective.param.name != "symmetric":
            raise ValueError(f"the subspace diagnostics track S_t for X = UUᵀ: param must be 'symmetric'; "
                             f"got {objective.param.name!r}")
        (U,) = theta
        U_star = orthonormal_truth_basis(objective.problem).to(device=U.device, dtype=U.dtype)
        return {"Q": U_star.expand(U.shape[0], *U_star.shape).clone(), "U_star": U_star}

    def update(self, state, t, theta, out, objective):
        if out.evaluation is None or out.evaluation.G is None or out.step_size is None:
            raise ValueError("the subspace diagnostics follow a full-gradient descent step (algorithm 'gd'); "
                             "this algorithm reports no gradient operator or step size")
        Q = state["Q"]
        return {**state, "Q": propagate_basis(Q, out.evaluation.G.sym_mm(Q), out.step_size[0])}

    def read(self, state, snap):
        (U,) = snap.theta
        return subspace_diagnostics(U, state["Q"], state["U_star"])

    def select(self, state, keep):
        return {**state, "Q": state["Q"][keep]}
