"""``run``: the one loop every algorithm shares.

Per step t = 0, 1, …, T−1 it asks the algorithm for θ_{t+1} (the algorithm returns the evaluation
at θ_t it computed on the way), then

1. marks replicas **diverged** whose loss at θ_t is non-finite or exceeds ``diverge_factor`` × the
   initial loss (algorithms that do not evaluate the loss every step, like SGD: whose θ_{t+1} is
   non-finite); their last finite θ and metrics are kept;
2. marks replicas **converged** whose relative train error at θ_t is ≤ ``target_train_error``, and
   applies custom stop rules;
3. records the metrics at θ_t on logged steps (:class:`~overparam.schedule.LogSchedule`), on event
   steps and for every replica that stops;
4. drops stopped replicas from the batch, so the rest continue as one batched computation.

On a step that is not logged and where nothing stops, all of this is one fused device-side check
and a single host synchronization.

R replicas (different init scales, init seeds, algorithm seeds or step sizes) share the problem's
operator: every operator product is one matrix–matrix product for all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from .algorithms.base import Algorithm, RunContext
from .backend import BackendError, dtype_name, per_replica, resolve_device, resolve_dtype
from .init import Init
from .metrics import DEFAULT_METRICS, Metric, Snapshot, resolve
from .objective import Evaluation, Objective, Regularizer
from .params import Parameterization, Params
from .problems import Problem
from .result import Result, Trace
from .schedule import LogSchedule


class StopRule(Protocol):
    """A custom stop: ``rule(snapshot) -> bool tensor (R,)``, checked on logged steps; ``name`` labels
    the status ``"stopped:<name>"``."""

    name: str

    def __call__(self, snap: Snapshot) -> torch.Tensor: ...


def _all_finite(theta: Params) -> torch.Tensor:
    ok = None
    for p in theta:
        f = torch.isfinite(p).flatten(1).all(-1)
        ok = f if ok is None else ok & f
    return ok


def _replica_count(init: Init | None, theta0: Params | None, init_seed, algo_seed, algorithm: Algorithm) -> int:
    counts = {}
    if theta0 is not None:
        counts["theta0"] = theta0[0].shape[0]
    elif init is not None:
        counts["init"] = init.replicas
    for name, v in (("init_seed", init_seed), ("algo_seed", algo_seed)):
        if isinstance(v, (list, tuple, np.ndarray)):
            counts[name] = len(v)
    counts["algorithm"] = algorithm.replicas
    multi = {k: v for k, v in counts.items() if v != 1}
    if len(set(multi.values())) > 1:
        raise BackendError(f"replica counts disagree: {multi}; per-replica settings must all have one length")
    return next(iter(multi.values()), 1)


def run(
    problem: Problem,
    param: Parameterization,
    algorithm: Algorithm,
    *,
    init: Init | None = None,
    steps: int,
    metrics: Sequence[str | Metric] = DEFAULT_METRICS,
    log: LogSchedule | None = None,
    init_seed: int | Sequence[int] = 0,
    algo_seed: int | Sequence[int] = 0,
    target_train_error: float | None = None,
    diverge_factor: float = 1e8,
    stops: Sequence[StopRule] = (),
    regularizer: Regularizer | None = None,
    theta0: Params | None = None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run ``algorithm`` on ``problem`` under ``param`` from ``init`` (or ``theta0``) for ``steps`` steps.

    Args:
        init: an :mod:`overparam.init` initialization; per-replica settings give R replicas.
        steps: the maximum number of updates T.
        metrics: metric names (see :mod:`overparam.metrics`) recorded at logged steps.
        log: which steps to record (default: 200 log-spaced points).
        init_seed, algo_seed: one seed, or one per replica.
        target_train_error: stop a replica once its relative train error is at most this.
        diverge_factor: a replica diverges when its loss exceeds this × its initial loss.
        stops: extra stop rules checked on logged steps.
        regularizer: an explicit penalty added to the loss.
        theta0: explicit initial parameters ``(R, …)`` instead of ``init`` (multi-stage recipes).
        device, dtype: placement (default: the problem's dtype, CPU).
        progress: called as ``progress(t, steps)`` about a hundred times per run.

    Returns:
        A :class:`~overparam.result.Result`.
    """
    if steps < 0:
        raise BackendError(f"steps: got {steps}; accepted: integers >= 0")
    if init is None and theta0 is None:
        raise BackendError("run: give init= (an overparam.init initialization) or theta0=")
    dev = resolve_device(device) if device is not None else problem.device
    dt = resolve_dtype(dtype) if dtype is not None else problem.dtype
    problem = problem.to(dev, dt)
    objective = Objective(problem, param, regularizer)
    metric_objs = resolve(metrics)
    for mo in metric_objs:
        mo.check(objective)
    schedule = set((log or LogSchedule()).steps(steps).tolist())

    R = _replica_count(init, theta0, init_seed, algo_seed, algorithm)
    init_seeds = [int(s) for s in per_replica(init_seed, R)]
    algo_seeds = [int(s) for s in per_replica(algo_seed, R)]
    if theta0 is not None:
        theta = tuple(p.to(device=dev, dtype=dt) for p in theta0)
        replica_info = [{} for _ in range(R)]
    else:
        theta = init(param, problem.shape, seeds=init_seeds, device=dev, dtype=dt)
        replica_info = [{f"init.{k}": v for k, v in s.items()} for s in init.replica_settings(R)]
    eta = getattr(algorithm, "eta", None)
    for r in range(R):
        replica_info[r].update(init_seed=init_seeds[r], algo_seed=algo_seeds[r])
        if isinstance(eta, (list, tuple)):
            replica_info[r]["algorithm.eta"] = eta[r]

    ctx = RunContext(R=R, algo_seeds=algo_seeds, device=dev, dtype=dt, steps=steps)
    state = algorithm.init_state(objective, theta, ctx)

    rec = _Recorder(metric_objs)
    active = torch.arange(R)
    status = ["completed"] * R
    stop_step = [steps] * R
    final_theta: list[Params | None] = [None] * R
    events: list[dict[str, Any]] = []
    ref_loss: torch.Tensor | None = None
    y_norm_sq = (problem.y * problem.y).sum()
    progress_every = max(1, steps // 100)
    t0 = time.perf_counter()

    def finish(local: list[int], theta_now: Params, theta_prev: Params, why: str, t: int) -> None:
        """Stop active replicas ``local`` at step t, keeping θ_t if finite, else the previous θ."""
        for i in local:
            g = int(active[i])
            status[g] = why
            stop_step[g] = t
            keep = theta_now if all(bool(torch.isfinite(p[i]).all()) for p in theta_now) else theta_prev
            final_theta[g] = tuple(p[i].detach().clone() for p in keep)
            events.append({"step": t, "replica": g, "kind": why})

    def health(ev: Evaluation) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(non-finite loss, diverged, reached target) masks for the active replicas, on device."""
        nonlocal ref_loss
        loss = ev.loss.detach()
        if ref_loss is None:
            ref_loss = torch.full((R,), float("nan"), dtype=loss.dtype, device=loss.device)
            ref_loss[active.to(loss.device)] = loss.abs().clamp_min(torch.finfo(loss.dtype).tiny)
        nonfinite = ~torch.isfinite(loss)
        diverged = ~(loss <= diverge_factor * ref_loss[active.to(loss.device)])  # NaN compares False
        reached = None
        if target_train_error is not None and ev.residual_sq is not None:
            reached = ((ev.residual_sq / y_norm_sq).sqrt() <= target_train_error) & ~diverged
        return nonfinite, diverged, reached

    prev = theta
    t = 0
    for t in range(steps + 1):
        if active.numel() == 0:
            break
        if t == steps:
            snap = Snapshot(t, theta, objective, None, algorithm.extras_at(objective, theta, state))
            nonfinite, diverged, _ = health(snap.evaluation)
            if bool(diverged.any()):
                bad = torch.nonzero(diverged.cpu()).flatten().tolist()
                finish(bad, theta, prev, "diverged", t)
            ok = ~nonfinite.cpu()
            if bool(ok.any()):
                rec.record(snap, active, ok)
            for i, g in enumerate(active.tolist()):
                if not bool(diverged[i]):
                    final_theta[g] = tuple(p[i].detach().clone() for p in theta)
            break

        out, state = algorithm.step(objective, theta, state, t)
        ev: Evaluation | None = out.evaluation
        logged = t in schedule or bool(out.events)
        snap = Snapshot(t, theta, objective, ev, out.extras)
        if ev is None and (logged or t == 0):
            ev = snap.evaluation  # SGD: the full loss only on logged steps
        if ev is not None:
            nonfinite, diverged, reached = health(ev)
        else:  # SGD between logged steps: a non-finite θ_{t+1} means divergence at step t
            nonfinite = torch.zeros_like(active, dtype=torch.bool, device=theta[0].device)
            diverged = ~_all_finite(out.theta)
            reached = None
        flags = diverged if reached is None else diverged | reached
        if not logged and not stops and not bool(flags.any()):  # the common case: one host sync
            prev, theta = theta, out.theta
            if progress is not None and t % progress_every == 0:
                progress(t, steps)
            continue

        nonfinite, diverged = nonfinite.cpu(), diverged.cpu()
        stop_now = torch.zeros(active.numel(), dtype=torch.bool) if reached is None else reached.cpu()
        stop_reason = ["converged"] * active.numel()
        if logged and stops:
            for rule in stops:
                hit = rule(snap).bool().cpu() & ~diverged & ~stop_now
                for i in torch.nonzero(hit).flatten().tolist():
                    stop_reason[i] = f"stopped:{rule.name}"
                stop_now |= hit

        # record θ_t: all active replicas on logged steps, and every replica that stops here
        want = (torch.ones_like(diverged) if logged else torch.zeros_like(diverged)) | stop_now | diverged
        want &= ~nonfinite
        if bool(want.any()):
            rec.record(snap, active, want)
        for i, kind in out.events:
            events.append({"step": t, "replica": int(active[i]), "kind": kind})
        if bool(diverged.any()):
            finish(torch.nonzero(diverged).flatten().tolist(), theta, prev, "diverged", t)
        for i in torch.nonzero(stop_now).flatten().tolist():
            finish([i], theta, prev, stop_reason[i], t)
        done = diverged | stop_now
        prev, theta = theta, out.theta
        if bool(done.any()):
            keep = torch.nonzero(~done).flatten()
            keep_dev = keep.to(theta[0].device)
            theta = tuple(p[keep_dev] for p in theta)
            prev = tuple(p[keep_dev] for p in prev)
            state = algorithm.select_state(state, keep_dev)
            active = active[keep]
        if progress is not None and t % progress_every == 0:
            progress(t, steps)
    if progress is not None:
        progress(steps, steps)

    wall = time.perf_counter() - t0
    theta_final = tuple(torch.stack([ft[j] for ft in final_theta]) for j in range(len(final_theta[0])))
    info = {
        "problem": problem.info,
        "param": param.describe(),
        "algorithm": algorithm.describe(),
        "init": init.describe() if init is not None else "theta0",
        "steps": steps,
        "device": str(dev),
        "dtype": dtype_name(dt),
        "threads": torch.get_num_threads(),
    }
    return Result(trace=rec.trace(), theta=theta_final, status=status, stop_step=stop_step, events=events,
                  replicas=replica_info, wall_time=wall, info=info)


class _Recorder:
    """Accumulates metric rows for (step, replica) and assembles the columnar trace."""

    def __init__(self, metrics: list[Metric]):
        self.metrics = metrics
        self.steps: list[np.ndarray] = []
        self.replicas: list[np.ndarray] = []
        self.values: dict[str, list[np.ndarray]] = {m.name: [] for m in metrics}

    def record(self, snap: Snapshot, active: torch.Tensor, want: torch.Tensor) -> None:
        sel = torch.nonzero(want).flatten()
        self.steps.append(np.full(sel.numel(), snap.t, dtype=np.int64))
        self.replicas.append(active[sel].numpy().astype(np.int64))
        for m in self.metrics:
            v = m(snap).detach()
            self.values[m.name].append(v[sel.to(v.device)].cpu().numpy())

    def trace(self) -> Trace:
        if not self.steps:
            cols = {"step": np.zeros(0, np.int64), "replica": np.zeros(0, np.int64)}
            cols.update({k: np.zeros(0) for k in self.values})
            return Trace(cols)
        step = np.concatenate(self.steps)
        rep = np.concatenate(self.replicas)
        order = np.lexsort((step, rep))
        cols = {"step": step[order], "replica": rep[order]}
        for k, vs in self.values.items():
            cols[k] = np.concatenate(vs)[order]
        vector = tuple(m.name for m in self.metrics if m.vector)
        return Trace(cols, vector)
