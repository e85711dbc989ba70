"""Greedy low-rank learning (GLRL): Li, Luo, Lyu, ICLR 2021, "Towards resolving the implicit bias of
gradient descent for matrix factorization: greedy low-rank learning", Algorithm 1, as a recipe.

On a symmetric problem with f(X) = L(X) (the problem's loss, e.g. 000's (1/(2m)) Σ_i (⟨A_i, X⟩ − y_i)²)
and X = UUᵀ, U ∈ ℝ^{d×k}, GLRL grows the rank one column at a time::

    U_0 = [] (d × 0), X_0 = 0
    for k = 1, 2, …:
        M_{k−1} = sym ∇f(X_{k−1})          (the symmetric gradient in X-space, (G + Gᵀ)/2;
                                             sensing: (1/m) Σ_i (⟨A_i, X⟩ − y_i) A_i)
        λ_k, v_k = top eigenpair of −M_{k−1}   (‖v_k‖ = 1)
        stop if  relative train error ‖𝒜(X_{k−1}) − y‖/‖y‖ ≤ target,  or λ_k ≤ eig_tol,  or k − 1 = max_rank
        U_k(0) = [U_{k−1}, ε v_k]           (one new column of norm ε)
        U_k    = GD on f(UUᵀ) from U_k(0) "to convergence" (the phase's stop rule below)
        X_k    = U_k U_kᵀ                    (the rank-k GLRL iterate)

Normalization: the paper appends √ε·u_k (so X gains ε u_k u_kᵀ) and runs gradient flow; here the
column is ``eps``·v_k (X gains eps² v_kv_kᵀ: the paper's ε is ``eps``²) and each phase runs the
run's own algorithm (GD, U ← U − η s ∇_U f; with 000's convention ``grad_scale = ½`` on the 1/(2m) loss
this is U ← U − η M U, 000 Eq. 5). v_k is the steepest escape direction from the saddle X_{k−1}:
−⟨M, vvᵀ⟩ = λ_k is the largest first-order decrease of f along any rank-one PSD direction.

Phase end ("to convergence", :class:`PhaseEnd`): the phase's GD has escaped the saddle (its loss fell
below (1 − ``escape``) × the loss at the phase's start; right after the new column is appended the
gradient is itself O(ε), so a plain gradient test would stop at once) and then either ‖∇_U f‖_F ≤
``tol`` (``rule = "grad_norm"``) or the relative loss decrease over the last ``every`` steps is ≤
``tol`` (``rule = "loss_change"``); or the phase's budget (``steps`` of the run, per phase) is spent.
A run's ``target_train_error`` also ends the phase (and GLRL: status ``converged``).

Records: an event ``glrl_phase`` per phase (rank k, λ_k, the phase's first and last global steps,
loss and relative train error at its end, how it ended, and the factor ``U`` of X_k as nested
lists) and one ``glrl_stop`` per replica with the reason (``target``, ``no_descent``, ``max_rank``,
``diverged``); :func:`phase_iterates` reads X_1, X_2, … back from a result or stored events.
Replicas may differ in ``eps`` (one value per replica).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from .._types import NonNegFloat, PosFloat, PosInt
from ..errors import SettingError
from ..objective import Objective
from ..params import Direct
from ..registry import register
from ..settings import at_replica
from ..stops import StopRule
from .base import Lane, Recipe


class PhaseEnd(StopRule):
    """A GLRL phase has converged (module docstring): escaped, then the gradient norm (or the relative
    loss change over ``every`` steps) is at most ``tol``; checked every ``every`` steps."""

    name = "glrl_phase"

    def __init__(self, rule: str, tol: float, escape: float, every: int):
        self.rule, self.tol, self.escape, self.every = rule, tol, escape, every

    def init(self, ctx):
        return None  # a fresh phase: the first check stores the phase's starting loss

    def check(self, state, t, snap):
        loss = snap.evaluation.loss.detach()
        if state is None:
            return {"start": loss.clone(), "prev": loss.clone()}, None
        if t % self.every:
            return state, None
        escaped = loss <= (1.0 - self.escape) * state["start"]
        if self.rule == "grad_norm":
            ev = snap.evaluation
            if ev.grad is None:
                ev = snap.objective.evaluate(snap.theta)
            g = torch.stack([(p * p).flatten(1).sum(-1) for p in ev.grad]).sum(0).sqrt()
            small = g <= self.tol
        else:
            small = (state["prev"] - loss) <= self.tol * state["prev"].abs()
        return {"start": state["start"], "prev": loss.clone()}, escaped & small

    def select(self, state, keep):
        return None if state is None else {k: v[keep] for k, v in state.items()}


def x_gradient(problem, X: torch.Tensor) -> torch.Tensor:
    """sym ∇f(X) = (G + Gᵀ)/2 for X of shape (d, d) (or (R, d, d)): the problem's loss gradient in
    X-space (sensing with the 1/(2m) loss: (1/m) Σ_i (⟨A_i, X⟩ − y_i) A_i)."""
    batch = X.ndim == 2
    Xb = X[None] if batch else X
    G = Objective(problem, Direct()).evaluate((Xb,)).G.dense()
    G = 0.5 * (G + G.mT)
    return G[0] if batch else G


def top_descent_direction(problem, U: torch.Tensor) -> tuple[float, torch.Tensor]:
    """(λ, v): the largest eigenvalue of −sym ∇f(UUᵀ) and its unit eigenvector (``torch.linalg.eigh``)."""
    M = x_gradient(problem, U @ U.mT)
    evals, evecs = torch.linalg.eigh(-M)
    return float(evals[-1]), evecs[:, -1]


def _fit(problem, U: torch.Tensor) -> tuple[float, float]:
    """(f(UUᵀ), relative train error ‖𝒜(UUᵀ) − y‖/‖y‖) for one factor U (d × k)."""
    ev = Objective(problem, Direct()).evaluate(((U @ U.mT)[None],), grad=False)
    return float(ev.loss[0]), float((ev.fit_sq[0] / (problem.y * problem.y).sum()).sqrt())


class GreedyLowRank:
    """The GLRL recipe (module docstring; registered factory :func:`glrl`)."""

    def __init__(self, eps, rule, tol, escape, every, max_rank, eig_tol, target):
        self.eps, self.rule, self.tol, self.escape, self.every = eps, rule, tol, escape, every
        self.max_rank, self.eig_tol, self.target = max_rank, eig_tol, target

    def __call__(self, ctx: Recipe) -> None:
        if getattr(ctx.param, "name", None) != "symmetric":
            raise SettingError(f"recipe 'glrl' grows X = UUᵀ: param must be 'symmetric'; got "
                               f"{getattr(ctx.param, 'name', ctx.param)!r}")
        shape = tuple(ctx.problem.shape)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise SettingError(f"recipe 'glrl' needs a square matrix problem; got shape {shape}")
        d = shape[0]
        max_rank = d if self.max_rank is None else self.max_rank
        if max_rank > d:
            raise SettingError(f"recipe.max_rank = {max_rank}: accepted: 1 ≤ max_rank ≤ d = {d}")
        target = self.target if self.target is not None else ctx.target_train_error
        for ln in ctx.lanes:
            ln.theta = (torch.zeros(d, 0, dtype=ctx.problem.dtype, device=ctx.problem.device),)
            ln.settings["rank"] = 0
        while ctx.running():
            grow: list[Lane] = []
            for ln in ctx.running():
                (U,) = ln.theta
                reason = None
                if ln.status == "diverged":
                    reason = "diverged"
                elif ln.status == "converged" or (target is not None and ln.settings["rank"] > 0
                                                  and _fit(ctx.problem, U)[1] <= target):
                    reason = "target"
                elif ln.settings["rank"] >= max_rank:
                    reason = "max_rank"
                if reason is None:
                    lam, v = top_descent_direction(ctx.problem, U)
                    if lam <= self.eig_tol:
                        reason = "no_descent"
                if reason is not None:
                    ln.done = True
                    ctx.event(ln, "glrl_stop", reason=reason, rank=ln.settings["rank"])
                    continue
                eps = float(at_replica(self.eps, ln.replica))
                ln.theta = (torch.cat([U, (eps * v).reshape(d, 1).to(U)], dim=1),)
                ln.settings["rank"] += 1
                ln.settings["lambda"] = lam
                ln.settings["start"] = ln.step
                ln.carry = None  # a fresh phase-end state for every phase
                ln.status = "running"
                grow.append(ln)
            if not grow:
                break
            ctx.stage(lanes=grow, stops=[PhaseEnd(self.rule, self.tol, self.escape, self.every)])
            for ln in grow:
                (U,) = ln.theta
                loss, err = _fit(ctx.problem, U)
                ctx.event(ln, "glrl_phase", rank=ln.settings["rank"], eigenvalue=ln.settings["lambda"],
                          start=ln.settings["start"], end=ln.step, loss=loss, train_error=err,
                          ended=ln.status, U=U.detach().cpu().double().tolist())
                if ln.status == "converged":
                    ln.done = True
                    ctx.event(ln, "glrl_stop", reason="target", rank=ln.settings["rank"])
                elif ln.status == "diverged":
                    ln.done = True
                    ctx.event(ln, "glrl_stop", reason="diverged", rank=ln.settings["rank"])


@register("recipe", "glrl")
def glrl(eps: PosFloat | Sequence[PosFloat] = 1e-6, rule: Literal["grad_norm", "loss_change"] = "grad_norm",
         tol: PosFloat = 1e-8, escape: NonNegFloat = 1e-3, every: PosInt = 10, max_rank: PosInt | None = None,
         eig_tol: NonNegFloat = 0.0, target: PosFloat | None = None) -> GreedyLowRank:
    """Greedy low-rank learning (Li, Luo, Lyu 2021, Algorithm 1; module :mod:`overparam.recipes.glrl`):
    from U = 0, append ``eps``·v (v the top eigenvector of −sym ∇f(UUᵀ)) and train by the run's
    algorithm until the phase converges (``rule``: ‖∇_U f‖_F ≤ ``tol`` or relative loss change over
    ``every`` steps ≤ ``tol``, after the loss fell by the fraction ``escape``) or the run's ``steps``
    (per phase) are spent; repeat until the relative train error ≤ ``target`` (default the run's
    ``target_train_error``), the top eigenvalue ≤ ``eig_tol`` or the rank is ``max_rank`` (default d)."""
    if not escape < 1:
        raise SettingError(f"recipe.escape = {escape}: accepted: 0 ≤ escape < 1")
    return GreedyLowRank(eps, rule, tol, escape, every, max_rank, eig_tol, target)


def phase_iterates(events: Sequence[dict[str, Any]], replica: int = 0) -> list[np.ndarray]:
    """X_1, X_2, …: the GLRL iterates at the end of each phase of ``replica``, from a result's (or a
    stored run's) ``glrl_phase`` events, in rank order."""
    phases = sorted((ev for ev in events if ev.get("kind") == "glrl_phase" and int(ev.get("replica", 0)) == replica),
                    key=lambda ev: int(ev["rank"]))
    out = []
    for ev in phases:
        U = np.asarray(ev["U"], dtype=float)
        out.append(U @ U.T)
    return out


__all__ = ["GreedyLowRank", "PhaseEnd", "glrl", "phase_iterates", "top_descent_direction", "x_gradient"]
