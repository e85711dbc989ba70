"""The measurement-operator contract and the gradient operator it hands to parameterizations.

A measurement operator is a linear map 𝒜: ℝ^{in_shape} → ℝ^m, z_i = ⟨A_i, X⟩. Every method takes
an optional leading *replica* axis: ``forward`` maps ``(R, *in_shape)`` to ``(R, m)`` and ``adjoint``
maps ``(R, m)`` back. Replicas share the operator's data, so R replicas cost one pass over it.

Parameterizations never receive 𝒜*(w) as a dense matrix unless they ask for it: they receive a
:class:`GradOperator` G = 𝒜*(w) that can multiply a matrix (``G @ B`` and ``Gᵀ @ B``). Completion
and rank-one sensing implement those products without ever forming G.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch


class GradOperator:
    """G = 𝒜*(w) as a linear map; ``mm(B) = G @ B``, ``tmm(B) = Gᵀ @ B``, ``dense()`` = G.

    Shapes carry the replica axis: G is ``(R, d1, d2)``; ``B`` is ``(R, d2, k)`` for ``mm``.
    For vector-valued problems (sparse regression) G is ``(R, d)`` and only ``dense`` applies.
    """

    symmetric: bool = False

    def mm(self, B: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def tmm(self, B: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def dense(self) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def sym_mm(self, B: torch.Tensor) -> torch.Tensor:
        """(G + Gᵀ) @ B, the pullback through X = UUᵀ; one product when G is symmetric."""
        if self.symmetric:
            return self.mm(B).mul_(2.0)
        return self.mm(B).add_(self.tmm(B))


class ForwardAdjoint(NamedTuple):
    """What :meth:`LinearOperator.forward_adjoint` returns: z = 𝒜(X) ``(…, m)``, the gradient operator
    G = 𝒜*(scale (z − y)), and ``residual_sq`` = ‖z − y‖² ``(…,)``."""

    z: torch.Tensor
    G: GradOperator
    residual_sq: torch.Tensor


class KnownProducts(GradOperator):
    """A gradient operator some of whose products a fused kernel already computed.

    ``mm`` holds pairs ``(B, G @ B)`` and ``tmm`` pairs ``(B, Gᵀ @ B)``; a product with the same
    tensor object ``B`` is answered from them (each once, since callers may scale the result in
    place), any other product by the full operator, which ``inner`` builds on first need.
    """

    def __init__(self, inner: Callable[[], GradOperator], *, symmetric: bool, mm=(), tmm=()):
        self._build = inner
        self._inner: GradOperator | None = None
        self.symmetric = symmetric
        self._mm = list(mm)
        self._tmm = list(tmm)

    @property
    def inner(self) -> GradOperator:
        if self._inner is None:
            self._inner = self._build()
        return self._inner

    @staticmethod
    def _take(known: list, B: torch.Tensor) -> torch.Tensor | None:
        for i, (b, out) in enumerate(known):
            if b is B:
                del known[i]
                return out
        return None

    def mm(self, B: torch.Tensor) -> torch.Tensor:
        out = self._take(self._mm, B)
        return self.inner.mm(B) if out is None else out

    def tmm(self, B: torch.Tensor) -> torch.Tensor:
        out = self._take(self._tmm, B)
        return self.inner.tmm(B) if out is None else out

    def dense(self) -> torch.Tensor:
        return self.inner.dense()


@dataclass(frozen=True)
class DenseGrad(GradOperator):
    """A gradient held as a dense tensor (matrix ``(R, d1, d2)`` or vector ``(R, d)``)."""

    G: torch.Tensor
    symmetric: bool = False

    def mm(self, B: torch.Tensor) -> torch.Tensor:
        return self.G @ B

    def tmm(self, B: torch.Tensor) -> torch.Tensor:
        return self.G.mT @ B

    def dense(self) -> torch.Tensor:
        return self.G


class LinearOperator:
    """Base class of measurement operators 𝒜 (see the module docstring for the contract).

    Attributes:
        in_shape: ``(d1, d2)`` for matrices, ``(d,)`` for vectors.
        m: number of measurements.
        symmetric_domain: the operator acts on symmetric matrices only (its forward map reads the
            symmetric part; its adjoint returns symmetric matrices).
        prefers_factored: ``forward_factored`` is cheaper than forming X (completion, rank-one).
    """

    in_shape: tuple[int, ...]
    m: int
    symmetric_domain: bool = False
    prefers_factored: bool = False

    def max_lanes(self) -> int:
        """Up to how many replicas this operator, inside :func:`overparam.lanes.replica_lanes`,
        computes each replica with operations that do not depend on the batch (its size, the
        replica's position, the thread count); 0: no such promise (the default, unless an operator
        states it and its tests show it)."""
        return 0

    # -- the linear map ------------------------------------------------------------------------
    def forward(self, X: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def adjoint(self, w: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def matrix_of(self, z: torch.Tensor) -> torch.Tensor | None:
        """X itself from z = 𝒜(X) where 𝒜 only rearranges X's entries (the identity), else ``None``:
        the recording then reuses the step's X instead of forming it again (``Snapshot.X``)."""
        return None

    # -- fast paths (defaults form what they need) --------------------------------------------
    def forward_factored(self, L: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
        """𝒜(L Rᵀ) for factors ``L (…, d1, k)`` and ``R (…, d2, k)``."""
        return self.forward(L @ R.mT)

    def gradient(self, w: torch.Tensor) -> GradOperator:
        """G = 𝒜*(w) as a :class:`GradOperator`."""
        return DenseGrad(self.adjoint(w), symmetric=self.symmetric_domain)

    def forward_factored_gradient(self, L: torch.Tensor, R: torch.Tensor
                                  ) -> tuple[torch.Tensor, Callable[[torch.Tensor], GradOperator]]:
        """z = 𝒜(L Rᵀ) (:meth:`forward_factored`) and a function w ↦ 𝒜*(w) (:meth:`gradient`) whose
        products with L and R may reuse what the forward product computed (rank-one sensing keeps
        x L): for a gradient whose weights are not the squared loss's residual (000's truncated
        M_t). Default: the two methods as they are."""
        return self.forward_factored(L, R), self.gradient

    # -- the squared-loss step in one pass (objective hook) ---------------------------------------
    #: ``forward_adjoint`` / ``forward_factored_adjoint`` are cheaper than a forward product followed
    #: by the gradient (they read the operator's data once, or reuse what the forward computed);
    #: the objective calls them for squared losses when this is set.
    fuses_forward_adjoint: bool = False

    def forward_adjoint(self, X: torch.Tensor, y: torch.Tensor, scale: float) -> ForwardAdjoint:
        """z = 𝒜(X), G = 𝒜*(scale · (z − y)) and ‖z − y‖² for ``X (…, *in_shape)``, ``y (m,)``: the
        measurements, gradient operator and residual of the squared loss c‖𝒜(X) − y‖² (scale = 2c).

        The residual of measurement i depends on row i of the operator only, so an operator that
        reads (or generates) its rows can finish both products block of rows by block of rows and
        touch its data once per step (dense and matrix-free Gaussian sensing override this). This
        default is the two-pass computation.
        """
        return self._two_pass(self.forward(X), y, scale)

    def forward_factored_adjoint(self, L: torch.Tensor, R: torch.Tensor, y: torch.Tensor, scale: float
                                 ) -> ForwardAdjoint:
        """:meth:`forward_adjoint` at X = L Rᵀ from the factors (completion: one pass over the
        observed entries for the sampled product, the residual and both products G R and Gᵀ L;
        rank-one sensing: x L computed once for z and for G L). Default: two passes."""
        return self._two_pass(self.forward_factored(L, R), y, scale)

    def _two_pass(self, z: torch.Tensor, y: torch.Tensor, scale: float) -> ForwardAdjoint:
        res = z - y
        return ForwardAdjoint(z, self.gradient(scale * res), (res * res).sum(-1))

    # -- sub-sampling for SGD --------------------------------------------------------------------
    def select(self, idx: torch.Tensor) -> LinearOperator:  # pragma: no cover - interface
        """The operator restricted to rows ``idx``: ``(b,)`` shared, or ``(R, b)`` per replica."""
        raise NotImplementedError

    # -- placement --------------------------------------------------------------------------------
    def to(self, device: torch.device | None = None, dtype: torch.dtype | None = None) -> LinearOperator:
        raise NotImplementedError  # pragma: no cover - interface

    @property
    def device(self) -> torch.device:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def dtype(self) -> torch.dtype:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        """Bytes of stored data a full forward (or adjoint) pass reads."""
        return 0

    @property
    def n_in(self) -> int:
        return math.prod(self.in_shape)

    def dense_matrix(self) -> torch.Tensor:
        """The m × prod(in_shape) matrix M with 𝒜(X) = M vec(X) (tests and small problems only)."""
        n = self.n_in
        eye = torch.eye(n, dtype=self.dtype, device=self.device).reshape(n, *self.in_shape)
        if self.symmetric_domain:
            # rows of M are vec(A_i) with A_i symmetric: M e_jk = ⟨A_i, E_jk⟩ = (A_i)_jk
            # = ½(𝒜(E_jk + E_kj)) for j ≠ k and 𝒜(E_jj) on the diagonal.
            eye = 0.5 * (eye + eye.mT)
        return self.forward(eye).T.contiguous()

    def describe(self) -> str:
        return f"{type(self).__name__}(m={self.m}, in_shape={self.in_shape})"


class SymmetricPacking:
    """svec: the isometric packing of symmetric d×d matrices into D = d(d+1)/2 coordinates.

    svec(X) = (X_jj for j; √2·X_jk for j < k) in ``torch.triu_indices`` order, so
    ⟨X, Y⟩_F = svec(X)·svec(Y). ``unpack`` is its adjoint and inverse on symmetric matrices.
    """

    def __init__(self, d: int, device: torch.device, dtype: torch.dtype):
        self.d = d
        rows, cols = torch.triu_indices(d, d, device=device)
        self.upper = rows * d + cols
        self.lower = cols * d + rows
        w = torch.full((rows.numel(),), math.sqrt(2.0), dtype=dtype, device=device)
        w[rows == cols] = 1.0
        self.weight = w
        self.D = rows.numel()
        # smat as one gather: entry (j, k) of the d × d result reads svec index of (min, max)
        where = torch.empty(d * d, dtype=torch.long, device=device)
        where[self.upper] = torch.arange(self.D, device=device)
        where[self.lower] = torch.arange(self.D, device=device)
        self.gather_index = where
        self.gather_weight = (1.0 / w)[where]

    def pack(self, X: torch.Tensor) -> torch.Tensor:
        """svec of the symmetric part of X: ``(…, d, d)`` → ``(…, D)``."""
        flat = X.reshape(*X.shape[:-2], self.d * self.d)
        up = flat.index_select(-1, self.upper)
        lo = flat.index_select(-1, self.lower)
        return 0.5 * (up + lo) * self.weight

    def unpack(self, g: torch.Tensor) -> torch.Tensor:
        """smat: ``(…, D)`` → symmetric ``(…, d, d)`` with svec(smat(g)) = g."""
        out = g.index_select(-1, self.gather_index).mul_(self.gather_weight)
        return out.reshape(*g.shape[:-1], self.d, self.d)


class EmbeddedRows:
    """Dense-row operators whose rows act on φ(X): svec(X) when ``_pack`` is a
    :class:`SymmetricPacking` (packed symmetric layout), vec(X) otherwise."""

    _pack: SymmetricPacking | None
    in_shape: tuple[int, ...]

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """φ(X): svec for packed operators, vec otherwise."""
        if self._pack is not None:
            return self._pack.pack(X)
        return X.reshape(*X.shape[:-2], math.prod(self.in_shape))

    def unembed(self, g: torch.Tensor) -> torch.Tensor:
        """φ*(g): the adjoint of :meth:`embed` (smat, or reshape)."""
        if self._pack is not None:
            return self._pack.unpack(g)
        return g.reshape(*g.shape[:-1], *self.in_shape)


def batched_rows(data: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows ``idx`` of a per-measurement array ``data (m, …)``; ``idx (R, b)`` gives ``(R, b, …)``."""
    if idx.dtype != torch.long:
        idx = idx.long()
    return data[idx]
