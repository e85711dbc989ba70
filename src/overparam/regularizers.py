"""Explicit penalties added to the objective: f(θ) = L(g(θ)) + λ·R(θ).

A regularizer is registered by name (``@register("regularizer", …)``) as a factory of its settings;
:meth:`bind` fixes the replica count, device and dtype (λ and β may be per replica), and the bound
object gives the value ``(R,)``, the analytic gradient, the analytic Hessian-vector product and
``select`` for the replicas that keep running.

===============  ===========================================================================  ========
name             penalty                                                                      paper
===============  ===========================================================================  ========
``group_lasso``  λ R_β(U) = λ Σ_i ‖U e_i‖² / √(‖U e_i‖² + β), over the columns of every       001 Eq. 2
                 matrix block (or of ``block`` only)
===============  ===========================================================================  ========
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._types import NonNegFloat, PosFloat
from .params import Params
from .registry import register
from .settings import replica_count, replica_tensor


class GroupLasso:
    """001's smoothed group Lasso λ R_β(U), R_β(U) = Σ_i ‖u_i‖² / √(‖u_i‖² + β), u_i = U e_i.

    With a_i = ‖u_i‖²: ∇_{u_i} = λ w(a_i) u_i, w(a) = (a + 2β) / (a + β)^{3/2}; and
    ∇²[v]_{u_i} = λ (w(a_i) v_i + 2 w'(a_i) ⟨u_i, v_i⟩ u_i), w'(a) = −(a/2 + 2β) / (a + β)^{5/2}.
    R_β(U) → Σ_i ‖u_i‖ (the group Lasso) as β → 0 and is smooth for β > 0.
    """

    name = "group_lasso"

    def __init__(self, lam, beta, block: str | None = None):
        self.lam, self.beta, self.block = lam, beta, block
        self._lam = self._beta = None
        self._index: tuple[int, ...] | None = None

    @property
    def replicas(self) -> int:
        return replica_count("regularizer settings", lam=self.lam, beta=self.beta)

    def bind(self, R: int, device, dtype, param) -> GroupLasso:
        b = GroupLasso(self.lam, self.beta, self.block)
        b._lam = replica_tensor(self.lam, R, device=device, dtype=dtype)
        b._beta = replica_tensor(self.beta, R, device=device, dtype=dtype)
        if self.block is not None:
            if self.block not in param.blocks:
                raise ValueError(f"regularizer.block: got {self.block!r}; accepted: {', '.join(param.blocks)}")
            b._index = (param.blocks.index(self.block),)
        return b

    def select(self, keep: torch.Tensor) -> GroupLasso:
        b = GroupLasso(self.lam, self.beta, self.block)
        b._lam, b._beta, b._index = self._lam[keep], self._beta[keep], self._index
        return b

    def _uses(self, j: int, p: torch.Tensor) -> bool:
        return p.ndim == 3 and (self._index is None or j in self._index)

    def value(self, theta: Params) -> torch.Tensor:
        beta = self._beta[:, None]
        total = torch.zeros_like(self._lam)
        for j, U in enumerate(theta):
            if self._uses(j, U):
                a = (U * U).sum(-2)  # (R, k) squared column norms
                total = total + (a / (a + beta).sqrt()).sum(-1)
        return self._lam * total

    def grad(self, theta: Params) -> Params:
        beta = self._beta[:, None]
        out = []
        for j, U in enumerate(theta):
            if not self._uses(j, U):
                out.append(torch.zeros_like(U))
                continue
            a = (U * U).sum(-2)
            w = (a + 2 * beta) / (a + beta) ** 1.5
            out.append(self._lam[:, None, None] * U * w[:, None, :])
        return tuple(out)

    def hvp(self, theta: Params, v: Params) -> Params:
        beta = self._beta[:, None]
        out = []
        for j, (U, V) in enumerate(zip(theta, v, strict=True)):
            if not self._uses(j, U):
                out.append(torch.zeros_like(U))
                continue
            a = (U * U).sum(-2)
            w = (a + 2 * beta) / (a + beta) ** 1.5
            dw = -(0.5 * a + 2 * beta) / (a + beta) ** 2.5
            uv = (U * V).sum(-2)
            out.append(self._lam[:, None, None] * (V * w[:, None, :] + 2 * U * (dw * uv)[:, None, :]))
        return tuple(out)

    def column_norms(self, theta: Params) -> list[torch.Tensor]:
        return [U.norm(dim=-2) for j, U in enumerate(theta) if self._uses(j, U)]

    def describe(self) -> str:
        return f"group_lasso(lam={self.lam}, beta={self.beta}, block={self.block})"


@register("regularizer", "group_lasso")
def group_lasso(lam: NonNegFloat | Sequence[NonNegFloat], beta: PosFloat | Sequence[PosFloat],
                block: str | None = None) -> GroupLasso:
    """λ R_β(U) = λ Σ_i ‖U e_i‖² / √(‖U e_i‖² + β) (001 Eq. 2), on every matrix block or on ``block``."""
    return GroupLasso(lam, beta, block)


__all__ = ["GroupLasso", "group_lasso"]
