"""Registrations of 001 (Rajaraman, Devvrit, Mokhtari, Ramchandran 2023), imported when the registry first looks
up a ``rajaraman2023.*`` name (also in worker processes):

* recipe ``rajaraman2023.algorithm1`` (:mod:`.algorithm`): train with λR_β → SOSP certificate →
  prune at 2√β → fine-tune;
* metric ``rajaraman2023.op_norm``: ‖U‖_op, the quantity Thm 8 keeps ≤ 3 along (perturbed) GD;
* metric ``rajaraman2023.max_cos``: the largest |cos| between two columns of U whose norms exceed
  ``COS_FLOOR`` (Lemma 24 / eq. 202: large columns of an approximate SOSP are nearly orthogonal).
"""

from __future__ import annotations

import torch

from ...metrics import Snapshot, metric
from . import algorithm  # noqa: F401  (registers the recipe)

#: Columns below this norm are left out of ``rajaraman2023.max_cos`` (their direction is noise).
COS_FLOOR = 0.05


@metric("rajaraman2023.op_norm", needs_matrix=True)
def op_norm(snap: Snapshot) -> torch.Tensor:
    """‖U‖_op, the largest singular value of the factor U (001 Thm 8: stays ≤ 3 when α ≤ 1/8, λ ≤ √β)."""
    return torch.linalg.matrix_norm(snap.theta[0], ord=2)


@metric("rajaraman2023.max_cos", needs_matrix=True)
def max_cos(snap: Snapshot) -> torch.Tensor:
    """max_{i≠j} |⟨Ue_i, Ue_j⟩| / (‖Ue_i‖‖Ue_j‖) over columns with norm > ``COS_FLOOR`` (0 when fewer
    than two; 001 Lemma 24, eq. 202)."""
    U = snap.theta[0]
    n = U.norm(dim=-2)  # (R, k)
    C = (U.mT @ U) / (n[..., :, None] * n[..., None, :]).clamp_min(1e-300)
    big = n > COS_FLOOR
    mask = big[..., :, None] & big[..., None, :]
    eye = torch.eye(U.shape[-1], dtype=torch.bool, device=U.device)
    C = torch.where(mask & ~eye, C.abs(), torch.zeros_like(C))
    return C.flatten(1).max(-1).values
