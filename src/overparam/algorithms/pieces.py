"""The update pieces every algorithm is composed of (see :mod:`overparam.algorithms.base`).

================  =================================================================================
piece             what it does to the :class:`~overparam.algorithms.base.Step` record
================  =================================================================================
SampleRows        ``rows`` ← a mini-batch of b measurement indices per replica (with or without
                  replacement), from the replica's (seed, counter) stream
Gradient          ``evaluation``, ``direction`` ← f and ∇f at θ_t (on ``rows`` when set: then the
                  full evaluation is left to the run loop)
Descend           ``new_theta`` ← θ − η s · direction, η and s per block and per replica: **the**
                  descent line of every gradient method here
ProjectPSD        ``new_theta`` ← Π_PSD(new_theta) (θ = X; 000's projected GD)
ProxGroupLasso    ``new_theta`` ← column-wise soft threshold U_i · max(0, 1 − η s λ/‖U_i‖)
                  (the proximal map of η s λ Σ_i ‖U e_i‖₂)
MirrorDescend     ``new_theta`` ← (∇Φ)⁻¹(∇Φ(X) − η s ∇f) (spectral entropy / hypentropy; θ = X)
ScaledPrecondition ``direction`` ← ∇_U (UᵀU + λI)⁻¹ (symmetric) or ∇_F (GᵀG + λI)⁻¹, ∇_G (FᵀF + λI)⁻¹
                  (ScaledGD(λ), Xu et al. 2023; λ = 0 is ScaledGD, Tong et al. 2021)
Perturb           IPGD / Jin et al.'s PGD: a uniform-ball perturbation of radius r when ‖∇f‖ ≤
                  g_thres and T steps have passed since the last one; after T steps, return the
                  pre-perturbation point if f fell by less than f_thres (004 Alg. 1)
================  =================================================================================

000's Algorithm 1 adds two pieces of its own (:mod:`overparam.algorithms.quadratic_net`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..backend import generator
from ..settings import block_tensors, per_block, replica_tensor
from .base import Piece, Step, StopRequest, scale_like

Num = float | Sequence[float] | Mapping[str, Any]


class Stream:
    """A replica's random stream as a serializable (seed, counter) pair: ``counter`` draws of
    ``draw(generator)`` have been made. The torch generator is a cache; :meth:`restore` rebuilds it
    by replaying the draws, so the pair alone determines every later number."""

    def __init__(self, seed: int, tag: str, counter: int = 0):
        self.seed, self.tag, self.counter = int(seed), tag, int(counter)
        self._gen = generator(self.seed, tag)
        self._drawn = 0  # draws the generator has made (behind ``counter`` after a restore)

    def draw(self, fn):
        while self._drawn < self.counter:  # replay after a restore
            fn(self._gen)
            self._drawn += 1
        self.counter += 1
        self._drawn += 1
        return fn(self._gen)

    def state(self) -> tuple[int, str, int]:
        return self.seed, self.tag, self.counter

    @classmethod
    def restore(cls, state: tuple[int, str, int]) -> Stream:
        seed, tag, counter = state
        return cls(seed, tag, counter)


# -- sampling ---------------------------------------------------------------------------------------

_CHUNK = 1024  # steps of batch indices drawn at once per replica


class SampleRows(Piece):
    """A mini-batch B of b measurement indices per replica: i.i.d. uniform (``replacement=True``,
    000 Fig. 5) or shuffled epochs without replacement; the loss on B is rescaled by m/b so that
    E ∇f_B = ∇f. Streams ``derive_seed(algo_seed, "sgd")``, drawn 1,024 steps at a time."""

    name = "sample_rows"

    def __init__(self, batch_size: int = 1, replacement: bool = True):
        self.batch_size = batch_size
        self.replacement = replacement

    def describe(self):
        return f"sample_rows(batch_size={self.batch_size}, replacement={self.replacement})"

    def init(self, ctx, objective, theta):
        m = objective.problem.m
        if self.batch_size > m:
            raise ValueError(f"algorithm.batch_size: got {self.batch_size}; accepted: 1 <= batch_size <= m = {m}")
        return {"streams": [Stream(s, "sgd") for s in ctx.algo_seeds], "buf": [None] * ctx.R, "pos": [0] * ctx.R,
                "m": m, "device": ctx.device}

    def _draw(self, g: torch.Generator, m: int) -> torch.Tensor:
        b = self.batch_size
        if self.replacement:
            return torch.randint(0, m, (_CHUNK, b), generator=g)
        per_epoch = m // b
        n_epochs = -(-_CHUNK // per_epoch)
        perms = [torch.randperm(m, generator=g)[: per_epoch * b].reshape(per_epoch, b) for _ in range(n_epochs)]
        return torch.cat(perms)[:_CHUNK]

    def update(self, step: Step, state):
        rows = []
        m = state["m"]
        for i, stream in enumerate(state["streams"]):
            if state["buf"][i] is None or state["pos"][i] >= state["buf"][i].shape[0]:
                state["buf"][i] = stream.draw(lambda g: self._draw(g, m)).to(state["device"])  # one transfer per chunk
                state["pos"][i] = 0
            rows.append(state["buf"][i][state["pos"][i]])
            state["pos"][i] += 1
        step.rows = torch.stack(rows)
        return state

    def select(self, state, keep):
        idx = keep.tolist()
        return {**state, **{k: [state[k][i] for i in idx] for k in ("streams", "buf", "pos")}}


# -- directions ---------------------------------------------------------------------------------------


class Gradient(Piece):
    """direction = ∇f(θ_t) (analytic: operator adjoint + parameterization pullback + regularizer)."""

    name = "gradient"

    def describe(self):
        return "gradient"

    def update(self, step: Step, state):
        ev = step.objective.evaluate(step.theta, rows=step.rows)
        step.direction = ev.grad
        step.evaluation = ev if step.rows is None else None  # a mini-batch is not f(θ_t)
        return state


class ScaledPrecondition(Piece):
    """ScaledGD(λ) (Xu, Shen, Ma, Tong, Chi 2023; λ = 0: ScaledGD, Tong, Ma, Chi 2021):
    ∇_U ← ∇_U (UᵀU + λI)⁻¹ for X = UUᵀ; ∇_F ← ∇_F (GᵀG + λI)⁻¹ and ∇_G ← ∇_G (FᵀF + λI)⁻¹ for FGᵀ."""

    name = "scaled_precondition"
    settings = ("lam",)

    def __init__(self, lam: Num = 0.0):
        self.lam = lam

    def init(self, ctx, objective, theta):
        partners = {"symmetric": (0,), "asymmetric": (1, 0)}.get(objective.param.name)
        if partners is None:
            raise ValueError(f"algorithm: the ScaledGD preconditioner needs param 'symmetric' or 'asymmetric'; "
                             f"got {objective.param.name!r}")
        return {"lam": replica_tensor(self.lam, ctx.R, device=ctx.device, dtype=ctx.dtype), "partners": partners}

    def update(self, step: Step, state):
        lam = state["lam"]
        out = []
        for d, j in zip(step.direction, state["partners"], strict=True):
            P = step.theta[j]
            k = P.shape[-1]
            Mk = P.mT @ P + scale_like(lam, P) * torch.eye(k, dtype=P.dtype, device=P.device)
            out.append(torch.linalg.solve(Mk, d.mT).mT)  # d (PᵀP + λI)⁻¹ (the matrix is symmetric)
        step.direction = tuple(out)
        return state

    def select(self, state, keep):
        return {**state, "lam": state["lam"][keep]}


# -- the descent ----------------------------------------------------------------------------------------


class Descend(Piece):
    """θ_{t+1} = θ_t − η s · direction, with the step η s per block and per replica.

    ``grad_scale`` s converts a paper's convention to the exact gradient (module docstring of
    :mod:`overparam.algorithms.gd`)."""

    name = "descend"
    settings = ("eta", "grad_scale")
    holds_step_size = True

    def __init__(self, eta: Num, grad_scale: Num = 1.0):
        self.eta = eta
        self.grad_scale = grad_scale

    def init(self, ctx, objective, theta):
        blocks = objective.param.blocks or tuple(f"theta{j}" for j in range(len(theta)))
        etas = block_tensors(self.eta, blocks, ctx.R, device=ctx.device, dtype=ctx.dtype, where="algorithm.eta")
        scales = per_block(self.grad_scale, blocks, "algorithm.grad_scale")
        return tuple(e * float(scales[b]) for e, b in zip(etas, blocks, strict=True))

    def update(self, step: Step, state):
        step.step_size = state
        step.new_theta = tuple(p - scale_like(s, p) * d for p, s, d in zip(step.theta, state, step.direction, strict=True))
        return state

    def select(self, state, keep):
        return tuple(s[keep] for s in state)


def _spectral(X: torch.Tensor, fn) -> torch.Tensor:
    """fn applied to the eigenvalues of sym(X) (batched): V diag(fn(λ)) Vᵀ."""
    lam, V = torch.linalg.eigh(0.5 * (X + X.mT))
    return (V * fn(lam).unsqueeze(-2)) @ V.mT


class MirrorDescend(Piece):
    """Mirror descent in X-space (θ = X, param ``direct``; Wu & Rebeschini 2021):
    ∇Φ(X_{t+1}) = ∇Φ(X_t) − η s ∇f(X_t), with the spectral entropy Φ(X) = tr(X log X − X) (PSD X:
    X_{t+1} = exp(log X_t − η s ∇f)) or the spectral hypentropy with parameter β (any symmetric X:
    X_{t+1} = β sinh(arcsinh(X_t/β) − η s ∇f)). Small X_0 = αI is the small-initialization analogue."""

    name = "mirror_descend"
    settings = ("eta",)

    def __init__(self, eta: Num, mirror: str = "entropy", beta: float = 1e-3, grad_scale: float = 1.0):
        if mirror not in ("entropy", "hypentropy"):
            raise ValueError(f"algorithm.mirror: got {mirror!r}; accepted: entropy, hypentropy")
        self.eta, self.mirror, self.beta, self.grad_scale = eta, mirror, beta, grad_scale

    def init(self, ctx, objective, theta):
        if objective.param.name != "direct":
            raise ValueError(f"algorithm 'mirror_descent' works in X-space: param must be 'direct'; got "
                             f"{objective.param.name!r}")
        return replica_tensor(self.eta, ctx.R, device=ctx.device, dtype=ctx.dtype) * float(self.grad_scale)

    def update(self, step: Step, state):
        (X,), (g,) = step.theta, step.direction
        g = 0.5 * (g + g.mT)
        if self.mirror == "entropy":
            dual = _spectral(X, lambda lam: torch.log(lam.clamp_min(torch.finfo(X.dtype).tiny)))
            new = _spectral(dual - scale_like(state, X) * g, torch.exp)
        else:
            b = self.beta
            dual = _spectral(X, lambda lam: torch.asinh(lam / b))
            new = _spectral(dual - scale_like(state, X) * g, lambda mu: b * torch.sinh(mu))
        step.step_size = (state,)
        step.new_theta = (new,)
        return state

    def select(self, state, keep):
        return state[keep]


# -- maps after the descent -----------------------------------------------------------------------------


def psd_projection(Y: torch.Tensor) -> torch.Tensor:
    """Π_PSD(Y) = V diag(max(λ, 0)) Vᵀ for sym(Y) = V diag(λ) Vᵀ, batched over leading axes.

    This is the nearest PSD matrix to Y in Frobenius norm (for any square Y: the skew part is
    orthogonal to every symmetric matrix, so it is dropped first)."""
    if Y.ndim < 2 or Y.shape[-1] != Y.shape[-2]:
        raise ValueError(f"psd_projection: needs square matrices (…, d, d); got shape {tuple(Y.shape)}")
    S = 0.5 * (Y + Y.mT)
    lam, V = torch.linalg.eigh(S)
    return (V * lam.clamp_min(0.0).unsqueeze(-2)) @ V.mT


class ProjectPSD(Piece):
    """X_{t+1} ← Π_PSD(X_{t+1}) on θ = X (param ``direct``, a square problem)."""

    name = "project_psd"

    def describe(self):
        return "project_psd"

    def init(self, ctx, objective, theta):
        if objective.param.name != "direct":
            raise ValueError(f"algorithm 'projected_gd' works in X-space: param must be 'direct' (θ = X); "
                             f"got {objective.param.name!r}")
        shape = objective.problem.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"algorithm 'projected_gd' needs a square matrix problem; got variable shape {shape}")
        return None

    def update(self, step: Step, state):
        step.new_theta = tuple(psd_projection(Y) for Y in step.new_theta)
        return state


class ProxGroupLasso(Piece):
    """The proximal map of η s λ Σ_i ‖U e_i‖₂ on every matrix block: U e_i ← U e_i · max(0, 1 − η s λ/‖U e_i‖)
    (column-wise soft thresholding; proximal GD on the non-smooth group Lasso, β = 0 of 001's R_β)."""

    name = "prox_group_lasso"
    settings = ("lam",)

    def __init__(self, lam: Num):
        self.lam = lam

    def init(self, ctx, objective, theta):
        return replica_tensor(self.lam, ctx.R, device=ctx.device, dtype=ctx.dtype)

    def update(self, step: Step, state):
        out = []
        for p, s in zip(step.new_theta, step.step_size, strict=True):
            if p.ndim != 3:
                out.append(p)
                continue
            norms = p.norm(dim=-2, keepdim=True)
            shrink = (1.0 - scale_like(s * state, norms) / norms.clamp_min(torch.finfo(p.dtype).tiny)).clamp_min(0.0)
            out.append(p * shrink)
        step.new_theta = tuple(out)
        return state


# -- perturbations (004) ------------------------------------------------------------------------------


def ball_sample(g: torch.Generator, D: int, radius: float) -> torch.Tensor:
    """ξ uniform in the Euclidean ball of radius r in ℝ^D: r·w^{1/D}·z/‖z‖, z ~ N(0, I), w ~ U(0, 1)."""
    z = torch.randn(D, generator=g, dtype=torch.float64)
    w = torch.rand(1, generator=g, dtype=torch.float64)
    return radius * w ** (1.0 / D) * z / z.norm()


class Perturb(Piece):
    """004 Algorithm 1 (IPGD) and Jin et al. (2017) Algorithm 2 (PGD), which differ only in the radius.

    At θ_t with ‖∇f(θ_t)‖ ≤ ``g_thres`` and t − t_pert > ``escape_time`` T: x̃ ← θ_t, t_pert ← t,
    θ_t ← x̃ + ξ with ξ uniform in the ball of radius ``radius`` over all parameters (every block
    jointly), and the step continues from the perturbed point. At t − t_pert = T: if
    f(θ_t) − f(x̃) > −``f_thres``, the replica terminates and returns x̃ (event ``terminated``).
    Perturbations are events with the step and radius; each replica draws from its own
    (seed, counter) stream ``derive_seed(algo_seed, "perturb")``.
    """

    name = "perturb"
    settings = ("radius", "g_thres", "escape_time", "f_thres")

    def __init__(self, radius: Num, g_thres: Num, escape_time: Num, f_thres: Num, terminate: bool = True):
        self.radius, self.g_thres, self.escape_time, self.f_thres = radius, g_thres, escape_time, f_thres
        self.terminate = terminate

    def init(self, ctx, objective, theta):
        f64 = {"device": "cpu", "dtype": torch.float64}
        T = replica_tensor(self.escape_time, ctx.R, **f64)
        return {"radius": replica_tensor(self.radius, ctx.R, **f64), "g_thres": replica_tensor(self.g_thres, ctx.R, **f64),
                "T": T, "f_thres": replica_tensor(self.f_thres, ctx.R, **f64), "t_pert": -T - 1,
                "x_tilde": [None] * ctx.R, "f_tilde": torch.full((ctx.R,), float("nan"), dtype=torch.float64),
                "streams": [Stream(s, "perturb") for s in ctx.algo_seeds]}

    def update(self, step: Step, state):
        ev = step.evaluation if step.evaluation is not None else step.objective.evaluate(step.theta)
        step.evaluation = ev
        t = step.t
        gnorm = torch.stack([(g * g).flatten(1).sum(-1) for g in ev.grad]).sum(0).sqrt().cpu().double()
        loss = ev.loss.detach().cpu().double()
        since = t - state["t_pert"]
        if self.terminate:
            done = (since == state["T"]) & ~(loss - state["f_tilde"] <= -state["f_thres"])
            for i in torch.nonzero(done).flatten().tolist():
                step.stops.append(StopRequest(i, "terminated", state["x_tilde"][i]))
        perturb = (gnorm <= state["g_thres"]) & (since > state["T"])
        idx = torch.nonzero(perturb).flatten().tolist()
        if not idx:
            return state
        theta = [p.clone() for p in step.theta]
        sizes = [p[0].numel() for p in theta]
        for i in idx:
            r = float(state["radius"][i])
            xi = state["streams"][i].draw(lambda g, r=r: ball_sample(g, sum(sizes), r))
            state["x_tilde"][i] = tuple(p[i].detach().clone() for p in step.theta)
            state["f_tilde"][i] = loss[i]
            state["t_pert"][i] = t
            off = 0
            for p, n in zip(theta, sizes, strict=True):
                p[i] += xi[off:off + n].reshape(p[i].shape).to(p.dtype)
                off += n
            step.events.append((i, "perturbation", {"radius": r}))
        step.theta = tuple(theta)
        step.direction = step.objective.evaluate(step.theta).grad
        return state

    def select(self, state, keep):
        idx = keep.cpu()
        out = {k: state[k][idx] for k in ("radius", "g_thres", "T", "f_thres", "t_pert", "f_tilde")}
        li = idx.tolist()
        out["x_tilde"] = [state["x_tilde"][i] for i in li]
        out["streams"] = [state["streams"][i] for i in li]
        return out
