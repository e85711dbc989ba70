"""Registrations of 000 (Li, Ma, Zhang 2018): metrics no other paper uses, named ``li2018.<name>``.
The registry imports this package on the first lookup of a ``li2018.*`` name (or of a legacy name,
the un-prefixed one earlier specs used, which stays an alias: ``metrics = ["subspace_sin"]`` still
names ``li2018.subspace_sin`` and its trace column stays ``subspace_sin``).

* ``li2018.nn_population_error`` (``_rel``) — the exact test risk of the quadratic-activation network;
* ``li2018.subspace_E_norm``, ``li2018.subspace_sin``, ``li2018.subspace_sigma_min``,
  ``li2018.subspace_Z_norm`` — the adaptive signal subspace S_t of §4 (:mod:`.subspace`, a stateful
  diagnostic of any GD run), and ``li2018.M_norm`` — ‖M_t‖ of Eq. 4;
* ``li2018.truncated_fraction``, ``li2018.trace_gap`` — quantities of Algorithm 1
  (:mod:`overparam.algorithms.quadratic_net`, algorithm ``truncated_rescaled_gd``).
"""

from __future__ import annotations

import torch

from ...algorithms.quadratic_net import TruncatedGradient
from ...metrics import MetricError, Snapshot, _truth_error_sq, _truth_norm_sq, diagnostic_metrics, metric
from .subspace import SUBSPACE_OUTPUTS, SubspaceTracker

PREFIX = "li2018."


def _trace_delta(snap: Snapshot) -> torch.Tensor:
    """tr(X − X⋆) per replica, from the factors where they exist."""
    prob = snap.problem
    fac = snap.param.factors(snap.theta)
    if fac is not None:
        L, R = fac
        tr_x = (L * R).sum((-2, -1))
    else:
        tr_x = torch.diagonal(snap.X, dim1=-2, dim2=-1).sum(-1)
    if prob.truth_factors is not None:
        A, B = prob.truth_factors
        tr_star = (A * B).sum()
    else:
        tr_star = torch.diagonal(prob.X_star, dim1=-2, dim2=-1).sum(-1)
    return tr_x - tr_star


@metric("li2018.nn_population_error", needs_truth=True, needs_matrix=True, legacy="nn_population_error")
def nn_population_error(snap: Snapshot) -> torch.Tensor:
    """E_x(ŷ − y)² = 2‖Δ‖_F² + (tr Δ)², Δ = UUᵀ − U⋆U⋆ᵀ, x ~ N(0, I): the exact test risk of the
    quadratic-activation network (000 §1.2; notes-000 §2.2)."""
    tr = _trace_delta(snap)
    return 2.0 * _truth_error_sq(snap) + tr * tr


@metric("li2018.nn_population_error_rel", needs_truth=True, needs_matrix=True, legacy="nn_population_error_rel")
def nn_population_error_rel(snap: Snapshot) -> torch.Tensor:
    """nn_population_error / (2‖X⋆‖_F² + (tr X⋆)²): the risk relative to the zero network's."""
    prob = snap.problem
    if prob.truth_factors is not None:
        A, B = prob.truth_factors
        tr_star = (A * B).sum()
    else:
        tr_star = torch.diagonal(prob.X_star).sum()
    return nn_population_error.fn(snap) / (2.0 * _truth_norm_sq(snap) + tr_star * tr_star)


# -- 000 §4: the adaptive signal subspace S_t --------------------------------------------------------

SUBSPACE = SubspaceTracker()
diagnostic_metrics(SUBSPACE, needs_truth=True, names={o: PREFIX + o for o in SUBSPACE_OUTPUTS}, docs={
    "subspace_E_norm": "‖E_t‖ = ‖(I − P_{S_t}) U_t‖ for 000's adaptive subspace S_t (Eq. 16).",
    "subspace_sin": "sin(Z_t, U⋆): sine of the largest principal angle between S_t and span(U⋆) (Thm 4.2 (19)).",
    "subspace_sigma_min": "σ_min(U⋆ᵀ Z_t), the signal strength of Thm 4.2 (21)–(22).",
    "subspace_Z_norm": "‖Z_t‖ = ‖P_{S_t} U_t‖ (Thm 4.2 (23): ≤ 5).",
})


@metric("li2018.M_norm", needs_matrix=True, legacy="M_norm")
def M_norm(snap) -> torch.Tensor:
    """‖M_t‖ (spectral), M_t = (1/m) Σ_i (⟨A_i, X_t⟩ − y_i) A_i = (1/m) 𝒜*(𝒜(X_t) − y) (000 Eq. 4,
    independent of the loss normalization; Lemma D.8: O(1)). Dense d × d; for logged steps."""
    prob = snap.problem
    ev = snap.evaluation
    M = prob.operator.adjoint(ev.z - prob.y) / prob.m
    return torch.linalg.matrix_norm(0.5 * (M + M.mT), ord=2)


# -- 000 Algorithm 1 (truncated, rescaled GD) ----------------------------------------------------------


def _truncation(snap) -> TruncatedGradient:
    piece = snap.algorithm.piece(TruncatedGradient) if hasattr(snap.algorithm, "piece") else None
    if piece is None:
        raise MetricError("metrics 'truncated_fraction' and 'trace_gap' are quantities of algorithm "
                          "'truncated_rescaled_gd'; this run's algorithm is "
                          f"{getattr(snap.algorithm, 'name', snap.algorithm)!r}")
    return piece


@metric("li2018.truncated_fraction", legacy="truncated_fraction")
def truncated_fraction(snap) -> torch.Tensor:
    """Fraction of samples with ŷ_i > R, dropped by 000 Algorithm 1's truncation at θ_t
    (algorithm 'truncated_rescaled_gd')."""
    return _truncation(snap).truncated_fraction(snap.objective, snap.theta, snap.evaluation.z)


@metric("li2018.trace_gap", legacy="trace_gap")
def trace_gap(snap) -> torch.Tensor:
    """c_t = ‖U_t‖_F² − τ, the identity bias that Algorithm 1's rescaling divides out (Eq. 25;
    algorithm 'truncated_rescaled_gd')."""
    return _truncation(snap).trace_gap(snap.objective, snap.theta)
