"""Stochastic gradient descent on mini-batches of measurements.

θ_{t+1} = θ_t − η s ∇f_B(θ_t), where f_B is the data loss on a batch B of b measurement indices,
rescaled by m/b so that E ∇f_B = ∇f (the batch loss for normalization 1/(2m) is
1/(2b) Σ_{i∈B}(⟨A_i, X⟩ − y_i)²). Batches are drawn uniformly with replacement (000 Fig. 5:
batch 1 with replacement) or as shuffled epochs without replacement, each replica from its own
stream ``derive_seed(algo_seed, "sgd")``.

SGD does not evaluate the full objective; the run loop computes it at logged steps only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._types import PosFloat, PosInt
from ..backend import generator, replica_count
from ..registry import register
from .base import Algorithm, RunContext, StepOut, per_replica_tensor, scale_like

_CHUNK = 1024  # steps of indices drawn at once per replica


@register("algorithm", "sgd")
class SGD(Algorithm):
    """Mini-batch SGD, θ ← θ − η s ∇f_B(θ); ``replacement=True`` draws each batch i.i.d. uniform."""

    name = "sgd"

    def __init__(self, eta: PosFloat | Sequence[PosFloat], batch_size: PosInt = 1, replacement: bool = True,
                 grad_scale: PosFloat = 1.0):
        self.eta = eta
        self.batch_size = batch_size
        self.replacement = replacement
        self.grad_scale = grad_scale

    @property
    def replicas(self) -> int:
        return replica_count(eta=self.eta)

    def init_state(self, objective, theta, ctx: RunContext):
        m = objective.problem.m
        if self.batch_size > m:
            raise ValueError(f"algorithm.batch_size: got {self.batch_size}; accepted: 1 <= batch_size <= m = {m}")
        step = per_replica_tensor(self.eta, ctx.R, device=ctx.device, dtype=ctx.dtype) * self.grad_scale
        gens = [generator(s, "sgd") for s in ctx.algo_seeds]
        return {"step": step, "gens": gens, "buf": [None] * ctx.R, "pos": [0] * ctx.R, "m": m, "device": ctx.device}

    def _draw(self, g: torch.Generator, m: int) -> torch.Tensor:
        b = self.batch_size
        if self.replacement:
            return torch.randint(0, m, (_CHUNK, b), generator=g)
        per_epoch = m // b
        n_epochs = -(-_CHUNK // per_epoch)
        perms = [torch.randperm(m, generator=g)[: per_epoch * b].reshape(per_epoch, b) for _ in range(n_epochs)]
        return torch.cat(perms)[:_CHUNK]

    def _batch(self, state) -> torch.Tensor:
        rows = []
        for i, g in enumerate(state["gens"]):
            if state["buf"][i] is None or state["pos"][i] >= state["buf"][i].shape[0]:
                state["buf"][i] = self._draw(g, state["m"]).to(state["device"])  # one transfer per chunk
                state["pos"][i] = 0
            rows.append(state["buf"][i][state["pos"][i]])
            state["pos"][i] += 1
        return torch.stack(rows)

    def step(self, objective, theta, state, t):
        idx = self._batch(state)
        ev = objective.evaluate(theta, rows=idx)
        step = state["step"]
        new = tuple(p - scale_like(step, p) * g for p, g in zip(theta, ev.grad, strict=True))
        return StepOut(new, None), state

    def describe(self):
        return f"sgd(eta={self.eta}, batch_size={self.batch_size}, replacement={self.replacement})"
