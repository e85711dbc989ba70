"""``run``: the one loop every algorithm shares.

Per step t = 0, 1, …, T−1 it asks the algorithm for θ_{t+1} (the algorithm returns the evaluation
at θ_t it computed on the way), then

1. marks replicas **diverged** whose loss at θ_t is non-finite or exceeds ``diverge_factor`` × the
   initial loss (algorithms that do not evaluate the loss every step, like SGD: whose θ_{t+1} is
   non-finite); their last finite θ and metrics are kept;
2. marks replicas **converged** whose relative train error (the loss's fit, √(fit/‖y‖²)) at θ_t is
   ≤ ``target_train_error``, applies the stop rules (:mod:`overparam.stops`), and honours the
   algorithm's own termination (IPGD returns its pre-perturbation point);
3. records the metrics at θ_t on logged steps (:class:`~overparam.schedule.LogSchedule`), on event
   steps and for every replica that stops, then advances the stateful diagnostics;
4. drops stopped replicas from the batch, so the rest continue as one batched computation.

At t = T no step is taken: θ_T is checked for divergence and recorded. On a step that is not
logged and where nothing stops, all of this is one fused device-side check and a single host
synchronization.

R replicas (different init scales, init seeds, algorithm seeds or any numeric setting) share the
problem's operator: every operator product is one matrix–matrix product for all of them. Steps are
counted from ``step_offset`` (a recipe's later stages continue the count of the earlier ones).
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import math
import sys as _sys
import time
import types as _types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from .algorithms.base import Algorithm, Composed, RunContext, StepOut
from .backend import BackendError, dtype_name, preserved_threads, resolve_device, resolve_dtype
from .engines import BATCH_METRICS, MAX_RECORDS, next_boundary, select_engine
from .errors import OverparamError
from .init import Init
from .lanes import replica_lanes
from .metrics import DEFAULT_METRICS, Metric, Snapshot, resolve
from .objective import Evaluation, Objective
from .params import Parameterization, Params
from .problems import Problem
from .recording import Diagnostics, Recorder, Replicas, Stops
from .result import Result
from .schedule import LogSchedule, UnionSchedule
from .settings import per_replica, replica_count
from .snapshot import Checkpoint, RunSnapshot, SnapshotError, digest, strip_static, with_static
from .stops import StopRule


class _Health:
    """Divergence and target checks on device: (non-finite, diverged, reached) masks.

    A replica diverges at θ_t when not loss_t ≤ ``diverge_factor`` × ref (ref: its initial loss,
    clamped to the smallest normal number; NaN compares False); it reaches the target when
    √(fit_sq/‖y‖²) ≤ ``target``. The bound ``diverge_factor`` × ref of the active replicas is
    computed once per active set (:meth:`bound`), and :meth:`quiet` answers the common step's
    question (nothing diverged, nothing reached, no stop rule hit) with one host synchronization."""

    def __init__(self, R: int, diverge_factor: float, target: float | None, y: torch.Tensor):
        self.R, self.factor, self.target = R, diverge_factor, target
        self.y_norm_sq = (y * y).sum()
        self.ref: torch.Tensor | None = None
        self._bound: tuple[torch.Tensor, torch.Tensor, torch.device, torch.Tensor] | None = None

    def bound(self, active: torch.Tensor, device: torch.device) -> torch.Tensor:
        """``diverge_factor`` × ref of the replicas ``active`` (on ``device``): the same product as
        computed every step, kept while the active set and the reference stay the same objects."""
        b = self._bound
        if b is None or b[0] is not active or b[1] is not self.ref or b[2] != device:
            b = (active, self.ref, device, self.factor * self.ref[active.to(device)])
            self._bound = b
        return b[3]

    def quiet(self, ev: Evaluation, active: torch.Tensor, hits: torch.Tensor | None) -> bool:
        """Whether no active replica diverged, reached the target or was hit by a stop rule at this
        evaluation (the reference loss is set): ``all(loss ≤ bound ∧ ¬reached ∧ ¬hits)``, which is
        ``not any(diverged | reached | hits)`` of :meth:`__call__`'s masks (reached ∧ ¬diverged
        or'ed with diverged is reached's condition or'ed with diverged)."""
        loss = ev.loss
        ok = loss <= self.bound(active, loss.device)
        if self.target is not None:
            ok &= ~((ev.fit_sq / self.y_norm_sq).sqrt() <= self.target)
        if hits is not None:
            ok &= ~hits
        return bool(ok.all())

    def __call__(self, ev: Evaluation | None, out: StepOut | None, active: torch.Tensor):
        if ev is None:  # SGD between logged steps: a non-finite θ_{t+1} means divergence at step t
            ok = None
            for p in out.theta:
                f = torch.isfinite(p).flatten(1).all(-1)
                ok = f if ok is None else ok & f
            return torch.zeros_like(ok), ~ok, None
        loss = ev.loss.detach()
        if self.ref is None:
            self.ref = torch.full((self.R,), float("nan"), dtype=loss.dtype, device=loss.device)
            self.ref[active.to(loss.device)] = loss.abs().clamp_min(torch.finfo(loss.dtype).tiny)
        nonfinite = ~torch.isfinite(loss)
        diverged = ~(loss <= self.bound(active, loss.device))  # NaN compares False
        reached = None
        if self.target is not None:
            reached = ((ev.fit_sq / self.y_norm_sq).sqrt() <= self.target) & ~diverged
        return nonfinite, diverged, reached


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _check_arguments(*, steps, step_offset, diverge_factor, target_train_error, log, init_seed, algo_seed) -> None:
    """:func:`run`'s own settings, checked before any work: a one-line :class:`BackendError` that names
    the argument, the value and what is accepted (the same ranges as a spec's fields)."""
    for name, v in (("steps", steps), ("step_offset", step_offset)):
        if not _is_int(v) or v < 0:
            raise BackendError(f"{name}: got {v!r}; accepted: integers >= 0")
    for name, v in (("diverge_factor", diverge_factor), ("target_train_error", target_train_error)):
        if v is None and name == "target_train_error":
            continue
        if not (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                and math.isfinite(v) and v > 0):
            raise BackendError(f"{name}: got {v!r}; accepted: finite numbers > 0"
                               + (" or None" if name == "target_train_error" else ""))
    if log is not None and not isinstance(log, (LogSchedule, UnionSchedule)):
        raise BackendError(f"log: got {log!r}; accepted: an overparam.schedule.LogSchedule or None")
    for name, v in (("init_seed", init_seed), ("algo_seed", algo_seed)):
        seeds = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
        if not seeds or not all(_is_int(x) and x >= 0 for x in seeds):
            raise BackendError(f"{name}: got {v!r}; accepted: an integer >= 0 or a non-empty list of them")


def _check_parts(*, problem, param, algorithm, init, stops, regularizer, theta0, metrics, progress,
                 checkpoint=None, resume=None) -> None:
    """:func:`run`'s parts are of the kinds it takes (a one-line :class:`BackendError` naming the
    argument, instead of an AttributeError from deep inside the loop)."""
    kinds = (("problem", problem, Problem, "an overparam.problems problem"),
             ("param", param, Parameterization, "an overparam.params parameterization, e.g. op.params.Symmetric()"),
             ("algorithm", algorithm, Algorithm, "an overparam.algorithms algorithm, e.g. op.algorithms.gd(eta=0.01)"),
             ("init", init, (Init, type(None)), "an overparam.init initialization, e.g. op.init.gaussian(scale=1e-3)"))
    for name, value, cls, what in kinds:
        if not isinstance(value, cls):
            raise BackendError(f"{name}: got {value!r}; accepted: {what}")
    if isinstance(metrics, str) or not isinstance(metrics, Sequence):
        raise BackendError(f"metrics: got {metrics!r}; accepted: a list of metric names (or Metric objects)")
    if isinstance(stops, (str, StopRule)) or not isinstance(stops, Sequence) or \
            not all(isinstance(r, StopRule) for r in stops):
        raise BackendError(f"stops: got {stops!r}; accepted: a list of overparam.stops rules")
    if regularizer is not None and not callable(getattr(regularizer, "bind", None)):
        raise BackendError(f"regularizer: got {regularizer!r}; accepted: an overparam.regularizers penalty or None")
    if progress is not None and not callable(progress):
        raise BackendError(f"progress: got {progress!r}; accepted: a function progress(t, steps) or None")
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        raise BackendError(f"checkpoint: got {checkpoint!r}; accepted: an overparam.snapshot.Checkpoint "
                           "(every_seconds, at_steps) or None")
    if resume is not None and not isinstance(resume, RunSnapshot):
        raise BackendError(f"resume: got {type(resume).__name__}; accepted: an overparam.snapshot.RunSnapshot or None")
    if theta0 is not None and (not isinstance(theta0, (tuple, list)) or
                               not all(isinstance(p, torch.Tensor) and p.dim() >= 2 for p in theta0)):
        raise BackendError("theta0: accepted: a tuple of tensors, one per parameter block, each (R, ...) with the "
                           f"replicas first; got {type(theta0).__name__}")


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(x) for x in shape) + ")"


def _check_theta0(theta0, param: Parameterization, problem: Problem) -> None:
    """``theta0``'s blocks have the parameterization's shapes for this problem, with one replica axis
    first (the same R in every block); only the model width (``k``/``width``: a pruned stage) may
    differ from the constructed one. A one-line :class:`BackendError` naming the argument and the
    expected shapes; no kernel ever sees a θ of another shape."""
    expected = [tuple(s) for s in param.shapes(problem.shape)]
    got = [tuple(p.shape) for p in theta0]
    blocks = list(param.blocks or [f"theta{j}" for j in range(len(expected))])
    want = ", ".join(f"{b} {_shape_text(('R', *e))}" for b, e in zip(blocks, expected, strict=False))
    if len(got) != len(expected):
        raise BackendError(f"theta0: got {len(got)} block(s) {', '.join(map(_shape_text, got))}; expected "
                           f"{len(expected)} for param {param.name!r} on this {'×'.join(map(str, problem.shape))} "
                           f"problem: {want}")
    if len({g[0] for g in got}) != 1 or got[0][0] < 1:
        raise BackendError(f"theta0: the replica axis (first) differs between blocks or is empty: "
                           f"{', '.join(map(_shape_text, got))}; expected {want} with one R >= 1")
    if [g[1:] for g in got] == expected:
        return
    attr = next((a for a in ("k", "width") if hasattr(param, a)), None)
    if attr is not None and _widths_match(param, attr, problem, got):
        return
    raise BackendError(f"theta0: got {', '.join(map(_shape_text, got))}; expected {want}"
                       + (f" (any width {attr} >= 0, the same in every block)" if attr else "")
                       + f" for param {param.name!r} on this {'×'.join(map(str, problem.shape))} problem")


def _widths_match(param: Parameterization, attr: str, problem: Problem, got: list[tuple[int, ...]]) -> bool:
    """Whether ``got`` (with the replica axis) is the parameterization's shapes at one model width
    w >= 0 (a pruned stage; w = 0 when every column was pruned). The width's axes are found by building
    the shapes at a probe width no other axis has."""
    probe = max([x for g in got for x in g[1:]] + list(problem.shape)) + 7
    other = copy.copy(param)
    setattr(other, attr, probe)
    try:
        shaped = [tuple(s) for s in other.shapes(problem.shape)]
    except OverparamError:
        return False
    widths: set[int] = set()
    for s, g in zip(shaped, got, strict=True):
        if len(s) != len(g) - 1:
            return False
        for a, b in zip(s, g[1:], strict=True):
            if a == probe:
                widths.add(b)
            elif a != b:
                return False
    return len(widths) == 1


def _check_problem(problem: Problem) -> None:
    """The problem's arrays agree with its operator: y has m entries (last axis), X_star the variable's
    shape (a one-line :class:`BackendError`; a compiled kernel must never read past an array)."""
    m = problem.operator.m
    if problem.y.ndim < 1 or problem.y.shape[-1] != m:
        raise BackendError(f"problem.y: got shape {_shape_text(problem.y.shape)}; expected ({m},), one observation "
                           f"per measurement of the operator (m = {m})")
    xs = problem.X_star
    if xs is not None and tuple(xs.shape[-len(problem.shape):]) != tuple(problem.shape):
        raise BackendError(f"problem.X_star: got shape {_shape_text(xs.shape)}; expected "
                           f"{_shape_text(problem.shape)}, the operator's input shape")


def _replicas_and_budgets(init, theta0, init_seed, algo_seed, algorithm, regularizer, budgets,
                          steps: int) -> tuple[int, list[int]]:
    """R (:func:`_replica_count`) and the replicas' step budgets (:func:`_check_budgets`)."""
    R = _replica_count(init, theta0, init_seed, algo_seed, algorithm, regularizer)
    return R, _check_budgets(budgets, R, steps)


def _check_budgets(budgets, R: int, steps: int) -> list[int]:
    """``budgets`` as a list of R step budgets in 0 … ``steps`` (``None``: ``steps`` for every replica)."""
    if budgets is None:
        return [steps] * R
    vals = list(budgets) if isinstance(budgets, (list, tuple, np.ndarray)) else None
    if vals is None or len(vals) != R or not all(_is_int(b) and 0 <= b <= steps for b in vals):
        raise BackendError(f"budgets: got {budgets!r}; accepted: a list of {R} integers in 0 … steps = {steps}, "
                           "one per replica")
    return [int(b) for b in vals]


def _check_forks(forks, R: int, budgets: list[int]) -> list[int | None]:
    """``forks`` as a list of R entries: ``None`` (a replica computed) or the index j of a computed
    replica with a budget at least the replica's own (``None``: no forks)."""
    if forks is None:
        return [None] * R
    vals = list(forks) if isinstance(forks, (list, tuple)) else None
    ok = vals is not None and len(vals) == R
    if ok:
        for i, j in enumerate(vals):
            if j is None:
                continue
            if not _is_int(j) or not 0 <= j < R or j == i or vals[j] is not None or budgets[j] < budgets[i]:
                ok = False
                break
    if not ok:
        raise BackendError(f"forks: got {forks!r}; accepted: a list of {R} entries, each None or the index of "
                           "another replica that is not itself a fork and whose budget is at least this one's")
    return [None if j is None else int(j) for j in vals]


def _check_fork_starts(forks: list[int | None], theta: Params) -> None:
    """A fork repeats its replica: their θ₀ must be equal."""
    for i, j in enumerate(forks):
        if j is not None and not all(torch.equal(p[i], p[j]) for p in theta):
            raise BackendError(f"forks: replica {i} is given as a fork of replica {j}, but their θ₀ differ; a fork "
                               "repeats a replica with the same settings")


def _start(init, theta0, param, problem, R: int, init_seeds: list[int], algo_seeds: list[int], dev, dt
           ) -> tuple[Params, list[dict[str, Any]]]:
    """θ₀ (``theta0``, or drawn by ``init``) and each replica's settings as the result reports them."""
    if theta0 is not None:
        theta = tuple(p.to(device=dev, dtype=dt) for p in theta0)
        replica_info: list[dict[str, Any]] = [{} for _ in range(R)]
    else:
        theta = init(param, problem.shape, seeds=init_seeds, device=dev, dtype=dt, problem=problem)
        replica_info = [{f"init.{k}": v for k, v in s.items()} for s in init.replica_settings(R)]
    for r in range(R):
        replica_info[r].update(init_seed=init_seeds[r], algo_seed=algo_seeds[r])
    return theta, replica_info


def _replica_count(init, theta0, init_seed, algo_seed, algorithm, regularizer) -> int:
    counts = {"theta0": theta0[0].shape[0]} if theta0 is not None else {"init": init.replicas}
    counts["algorithm"] = algorithm.replicas
    counts["regularizer"] = regularizer.replicas if regularizer is not None else 1
    for name, v in (("init_seed", init_seed), ("algo_seed", algo_seed)):
        counts[name] = replica_count(name, seeds=v)
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
    regularizer: Any = None,
    theta0: Params | None = None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    progress: Callable[[int, int], None] | None = None,
    step_offset: int = 0,
    stop_carry: dict[str, Any] | None = None,
    lean: bool = True,
    budgets: Sequence[int] | None = None,
    forks: Sequence[int | None] | None = None,
    checkpoint: Checkpoint | None = None,
    resume: RunSnapshot | None = None,
) -> Result:
    """Run ``algorithm`` on ``problem`` under ``param`` from ``init`` (or ``theta0``) for ``steps`` steps.

    Args:
        init: an :mod:`overparam.init` initialization; per-replica settings give R replicas.
        steps: the maximum number of updates T.
        metrics: metric names (see :mod:`overparam.metrics`) recorded at logged steps.
        log: which steps to record (default: 200 log-spaced points).
        init_seed: the initialization's seed, or one per replica.
        algo_seed: the algorithm's seed (SGD batches, perturbations), or one per replica.
        target_train_error: stop a replica once its relative train error is at most this.
        diverge_factor: a replica diverges when its loss exceeds this × its initial loss.
        stops: stop rules (:mod:`overparam.stops`), checked after every step.
        regularizer: a penalty from :mod:`overparam.regularizers` added to the loss (λ may be per replica).
        theta0: explicit initial parameters ``(R, …)`` instead of ``init`` (recipes' later stages).
        device: where the run computes (default: the problem's device).
        dtype: the precision (default: the problem's dtype).
        progress: called as ``progress(t, steps)`` about a hundred times per run.
        step_offset: the global step of θ_0 (recipes); recorded steps and events use global steps.
        stop_carry: the stop rules' states from the previous stage, by rule name (recipes).
        lean: allow a compiled engine (:func:`overparam.engines.select_engine`) where one applies;
            ``False`` forces the generic loop (tests compare the two).
        budgets: a step budget per replica (each 0 … ``steps``; default: ``steps`` for all). Replica i
            ends at step ``budgets[i]`` as a run of that many steps ends: its iterate there is
            evaluated, checked for divergence (not for the target), recorded, and kept as its final
            θ with status ``completed`` — the rest of the batch goes on. Every budget's step is
            logged. A sweep uses it to run specs that differ only in their step budgets as one pass
            (:mod:`overparam.experiments.grouping`).
        forks: per replica, ``None`` or the index j of a replica with the same settings (θ₀, η,
            seeds) and a budget at least its own: replica i is then not stepped — its iterates are
            replica j's — and its rows, events and end are replica j's up to step ``budgets[i]``,
            where it ends as a run of that many steps ends (replica j goes on); if replica j stops
            first, replica i stops with it. Replica i's numbers are those of its own run where the
            engine computes each replica independently of the batch. A sweep uses it to run specs
            whose replicas repeat a longer spec's as prefixes of one pass (li2018's Figs. 1–2).
            θ₀ of i and j must be equal (checked).
        checkpoint: when to hand a snapshot of the run's state to a callback
            (:func:`overparam.snapshot.every_seconds`, :func:`~overparam.snapshot.at_steps`); taking
            snapshots changes no number. A state that cannot be stored exactly takes none
            (:mod:`overparam.snapshot`: what is captured, the exactness guarantee).
        resume: a snapshot of this same run (same arguments; :class:`~overparam.snapshot.SnapshotMismatch`
            otherwise): the run continues from it and gives the bits of the run that was never
            interrupted (its wall time counts the time before the snapshot too).

    Returns:
        A :class:`~overparam.result.Result`.
    """
    _check_parts(problem=problem, param=param, algorithm=algorithm, init=init, stops=stops, regularizer=regularizer,
                 theta0=theta0, metrics=metrics, progress=progress, checkpoint=checkpoint, resume=resume)
    _check_arguments(steps=steps, step_offset=step_offset, diverge_factor=diverge_factor,
                     target_train_error=target_train_error, log=log, init_seed=init_seed, algo_seed=algo_seed)
    if init is None and theta0 is None:
        raise BackendError("run: give init= (an overparam.init initialization) or theta0=")
    dev = resolve_device(device) if device is not None else problem.device
    dt = resolve_dtype(dtype) if dtype is not None else problem.dtype
    _check_problem(problem)
    if theta0 is not None:
        _check_theta0(theta0, param, problem)
    problem = problem.to(dev, dt)
    R, budgets = _replicas_and_budgets(init, theta0, init_seed, algo_seed, algorithm, regularizer, budgets, steps)
    forks = _check_forks(forks, R, budgets)
    bound = regularizer.bind(R, dev, dt, param) if regularizer is not None else None
    objective = Objective(problem, param, bound)
    metric_objs = resolve(metrics)
    for mo in metric_objs:
        mo.check(objective)
    init_seeds = [int(s) for s in per_replica(init_seed, R)]
    algo_seeds = [int(s) for s in per_replica(algo_seed, R)]
    theta, replica_info = _start(init, theta0, param, problem, R, init_seeds, algo_seeds, dev, dt)
    _check_fork_starts(forks, theta)
    ctx = RunContext(R=R, algo_seeds=algo_seeds, device=dev, dtype=dt, steps=steps, blocks=param.blocks)
    t0 = time.perf_counter()
    # thread counts left as found; several replicas run as lanes to their end (:mod:`overparam.lanes`)
    with preserved_threads(), replica_lanes(sum(j is None for j in forks) >= 2):  # forks are not computed
        loop = _Loop(objective, algorithm, theta, ctx, metric_objs, stops, step_offset, stop_carry,
                     _Health(R, diverge_factor, target_train_error, problem.y),
                     set((log or LogSchedule()).steps(steps).tolist()), progress, lean, budgets, forks)
        if checkpoint is not None or resume is not None:
            loop.snapshots(checkpoint, resume, t0, _fingerprint(loop, problem, param, algorithm, regularizer, stops,
                                                                theta, diverge_factor, target_train_error))
        with loop.lean.threads() if loop.lean is not None else contextlib.nullcontext():
            reps = loop.run()
    info = _info(problem, param, algorithm, init, steps, dev, dt, regularizer, stops, loop)
    return Result.from_replicas(trace=loop.recorder.trace(), theta=reps.final_theta, blocks=param.blocks,
                                status=reps.status, stop_step=reps.stop_step, events=reps.events,
                                replicas=replica_info, wall_time=loop.wall_before + time.perf_counter() - t0, info=info,
                                carry=reps.carry)


def _info(problem, param, algorithm, init, steps, dev, dt, regularizer, stops, loop) -> dict[str, Any]:
    """The run's ``Result.info``: what ran, where, at which thread count, on which engine."""
    return {"problem": problem.info, "param": param.describe(), "algorithm": algorithm.describe(),
            "init": init.describe() if init is not None else "theta0", "steps": steps, "device": str(dev),
            "dtype": dtype_name(dt), "threads": torch.get_num_threads(),
            "regularizer": regularizer.describe() if regularizer is not None else None,
            "stops": [s.describe() for s in stops], "engine": loop.lean.name if loop.lean is not None else "generic"}


def _fingerprint(loop, problem, param, algorithm, regularizer, stops, theta, diverge_factor,
                 target) -> dict[str, Any]:
    """What a run resuming a snapshot must share with the run that took it (:meth:`RunSnapshot.check
    <overparam.snapshot.RunSnapshot.check>`): the problem's data, θ₀, the parts, the schedule, the
    budgets, the placement, the thread count and the engine."""
    ctx = loop.ctx
    fp = {"problem": digest(problem.info, problem.y, problem.shape), "theta0": digest(*theta),
          "param": param.describe(), "algorithm": algorithm.describe(),
          "regularizer": regularizer.describe() if regularizer is not None else None,
          "metrics": [m.name for m in loop.recorder.metrics], "stops": [s.describe() for s in stops],
          "schedule": digest(np.asarray(sorted(loop.schedule), dtype=np.int64)), "budgets": loop.budgets,
          "steps": ctx.steps, "step_offset": loop.offset, "R": ctx.R, "device": str(ctx.device),
          "dtype": dtype_name(ctx.dtype), "threads": torch.get_num_threads(), "diverge_factor": float(diverge_factor),
          "target_train_error": target, "engine": loop.lean.name if loop.lean is not None else "generic"}
    if any(j is not None for j in loop.forks):  # only then: snapshots of runs without forks stay valid
        fp["forks"] = loop.forks
    return fp


class _Loop:
    """The loop of :func:`run`: step, health, stops, recording, diagnostics, dropping replicas.

    With a ``checkpoint`` it hands a snapshot (:meth:`capture`) to it at the top of a step where it
    is due; :meth:`restore` puts a snapshot back, and :meth:`run` then starts at its step."""

    def __init__(self, objective, algorithm, theta, ctx, metrics, stops, offset, carry, health, schedule, progress,
                 use_lean: bool = True, budgets: list[int] | None = None, forks: list[int | None] | None = None):
        self.objective, self.algorithm, self.theta, self.ctx = objective, algorithm, theta, ctx
        self.state = algorithm.init_state(objective, theta, ctx)
        self.health, self.progress, self.offset = health, progress, offset
        self.budgets = budgets if budgets is not None else [ctx.steps] * ctx.R
        self.schedule = schedule | set(self.budgets)  # every budget's last step is logged
        self.recorder = Recorder(metrics)
        #: the steps before T at which some replica's budget ends (:meth:`_finish_budgets`)
        self.ends = sorted({b for b in self.budgets if b < ctx.steps})
        self.reps = Replicas(ctx.R, [b + offset for b in self.budgets])
        self.forks = forks if forks is not None else [None] * ctx.R
        self.diags = Diagnostics(metrics, objective, theta, algorithm)
        self.stops = Stops(stops, ctx, offset, carry)
        self.logged_step = -1  # the last global step at which every active replica was recorded
        self.start = 0  # the step the loop starts at (a resumed run: the snapshot's)
        self.checkpoint: Checkpoint | None = None
        self.fingerprint: dict[str, Any] = {}
        self.t0 = time.perf_counter()
        self.wall_before = 0.0  # wall time of the run before its snapshot (a resumed run)
        engine = select_engine(objective.problem, objective.param, algorithm, metrics=metrics, stops=self.stops.rules,
                               regularizer=objective.regularizer, device=ctx.device) if use_lean else None
        self.lean = engine(objective) if engine is not None else None
        if any(j is not None for j in self.forks):  # forks are not stepped: they follow their replica
            self.prev = self.theta
            self._pending_forks()
            self._drop(torch.tensor([i for i, j in enumerate(self.forks) if j is None], dtype=torch.long))

    def _pending_forks(self) -> None:
        """The forks not yet ended, by the replica they follow (rows, events and ends of that replica
        are theirs too until their budget: :class:`~overparam.recording.Replicas`, ``Recorder``)."""
        pending: dict[int, list[int]] = {}
        for i, j in enumerate(self.forks):
            if j is not None and self.reps.final_theta[i] is None:
                pending.setdefault(j, []).append(i)
        self.reps.pending = pending
        self.recorder.aliases = pending

    def run(self) -> Replicas:
        steps, every = self.ctx.steps, max(1, self.ctx.steps // 100)
        if self.start == 0:
            self.prev = self.theta
        lean = self.lean
        marks = sorted(self.schedule) if lean is not None else []
        batch = lean is not None and lean.records and all(m.name in BATCH_METRICS for m in self.recorder.metrics)
        ends = set(self.ends)
        t = self.start
        while t <= steps:
            if self.checkpoint is not None and t != self.start and t < steps and self.checkpoint.due(t):
                self._snapshot(t)
            if t in ends:  # replicas whose budget is t end here, as their own runs end
                self._finish_budgets(t)
            if self.reps.active.numel() == 0:
                break
            out = None
            if t < steps and lean is not None:
                if t > 0 and (batch or t not in self.schedule):
                    # ordinary steps (and, with ``batch``, logged ones, recorded on the way) in one call
                    end = steps if batch else next_boundary(marks, t, steps)
                    end = min(end, next_boundary(self.ends, t + 1, steps))  # no segment crosses a budget's end
                    if self.progress is not None:
                        end = min(end, (t // every + 1) * every)
                    cut = self.checkpoint.next_boundary(t, steps) if self.checkpoint is not None else None
                    if cut is not None:  # a boundary where a snapshot may be due (lengths change no bit)
                        end = min(end, cut)
                    t = self._lean_segment(lean, t, end, marks if batch else None)
                    if self.progress is not None and t % every == 0:
                        self.progress(t, steps)
                    if t == steps or (t == end and (batch or t in ends or t == cut)):
                        continue
                out = lean.step(self.theta, self._step_size())
            elif t < steps:
                out, self.state = self.algorithm.step(self.objective, self.theta, self.state, t)
            elif lean is not None:  # θ_T: the lean evaluation, so that R and batching never change a bit
                self._check(t, None, lean.step(self.theta, self._step_size()).evaluation)
                break
            self._check(t, out)
            if self.progress is not None and t % every == 0:
                self.progress(t, steps)
            t += 1
        if self.progress is not None:
            self.progress(steps, steps)
        return self.reps

    def snapshots(self, checkpoint: Checkpoint | None, resume: RunSnapshot | None, t0: float,
                  fingerprint: dict[str, Any]) -> None:
        """Take snapshots when ``checkpoint`` says (wall time counted from ``t0``) and/or start from
        ``resume`` (:meth:`restore`); ``fingerprint``: what identifies this run (:func:`_fingerprint`)."""
        self.checkpoint, self.t0, self.fingerprint = checkpoint, t0, fingerprint
        if resume is not None:
            self.restore(resume)

    def _snapshot(self, t: int) -> None:
        """Hand the snapshot at the top of step ``t`` to the checkpoint; a state that cannot be
        stored exactly is reported once (``refused``) and no snapshot is taken again."""
        try:
            snap = self.capture(t)
        except SnapshotError as exc:
            self.checkpoint.refused(str(exc))
            self.checkpoint = None
            return
        self.checkpoint.save(snap)

    def capture(self, t: int) -> RunSnapshot:
        """The snapshot at the top of step ``t`` (:mod:`overparam.snapshot`: what it holds)."""
        rec, reps = self.recorder, self.reps
        try:
            recorded = {"steps": _joined(rec.steps), "replicas": _joined(rec.replicas),
                        "values": {k: _joined(v) for k, v in rec.values.items()}}
        except ValueError as exc:
            raise SnapshotError(f"recorded rows of different shapes ({exc})") from None
        tree = {"theta": self.theta, "prev": self.prev, "algorithm": self._algorithm_state(),
                "health_ref": self.health.ref, "stops": self.stops.states,
                "diagnostics": {n: strip_static(self.diags.diags[n], s) for n, s in self.diags.states.items()},
                "recorded": recorded, "active": reps.active, "status": reps.status, "stop_step": reps.stop_step,
                "final_theta": reps.final_theta, "carry": reps.carry, "events": reps.events,
                "logged_step": self.logged_step}
        return RunSnapshot.capture(t, self.fingerprint, tree, self.wall_before + time.perf_counter() - self.t0)

    def _algorithm_state(self):
        alg = self.algorithm
        if isinstance(alg, Composed):
            return [strip_static(p, s) for p, s in zip(alg.pieces, self.state, strict=True)]
        return self.state

    def restore(self, snap: RunSnapshot) -> None:
        """Put the state of ``snap`` back (after checking it is a snapshot of this run); :meth:`run`
        then starts at its step. Static state entries come from this run's own ``init``."""
        snap.check(self.fingerprint)
        tree = snap.tree()
        alg = self.algorithm
        if isinstance(alg, Composed):
            self.state = [with_static(p, s, f) for p, s, f in zip(alg.pieces, tree["algorithm"], self.state, strict=True)]
        else:
            self.state = tree["algorithm"]
        self.theta, self.prev = tree["theta"], tree["prev"]
        self.health.ref = tree["health_ref"]
        self.stops.states = tree["stops"]
        self.diags.states = {n: with_static(self.diags.diags[n], s, self.diags.states[n])
                             for n, s in tree["diagnostics"].items()}
        r = tree["recorded"]
        self.recorder.steps = [r["steps"]] if r["steps"] is not None else []
        self.recorder.replicas = [r["replicas"]] if r["replicas"] is not None else []
        self.recorder.values = {k: ([v] if v is not None else []) for k, v in r["values"].items()}
        reps = self.reps
        reps.active, reps.status, reps.stop_step = tree["active"], tree["status"], tree["stop_step"]
        reps.final_theta, reps.carry, reps.events = tree["final_theta"], tree["carry"], tree["events"]
        self.logged_step = tree["logged_step"]
        if any(j is not None for j in self.forks):
            self._pending_forks()
        if reps.active.numel() != self.ctx.R:  # rows were dropped: the objective follows them (per-replica λ)
            self.objective = self.objective.select(reps.active.to(self.theta[0].device))
        self.start, self.wall_before = snap.t, snap.wall_time

    def _finish_budgets(self, t: int) -> None:
        """End the active replicas whose budget is ``t`` (< T) exactly as a run of ``t`` steps ends at
        its θ_T: the iterate evaluated (by the engine, on an engine's run), checked for divergence (not
        for the target), recorded, kept as the final θ; the other replicas go on from the same state."""
        active = self.reps.active.tolist()
        done = [i for i, g in enumerate(active) if self.budgets[g] == t]
        # forks ending here whose replica is still running: a copy of its state ends as their own run
        forked = [(f, i) for i, g in enumerate(active) for f in self.reps.pending.get(g, ()) if self.budgets[f] == t]
        if not done and not forked:
            return
        if self.health.ref is None:  # step 0: every replica's reference loss first, as each run sets its own
            snap = Snapshot(t + self.offset, self.theta, self.objective, self._evaluation_at(self.theta),
                            self.algorithm, self.diags.states)
            self.health(snap.evaluation, None, self.reps.active)
        if forked:
            ref = self.health.ref.clone()
            for f, i in forked:
                self.reps.pending[active[i]].remove(f)
                ref[f] = ref[active[i]]
            self.health.ref = ref
        keep = [i for i in range(len(active)) if i not in set(done)]
        saved = (self.theta, self.prev, self.state, self.objective, dict(self.diags.states), self.stops.states,
                 self.reps.active, self.logged_step)
        self._drop(torch.tensor(done + [i for _, i in forked], dtype=torch.long))
        self.reps.active = torch.tensor([active[i] for i in done] + [f for f, _ in forked], dtype=torch.long)
        self._check(t, None, self._evaluation_at(self.theta))
        (self.theta, self.prev, self.state, self.objective, states, self.stops.states, self.reps.active,
         self.logged_step) = saved
        self.diags.states = states
        if keep:
            self._drop(torch.tensor(keep, dtype=torch.long))
        else:
            self.reps.active = self.reps.active[:0]

    def _step_size(self):
        return self.algorithm.step_sizes(self.state)  # η·s per block (engines run plain GD only)

    def _evaluation_at(self, theta) -> Evaluation | None:
        """The evaluation at ``theta`` by the engine that runs this loop (``None``: the generic loop's
        snapshot evaluates it). An engine's run takes every recorded number from the engine's own
        arithmetic, so that no number depends on whether its step was logged (the log schedule)."""
        return self.lean.step(theta, self._step_size()).evaluation if self.lean is not None else None

    def _lean_segment(self, lean, t: int, end: int, marks: list[int] | None = None) -> int:
        """Steps t … end − 1 on the lean path; returns the step it stopped at (``end``, or a step
        where a replica would stop, which the caller then takes through ``_check``). With ``marks``,
        the logged steps on the way are recorded from the kernel's copies (at most ``MAX_RECORDS``
        per call: the segment ends before the next one)."""
        rec = None
        if marks is not None:
            i = bisect.bisect_left(marks, t)
            j = bisect.bisect_left(marks, end)
            if j - i > MAX_RECORDS:
                end, j = marks[i + MAX_RECORDS], i + MAX_RECORDS
            rec = [s - t for s in marks[i:j]]
        h = self.health
        ref = h.ref[self.reps.active.to(h.ref.device)]
        made, theta, prev, recs = lean.segment(self.theta, self._step_size(), end - t, ref, h.factor, h.target,
                                               float(h.y_norm_sq), rec)
        if rec:
            self._record_batch(lean, [t + s for s in rec if s < made], recs)
        if made > 0:
            self.theta, self.prev = theta, prev
        return t + made

    def _record_batch(self, lean, steps: list[int], recs) -> None:
        """Record the kernel's copies of θ, fit and z at ``steps`` (global: + offset) for every
        active replica, the metrics computed once for all of them."""
        if not steps:
            return
        n = len(steps)
        # contiguous: a strided view (the lane layout's) makes torch's reductions sum in another order
        U, fit, z = (r[:n].contiguous() for r in recs)
        self.logged_step = steps[-1] + self.offset
        R = U.shape[1]
        flat = fit.reshape(n * R)
        ev = Evaluation(loss=lean.c * flat, z=z.reshape(n * R, -1), fit_sq=flat, data_loss=lean.c * flat)
        snap = Snapshot(steps[0] + self.offset, (U.reshape(n * R, *U.shape[2:]),), self.objective, ev,
                        self.algorithm, {})
        self.recorder.record_batch(snap, np.repeat(np.asarray(steps, dtype=np.int64) + self.offset, R),
                                   np.tile(self.reps.active.numpy().astype(np.int64), n))

    def _check(self, t: int, out: StepOut | None, final: Evaluation | None = None) -> None:
        """Health, stops and recording at step t, then advance; on the common step (nothing logged,
        nothing stops) one host synchronization. ``final``: the evaluation at θ_T, when known."""
        ev, last, g = (out.evaluation if out else final), out is None, t + self.offset
        logged = last or t in self.schedule or bool(out.events)
        rules = self.stops.rules
        # a step that may be the common one: nothing logged or requested, the reference loss set
        common = not logged and ev is not None and not out.stops and self.health.ref is not None
        if common and not rules and self.health.quiet(ev, self.reps.active, None):
            return self._advance(t, out)  # without stop rules: no snapshot, one synchronization
        snap = Snapshot(g, self.theta, self.objective, ev, self.algorithm, self.diags.states)
        if ev is None and (logged or t == 0):
            ev = snap.evaluation  # SGD: the full loss only on logged steps
        hits = None if last or not rules else self.stops.check(g, snap)
        if common and rules and self.health.quiet(ev, self.reps.active, hits):
            return self._advance(t, out)
        nonfinite, diverged, reached = self.health(ev, out, self.reps.active)
        flags = diverged if reached is None else diverged | reached
        if not logged and not out.stops and not bool((flags if hits is None else flags | hits).any()):
            return self._advance(t, out)
        self._handle(g, out, snap, nonfinite.cpu(), diverged.cpu(), reached, hits, logged)

    def _advance(self, t: int, out: StepOut) -> None:
        """Step ``t`` changed nothing but θ: update the diagnostics and move to θ_{t+1}."""
        self.diags.update(t, self.theta, out, self.objective)
        self.prev, self.theta = self.theta, out.theta

    def _handle(self, g, out, snap, nonfinite, diverged, reached, hits, logged) -> None:
        reps, n, theta = self.reps, self.reps.active.numel(), self.theta
        stop_now = torch.zeros(n, dtype=torch.bool) if (reached is None or out is None) else reached.cpu()
        reason = ["converged"] * n
        if hits is not None:
            hits = hits.cpu() & ~diverged & ~stop_now
            reason = [self.stops.reason(i) if bool(hits[i]) else reason[i] for i in range(n)]
            stop_now |= hits
        requests = {r.index: r for r in out.stops} if out is not None else {}
        req = torch.zeros(n, dtype=torch.bool)
        req[list(requests)] = True
        req &= ~diverged
        want = (torch.full_like(diverged, logged) | stop_now | diverged) & ~nonfinite & ~req
        if bool(want.any()):
            self.recorder.record(snap, reps.active, want)
        lost = nonfinite & ~req
        if bool(lost.any()) and g > self.offset and self.logged_step != g - 1:
            # θ_t overflowed: record the last finite iterate θ_{t−1} at its own step, so that the final
            # metrics are those just before the divergence (its step is the stop step), not the last logged ones
            self.recorder.record(Snapshot(g - 1, self.prev, self.objective, self._evaluation_at(self.prev),
                                          self.algorithm, self.diags.states), reps.active, lost)
        if logged:
            self.logged_step = g
        req_rows = torch.nonzero(req).flatten().tolist()
        # θ with the terminated replicas' returned points (a copy only when some replica terminates)
        fixed = _replace(theta, {i: requests[i].theta for i in req_rows}) if req_rows else theta
        if req_rows:  # an algorithm's own termination: record and keep its returned point
            self.recorder.record(Snapshot(g, fixed, self.objective, None, self.algorithm, self.diags.states),
                                 reps.active, req)
        for i, kind, data in (out.events if out is not None else []):
            reps.event(g, int(reps.active[i]), kind, **data)
        reps.finish(torch.nonzero(diverged).flatten().tolist(), theta, self.prev, "diverged", g)
        for i in torch.nonzero(stop_now & ~diverged).flatten().tolist():
            reps.finish([i], theta, self.prev, reason[i], g)
        for i in req_rows:
            reps.finish([i], fixed, self.prev, requests[i].reason, g)
        ended = diverged | stop_now | req if out is not None else torch.ones(n, dtype=torch.bool)
        if self.stops.rules:
            for i in torch.nonzero(ended).flatten().tolist():
                reps.set_carry(int(reps.active[i]), self.stops.row(i))
        if out is None:
            reps.complete(theta)
            return
        self.diags.update(g - self.offset, theta, out, self.objective)
        self.prev, self.theta = theta, out.theta
        done = diverged | stop_now | req
        if bool(done.any()):
            self._drop(torch.nonzero(~done).flatten())

    def _drop(self, keep: torch.Tensor) -> None:
        """Continue with the replicas ``keep``: θ, states and objective restricted to them."""
        kd = keep.to(self.theta[0].device)
        self.theta = tuple(p[kd] for p in self.theta)
        self.prev = tuple(p[kd] for p in self.prev)
        self.state = self.algorithm.select_state(self.state, kd)
        self.objective = self.objective.select(kd)
        self.diags.select(kd)
        self.stops.select(kd)
        self.reps.active = self.reps.active[keep]


def _joined(chunks: list[np.ndarray]) -> np.ndarray | None:
    """The recorder's chunks as one array (the trace concatenates them the same way), None if none."""
    return np.concatenate(chunks) if chunks else None


def _replace(theta: Params, rows: dict[int, Params]) -> Params:
    """θ with the replicas in ``rows`` replaced by the given per-replica tensors."""
    out = [p.clone() for p in theta]
    for i, th in rows.items():
        for p, q in zip(out, th, strict=True):
            p[i] = q
    return tuple(out)


class _CallableModule(_types.ModuleType):
    """``overparam.run`` is this module *and* callable as :func:`run`: ``op.run(problem, …)`` works
    whether the package's attribute is the function or the module (importing a submodule sets the
    package's attribute to the module, and the package face imports nothing until it is used)."""

    def __call__(self, *args, **kwargs) -> Result:
        return run(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
