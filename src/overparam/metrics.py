"""Metrics: plain functions of a :class:`Snapshot`, one value (or vector) per replica.

A metric is registered by name (``@metric("test_error")``) and receives the snapshot of the run at
a logged step: θ_t, the objective, and the evaluation the algorithm already computed there (so
the train error costs nothing extra on GD). Errors follow the papers:

* ``train_error`` — relative residual ‖𝒜(X) − y‖₂ / ‖y‖₂ (000 App. B; not squared);
* ``test_error`` — relative Frobenius error ‖X − X⋆‖_F / ‖X⋆‖_F (000 App. B; not squared);
* ``train_error_sq`` — ‖𝒜(X) − y‖₂² (003's training error, absolute, squared);
* ``test_error_sq`` — ‖X − X⋆‖_F² (the theorems' squared absolute error; 003's test error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import torch

from .objective import Evaluation, Objective
from .params import Params
from .registry import get, register


class MetricError(ValueError):
    pass


class Snapshot:
    """The state of the active replicas at step t, with lazily computed shared quantities."""

    def __init__(self, t: int, theta: Params, objective: Objective, evaluation: Evaluation | None = None,
                 extras: dict[str, torch.Tensor] | None = None):
        self.t = t
        self.theta = theta
        self.objective = objective
        self._evaluation = evaluation
        self.extras = extras or {}

    @property
    def problem(self):
        return self.objective.problem

    @property
    def param(self):
        return self.objective.param

    @cached_property
    def evaluation(self) -> Evaluation:
        if self._evaluation is not None:
            return self._evaluation
        return self.objective.evaluate(self.theta, grad=False)

    @cached_property
    def X(self) -> torch.Tensor:
        return self.param.to_matrix(self.theta)

    @cached_property
    def singular_values(self) -> torch.Tensor:
        return self.param.singular_values(self.theta)

    @cached_property
    def y_norm_sq(self) -> torch.Tensor:
        y = self.problem.y
        return (y * y).sum()


@dataclass(frozen=True)
class Metric:
    """A named function of a snapshot; ``vector`` metrics return ``(R, q)``, scalar ones ``(R,)``."""

    name: str
    fn: Callable[[Snapshot], torch.Tensor]
    vector: bool = False
    needs_truth: bool = False
    needs_matrix: bool = False
    doc: str = ""

    def check(self, objective: Objective) -> None:
        """Raise :class:`MetricError` when this metric cannot be computed for the run."""
        prob = objective.problem
        if self.needs_truth and prob.X_star is None and prob.truth_factors is None:
            raise MetricError(f"metric {self.name!r} needs a ground truth X_star, which this problem does not have")
        if self.needs_matrix and len(prob.shape) != 2:
            raise MetricError(f"metric {self.name!r} applies to matrix problems; this one has shape {prob.shape}")

    def __call__(self, snap: Snapshot) -> torch.Tensor:
        return self.fn(snap)


def metric(name: str, *, vector: bool = False, needs_truth: bool = False, needs_matrix: bool = False):
    """Decorator registering ``fn(snapshot) -> Tensor`` as metric ``name``."""

    def deco(fn: Callable[[Snapshot], torch.Tensor]) -> Metric:
        m = Metric(name, fn, vector=vector, needs_truth=needs_truth, needs_matrix=needs_matrix, doc=fn.__doc__ or "")
        register("metric", name)(m)
        return m

    return deco


def get_metric(name: str) -> Metric:
    """The registered metric ``name``."""
    return get("metric", name)


def resolve(names) -> list[Metric]:
    """Metric objects for a list of names (or Metric objects)."""
    return [n if isinstance(n, Metric) else get_metric(n) for n in names]


# -- losses and errors ---------------------------------------------------------------------------


@metric("loss")
def loss(snap: Snapshot) -> torch.Tensor:
    """f(θ) = L(g(θ)) (+ regularizer), with the problem's normalization."""
    return snap.evaluation.loss


def _residual_sq(snap: Snapshot) -> torch.Tensor:
    ev = snap.evaluation
    if ev.residual_sq is not None:
        return ev.residual_sq
    # logistic loss: compare predicted probabilities with the expected labels
    res = torch.sigmoid(ev.z) - snap.problem.y
    return (res * res).sum(-1)


@metric("train_error")
def train_error(snap: Snapshot) -> torch.Tensor:
    """‖𝒜(X) − y‖₂ / ‖y‖₂ (000 App. B: relative, not squared)."""
    return (_residual_sq(snap) / snap.y_norm_sq).sqrt()


@metric("train_error_sq")
def train_error_sq(snap: Snapshot) -> torch.Tensor:
    """‖𝒜(X) − y‖₂² (absolute, squared; 003's 'training error')."""
    return _residual_sq(snap)


def _truth_error_sq(snap: Snapshot) -> torch.Tensor:
    prob = snap.problem
    if prob.X_star is not None:
        D = snap.X - prob.X_star
        return (D * D).flatten(1).sum(-1)
    # ‖LRᵀ − ABᵀ‖² = ‖LRᵀ‖² − 2⟨LRᵀ, ABᵀ⟩ + ‖ABᵀ‖² without forming n1 × n2 matrices
    fac = snap.param.factors(snap.theta)
    if fac is None:
        D = snap.X - prob.truth()
        return (D * D).flatten(1).sum(-1)
    L, R = fac
    A, B = prob.truth_factors
    own = ((L.mT @ L) * (R.mT @ R)).sum((-2, -1))
    cross = ((A.mT @ L) * (B.mT @ R)).sum((-2, -1))
    star = ((A.mT @ A) * (B.mT @ B)).sum()
    return (own - 2 * cross + star).clamp_min(0.0)


def _truth_norm_sq(snap: Snapshot) -> torch.Tensor:
    prob = snap.problem
    if prob.X_star is not None:
        return (prob.X_star * prob.X_star).sum()
    A, B = prob.truth_factors
    return ((A.mT @ A) * (B.mT @ B)).sum()


@metric("test_error", needs_truth=True)
def test_error(snap: Snapshot) -> torch.Tensor:
    """‖X − X⋆‖_F / ‖X⋆‖_F (000 App. B: relative, not squared)."""
    return (_truth_error_sq(snap) / _truth_norm_sq(snap)).sqrt()


@metric("test_error_sq", needs_truth=True)
def test_error_sq(snap: Snapshot) -> torch.Tensor:
    """‖X − X⋆‖_F² (absolute, squared: the quantity the theorems of 000 bound)."""
    return _truth_error_sq(snap)


@metric("grad_norm")
def grad_norm(snap: Snapshot) -> torch.Tensor:
    """‖∇f(θ)‖ (Frobenius norm over all tensors of θ)."""
    ev = snap.evaluation
    if ev.grad is None:
        ev = snap.objective.evaluate(snap.theta)
    return torch.stack([(g * g).flatten(1).sum(-1) for g in ev.grad]).sum(0).sqrt()


@metric("param_norm")
def param_norm(snap: Snapshot) -> torch.Tensor:
    """‖θ‖ (Frobenius norm over all tensors of θ)."""
    return torch.stack([(p * p).flatten(1).sum(-1) for p in snap.theta]).sum(0).sqrt()


# -- spectra and structure -------------------------------------------------------------------------


@metric("singular_values", vector=True, needs_matrix=True)
def singular_values(snap: Snapshot) -> torch.Tensor:
    """σ_1(X) ≥ σ_2(X) ≥ … of the end-to-end matrix (from the factors where cheaper)."""
    return snap.singular_values


@metric("effective_rank", needs_matrix=True)
def effective_rank(snap: Snapshot) -> torch.Tensor:
    """exp(H(p)) with p_i = σ_i / Σ_j σ_j (Roy & Vetterli 2007): 1 for rank one, d for flat spectra."""
    s = snap.singular_values
    p = s / s.sum(-1, keepdim=True).clamp_min(torch.finfo(s.dtype).tiny)
    return torch.exp(-(torch.xlogy(p, p)).sum(-1))


@metric("dist_best_rank_r", needs_matrix=True)
def dist_best_rank_r(snap: Snapshot) -> torch.Tensor:
    """‖X − X_r‖_F = (Σ_{i>r} σ_i²)^{1/2}, X_r the best rank-r approximation (r = the true rank)."""
    r = snap.problem.r
    if r is None:
        raise MetricError("metric 'dist_best_rank_r' needs the problem's true rank r")
    s = snap.singular_values
    return (s[..., r:] ** 2).sum(-1).sqrt()


@metric("column_norms", vector=True, needs_matrix=True)
def column_norms(snap: Snapshot) -> torch.Tensor:
    """‖U e_i‖₂ for every column of the first factor (U of UUᵀ, F of FGᵀ), 001's pruning statistic."""
    U = snap.theta[0]
    if U.ndim != 3:
        raise MetricError("metric 'column_norms' needs a matrix factor")
    return U.norm(dim=-2)


DEFAULT_METRICS = ("loss", "train_error", "test_error")


# -- 000 (Li, Ma, Zhang 2018): quadratic network and proof diagnostics ------------------------------


def _extra(snap: Snapshot, name: str, algorithm: str) -> torch.Tensor:
    """An algorithm-reported diagnostic; NaN where the algorithm took no step (the final step T)
    or reports none."""
    if name in snap.extras:
        return snap.extras[name]
    if snap.t == 0 or snap.extras:
        raise MetricError(f"metric {name!r} is reported by algorithm {algorithm!r}; this run's algorithm "
                          f"reports {', '.join(snap.extras) or 'no diagnostics'}")
    n = snap.theta[0].shape[0]
    return torch.full((n,), float("nan"), dtype=snap.theta[0].dtype, device=snap.theta[0].device)


@metric("subspace_E_norm")
def subspace_E_norm(snap: Snapshot) -> torch.Tensor:
    """‖E_t‖ = ‖(I − P_{S_t}) U_t‖ for 000's adaptive subspace S_t (Eq. 16; algorithm 'gd_subspace')."""
    return _extra(snap, "subspace_E_norm", "gd_subspace")


@metric("subspace_sin")
def subspace_sin(snap: Snapshot) -> torch.Tensor:
    """sin(Z_t, U⋆): sine of the largest principal angle between S_t and span(U⋆) (Thm 4.2 (19))."""
    return _extra(snap, "subspace_sin", "gd_subspace")


@metric("subspace_sigma_min")
def subspace_sigma_min(snap: Snapshot) -> torch.Tensor:
    """σ_min(U⋆ᵀ Z_t), the signal strength of Thm 4.2 (21)–(22) (algorithm 'gd_subspace')."""
    return _extra(snap, "subspace_sigma_min", "gd_subspace")


@metric("subspace_Z_norm")
def subspace_Z_norm(snap: Snapshot) -> torch.Tensor:
    """‖Z_t‖ = ‖P_{S_t} U_t‖ (Thm 4.2 (23): ≤ 5; algorithm 'gd_subspace')."""
    return _extra(snap, "subspace_Z_norm", "gd_subspace")


@metric("M_norm", needs_matrix=True)
def M_norm(snap: Snapshot) -> torch.Tensor:
    """‖M_t‖ (spectral), M_t = (1/m) Σ_i (⟨A_i, X_t⟩ − y_i) A_i = (1/m) 𝒜*(𝒜(X_t) − y) (000 Eq. 4,
    independent of the loss normalization; Lemma D.8: O(1)). Dense d × d; for logged steps."""
    if "M_norm" in snap.extras:
        return snap.extras["M_norm"]
    prob = snap.problem
    ev = snap.evaluation
    M = prob.operator.adjoint(ev.z - prob.y) / prob.m
    return torch.linalg.matrix_norm(0.5 * (M + M.mT), ord=2)


@metric("truncated_fraction")
def truncated_fraction(snap: Snapshot) -> torch.Tensor:
    """Fraction of samples with ŷ_i > R, dropped by 000 Algorithm 1's truncation at θ_t
    (algorithm 'truncated_rescaled_gd')."""
    return _extra(snap, "truncated_fraction", "truncated_rescaled_gd")


@metric("trace_gap")
def trace_gap(snap: Snapshot) -> torch.Tensor:
    """c_t = ‖U_t‖_F² − τ, the identity bias that Algorithm 1's rescaling divides out (Eq. 25;
    algorithm 'truncated_rescaled_gd')."""
    return _extra(snap, "trace_gap", "truncated_rescaled_gd")
