"""The built-in recipes, one per multi-stage algorithm of papers 001–004.

================================  ===============================================================  =====
recipe                            stages                                                           paper
================================  ===============================================================  =====
``prune_finetune``                train on loss + λR_β (the run's algorithm, regularizer, steps)    001
                                  → (a hook may certify each lane: 001's SOSP certificate)
                                  → prune every column with norm ≤ ``threshold`` (default 2√β)
                                  → fine-tune by GD on the unregularized loss
``restarts``                      003 Algorithm 1: GD from a rank-r₀ init of norm ρ₀; when the      003
                                  window test fires (every one-step error ratio of the last W
                                  steps < τ) restart from a fresh init with rank max(r₀ − Δ, r)
                                  and norm factor·ρ₀; ``mode = "literal"`` as printed (it never
                                  stops testing), ``"terminating"`` stops testing once r₀ = r
                                  (our extension, labelled as such)
``perturbed_then_plain``          IPGD (the run's algorithm, e.g. ``ipgd``) until it terminates      004
                                  or its budget ends → plain GD with the same step (IPGD+)
``early_stopping``                GD with a stopping rule: ``oracle`` keeps the iterate with the     002
                                  smallest ``metric`` (knows the truth); ``plateau`` (loss stalls
                                  over a window) and ``discrepancy`` (train error ≤ (1 + τ)·noise
                                  energy) do not see the truth
================================  ===============================================================  =====

Every recipe records its transformations as events (``prune`` with the kept columns, ``restart``
with the new rank and norm, ``early_stop`` with the rule and the chosen step).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch

from .._types import NonNegFloat, PosFloat, PosInt
from ..metrics import get_metric
from ..registry import register
from ..settings import at_replica
from ..stops import MetricCrossing, Plateau, StopRule, WindowRatio
from .base import RUN, Lane, Recipe
from .factory import setting_of


def prune_threshold(beta: float) -> float:
    """2√β: the column norm at or below which 001's pruning removes a column after training on
    L + λR_β (Algorithm 1; the one place this threshold is computed)."""
    return 2.0 * math.sqrt(beta)


def training_step(algorithm) -> dict[str, Any]:
    """The step settings of a built algorithm, ``{"eta", "grad_scale"}`` (a later stage's plain GD
    keeps the training step and convention)."""
    return {"eta": setting_of(algorithm, "eta"), "grad_scale": setting_of(algorithm, "grad_scale", 1.0)}


class PruneFinetune:
    """Train on L + λR_β → (``before_prune(ctx, lane)`` for each lane: a certificate, …) → prune
    columns with norm ≤ ``threshold`` (per lane; default :func:`prune_threshold` of the lane's β)
    → fine-tune on the unregularized loss (registered factory :func:`prune_finetune`)."""

    def __init__(self, threshold=None, finetune_steps=1000, finetune_eta=None, finetune_algorithm=None, *,
                 before_prune: Callable[[Recipe, Lane], None] | None = None, name: str = "prune_finetune"):
        self.threshold, self.finetune_steps, self.finetune_eta = threshold, finetune_steps, finetune_eta
        self.finetune_algorithm, self.before_prune, self.name = finetune_algorithm, before_prune, name

    def __call__(self, ctx: Recipe) -> None:
        reg = ctx.regularizer
        if getattr(reg, "name", None) != "group_lasso":
            raise ValueError(f"recipe {self.name!r} trains with the group-Lasso penalty: give "
                             "[regularizer] name = \"group_lasso\" (lam, beta)")
        ctx.stage()
        for ln in ctx.running():
            if self.before_prune is not None:
                self.before_prune(ctx, ln)
            thr = at_replica(self.threshold, ln.replica)
            ctx.prune_columns(ln, prune_threshold(at_replica(reg.beta, ln.replica)) if thr is None else thr)
        own = ctx.algorithm.name
        overrides = {} if self.finetune_eta is None else {"eta": self.finetune_eta}
        name = self.finetune_algorithm or own
        if name == "gd" and own != "gd":  # keep the training step and convention
            overrides = {**training_step(ctx.algorithm), **overrides}
        ctx.stage(steps=self.finetune_steps, regularizer=None, stops=RUN,
                  algorithm=(name, overrides) if (overrides or name != own) else None)


@register("recipe", "prune_finetune")
def prune_finetune(threshold: PosFloat | Sequence[PosFloat] | None = None, finetune_steps: PosInt = 1000,
                   finetune_eta: PosFloat | None = None, finetune_algorithm: str | None = None) -> PruneFinetune:
    """001: train with λR_β → prune columns with norm ≤ ``threshold`` (default 2√β) → fine-tune on the
    unregularized loss for ``finetune_steps`` (step ``finetune_eta``, default the training step) with
    ``finetune_algorithm`` (default the training algorithm; ``"gd"`` after perturbed training)."""
    return PruneFinetune(threshold, finetune_steps, finetune_eta, finetune_algorithm)


class Restarts:
    def __init__(self, window, tau, rank_step, factor, min_rank, mode, history):
        self.window, self.tau, self.rank_step, self.factor = window, tau, rank_step, factor
        self.min_rank, self.mode, self.history = min_rank, mode, history

    def __call__(self, ctx: Recipe) -> None:
        init = ctx.init
        if getattr(init, "name", None) != "low_rank":
            raise ValueError("recipe 'restarts' (003 Algorithm 1) restarts from init 'low_rank' (rank r₀, norm ρ₀); "
                             f"got init {getattr(init, 'name', init)!r}")
        K = ctx.steps
        rule = WindowRatio(self.window, self.tau, self.history)
        for ln in ctx.lanes:
            ln.settings.update(rank=at_replica(setting_of(init, "rank"), ln.replica),
                               norm=at_replica(setting_of(init, "norm"), ln.replica), restarts=0, testing=True)
        while ctx.running():
            lanes = ctx.running()
            testing = [ln for ln in lanes if ln.settings["testing"]]
            quiet = [ln for ln in lanes if not ln.settings["testing"]]
            budget = {ln.replica: K - ln.step for ln in lanes}
            for group, stops in ((testing, [rule]), (quiet, [])):
                if group:
                    ctx.stage(lanes=group, budget=budget, stops=stops)
            for ln in lanes:
                if ln.status != "stopped:window_ratio" or ln.step >= K:
                    ln.done = True
                    continue
                s = ln.settings
                s["rank"] = max(s["rank"] - self.rank_step, self.min_rank)
                s["norm"] = s["norm"] * self.factor
                s["restarts"] += 1
                ctx.restart(ln, s["restarts"], rank=s["rank"], norm=s["norm"])
                if self.mode == "terminating" and s["rank"] <= self.min_rank:
                    s["testing"] = False
                    ln.carry = None


@register("recipe", "restarts")
def restarts(window: PosInt = 100, tau: PosFloat = 0.998, rank_step: PosInt = 3, factor: PosFloat = 0.5,
             min_rank: PosInt = 2, mode: Literal["literal", "terminating"] = "literal",
             history: Literal["literal", "reset"] = "literal") -> Restarts:
    """003 Algorithm 1 (adaptive restarts) within the run's step budget K = ``steps``: window W,
    threshold τ, Δ_rank = ``rank_step``, ``factor`` (norm multiplier), r = ``min_rank``; the first
    init is the run's ``low_rank`` (r₀ = rank, ρ₀ = norm). ``mode="terminating"`` is our extension."""
    if not 0 < factor < 1:
        raise ValueError(f"recipe.factor: got {factor}; accepted: 0 < factor < 1")
    return Restarts(window, tau, rank_step, factor, min_rank, mode, history)


class PerturbedThenPlain:
    def __init__(self, plain_steps):
        self.plain_steps = plain_steps

    def __call__(self, ctx: Recipe) -> None:
        ctx.stage()
        ctx.stage(steps=self.plain_steps, stops=RUN, algorithm=("gd", training_step(ctx.algorithm)))


@register("recipe", "perturbed_then_plain")
def perturbed_then_plain(plain_steps: PosInt = 1000) -> PerturbedThenPlain:
    """004 IPGD+: the run's (perturbed) algorithm, then ``plain_steps`` of GD with the same step."""
    return PerturbedThenPlain(plain_steps)


class EarlyStopping:
    def __init__(self, rule, metric, window, rtol, noise_energy, tau):
        self.rule, self.metric, self.window, self.rtol = rule, metric, window, rtol
        self.noise_energy, self.tau = noise_energy, tau

    def __call__(self, ctx: Recipe) -> None:
        if self.rule == "oracle":
            self._oracle(ctx)
            return
        if self.rule == "plateau":
            stop = Plateau(self.window, self.rtol)
        else:
            if self.noise_energy is None:
                raise ValueError("recipe.noise_energy: the discrepancy rule needs E‖E‖² (known or estimated)")
            stop = MetricCrossing("train_error_sq", below=(1.0 + self.tau) * self.noise_energy)
        ctx.stage(stops=[stop])
        for ln in ctx.lanes:
            hit = ln.status.startswith("stopped:")
            ctx.event(ln, "early_stop", rule=self.rule, stopped=hit)

    def _oracle(self, ctx: Recipe) -> None:
        name = self.metric
        if name not in ctx.metrics:
            raise ValueError(f"recipe.metric: the oracle rule reads metric {name!r}; add it to the run's metrics")
        ctx.stage(stops=[_BestIterate(get_metric(name))])
        for ln in ctx.lanes:
            st = (ln.carry or {}).get("best_iterate")
            if st is None:
                continue
            step, value = int(st["step"][0]), float(st["value"][0])
            ln.theta = tuple(p[0] for p in st["theta"])
            ctx.event(ln, "early_stop", rule="oracle", metric=name, chosen_step=step, value=value)
            ln.step = step


class _BestIterate(StopRule):
    """A stop rule that never stops: per replica it keeps the step, value and θ with the smallest
    ``metric`` (checked every step, on the device: no host synchronization). Its state travels with
    each replica to the end of the stage (the run's per-replica ``carry``)."""

    name = "best_iterate"

    def __init__(self, metric):
        self.metric = metric

    def init(self, ctx):
        return None

    def check(self, state, t, snap):
        v = self.metric(snap).detach()
        theta = tuple(p.detach() for p in snap.theta)
        if state is None:
            return {"value": v.clone(), "step": torch.full_like(v, float(t)), "theta": tuple(p.clone() for p in theta)}, None
        better = v < state["value"]
        sel = [better.reshape(-1, *([1] * (p.ndim - 1))) for p in theta]
        return {"value": torch.where(better, v, state["value"]),
                "step": torch.where(better, torch.full_like(v, float(t)), state["step"]),
                "theta": tuple(torch.where(b, p, q) for b, p, q in zip(sel, theta, state["theta"], strict=True))}, None

    def select(self, state, keep):
        if state is None:
            return None
        return {"value": state["value"][keep], "step": state["step"][keep],
                "theta": tuple(p[keep] for p in state["theta"])}


@register("recipe", "early_stopping")
def early_stopping(rule: Literal["oracle", "plateau", "discrepancy"] = "oracle", metric: str = "test_error",
                   window: PosInt = 50, rtol: NonNegFloat = 1e-4, noise_energy: PosFloat | None = None,
                   tau: NonNegFloat = 0.0) -> EarlyStopping:
    """002: GD stopped by ``rule`` (``oracle``: the iterate minimizing ``metric``, read every step;
    ``plateau``: the loss fell by ≤ ``rtol`` over ``window`` steps; ``discrepancy``: ‖𝒜(X) − y‖² ≤
    (1 + τ)·``noise_energy``). An ``early_stop`` event records the rule and the chosen step."""
    return EarlyStopping(rule, metric, window, rtol, noise_energy, tau)
