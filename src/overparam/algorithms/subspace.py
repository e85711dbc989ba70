"""GD with the adaptive signal subspace S_t of 000 §4 tracked alongside (a diagnostic, Eqs. 16–18).

The update is exactly :class:`~overparam.algorithms.GD` on X = UUᵀ, U_{t+1} = (I − η N_t) U_t with
N_t = s (G_t + G_tᵀ), G_t = ∇_X L(U_tU_tᵀ) and s = ``grad_scale`` (on 000's 1/(2m) loss with
s = ½, N_t = M_t = (1/m) Σ_i ⟨A_i, U_tU_tᵀ − X⋆⟩ A_i and this is Eq. 5). Alongside it, an
orthonormal d × r basis Q_t of S_t is propagated with *the same* matrix (notes-000 §3.5 and
pitfall 13):

    S_0 = span(U⋆),   S_{t+1} = (I − η N_t) S_t,   Q_{t+1} = qr((I − η N_t) Q_t),

and the proof's decomposition (16) U_t = Z_t + E_t, Z_t = P_{S_t} U_t, E_t = (I − P_{S_t}) U_t gives
the diagnostics reported in ``StepOut.extras`` (per replica, at θ_t; metrics of the same names):

* ``subspace_E_norm`` — ‖E_t‖ (spectral); Thm 4.2 (20): ≤ 4‖E_0‖ = 4α during phase 1;
* ``subspace_sin`` — sin(Z_t, U⋆), the sine of the largest principal angle between S_t and
  span(U⋆), ‖(I − U⋆U⋆ᵀ) Q_t‖ (= the angle of span(Z_t) since Q_tᵀU_t has rank r whenever U_t is
  invertible, which GD from αB keeps for η‖N_t‖ < 1); Thm 4.2 (19): ≲ ηρt;
* ``subspace_sigma_min`` — σ_min(U⋆ᵀ Z_t) (the r-th singular value); (21)–(22): ≥ ‖E_t‖ and grows
  geometrically at rate ≥ 1 + η/(8κ) up to 1/(2√κ);
* ``subspace_Z_norm`` — ‖Z_t‖; (23): ≤ 5;
* ``M_norm`` — ‖M_t‖ with M_t = (1/m) 𝒜*(𝒜(U_tU_tᵀ) − y) (Eq. 4, independent of s and of the
  loss normalization); Lemma D.8: O(1).

U⋆ here is the orthonormal eigenbasis of X⋆ (000 §2.1: X⋆ = U⋆Σ⋆U⋆ᵀ), read from
``problem.truth_factors``. **This algorithm reads the ground truth for the diagnostic only**: Q_t
is a passenger, the update of U never depends on it, and the iterates are bit-identical to
``gd`` with the same settings. The diagnostics are computed lazily, only at the steps the run
records, including the final step T (through ``extras_at``, from the tracked Q_T).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch

from .._types import PosFloat
from ..params import Symmetric
from ..registry import register
from .base import RunContext, StepOut, scale_like
from .gd import GD

SUBSPACE_EXTRAS = ("subspace_E_norm", "subspace_sin", "subspace_sigma_min", "subspace_Z_norm", "M_norm")


class LazyExtras(Mapping):
    """A read-only mapping whose values are all computed, once, on first access (so per-step
    diagnostics cost nothing at steps the run does not record)."""

    def __init__(self, keys: Sequence[str], compute: Callable[[], dict[str, torch.Tensor]]):
        self._keys = tuple(keys)
        self._compute = compute
        self._values: dict[str, torch.Tensor] | None = None

    def __getitem__(self, key: str) -> torch.Tensor:
        if key not in self._keys:
            raise KeyError(key)
        if self._values is None:
            self._values = self._compute()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass(frozen=True)
class _Shared:
    """Run-wide (not per-replica) data kept in the state; ``select_state`` leaves it as is."""

    U_star: torch.Tensor  # (d, r) orthonormal eigenbasis of X⋆
    m_scale: float  # M_t = G_t / m_scale, m_scale = 2 c m


def orthonormal_truth_basis(problem) -> torch.Tensor:
    """The d × r orthonormal eigenbasis U⋆ of X⋆ = L Lᵀ (left singular vectors of L)."""
    if problem.truth_factors is None:
        raise ValueError("algorithm 'gd_subspace' tracks S_0 = span(U⋆): the problem needs a ground truth "
                         "(truth_factors); this one has none")
    L, R = problem.truth_factors
    if L is not R and not torch.equal(L, R):
        raise ValueError("algorithm 'gd_subspace' needs a symmetric PSD truth X⋆ = U⋆U⋆ᵀ")
    r = problem.r or L.shape[-1]
    Uo, s, _ = torch.linalg.svd(L, full_matrices=False)
    return Uo[:, :r].contiguous()


def subspace_diagnostics(U: torch.Tensor, Q: torch.Tensor, U_star: torch.Tensor) -> dict[str, torch.Tensor]:
    """‖E_t‖, sin(S_t, U⋆), σ_min(U⋆ᵀZ_t), ‖Z_t‖ for U ``(R, d, k)``, Q ``(R, d, r)``, U⋆ ``(d, r)``."""
    W = Q.mT @ U  # (R, r, k): Z = Q W
    Z = Q @ W
    E = U - Z
    r = Q.shape[-1]
    sv_E = torch.linalg.matrix_norm(E, ord=2)
    perp = Q - U_star @ (U_star.mT @ Q)
    sin = torch.linalg.matrix_norm(perp, ord=2).clamp(max=1.0)
    s_UZ = torch.linalg.svdvals(U_star.mT @ Z)  # (R, min(r, k))
    sigma_min = s_UZ[..., r - 1] if s_UZ.shape[-1] >= r else torch.zeros_like(sv_E)
    Z_norm = torch.linalg.matrix_norm(W, ord=2)
    return {"subspace_E_norm": sv_E, "subspace_sin": sin, "subspace_sigma_min": sigma_min, "subspace_Z_norm": Z_norm}


def propagate_basis(Q: torch.Tensor, NQ: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """qr((I − η N) Q) from NQ = N Q; the factor's signs are irrelevant (only the span is used)."""
    Qn, _ = torch.linalg.qr(Q - scale_like(step, Q) * NQ)
    return Qn


class _LazyG:
    """∇_X L at θ, evaluated on first use (the final-step diagnostics need it only when recorded)."""

    def __init__(self, objective, theta):
        self._objective, self._theta, self._G = objective, theta, None

    def dense(self) -> torch.Tensor:
        if self._G is None:
            self._G = self._objective.evaluate(self._theta).G
        return self._G.dense()


@register("algorithm", "gd_subspace")
class SubspaceTrackedGD(GD):
    """``gd`` plus the adaptive subspace S_t of 000 §4 (diagnostics in ``extras``; module docstring)."""

    name = "gd_subspace"

    def __init__(self, eta: PosFloat | Sequence[PosFloat], grad_scale: PosFloat = 1.0):
        super().__init__(eta=eta, grad_scale=grad_scale)

    def init_state(self, objective, theta, ctx: RunContext):
        if not isinstance(objective.param, Symmetric):
            raise ValueError(f"algorithm 'gd_subspace' tracks S_t for X = UUᵀ: param must be 'symmetric'; "
                             f"got {objective.param.name!r}")
        prob = objective.problem
        state = super().init_state(objective, theta, ctx)
        U_star = orthonormal_truth_basis(prob).to(device=ctx.device, dtype=ctx.dtype)
        c = getattr(prob.loss, "c", None)
        if c is None:
            raise ValueError("algorithm 'gd_subspace' needs a squared loss (M_t = (1/m)𝒜*(𝒜(X) − y))")
        state["Q"] = U_star.expand(ctx.R, *U_star.shape).clone()
        state["shared"] = _Shared(U_star, 2.0 * c * prob.m)
        return state

    def step(self, objective, theta, state, t):
        ev = objective.evaluate(theta)
        step = state["step"]
        (U,) = theta
        (gU,) = ev.grad
        G = ev.G
        Q = state["Q"]
        shared: _Shared = state["shared"]
        new = (U - scale_like(step, U) * gU,)
        # the update's matrix is I − η s (G + Gᵀ); apply it to Q the same way the pullback does to U
        state = {**state, "Q": propagate_basis(Q, G.sym_mm(Q), step)}
        return StepOut(new, ev, extras=self._extras(U, Q, G, shared)), state

    @staticmethod
    def _extras(U, Q, G, shared: _Shared) -> LazyExtras:
        def compute() -> dict[str, torch.Tensor]:
            out = subspace_diagnostics(U, Q, shared.U_star)
            Gd = G.dense()
            M = 0.5 * (Gd + Gd.mT) / shared.m_scale
            out["M_norm"] = torch.linalg.matrix_norm(M, ord=2)
            return out

        return LazyExtras(SUBSPACE_EXTRAS, compute)

    def extras_at(self, objective, theta, state):
        """The diagnostics at θ_T with the tracked Q_T (one extra gradient evaluation, lazily)."""
        (U,) = theta
        G = _LazyG(objective, theta)
        return self._extras(U, state["Q"], G, state["shared"])

    def describe(self):
        return f"gd_subspace(eta={self.eta}, grad_scale={self.grad_scale})"
