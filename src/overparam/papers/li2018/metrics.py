"""Metrics of 000 (Li, Ma, Zhang 2018) that no other paper uses: the exact test risk of the
quadratic-activation network. Registered by name with :func:`overparam.metrics.metric`, so specs
name them like any other metric (``metrics = ["nn_population_error_rel"]``); ``import overparam``
registers them (:func:`overparam.papers.load_metrics`)."""

from __future__ import annotations

import torch

from ...metrics import Snapshot, _truth_error_sq, _truth_norm_sq, metric


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


@metric("nn_population_error", needs_truth=True, needs_matrix=True)
def nn_population_error(snap: Snapshot) -> torch.Tensor:
    """E_x(ŷ − y)² = 2‖Δ‖_F² + (tr Δ)², Δ = UUᵀ − U⋆U⋆ᵀ, x ~ N(0, I): the exact test risk of the
    quadratic-activation network (000 §1.2; notes-000 §2.2)."""
    tr = _trace_delta(snap)
    return 2.0 * _truth_error_sq(snap) + tr * tr


@metric("nn_population_error_rel", needs_truth=True, needs_matrix=True)
def nn_population_error_rel(snap: Snapshot) -> torch.Tensor:
    """nn_population_error / (2‖X⋆‖_F² + (tr X⋆)²): the risk relative to the zero network's."""
    prob = snap.problem
    if prob.truth_factors is not None:
        A, B = prob.truth_factors
        tr_star = (A * B).sum()
    else:
        tr_star = torch.diagonal(prob.X_star).sum()
    return nn_population_error.fn(snap) / (2.0 * _truth_norm_sq(snap) + tr_star * tr_star)
