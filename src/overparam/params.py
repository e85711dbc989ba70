"""Parameterizations g(θ) with analytic pullbacks: UUᵀ, FGᵀ, UUᵀ − VVᵀ, Hadamard, deep products.

θ is a tuple of tensors, each with a leading replica axis R. Every parameterization provides

* ``blocks`` — the names of θ's tensors, in order (``U``; ``F``, ``G``; ``U``, ``V``; ``u``, ``v``;
  ``W1`` … ``WN``; ``X``): inits, per-block step sizes and the store refer to them by name;
* ``shapes(in_shape)`` — the shapes of θ's tensors (without R) for a problem of ``in_shape``;
* ``to_matrix(θ)`` — the end-to-end X = g(θ), ``(R, *in_shape)``;
* ``factors(θ)`` — ``(L, R)`` with X = L Rᵀ when that form exists (lets completion and rank-one
  sensing evaluate 𝒜(X) without forming X), else ``None``;
* ``pullback(θ, G)`` — the chain rule J_g(θ)ᵀ[G] for the gradient operator G = ∇_X L
  (a :class:`~overparam.operators.GradOperator`), one tensor per entry of θ;
* ``singular_values(θ)`` — σ(X) in decreasing order, computed from the factors where cheaper.

The model width is ``k``; the true rank of the problem is ``r``. ``k=None`` means full width
(k = d, the paper-000 setting U ∈ ℝ^{d×d}).
"""

from __future__ import annotations

from typing import Literal

import torch

from ._types import PosInt
from .errors import OverparamError
from .operators import GradOperator
from .registry import register

Params = tuple[torch.Tensor, ...]


class ParamError(OverparamError, ValueError):
    pass


def per_matrix(fn, *xs: torch.Tensor) -> torch.Tensor:
    """``fn`` of each matrix of a batch ``(..., a, b)`` on its own, stacked; batched as one call on
    other devices than the CPU or for a single matrix.

    A spectrum then has the same bits whatever batch it is computed in (the replicas of a run, the
    logged steps a segment records together, a sweep's merged lanes). On the CPU, LAPACK through
    MKL computes a matrix of a batch from the batch's own column-major copy, where the matrix starts
    at an offset of i·a·b elements; on an AMD EPYC (AVX2) every other 7 × 7 matrix of a batch got a
    singular value 1 ulp away from the same matrix computed alone.
    """
    x0 = xs[0]
    if x0.ndim <= 2 or x0.device.type != "cpu" or x0.shape[:-2].numel() <= 1:
        return fn(*xs)
    lead = x0.shape[:-2]
    flat = [x.reshape(-1, *x.shape[-2:]) for x in xs]
    out = torch.stack([fn(*(f[i] for f in flat)) for i in range(flat[0].shape[0])])
    return out.reshape(*lead, *out.shape[1:])


class Parameterization:
    """Base class; see the module docstring for the contract."""

    name: str = "parameterization"
    blocks: tuple[str, ...] = ()

    def block_shapes(self, in_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        """``{block name: shape}`` in θ's order."""
        return dict(zip(self.blocks, self.shapes(in_shape), strict=True))

    def shapes(self, in_shape: tuple[int, ...]) -> list[tuple[int, ...]]:  # pragma: no cover - interface
        raise NotImplementedError

    def to_matrix(self, theta: Params) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def factors(self, theta: Params) -> tuple[torch.Tensor, torch.Tensor] | None:
        return None

    def pullback(self, theta: Params, G: GradOperator) -> Params:  # pragma: no cover - interface
        raise NotImplementedError

    def singular_values(self, theta: Params) -> torch.Tensor:
        X = self.to_matrix(theta)
        if X.ndim < 3:
            raise ParamError(f"singular values are not defined for the vector parameterization {self.name}")
        return per_matrix(torch.linalg.svdvals, X)

    def check(self, in_shape: tuple[int, ...]) -> None:
        """Raise :class:`ParamError` when this parameterization cannot represent ``in_shape``."""
        self.shapes(in_shape)

    def describe(self) -> str:
        return self.name


def _matrix_shape(name: str, in_shape: tuple[int, ...]) -> tuple[int, int]:
    if len(in_shape) != 2:
        raise ParamError(f"param {name!r} needs a matrix problem; this problem's variable has shape {in_shape}")
    return in_shape  # type: ignore[return-value]


@register("param", "symmetric")
class Symmetric(Parameterization):
    """X = U Uᵀ with U ∈ ℝ^{d×k} (000 Eq. 1). Pullback: ∇_U = (G + Gᵀ) U."""

    name = "symmetric"
    blocks = ("U",)

    def __init__(self, k: PosInt | None = None):
        self.k = k

    def shapes(self, in_shape):
        d1, d2 = _matrix_shape(self.name, in_shape)
        if d1 != d2:
            raise ParamError(f"param 'symmetric' needs a square problem; got {d1}×{d2}")
        return [(d1, self.k or d1)]

    def to_matrix(self, theta):
        (U,) = theta
        return U @ U.mT

    def factors(self, theta):
        (U,) = theta
        return U, U

    def pullback(self, theta, G):
        (U,) = theta
        return (G.sym_mm(U),)

    def singular_values(self, theta):
        (U,) = theta
        return per_matrix(torch.linalg.svdvals, U) ** 2


@register("param", "asymmetric")
class Asymmetric(Parameterization):
    """X = F Gᵀ with F ∈ ℝ^{d1×k}, G ∈ ℝ^{d2×k} (002 Eq. M). Pullback: (∇ F, ∇ G) = (G_X G, G_Xᵀ F)."""

    name = "asymmetric"
    blocks = ("F", "G")

    def __init__(self, k: PosInt | None = None):
        self.k = k

    def shapes(self, in_shape):
        d1, d2 = _matrix_shape(self.name, in_shape)
        k = self.k or min(d1, d2)
        return [(d1, k), (d2, k)]

    def to_matrix(self, theta):
        F, G = theta
        return F @ G.mT

    def factors(self, theta):
        return theta[0], theta[1]

    def pullback(self, theta, GX):
        F, G = theta
        return GX.mm(G), GX.tmm(F)

    def singular_values(self, theta):
        return per_matrix(_svdvals_of_product, *theta)


def _svdvals_of_product(F: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """σ(F Gᵀ) = σ(R_F R_Gᵀ) from the QR factors F = Q_F R_F, G = Q_G R_G (k × k instead of d1 × d2)."""
    _, RF = torch.linalg.qr(F)
    _, RG = torch.linalg.qr(G)
    return torch.linalg.svdvals(RF @ RG.mT)


@register("param", "difference")
class Difference(Parameterization):
    """X = U Uᵀ − V Vᵀ (symmetric, indefinite). Pullback: ((G+Gᵀ)U, −(G+Gᵀ)V)."""

    name = "difference"
    blocks = ("U", "V")

    def __init__(self, k: PosInt | None = None):
        self.k = k

    def shapes(self, in_shape):
        d1, d2 = _matrix_shape(self.name, in_shape)
        if d1 != d2:
            raise ParamError(f"param 'difference' needs a square problem; got {d1}×{d2}")
        k = self.k or d1
        return [(d1, k), (d1, k)]

    def to_matrix(self, theta):
        U, V = theta
        return U @ U.mT - V @ V.mT

    def factors(self, theta):
        U, V = theta
        return torch.cat([U, V], dim=-1), torch.cat([U, -V], dim=-1)

    def pullback(self, theta, G):
        U, V = theta
        return G.sym_mm(U), -G.sym_mm(V)

    def singular_values(self, theta):
        ev = per_matrix(torch.linalg.eigvalsh, self.to_matrix(theta)).abs()
        return ev.sort(dim=-1, descending=True).values


@register("param", "hadamard")
class Hadamard(Parameterization):
    """Vector x = u⊙u − v⊙v (``kind="uu-vv"``) or x = u⊙v (``kind="uv"``, 004 Example 2).

    Pullbacks: uu-vv → (2 g⊙u, −2 g⊙v); uv → (g⊙v, g⊙u), with g = ∇_x L.
    """

    name = "hadamard"
    blocks = ("u", "v")

    def __init__(self, kind: Literal["uu-vv", "uv"] = "uu-vv"):
        self.kind = kind

    def shapes(self, in_shape):
        if len(in_shape) != 1:
            raise ParamError(f"param 'hadamard' needs a vector problem; this problem's variable has shape {in_shape}")
        return [in_shape, in_shape]

    def to_matrix(self, theta):
        u, v = theta
        return u * u - v * v if self.kind == "uu-vv" else u * v

    def pullback(self, theta, G):
        u, v = theta
        g = G.dense()
        if self.kind == "uu-vv":
            return 2.0 * g * u, -2.0 * g * v
        return g * v, g * u

    def describe(self):
        return f"hadamard({self.kind})"


@register("param", "deep")
class DeepProduct(Parameterization):
    """X = W_N ⋯ W_1 (deep linear network / deep matrix factorization), W_1 ∈ ℝ^{h×d2},
    W_j ∈ ℝ^{h×h}, W_N ∈ ℝ^{d1×h}, with hidden width h = ``width`` (default max(d1, d2)).

    Pullback: ∇W_j = (W_N⋯W_{j+1})ᵀ G (W_{j−1}⋯W_1)ᵀ.
    """

    name = "deep"

    def __init__(self, depth: PosInt = 3, width: PosInt | None = None):
        if depth < 2:
            raise ParamError(f"depth: got {depth}; accepted: depth >= 2 (depth 1 is param 'direct')")
        self.depth = depth
        self.width = width
        self.blocks = tuple(f"W{j}" for j in range(1, depth + 1))

    def shapes(self, in_shape):
        d1, d2 = _matrix_shape(self.name, in_shape)
        h = self.width or max(d1, d2)
        return [(h, d2)] + [(h, h)] * (self.depth - 2) + [(d1, h)]

    @staticmethod
    def _chain(mats: list[torch.Tensor]) -> torch.Tensor:
        out = mats[0]
        for W in mats[1:]:
            out = W @ out
        return out

    def to_matrix(self, theta):
        return self._chain(list(theta))

    def factors(self, theta):
        left = self._chain(list(theta[1:]))  # W_N ⋯ W_2, (d1 × h)
        return left, theta[0].mT

    def pullback(self, theta, G):
        Ws = list(theta)
        N = len(Ws)
        prefix = [None] * (N + 1)  # prefix[j] = W_j ⋯ W_1 (prefix[0] = I implicit)
        for j in range(1, N + 1):
            prefix[j] = Ws[0] if j == 1 else Ws[j - 1] @ prefix[j - 1]
        grads: list[torch.Tensor] = [None] * N  # type: ignore[list-item]
        suffix = None  # W_N ⋯ W_{j+1}
        # G as a dense d1 × d2 matrix, formed once: the chain already multiplies d1 × h by h × h matrices,
        # so dense products cost no more, and completion avoids a sparse product per factor (each one
        # a new MKL CSR call, 30 µs alone but up to 40 ms with its threads on a loaded machine).
        Gd = G.dense()
        for j in range(N, 0, -1):
            # G P_{j-1}ᵀ (d1 × h_{j-1}); P_0 = I gives G itself
            GP = Gd if j == 1 else Gd @ prefix[j - 1].mT
            grads[j - 1] = GP if suffix is None else suffix.mT @ GP
            suffix = Ws[j - 1] if suffix is None else suffix @ Ws[j - 1]
        return tuple(grads)

    def describe(self):
        return f"deep(depth={self.depth}, width={self.width})"


@register("param", "direct")
class Direct(Parameterization):
    """θ = X itself (no over-parameterization): GD or projected GD in X-space (000 Fig. 4)."""

    name = "direct"
    blocks = ("X",)

    def shapes(self, in_shape):
        return [tuple(in_shape)]

    def to_matrix(self, theta):
        return theta[0]

    def pullback(self, theta, G):
        return (G.dense(),)


def width(param: Parameterization, in_shape: tuple[int, ...]) -> int | None:
    """The model width k of a factored parameterization on ``in_shape`` (None for others)."""
    shapes = param.shapes(in_shape)
    return shapes[0][-1] if isinstance(param, (Symmetric, Asymmetric, Difference)) else None
