"""Metrics: functions of a :class:`Snapshot`, one value (or vector) per replica, plain or stateful.

A metric is registered by name (``@metric("test_error")``) and receives the snapshot of the run at
a logged step: θ_t, the objective, the algorithm, and the evaluation the algorithm already computed
there (so the train error costs nothing extra on GD).

A **stateful diagnostic** (:class:`Diagnostic`) carries state from step to step: ``init`` at θ_0,
``update`` after every step (it sees θ_t, the step's evaluation and the step sizes), ``read`` at
logged steps. Running sums (004's Γ_t), tracked subspaces (000's S_t) and restart windows (003) are
diagnostics; each of their outputs is an ordinary metric (:func:`diagnostic_metrics`), and the run
updates a diagnostic only when one of its metrics is requested.

Errors follow the papers:

* ``train_error`` — relative fit ‖ψ(z) − y‖₂ / ‖y‖₂, ψ from the loss (identity for squared losses:
  the residual ‖𝒜(X) − y‖₂ / ‖y‖₂ of 000 App. B, not squared; σ for the logistic loss);
* ``test_error`` — relative Frobenius error ‖X − X⋆‖_F / ‖X⋆‖_F (000 App. B; not squared);
* ``train_error_sq`` — ‖ψ(z) − y‖₂² (003's training error ‖𝒜(X) − y‖₂², absolute, squared);
* ``test_error_sq`` — ‖X − X⋆‖_F² (the theorems' squared absolute error; 003's test error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch

from .backend import select
from .errors import OverparamError
from .objective import Evaluation, Objective
from .params import Params
from .registry import get, register


class MetricError(OverparamError, ValueError):
    pass


class Snapshot:
    """The state of the active replicas at step t, with lazily computed shared quantities.

    ``algorithm`` is the run's algorithm (metrics of an algorithm's own quantities read its pieces),
    ``diagnostics`` the states of the run's stateful diagnostics at θ_t, by diagnostic name."""

    def __init__(self, t: int, theta: Params, objective: Objective, evaluation: Evaluation | None = None,
                 algorithm: Any = None, diagnostics: dict[str, Any] | None = None):
        self.t = t
        self.theta = theta
        self.objective = objective
        self._evaluation = evaluation
        self.algorithm = algorithm
        self.diagnostics = diagnostics or {}
        self._read: dict[str, dict[str, torch.Tensor]] = {}

    def diagnostic(self, diag: Diagnostic) -> dict[str, torch.Tensor]:
        """The outputs of a stateful diagnostic at θ_t (read once per snapshot)."""
        if diag.name not in self._read:
            self._read[diag.name] = diag.read(self.diagnostics[diag.name], self)
        return self._read[diag.name]

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
        """X = to_matrix(θ); taken from the evaluation's z where the operator is a reshape of X
        (factorization: the step's own F Gᵀ, so a logged step forms no extra product)."""
        ev = self._evaluation
        if ev is not None and ev.z is not None:
            X = self.problem.operator.matrix_of(ev.z)
            if X is not None:
                return X
        return self.param.to_matrix(self.theta)

    @cached_property
    def singular_values(self) -> torch.Tensor:
        return self.param.singular_values(self.theta)

    @cached_property
    def y_norm_sq(self) -> torch.Tensor:
        y = self.problem.y
        return (y * y).sum()


class Diagnostic:
    """A stateful metric family (module docstring). Subclasses set ``name`` and ``outputs`` and
    implement ``init``, ``update`` and ``read``; state tensors carry the replica axis first."""

    name: str = "diagnostic"
    outputs: tuple[str, ...] = ()
    #: keys of the state dict that ``init`` determines and the run never changes, the same for every
    #: replica (objects a snapshot cannot store: :mod:`overparam.snapshot` takes them from ``init``)
    snapshot_static: tuple[str, ...] = ()

    def init(self, objective: Objective, theta: Params, algorithm: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def update(self, state: Any, t: int, theta: Params, out: Any, objective: Objective) -> Any:  # pragma: no cover
        """The state at θ_{t+1}, from the state at θ_t and the algorithm's step ``out``
        (:class:`~overparam.algorithms.base.StepOut`: θ_{t+1}, the evaluation at θ_t, the step sizes)."""
        raise NotImplementedError

    def read(self, state: Any, snap: Snapshot) -> dict[str, torch.Tensor]:  # pragma: no cover - interface
        raise NotImplementedError

    def select(self, state: Any, keep: torch.Tensor) -> Any:
        return select(state, keep)


@dataclass(frozen=True)
class Metric:
    """A named function of a snapshot; ``vector`` metrics return ``(R, q)``, scalar ones ``(R,)``.
    A metric of a stateful :class:`Diagnostic` has ``diagnostic`` set and reads its output."""

    name: str
    fn: Callable[[Snapshot], torch.Tensor]
    vector: bool = False
    needs_truth: bool = False
    needs_matrix: bool = False
    doc: str = ""
    diagnostic: Diagnostic | None = None

    def check(self, objective: Objective) -> None:
        """Raise :class:`MetricError` when this metric cannot be computed for the run."""
        prob = objective.problem
        if self.needs_truth and prob.X_star is None and prob.truth_factors is None:
            raise MetricError(f"metric {self.name!r} needs a ground truth X_star, which this problem does not have")
        if self.needs_matrix and len(prob.shape) != 2:
            raise MetricError(f"metric {self.name!r} applies to matrix problems; this one has shape {prob.shape}")

    def __call__(self, snap: Snapshot) -> torch.Tensor:
        return self.fn(snap)


def metric(name: str, *, vector: bool = False, needs_truth: bool = False, needs_matrix: bool = False,
           legacy: str | None = None):
    """Decorator registering ``fn(snapshot) -> Tensor`` as metric ``name`` (a paper's metric is
    ``<id>.<name>``; ``legacy`` is the name earlier specs used, an alias whose trace column keeps it)."""

    def deco(fn: Callable[[Snapshot], torch.Tensor]) -> Metric:
        m = Metric(name, fn, vector=vector, needs_truth=needs_truth, needs_matrix=needs_matrix, doc=fn.__doc__ or "")
        register("metric", name, legacy=legacy)(m)
        return m

    return deco


def diagnostic_metrics(diag: Diagnostic, *, vector: tuple[str, ...] = (), needs_truth: bool = False,
                       docs: dict[str, str] | None = None, names: dict[str, str] | None = None) -> list[Metric]:
    """Register every output of ``diag`` as a metric: under the output's own name, or under
    ``names[output]`` (a paper's ``<id>.<name>``) with the output's name as its legacy alias."""
    out = []
    for output in diag.outputs:
        name = (names or {}).get(output, output)
        m = Metric(name, lambda snap, output=output: snap.diagnostic(diag)[output], vector=output in vector,
                   needs_truth=needs_truth, doc=(docs or {}).get(output, ""), diagnostic=diag)
        register("metric", name, legacy=output if name != output else None)(m)
        out.append(m)
    return out


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


@metric("train_error")
def train_error(snap: Snapshot) -> torch.Tensor:
    """‖ψ(z) − y‖₂ / ‖y‖₂, the loss's fit (squared loss: ‖𝒜(X) − y‖₂ / ‖y‖₂, 000 App. B: relative,
    not squared; logistic loss: predicted against expected probabilities)."""
    return (snap.evaluation.fit_sq / snap.y_norm_sq).sqrt()


@metric("train_error_sq")
def train_error_sq(snap: Snapshot) -> torch.Tensor:
    """‖ψ(z) − y‖₂² (squared loss: ‖𝒜(X) − y‖₂², absolute, squared; 003's 'training error')."""
    return snap.evaluation.fit_sq


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
