"""Initializations θ₀ for any parameterization, with per-replica scales and seeds.

Each factory returns an :class:`Init`. Its numeric settings may be scalars or per-replica
sequences: ``scaled_identity(alpha=[1e-3, 1e-2, 1e-1, 1.0])`` initializes 4 replicas that
``run`` advances together. Randomness comes from the replica's ``init_seed`` only, through
``derive_seed(init_seed, "init", <name>, <tensor index>)``.

Every block of θ is initialized by the same rule (U for UUᵀ; F and G for FGᵀ; U and V for UUᵀ − VVᵀ;
each W_j of a deep product), which is the convention of 000 (U₀ = αB), 002 (both factors
Gaussian) and 003 (a rank-r₀ U₀ of a given Frobenius norm). Any numeric setting may be a per-block
table naming the parameterization's blocks (``gaussian(scale={"F": 1e-3, "G": 1e-1})``: an
imbalanced FGᵀ init) and, inside it or alone, per replica. Each block draws from its own stream
``derive_seed(init_seed, "init", <name>, <block index>)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch

from ._types import NonNegFloat, PosFloat, PosInt
from .backend import BackendError, generator
from .params import Parameterization, Params
from .registry import register
from .settings import at_replica, per_block, replica_count
from .spectral import spectral_init_fn


class Init:
    """θ₀ = ``fn(shape, settings, g)`` for every tensor of θ and every replica; a ``joint`` init
    draws all blocks together, ``fn(shapes, settings, g) -> [tensors]`` (the balanced deep init).
    A joint init with ``needs_problem`` also reads the problem's data, ``fn(shapes, settings, g,
    problem=, blocks=)`` (the spectral init); ``run`` passes the problem to every init."""

    def __init__(self, name: str, fn: Callable[..., Any], *, joint: bool = False, needs_problem: bool = False,
                 **settings: Any):
        self.name = name
        self.fn = fn
        self.joint = joint or needs_problem
        self.needs_problem = needs_problem
        self.settings = settings

    @property
    def replicas(self) -> int:
        return replica_count("init settings", **{f"init.{k}": v for k, v in self.settings.items()})

    def replica_settings(self, R: int) -> list[dict[str, Any]]:
        """The settings of each replica (per-block tables stay tables)."""
        if self.replicas not in (1, R):
            raise BackendError(f"init: settings give {self.replicas} replicas, the run has {R}")
        return [{k: at_replica(v, i) for k, v in self.settings.items()} for i in range(R)]

    def __call__(
        self,
        param: Parameterization,
        in_shape: tuple[int, ...],
        *,
        seeds: Sequence[int],
        device: torch.device,
        dtype: torch.dtype,
        problem: Any = None,
    ) -> Params:
        R = len(seeds)
        shapes = param.shapes(in_shape)
        blocks = param.blocks or tuple(str(j) for j in range(len(shapes)))
        per = self.replica_settings(R)
        extra: dict[str, Any] = {}
        if self.needs_problem:
            if problem is None:
                raise BackendError(f"init '{self.name}' reads the problem's data; call it with problem=")
            extra = {"problem": problem, "blocks": blocks}
        tensors: list[list[torch.Tensor]] = [[] for _ in shapes]
        for i in range(R):
            if self.joint:
                for j, t in enumerate(self.fn(shapes, g=generator(seeds[i], "init", self.name), **extra, **per[i])):
                    tensors[j].append(t)
                continue
            by_block = {k: per_block(v, blocks, f"init.{k}") for k, v in per[i].items()}
            for j, shape in enumerate(shapes):
                g = generator(seeds[i], "init", self.name, j)
                t = self.fn(shape, g=g, **{k: v[blocks[j]] for k, v in by_block.items()})
                tensors[j].append(t)
        return tuple(torch.stack(ts).to(device=device, dtype=dtype) for ts in tensors)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return f"{self.name}({args})"


def _haar(n: int, g: torch.Generator) -> torch.Tensor:
    Z = torch.randn(n, n, generator=g, dtype=torch.float64)
    Q, R = torch.linalg.qr(Z)
    s = torch.sign(torch.diagonal(R))
    return Q * torch.where(s == 0, torch.ones_like(s), s)


def _eye(shape: tuple[int, ...]) -> torch.Tensor:
    if len(shape) == 1:
        return torch.ones(shape, dtype=torch.float64)
    return torch.eye(*shape, dtype=torch.float64)


def _scaled_identity(shape, *, g, alpha, basis):
    if basis == "identity" or len(shape) == 1:
        return alpha * _eye(shape)
    n, k = shape
    B = _haar(max(n, k), g)
    return alpha * B[:n, :k]


def _gaussian(shape, *, g, scale, normalize):
    Z = torch.randn(shape, generator=g, dtype=torch.float64)
    if normalize == "frobenius":
        return scale * Z / Z.norm()
    return scale * Z


def _low_rank(shape, *, g, rank, norm, spectrum):
    if len(shape) != 2:
        raise BackendError("init 'low_rank' applies to matrix factors")
    n, k = shape
    if rank > min(n, k):
        raise BackendError(f"init.rank: got {rank}; accepted: 1 <= rank <= {min(n, k)} for a {n}×{k} factor")
    if spectrum == "gaussian":
        M = torch.randn(n, rank, generator=g, dtype=torch.float64) @ torch.randn(rank, k, generator=g, dtype=torch.float64)
    else:
        Ql = _haar(n, g)[:, :rank]
        Qr = _haar(k, g)[:, :rank]
        M = Ql @ Qr.T
    return norm * M / M.norm()


def _zero(shape, *, g):
    return torch.zeros(shape, dtype=torch.float64)


@register("init")
def scaled_identity(alpha: PosFloat | Sequence[PosFloat] = 1e-3,
                    basis: Literal["identity", "orthogonal"] = "identity") -> Init:
    """U₀ = α B with B = I (000's experiments) or a Haar-random orthogonal B (Thm 1.1 allows any
    orthonormal B); for a d×k factor, the first k columns. For vectors, α·1."""
    return Init("scaled_identity", _scaled_identity, alpha=alpha, basis=basis)


@register("init")
def gaussian(scale: PosFloat | Sequence[PosFloat] = 1e-3,
             normalize: Literal["entry", "frobenius"] = "entry") -> Init:
    """Entries i.i.d. N(0, scale²) (``normalize="entry"``), or a Gaussian factor rescaled to
    ‖·‖_F = scale (``"frobenius"``, 002's ‖F₀‖_F = ρ‖X‖_F convention with scale = ρ‖X‖_F)."""
    return Init("gaussian", _gaussian, scale=scale, normalize=normalize)


@register("init")
def low_rank(rank: PosInt | Sequence[PosInt] = 1, norm: PosFloat | Sequence[PosFloat] = 1.0,
             spectrum: Literal["gaussian", "flat"] = "gaussian") -> Init:
    """A rank-r₀ factor with a given Frobenius norm (003 §5): U₀ = L Rᵀ · norm/‖L Rᵀ‖_F with
    Gaussian L, R (``spectrum="gaussian"``) or orthonormal ones (``"flat"``, equal singular values)."""
    return Init("low_rank", _low_rank, rank=rank, norm=norm, spectrum=spectrum)


def _balanced(shapes, *, g, scale):
    """W_1 = Σ^{1/N} Vᵀ, W_j = Σ^{1/N}, W_N = U Σ^{1/N} for a Gaussian A = U Σ Vᵀ with ‖A‖_F = scale
    (zero-padded to the hidden width): W_{j+1}ᵀ W_{j+1} = W_j W_jᵀ and W_N ⋯ W_1 = A."""
    if len(shapes) < 2 or any(len(s) != 2 for s in shapes):
        raise BackendError("init 'balanced' applies to deep products X = W_N ⋯ W_1 (param 'deep')")
    N = len(shapes)
    d1, d2, h = shapes[-1][0], shapes[0][1], shapes[0][0]
    A = torch.randn(d1, d2, generator=g, dtype=torch.float64)
    A = scale * A / A.norm()
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    q = min(len(S), h)
    root = torch.zeros(h, dtype=torch.float64)
    root[:q] = S[:q] ** (1.0 / N)
    W1 = torch.zeros(h, d2, dtype=torch.float64)
    W1[:q] = root[:q, None] * Vh[:q]
    WN = torch.zeros(d1, h, dtype=torch.float64)
    WN[:, :q] = U[:, :q] * root[:q]
    return [W1] + [torch.diag(root) for _ in range(N - 2)] + [WN]


@register("init")
def balanced(scale: PosFloat | Sequence[PosFloat] = 1e-3) -> Init:
    """The balanced init of a deep product (Arora, Cohen, Hu, Luo 2019): the factors of the SVD of a
    Gaussian end-to-end matrix A with ‖A‖_F = ``scale``, split evenly, so W_{j+1}ᵀW_{j+1} = W_jW_jᵀ."""
    return Init("balanced", _balanced, joint=True, scale=scale)


def _spectral(shapes, *, g, problem, blocks):
    return spectral_init_fn(shapes, g=g, problem=problem, blocks=blocks)


@register("init")
def spectral() -> Init:
    """Spectral initialization (Tong, Ma, Chi 2021): the top-k part of Y = 𝒜*(y)/ν, U₀ = V_kΛ_k^{1/2}
    (param ``symmetric``) or F₀ = U_kΣ_k^{1/2}, G₀ = V_kΣ_k^{1/2} (``asymmetric``), k = the param's
    width; ν = m s² (Gaussian sensing), p (completion), 1 (factorization). Deterministic: every replica
    starts from the same θ₀. See :mod:`overparam.spectral`."""
    return Init("spectral", _spectral, needs_problem=True)


@register("init")
def zero() -> Init:
    """θ₀ = 0 (004: IPGD starts at the origin, a strict saddle)."""
    return Init("zero", _zero)


@register("init")
def constant(alpha: NonNegFloat | Sequence[NonNegFloat] = 1e-3) -> Init:
    """Every entry equal to α (Hadamard sparse recovery: u₀ = v₀ = α·1 gives x₀ = 0 for u⊙u − v⊙v)."""
    return Init("constant", lambda shape, *, g, alpha: torch.full(shape, float(alpha), dtype=torch.float64),
                alpha=alpha)


__all__ = ["Init", "balanced", "constant", "gaussian", "low_rank", "scaled_identity", "spectral", "zero"]
