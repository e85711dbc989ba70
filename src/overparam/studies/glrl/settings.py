"""The settings of the GLRL study (quick and full mode), each with its reason.

Two parts, one instance family: symmetric PSD Gaussian sensing (problem ``matrix_sensing``, 000 §1.1:
y_i = ⟨A_i, X⋆⟩, A_i = (Q_i + Q_iᵀ)/2, loss (1/(2m)) Σ_i (⟨A_i, X⟩ − y_i)²) with a Haar-orthonormal
planted X⋆ (``truth = "orthonormal"``), GD U ← U − η M U (000 Eq. 5; ``grad_scale = ½``) with η = 0.2
(the phase-transition study's step) from U₀ = αI.

* **Min-trace** (:class:`MinTrace`): the phase-transition study's instances, d = 30, r = 1, κ = 1, at
  m/(dr) = 1.5 (below the trace-minimization threshold: it recovers 0/10 there at d = 30) and 3.0
  (above it: the threshold is ≈ 2 at r = 1, docs/phase_transition.md), GD from α = 10⁻² … 10⁻¹²
  (one replica per α), and the minimum-trace solution X_nuc of each instance (cvxpy + Clarabel).
* **Follow** (:class:`Follow`): r = 3 with distinct eigenvalues 1, ½, ¼ (κ = 4, geometric), so
  that GLRL has three phases and GD's incremental learning has three separated times; m = 4dr <
  d(d+1)/2 (the linear system alone does not fix X); GD from α = 10⁻⁶, 10⁻⁹, 10⁻¹² recorded every
  ``log_every`` steps against GLRL's phase-end iterates (GLRL: column norm ε = 10⁻⁶, each phase
  until ‖∇_U f‖_F ≤ 10⁻⁸ after the loss fell by 10⁻³, or ``glrl_steps``; GLRL stops at relative train
  error 10⁻⁶: below it the remaining eigenvalues of −∇f are O(10⁻⁸) and would add columns that fit
  round-off).
"""

from __future__ import annotations

from dataclasses import dataclass

STUDY = "glrl"
ETA = 0.2  # GD step (Eq. 5 form), the phase-transition study's
GRAD_SCALE = 0.5


@dataclass(frozen=True)
class MinTrace:
    d: int
    ratios: tuple[float, float]  # (below the threshold, above it)
    alphas: tuple[float, ...]
    seeds: tuple[int, ...]
    steps: int
    target_train_error: float = 1e-9
    log_points: int = 20


@dataclass(frozen=True)
class Follow:
    d: int
    r: int
    m: int
    kappa: float
    alphas: tuple[float, ...]
    seeds: tuple[int, ...]
    steps: int
    log_every: int
    eps: float = 1e-6
    glrl_steps: int = 5000
    glrl_tol: float = 1e-8
    glrl_target: float = 1e-6  # GLRL stops once its relative train error is below this
    target_train_error: float = 1e-9


@dataclass(frozen=True)
class Settings:
    label: str
    min_trace: MinTrace
    follow: Follow


ALPHAS = (1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12)

#: Quick mode (a few seconds; the test suite): d = 6, short budgets.
QUICK = Settings(
    label="quick",
    min_trace=MinTrace(d=6, ratios=(1.5, 3.0), alphas=(1e-2, 1e-4, 1e-6, 1e-9, 1e-12), seeds=(0, 1, 2), steps=500),
    follow=Follow(d=6, r=2, m=36, kappa=2.0, alphas=(1e-6, 1e-12), seeds=(0,), steps=600, log_every=10,
                  glrl_steps=800),
)

#: Full mode: d = 30 (the phase-transition instances), 10 data seeds, 20,000 steps (claim 11's budget).
FULL = Settings(
    label="full",
    min_trace=MinTrace(d=30, ratios=(1.5, 3.0), alphas=ALPHAS, seeds=tuple(range(10)), steps=20_000),
    follow=Follow(d=30, r=3, m=360, kappa=4.0, alphas=(1e-6, 1e-9, 1e-12), seeds=(0, 1, 2), steps=4000, log_every=4),
)


def settings_for(quick: bool) -> Settings:
    return QUICK if quick else FULL


__all__ = ["ALPHAS", "ETA", "FULL", "GRAD_SCALE", "QUICK", "STUDY", "Follow", "MinTrace", "Settings", "settings_for"]
