"""The benchmark cases: one GD step through the library against the NumPy peer and the memory limit.

Every case builds a problem with the library's factories, a parameterization and θ (fixed across
repeats: a step's cost does not depend on the values), and times

* **ours** — one full GD step through the library: :meth:`Objective.evaluate` (z, loss, ∇) and the
  update θ − η s ∇f, as :class:`~overparam.algorithms.GD` performs it;
* **baseline** — the same step written as a paper's NumPy script would (:mod:`.baselines`) on the
  same data; the suite checks that both produce the same θ_{t+1};
* **read** — reading the operator's stored data once (:mod:`.memory`), where the operator stores
  data that every step must read.

Sizes follow the performance issue; ``scale`` shrinks them for the test suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import algorithms, init, params, problems
from ..algorithms.base import RunContext
from ..objective import Objective
from . import baselines


@dataclass(frozen=True)
class Target:
    """A pass criterion on a measured ratio: ``metric`` (``"speedup"``, ``"per_read"``) vs ``bound``,
    judged on the ratio's ``stat`` over repeats (``"median"``, or ``"min"`` for a floor)."""

    metric: str
    op: str  # ">=" or "<="
    bound: float
    text: str
    stat: str = "median"

    def met(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound


@dataclass
class Case:
    """What to time for one benchmark row (see the module docstring)."""

    name: str
    description: str
    params: dict[str, Any]
    ours: Callable[[], Any]
    baseline: Callable[[], Any] | None = None
    baseline_kind: str = ""
    read: list[torch.Tensor] | None = None
    per: int = 1  # divide times by this (replica-steps per call)
    baseline_per: int = 1
    targets: list[Target] = field(default_factory=list)
    agree: Callable[[Any, Any], float] | None = None  # relative difference of ours vs baseline results
    extrapolate_from: str | None = None  # baseline taken from another case, scaled (quick mode)
    extrapolate_factor: float = 1.0
    note: str = ""


def _sz(n: int, scale: float, lo: int = 2) -> int:
    return max(lo, int(round(n * scale)))


def library_step(problem, param, theta, eta: float, grad_scale: float) -> Callable[[], tuple[torch.Tensor, ...]]:
    """One GD step through the library (the ``GD.step`` of :mod:`overparam.algorithms.gd`)."""
    objective = Objective(problem, param)
    algo = algorithms.gd(eta=eta, grad_scale=grad_scale)
    R = theta[0].shape[0]
    ctx = RunContext(R=R, algo_seeds=[0] * R, device=theta[0].device, dtype=theta[0].dtype, steps=1)
    state = algo.init_state(objective, theta, ctx)

    def step():
        out, _ = algo.step(objective, theta, state, 0)
        if theta[0].device.type == "cuda":
            torch.cuda.synchronize()
        return out.theta

    return step


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def _theta(param, problem, alpha, R: int = 1, kind: str = "identity"):
    ini = init.scaled_identity(alpha=[alpha] * R) if kind == "identity" else init.gaussian(scale=[alpha] * R)
    return ini(param, problem.shape, seeds=list(range(R)), device=problem.device, dtype=problem.dtype)


def sensing(*, d: int = 100, r: int = 5, m: int = 2500, R: int = 1, dtype: str = "float64", name: str,
            targets=(), with_baseline: bool = True, device: str | None = None) -> Case:
    """GD on packed symmetric Gaussian sensing, X = UUᵀ with U d × d (k = d), 000's step."""
    prob = problems.matrix_sensing(d=d, r=r, m=m, data_seed=0, dtype=dtype, device=device)
    param = params.Symmetric()
    theta = _theta(param, prob, 0.05, R)
    eta = 0.0025
    ours = library_step(prob, param, theta, eta, 0.5)
    case = Case(name, f"GD step, Gaussian sensing d={d}, m={m}, k={d}, {dtype}" + (f", R={R} replicas" if R > 1 else ""),
                {"d": d, "m": m, "k": d, "r": r, "R": R, "dtype": dtype}, ours, per=R, targets=list(targets),
                read=[prob.operator.A])
    if with_baseline:
        op = prob.operator
        A = op.unembed(op.A.cpu()).numpy()  # (m, d, d) symmetric A_i, as a paper's script stores them
        y = prob.y.cpu().numpy()
        U0 = theta[0][0].cpu().numpy()
        case.baseline = lambda: baselines.sensing_step(A, y, U0, eta)
        case.baseline_kind = "NumPy per-measurement einsum, A (m, d, d)"
        case.agree = lambda o, b: _rel(o[0][0].cpu().numpy(), b)
    return case


def completion(*, n: int, p: float, k: int = 10, name: str, targets=(), with_baseline: bool = True) -> Case:
    """GD on matrix completion, X = UVᵀ with n × k factors, loss (1/(2p))‖P_Ω(X − X⋆)‖²."""
    prob = problems.matrix_completion(d1=n, d2=n, r=k, p=p, data_seed=0)
    param = params.Asymmetric(k=k)
    theta = _theta(param, prob, 0.1, kind="gaussian")
    eta = 0.5
    ours = library_step(prob, param, theta, eta, 1.0)
    op = prob.operator
    case = Case(name, f"GD step, completion n={n}, p={p}, k={k} ({op.m} observed entries)",
                {"n": n, "p": p, "k": k, "observed": op.m}, ours, targets=list(targets),
                read=[op.rows, op.cols])
    if with_baseline:
        mask = op.mask().numpy()
        Y = np.zeros((n, n))
        Y[op.rows.numpy(), op.cols.numpy()] = prob.y.numpy()
        U0, V0 = (t[0].numpy() for t in theta)
        p_eff = prob.info["p"]
        case.baseline = lambda: baselines.completion_step(mask, Y, U0, V0, eta, p_eff)
        case.baseline_kind = "NumPy dense 0/1 mask (n × n)"
        case.agree = lambda o, b: max(_rel(o[0][0].numpy(), b[0]), _rel(o[1][0].numpy(), b[1]))
    return case


def rank_one(*, m: int = 4000, d: int = 100, r: int = 5, name: str, targets=()) -> Case:
    """GD on rank-one sensing (quadratic network) z_i = ‖Uᵀx_i‖², U d × d."""
    prob = problems.quadratic_network(d=d, r=r, m=m, data_seed=0)
    param = params.Symmetric()
    theta = _theta(param, prob, 0.05)
    eta = 0.001
    ours = library_step(prob, param, theta, eta, 0.5)
    x = prob.operator.x.numpy()
    A = np.einsum("mi,mj->mij", x, x)  # materialized x_i x_iᵀ
    y = prob.y.numpy()
    U0 = theta[0][0].numpy()
    return Case(name, f"GD step, rank-one sensing m={m}, d={d}, k={d}", {"m": m, "d": d, "k": d}, ours,
                baseline=lambda: baselines.rank_one_step(A, y, U0, eta),
                baseline_kind="NumPy einsum over materialized x xᵀ (m, d, d)", targets=list(targets),
                read=[prob.operator.x], agree=lambda o, b: _rel(o[0][0].numpy(), b))


def factorization(*, d1: int = 250, d2: int = 200, k: int = 200, r: int = 5, name: str) -> Case:
    """GD on ½‖FGᵀ − X‖_F² (002), F d1 × k, G d2 × k."""
    prob = problems.matrix_factorization(d1=d1, d2=d2, r=r, data_seed=0)
    param = params.Asymmetric(k=k)
    theta = _theta(param, prob, 0.1, kind="gaussian")
    eta = 0.1
    ours = library_step(prob, param, theta, eta, 1.0)
    X = prob.references["X_obs"].numpy()
    F0, G0 = (t[0].numpy() for t in theta)
    return Case(name, f"GD step, factorization {d1}×{d2}, k={k}", {"d1": d1, "d2": d2, "k": k}, ours,
                baseline=lambda: baselines.factorization_step(X, F0, G0, eta),
                baseline_kind="NumPy matrix products",
                agree=lambda o, b: max(_rel(o[0][0].numpy(), b[0]), _rel(o[1][0].numpy(), b[1])))


def batched_vs_separate(*, d: int = 100, r: int = 5, m: int = 2500, R: int = 8, steps: int = 300, name: str,
                        targets=()) -> Case:
    """``overparam.run`` end to end: R replicas (R init scales) in one run vs R separate runs."""
    from ..run import run

    prob = problems.matrix_sensing(d=d, r=r, m=m, data_seed=0)
    param = params.Symmetric()
    alphas = [10.0 ** (-1 - 2 * i / max(R - 1, 1)) for i in range(R)]
    algo = algorithms.gd(eta=0.0025, grad_scale=0.5)

    def batched():
        return run(prob, param, algo, init=init.scaled_identity(alpha=alphas), steps=steps).wall_time

    def separate():
        return sum(run(prob, param, algo, init=init.scaled_identity(alpha=a), steps=steps).wall_time for a in alphas)

    return Case(name, f"op.run, {R} replicas in one run vs {R} separate runs ({steps} steps, d={d}, m={m})",
                {"d": d, "m": m, "R": R, "steps": steps}, batched, baseline=separate,
                baseline_kind=f"{R} separate op.run calls", per=R * steps, baseline_per=R * steps,
                targets=list(targets))


def run_vs_loop_sensing(*, d: int, r: int, m: int, k: int, R: int = 1, steps: int = 3000, eta: float,
                        grad_scale: float, normalization: str, ensemble: str = "sym", alpha: float = 1e-3,
                        name: str, label: str, targets=()) -> Case:
    """``overparam.run`` end to end (T steps, the default log schedule, train and test error recorded)
    on packed symmetric sensing against the NumPy loop of two GEMVs per step on a flat A (m × d²),
    per replica-step. The peer runs replica 0's initialization; both must end at the same θ_T."""
    from ..run import run

    r = min(r, d)
    prob = problems.matrix_sensing(d=d, r=r, m=m, data_seed=0, ensemble=ensemble, normalization=normalization)
    param = params.Symmetric(k=k)
    alphas = [alpha * (1 + i / max(R, 1)) for i in range(R)]
    ini = init.gaussian(scale=alphas if R > 1 else alphas[0])
    algo = algorithms.gd(eta=eta, grad_scale=grad_scale)

    def ours():
        return run(prob, param, algo, init=ini, steps=steps, metrics=["train_error", "test_error"])

    op_ = prob.operator
    A = op_.unembed(op_.A).reshape(m, d * d).numpy().copy()  # the A_i, flat, as a script stores them
    y = prob.y.numpy()
    U0 = ini(param, prob.shape, seeds=[0] * R, device=prob.device, dtype=prob.dtype)[0][0].numpy()
    step = eta * grad_scale * 4 * prob.loss.c
    return Case(name, f"{label}: op.run, {steps} GD steps, sensing d={d}, m={m}, k={k}"
                + (f", R={R} replicas" if R > 1 else ""),
                {"d": d, "m": m, "k": k, "r": r, "R": R, "steps": steps}, ours,
                baseline=lambda: baselines.sensing_gemv_loop(A, y, U0, step, steps),
                baseline_kind="NumPy loop, two GEMVs per step on a flat A (m × d²)", per=R * steps,
                baseline_per=steps, targets=list(targets),
                agree=lambda o, b: _rel(o.theta[0][0].numpy(), b))


def run_vs_loop_factorization(*, d1: int = 250, d2: int = 200, k: int = 200, r: int = 5, steps: int = 200,
                              name: str, targets=()) -> Case:
    """``overparam.run`` end to end on ½‖FGᵀ − X‖² (002) against the NumPy loop of plain matrix
    products (the residual once, then R G and Rᵀ F), per step."""
    from ..run import run

    prob = problems.matrix_factorization(d1=d1, d2=d2, r=r, data_seed=0)
    param = params.Asymmetric(k=k)
    ini = init.gaussian(scale=0.1)
    eta = 0.1

    def ours():
        return run(prob, param, algorithms.gd(eta=eta), init=ini, steps=steps, metrics=["train_error", "test_error"])

    X = prob.references["X_obs"].numpy()
    F0, G0 = (t[0].numpy() for t in ini(param, prob.shape, seeds=[0], device=prob.device, dtype=prob.dtype))
    return Case(name, f"002 factorization: op.run, {steps} GD steps, {d1}×{d2}, k={k}",
                {"d1": d1, "d2": d2, "k": k, "steps": steps}, ours,
                baseline=lambda: baselines.factorization_loop(X, F0, G0, eta, steps),
                baseline_kind="NumPy loop, plain matrix products", per=steps, baseline_per=steps,
                targets=list(targets),
                agree=lambda o, b: max(_rel(o.theta[0][0].numpy(), b[0]), _rel(o.theta[1][0].numpy(), b[1])))


def blas_product(*, m: int, k: int, n: int, name: str, what: str) -> Case:
    """One float64 matrix product (m × k)(k × n), torch's BLAS (ours) against NumPy's BLAS on the
    same memory: no target, it tells which BLAS a GEMM-bound case's ratio depends on."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    tA, tB = torch.from_numpy(A), torch.from_numpy(B)
    return Case(name, f"BLAS alone: the {what} product, ({m}×{k})·({k}×{n}) float64, torch vs NumPy",
                {"m": m, "k": k, "n": n}, ours=lambda: tA @ tB, baseline=lambda: A @ B,
                baseline_kind="NumPy's BLAS, the same operands",
                agree=lambda o, b: _rel(o.numpy(), b))


#: The fused step's goal: the operator read once per step (plus the step's small work around it).
READS_T = Target("per_read", "<=", 1.5, "≤ 1.5 reads of A per step")


def suite(quick: bool = False, *, scale: float = 1.0, cuda: bool | None = None) -> list[tuple[str, Callable[[], Case]]]:
    """The cases of the performance issue as ``(name, constructor)``; a constructor builds its data
    when called, so unselected cases cost nothing.

    ``quick`` shortens the op.run comparison and takes the n = 10 000 dense-mask baseline from
    the n = 2000 one scaled by the entry count (see :func:`overparam.bench.run_suite`);
    ``scale`` < 1 shrinks every size (tests).
    """
    s = scale
    d, m = _sz(100, s), _sz(2500, s * s, 20)
    T = Target
    T_small = _sz(3000, s, 30)
    small_t = T("speedup", ">=", 1.5, "≥ 1.5× the NumPy loop")
    sens_t = [T("speedup", ">=", 8.0, "≥ 8× faster than einsum"),
              T("per_read", "<=", 3.0, "≤ 1.5 × two reads")]
    cases: list[tuple[str, Callable[[], Case]]] = [
        ("sensing_f64", lambda: sensing(d=d, m=m, name="sensing_f64", targets=sens_t)),
        ("sensing_f32", lambda: sensing(d=d, m=m, dtype="float32", name="sensing_f32", targets=sens_t)),
        ("replicas_1", lambda: sensing(d=d, m=m, R=1, name="replicas_1")),
        ("replicas_8", lambda: sensing(d=d, m=m, R=8, name="replicas_8")),
        ("replicas_32", lambda: sensing(d=d, m=m, R=32, name="replicas_32", targets=[
            T("speedup", ">=", 30.0, "≥ 30× less per replica-step than einsum")])),
        ("replicas_8_vs_separate", lambda: batched_vs_separate(
            d=d, m=m, R=8, steps=_sz(60 if quick else 300, s, 5), name="replicas_8_vs_separate",
            targets=[T("speedup", ">=", 4.0, "≥ 4× less per replica-step than separate runs")])),
        ("completion_2000", lambda: completion(n=_sz(2000, s, 20), p=0.05, name="completion_2000", targets=[
            T("speedup", ">=", 5.0, "≥ 5× faster than dense mask"),
            T("speedup", ">=", 3.0, "min over repeats ≥ 3×", stat="min")])),
        ("completion_10000", lambda: completion(n=_sz(10_000, s, 40), p=0.01, name="completion_10000",
                                                with_baseline=not quick,
                                                targets=[T("speedup", ">=", 20.0, "≥ 20× faster than dense mask")])),
        ("rank_one", lambda: rank_one(m=_sz(4000, s * s, 20), d=d, name="rank_one", targets=[
            T("speedup", ">=", 20.0, "≥ 20× faster than materialized")])),
        ("factorization", lambda: run_vs_loop_factorization(
            d1=_sz(250, s), d2=_sz(200, s), k=_sz(200, s), steps=_sz(300 if quick else 1000, s, 5), name="factorization",
            targets=[T("speedup", ">=", 0.9, "≥ 0.9× the NumPy loop (parity: three GEMMs per step bound both)")])),
        ("small_d20", lambda: run_vs_loop_sensing(
            d=_sz(20, s), r=2, m=_sz(200, s * s, 20), k=_sz(20, s), steps=T_small, eta=2e-3, grad_scale=1.0,
            normalization="1/(2m)", name="small_d20", label="d=20 sensing", targets=[small_t])),
        ("ex11_R1", lambda: run_vs_loop_sensing(
            d=_sz(30, s), r=2, m=_sz(240, s * s, 20), k=_sz(30, s), steps=T_small, eta=1e-4, grad_scale=8.0,
            normalization="1/8", ensemble="triu", name="ex11_R1", label="003 Ex. 1.1", targets=[small_t])),
        ("ex11_R32", lambda: run_vs_loop_sensing(
            d=_sz(30, s), r=2, m=_sz(240, s * s, 20), k=_sz(30, s), R=32, steps=T_small, eta=1e-4, grad_scale=8.0,
            normalization="1/8", ensemble="triu", name="ex11_R32", label="003 Ex. 1.1",
            targets=[T("speedup", ">=", 8.0, "≥ 8× less per replica-step than the NumPy loop")])),
        ("fig2_001", lambda: run_vs_loop_sensing(
            d=_sz(20, s), r=3, m=_sz(100, s * s, 20), k=_sz(20, s), steps=T_small, eta=0.05, grad_scale=1.0,
            normalization="1/m", alpha=1e-2, name="fig2_001", label="001 Fig. 2", targets=[small_t])),
    ]
    # the products behind replicas_32 (A · 32 columns) and rank_one (x U, 4000 × 100 · 100 × 100), BLAS alone
    cases += [("blas_replicas_32", lambda: blas_product(m=m, k=d * (d + 1) // 2, n=32, name="blas_replicas_32",
                                                        what="replicas_32 forward")),
              ("blas_rank_one", lambda: blas_product(m=_sz(4000, s * s, 20), k=d, n=d, name="blas_rank_one",
                                                     what="rank_one x·U"))]
    # reads of the operator per step at the paper's size (000 Figs. 1–3: d = 200, m = 5dr, A = 804 MB)
    d2, m2 = _sz(200, s), _sz(5000, s * s, 20)
    for R in (1, 8):
        cases.append((f"reads_d200_R{R}", lambda R=R: sensing(
            d=d2, m=m2, R=R, with_baseline=False, name=f"reads_d200_R{R}", targets=[READS_T])))
    if cuda if cuda is not None else torch.cuda.is_available():
        for R in (1, 32):
            cases.append((f"cuda_sensing_d200_R{R}", lambda R=R: sensing(
                d=_sz(200, s), m=_sz(5000, s * s, 20), R=R, device="cuda", with_baseline=False,
                name=f"cuda_sensing_d200_R{R}")))
    return cases
