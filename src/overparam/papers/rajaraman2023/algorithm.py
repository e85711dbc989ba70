"""Algorithm 1 of Rajaraman, Devvrit, Mokhtari, Ramchandran (NeurIPS 2023): train on loss + λR_β to an
approximate second-order point, certify it (gradient norm, ‖U‖_op, λ_min of the Hessian by Lanczos),
greedily prune every column with ‖Ue_i‖₂ ≤ 2√β, fine-tune by GD on the unregularized loss.

* :class:`Algorithm1` is the built-in recipe :class:`~overparam.recipes.PruneFinetune` with
  :class:`SospCertificate` as its ``before_prune`` hook (one pipeline; the threshold 2√β is
  :func:`~overparam.recipes.prune_threshold`), registered as recipe ``rajaraman2023.algorithm1`` (a
  spec's ``[recipe]``), so the whole pipeline is one stored run: one trace with a ``stage`` column
  (0 = training, 1 = fine-tuning, global steps), a ``sosp`` event (the certificate) and a ``prune``
  event (kept columns, width, all column norms, the threshold) per replica, and per-replica final U
  (``U.r0``, …).
* :func:`algorithm1` is the same pipeline as one Python call returning one
  :class:`~overparam.result.Result`.
* :func:`lanczos_extremes` is a plain Lanczos iteration (full re-orthogonalization) on a symmetric
  operator given by its matrix-vector product; :func:`hessian_min_eig` applies it to
  ``Objective.hvp`` (the dk × dk Hessian of L + λR_β is never formed).

Training uses the spec's algorithm: ``gd`` (plain GD), or ``ipgd`` for the perturbed option (Jin et
al. 2017's perturbed GD, the paper's SOSP oracle of Sec. 6, eq. 18: a uniform ball perturbation when
‖∇f‖ ≤ g_thres). Fine-tuning is always plain GD (``gd``) with the spec's ``grad_scale`` and the step
``finetune_eta`` (default: the training step), on the unregularized loss (Algorithm 1, fine-tuning
phase).

Step convention (001's analysis): U ← U − η[(UUᵀ − X⋆)U + (λ/4)∇R_β(U)] on the population loss, i.e.
``grad_scale = 1/4`` of the exact gradient 4(UUᵀ − X⋆)U + λ∇R_β; the stationary points do not
depend on it, only the time scale (notes-001 §7.1; Thm 8's α ≤ 1/8 is in this convention).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..._types import NonNegInt, PosFloat, PosInt
from ...backend import generator
from ...recipes import PruneFinetune
from ...registry import register

RECIPE = "rajaraman2023.algorithm1"


# -- Lanczos on a Hessian-vector product ---------------------------------------------------------------


def lanczos_extremes(matvec: Callable[[torch.Tensor], torch.Tensor], n: int, *, steps: int = 60, seed: int = 0,
                     dtype=torch.float64, device="cpu") -> dict[str, float]:
    """Extreme eigenvalues of a symmetric n × n operator from ``steps`` Lanczos iterations (full
    re-orthogonalization, start vector from ``seed``): the smallest and largest Ritz values θ_min,
    θ_max and the residual ‖A s − θ_min s‖ of the smallest Ritz pair (= |β_m e_mᵀ y|), so that some
    eigenvalue lies within that residual of θ_min (and θ_min ≥ λ_min always). ``steps ≥ n`` is exact."""
    m = min(steps, n)
    q = torch.randn(n, generator=generator(seed, "lanczos"), dtype=torch.float64).to(device=device, dtype=dtype)
    q = q / q.norm()
    Q = torch.zeros(m, n, dtype=dtype, device=device)
    alpha = np.zeros(m)
    beta = np.zeros(m)
    k = m
    for j in range(m):
        Q[j] = q
        w = matvec(q)
        alpha[j] = float(w @ q)
        w = w - Q[: j + 1].T @ (Q[: j + 1] @ w)  # full re-orthogonalization (twice is enough)
        w = w - Q[: j + 1].T @ (Q[: j + 1] @ w)
        beta[j] = float(w.norm())
        if beta[j] <= 1e-12 * max(1.0, abs(alpha[j])):
            k = j + 1
            break
        q = w / beta[j]
    T = np.diag(alpha[:k]) + np.diag(beta[: k - 1], 1) + np.diag(beta[: k - 1], -1)
    ev, vec = np.linalg.eigh(T)
    resid = abs(beta[k - 1] * vec[-1, 0]) if k < n else 0.0
    return {"lambda_min": float(ev[0]), "lambda_max": float(ev[-1]), "residual": float(resid), "iterations": k}


def hessian_min_eig(objective, theta: tuple[torch.Tensor, ...], *, steps: int = 60, seed: int = 0) -> dict[str, float]:
    """λ_min (and λ_max) of ∇²f(θ) for one replica (θ's tensors carry a replica axis of size 1), by
    :func:`lanczos_extremes` on ``objective.hvp`` (autograd through the dense forward path)."""
    shapes = [p.shape for p in theta]
    sizes = [p.numel() for p in theta]

    def matvec(x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, sizes)
        v = tuple(pp.reshape(s) for pp, s in zip(parts, shapes, strict=True))
        return torch.cat([h.reshape(-1) for h in objective.hvp(theta, v)])

    return lanczos_extremes(matvec, sum(sizes), steps=steps, seed=seed, dtype=theta[0].dtype, device=theta[0].device)


def sosp_certificate(objective, theta: tuple[torch.Tensor, ...], *, lanczos_steps: int, seed: int = 0
                     ) -> dict[str, float]:
    """The (ϵ, γ)-SOSP certificate of Definition 2 at θ (one replica): ϵ = ‖∇f‖_F, γ = max(0, −λ_min(∇²f))
    (λ_min by Lanczos; omitted when ``lanczos_steps`` = 0), and ‖U‖_op (Thm 8 needs ≤ 3)."""
    ev = objective.evaluate(theta)
    g = float(torch.sqrt(sum((x * x).sum() for x in ev.grad)))
    U = theta[0][0]
    out: dict[str, float] = {"grad_norm": g, "op_norm": float(torch.linalg.matrix_norm(U, ord=2)),
                             "f": float(ev.loss[0])}
    if lanczos_steps > 0:
        lz = hessian_min_eig(objective, theta, steps=lanczos_steps, seed=seed)
        out.update({"lambda_min": lz["lambda_min"], "lambda_max": lz["lambda_max"],
                    "lanczos_residual": lz["residual"], "lanczos_iterations": lz["iterations"]})
    return out


# -- the recipe ---------------------------------------------------------------------------------------------


class SospCertificate:
    """The hook :class:`~overparam.recipes.PruneFinetune` calls for each lane before pruning: records
    the lane's :func:`sosp_certificate` (the run's regularizer, built once, bound to the lane) as a
    ``sosp`` event."""

    def __init__(self, lanczos_steps: int):
        self.lanczos_steps = lanczos_steps

    def __call__(self, ctx, lane) -> None:
        theta = tuple(p[None] for p in lane.theta)
        cert = sosp_certificate(ctx.objective(lane), theta, lanczos_steps=self.lanczos_steps, seed=lane.replica)
        ctx.event(lane, "sosp", **cert)


class Algorithm1(PruneFinetune):
    """001 Algorithm 1: the recipe :class:`~overparam.recipes.PruneFinetune` with :class:`SospCertificate`
    as its ``before_prune`` hook, fine-tuning with plain GD at the training step (or ``finetune_eta``)
    and convention. No pipeline of its own."""

    def __init__(self, threshold=None, finetune_steps=1000, finetune_eta=None, lanczos_steps=60):
        super().__init__(threshold, finetune_steps, finetune_eta, "gd", before_prune=SospCertificate(lanczos_steps),
                         name=RECIPE)


@register("recipe", RECIPE)
def algorithm1_recipe(threshold: PosFloat | Sequence[PosFloat] | None = None, finetune_steps: PosInt = 1000,
                      finetune_eta: PosFloat | None = None, lanczos_steps: NonNegInt = 60) -> Algorithm1:
    """001 Algorithm 1: train with λR_β (the spec's algorithm: ``gd``, or ``ipgd`` for the perturbed
    option) → SOSP certificate (‖∇f‖_F, ‖U‖_op, λ_min(∇²f) by ``lanczos_steps`` Lanczos steps; 0 skips
    it) → prune columns with norm ≤ ``threshold`` (default 2√β, per replica) → ``finetune_steps`` of
    plain GD on the unregularized loss (step ``finetune_eta``, default the training step)."""
    return Algorithm1(threshold, finetune_steps, finetune_eta, lanczos_steps)


def algorithm1(problem: dict[str, Any], *, k: int, lam, beta, eta: float, steps: int, finetune_steps: int,
               init: dict[str, Any] | None = None, grad_scale: float = 0.25, threshold=None,
               finetune_eta: float | None = None, lanczos_steps: int = 60, perturbed: dict[str, Any] | None = None,
               metrics=("loss", "test_error_sq", "column_norms"), data_seed: int = 0, init_seed: int = 0,
               algo_seed: int = 0, log_points: int = 200):
    """Algorithm 1 as one call: returns one :class:`~overparam.result.Result` (``stage`` column, ``sosp``
    and ``prune`` events). ``problem`` is a problem table (``{"name": "matrix_sensing", …}``);
    ``perturbed`` = ``{"radius", "g_thres", "escape_time", "f_thres"}`` trains with ``ipgd`` instead of ``gd``.
    ``lam`` (and ``beta``) may be lists: one replica per value, on one operator."""
    from ...experiments.execute import execute
    from ...experiments.spec import RunSpec

    alg = {"name": "gd", "eta": eta, "grad_scale": grad_scale}
    if perturbed:
        alg = {"name": "ipgd", "eta": eta, "grad_scale": grad_scale, "terminate": False, **perturbed}
    reps: dict[str, Any] = {}
    reg: dict[str, Any] = {"name": "group_lasso"}
    for name, v in (("lam", lam), ("beta", beta)):
        if isinstance(v, (list, tuple)):
            reps[f"regularizer.{name}"] = list(v)
            reg[name] = v[0]
        else:
            reg[name] = v
    recipe = {"name": RECIPE, "finetune_steps": finetune_steps, "lanczos_steps": lanczos_steps}
    if isinstance(threshold, (list, tuple)):
        reps["recipe.threshold"] = list(threshold)
        recipe["threshold"] = threshold[0]
    elif threshold is not None:
        recipe["threshold"] = threshold
    if finetune_eta is not None:
        recipe["finetune_eta"] = finetune_eta
    spec = RunSpec.parse({
        "problem": problem, "param": {"name": "symmetric", "k": k}, "algorithm": alg,
        "init": init or {"name": "gaussian", "scale": 1e-2}, "regularizer": reg, "recipe": recipe,
        "steps": steps, "metrics": list(metrics), "log": {"points": log_points}, "data_seed": data_seed,
        "init_seed": init_seed, "algo_seed": algo_seed, **({"replicas": reps} if reps else {}),
    })
    return execute(spec)


__all__ = ["RECIPE", "Algorithm1", "SospCertificate", "algorithm1", "algorithm1_recipe", "hessian_min_eig",
           "lanczos_extremes", "sosp_certificate"]
