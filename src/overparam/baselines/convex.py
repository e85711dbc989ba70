"""Convex nuclear-norm minimization: the baseline of the Gunasekar et al. conjecture (000 §1, 004).

For a problem with measurements y = 𝒜(X⋆) (+ noise), solve

    PSD problems (trace minimization):   min tr X     s.t.  X ⪰ 0,  𝒜(X) = y   (or ‖𝒜(X) − y‖₂ ≤ ε)
    otherwise (nuclear norm):            min ‖X‖_*    s.t.          𝒜(X) = y   (or ‖𝒜(X) − y‖₂ ≤ ε)

with cvxpy (Diamond & Boyd 2016) and an interior-point (Clarabel, default) or first-order (SCS)
conic solver, both installed from the package index by ``pip install 'overparam[convex]'``. On
X ⪰ 0, tr X = ‖X‖_*, so the PSD program is the nuclear-norm program restricted to the cone — the
"minimum-trace solution" of 000 (Li, Ma, Zhang 2018), which over-parameterized GD from small
init approaches under RIP. ‖·‖₂ is the Euclidean norm of the residual vector, with no 1/m: ε is
on the scale of ‖noise‖₂ ≈ σ√m.

𝒜 is built from the problem's operator, not re-drawn: entry sampling (completion) and the identity
(factorization) as index sets on vec(X); any other operator (dense or matrix-free Gaussian sensing,
packed or not, rank-one sensing, ``from_arrays``) through its m × d1·d2 matrix
(:meth:`~overparam.operators.LinearOperator.dense_matrix`). A symmetric-domain operator reads
only sym(X), so the variable is then symmetric.

Size limits (``MAX_PSD_DIM``, ``MAX_NUCLEAR_ENTRIES`` per solver; ``MAX_DENSE_ENTRIES``) keep one
solve under about a minute on the 2-core development machine, measured under a load of 6–10 from
other jobs (cvxpy 1.9.3, Clarabel 0.11.1, SCS 3.3.1; Gaussian sensing, r = 2, m = 5d):

==========================  ==========================================  =========================================
program                     Clarabel (interior point, ≈ 1e-8)            SCS (first order, ≈ 1e-4 relative error)
==========================  ==========================================  =========================================
PSD trace, d × d            d = 40: 2.0 s, 60: 16 s, 80: 89 s → d ≤ 70  d = 80: 4.2 s, 120: 57 s, 160: 185 s → d ≤ 120
nuclear norm, d × d         d = 30: 6.7 s, 40: 42 s, 50: 240 s          d = 50: 3.3 s, 70: 3.3 s, 100: 21 s
                            → d1·d2 ≤ 1600                              → d1·d2 ≤ 10 000
==========================  ==========================================  =========================================

cvxpy writes ‖X‖_* as an SDP with a (d1+d2)-dimensional PSD block, which is why it costs far more
than the PSD trace program of the same d. Clarabel ends degenerate low-rank instances with status
``optimal_inaccurate`` at ≈ 1e-7 relative error (kept as solved).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import OverparamError
from ..operators import EntrySampling, IdentityOperator
from ..problems import Problem

#: Largest d of PSD trace minimization (one d × d PSD cone), per solver (module docstring's table).
MAX_PSD_DIM = {"CLARABEL": 70, "SCS": 120}
#: Largest d1·d2 of nuclear-norm minimization (a (d1+d2)-dimensional PSD cone), per solver.
MAX_NUCLEAR_ENTRIES = {"CLARABEL": 1600, "SCS": 10_000}
#: Largest m·d1·d2 of a dense measurement matrix handed to cvxpy (sensing; 5·10⁷ float64 = 400 MB).
MAX_DENSE_ENTRIES = 50_000_000
#: cvxpy statuses whose X is returned; any other status returns X filled with NaN.
SOLVED = ("optimal", "optimal_inaccurate")
SOLVERS = ("CLARABEL", "SCS")


class ConvexError(OverparamError, ValueError):
    """A convex program that cannot be set up: cvxpy missing, a problem too large, an unknown solver."""


@dataclass(frozen=True)
class NuclearNormResult:
    """The solution of :func:`nuclear_norm`.

    Attributes:
        X: the minimizer, float64 on the CPU, the problem's matrix shape (NaN when not solved).
        status: cvxpy's status (``"optimal"``, ``"optimal_inaccurate"``, ``"infeasible"``, …,
            or ``"solver_error"`` when the solver failed).
        objective: tr X (PSD) or ‖X‖_* at the solution (NaN when not solved).
        solve_time_s: wall time of cvxpy's solve (canonicalization included).
        solver: the conic solver used.
        psd: whether the PSD trace program was solved (else the nuclear-norm program).
        eps: the residual bound ε (0: equality constraints).
    """

    X: torch.Tensor
    status: str
    objective: float
    solve_time_s: float
    solver: str
    psd: bool = False
    eps: float = 0.0

    @property
    def solved(self) -> bool:
        return self.status in SOLVED


def _cvxpy():
    try:
        import cvxpy as cp
    except ImportError as exc:
        raise ConvexError("the convex baseline needs cvxpy and a conic solver: pip install 'overparam[convex]'") \
            from exc
    return cp


def is_psd_problem(problem: Problem, tol: float = 1e-9) -> bool:
    """Whether the planted X⋆ is symmetric PSD (λ_min ≥ −tol·‖X⋆‖₂); without a truth, whether the
    operator acts on symmetric matrices (the project's symmetric sensing problems are PSD)."""
    X = problem.truth()
    if X is None:
        return bool(problem.operator.symmetric_domain)
    X = X.detach().to("cpu", torch.float64)
    if X.ndim != 2 or X.shape[0] != X.shape[1]:
        return False
    scale = float(torch.linalg.matrix_norm(X, ord=2)) or 1.0
    if float((X - X.T).abs().max()) > tol * scale:
        return False
    return float(torch.linalg.eigvalsh(X).min()) >= -tol * scale


def _measurements(cp, problem: Problem, X):
    """𝒜(X) as a cvxpy expression of the variable X (``d1 × d2``; cvxpy's vec is column-major)."""
    op = problem.operator
    d1, d2 = problem.shape
    vecX = cp.reshape(X, (d1 * d2,), order="F")                           # column-major vec(X)
    if isinstance(op, EntrySampling):
        rows, cols = op.rows.cpu().numpy(), op.cols.cpu().numpy()
        return vecX[cols * d1 + rows]
    if isinstance(op, IdentityOperator):
        return vecX[(np.arange(d1)[:, None] + d1 * np.arange(d2)[None, :]).reshape(-1)]
    if op.m * d1 * d2 > MAX_DENSE_ENTRIES:
        raise ConvexError(f"nuclear_norm: the measurement matrix has m·d1·d2 = {op.m}·{d1}·{d2} = "
                          f"{op.m * d1 * d2:.3g} entries; accepted: at most {MAX_DENSE_ENTRIES:.3g}")
    M = op.to(torch.device("cpu"), torch.float64).dense_matrix()            # 𝒜(X) = M vec_row(X)
    M = M.reshape(op.m, d1, d2).transpose(1, 2).reshape(op.m, d1 * d2)     # … = M' vec_col(X)
    return M.numpy() @ vecX


def _check_size(shape: tuple[int, ...], psd: bool, solver: str) -> None:
    if len(shape) != 2:
        raise ConvexError(f"nuclear_norm: needs a matrix problem; got a vector problem of shape {tuple(shape)}")
    d1, d2 = shape
    if psd:
        if d1 != d2:
            raise ConvexError(f"nuclear_norm: psd=True needs a square problem; got {d1}×{d2}")
        if d1 > MAX_PSD_DIM[solver]:
            raise ConvexError(f"nuclear_norm: PSD trace minimization at d = {d1} is too large for {solver}; "
                              f"accepted: d <= {MAX_PSD_DIM[solver]} (about a minute on 2 cores; SCS allows "
                              f"d <= {MAX_PSD_DIM['SCS']} at lower accuracy)")
    elif d1 * d2 > MAX_NUCLEAR_ENTRIES[solver]:
        raise ConvexError(f"nuclear_norm: nuclear-norm minimization of a {d1}×{d2} matrix (d1·d2 = {d1 * d2}) "
                          f"is too large for {solver}; accepted: d1·d2 <= {MAX_NUCLEAR_ENTRIES[solver]} (about a "
                          f"minute on 2 cores; SCS allows d1·d2 <= {MAX_NUCLEAR_ENTRIES['SCS']} at lower accuracy)")


def nuclear_norm(
    problem: Problem,
    *,
    eps: float = 0.0,
    solver: str = "CLARABEL",
    psd: bool | None = None,
    solver_options: dict | None = None,
    verbose: bool = False,
) -> NuclearNormResult:
    """Minimum nuclear-norm (or, for PSD problems, minimum-trace PSD) X consistent with y.

    Args:
        problem: a matrix problem (sensing, completion, factorization, ``from_arrays``).
        eps: ε = 0 imposes 𝒜(X) = y; ε > 0 imposes ‖𝒜(X) − y‖₂ ≤ ε (no 1/m).
        solver: ``"CLARABEL"`` (interior point, ≈ 1e-8 accuracy) or ``"SCS"`` (first order, faster,
            ≈ 1e-4 relative error at its default tolerances; larger size limits).
        psd: ``True``: min tr X s.t. X ⪰ 0; ``False``: min ‖X‖_*; ``None``: PSD when the planted X⋆
            is symmetric PSD (:func:`is_psd_problem`).
        solver_options: keyword arguments passed to the solver through ``cvxpy.Problem.solve``.
        verbose: print the solver's log.

    Returns:
        A :class:`NuclearNormResult`; a status outside ``SOLVED`` (infeasible with ε = 0 and noisy y,
        a solver failure) gives X and objective NaN rather than an exception.

    Raises:
        ConvexError: cvxpy missing, a vector problem, a problem above the size limits (module
            docstring), an unknown solver, ε < 0.
    """
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
        raise ConvexError(f"nuclear_norm: eps: got {eps!r}; accepted: a finite number >= 0")
    solver = str(solver).upper()
    if solver not in SOLVERS:
        raise ConvexError(f"nuclear_norm: solver: got {solver!r}; accepted: {', '.join(SOLVERS)}")
    if psd is None:
        psd = is_psd_problem(problem)
    shape = tuple(problem.shape)
    _check_size(shape, psd, solver)
    cp = _cvxpy()
    if solver not in cp.installed_solvers():
        raise ConvexError(f"nuclear_norm: solver {solver} is not installed; installed: "
                          f"{', '.join(cp.installed_solvers())} (pip install 'overparam[convex]')")
    d1, d2 = shape
    if psd:
        X = cp.Variable((d1, d1), PSD=True)
        objective = cp.trace(X)
    else:
        X = cp.Variable((d1, d2), symmetric=bool(problem.operator.symmetric_domain) and d1 == d2)
        objective = cp.normNuc(X)
    z = _measurements(cp, problem, X)
    y = problem.y.detach().to("cpu", torch.float64).numpy()
    constraint = (z == y) if eps == 0 else (cp.norm(z - y, 2) <= float(eps))
    program = cp.Problem(cp.Minimize(objective), [constraint])
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # "solution may be inaccurate": the status says it
            warnings.simplefilter("ignore", UserWarning)
            program.solve(solver=solver, verbose=verbose, **(solver_options or {}))
        status = str(program.status)
    except cp.error.SolverError:
        status = "solver_error"
    elapsed = time.perf_counter() - t0
    if status in SOLVED and X.value is not None:
        Xv = torch.as_tensor(np.asarray(X.value), dtype=torch.float64)
        obj = float(program.value)
    else:
        Xv = torch.full((d1, d2), float("nan"), dtype=torch.float64)
        obj = float("nan")
    return NuclearNormResult(X=Xv, status=status, objective=obj, solve_time_s=elapsed, solver=solver,
                             psd=bool(psd), eps=float(eps))


__all__ = ["MAX_DENSE_ENTRIES", "MAX_NUCLEAR_ENTRIES", "MAX_PSD_DIM", "ConvexError", "NuclearNormResult",
           "is_psd_problem", "nuclear_norm"]
