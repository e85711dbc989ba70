"""Settings every Ma–Liang–Fattahi (004) figure shares, and the spec builders.

The paper's §7 numbers are stripped from the text (notes-004 §2.5, §5); every value below is our
choice, calibrated on the reconstruction runs of notes-004 §5.1–5.2, and a parameter of the specs
built from it (changing one changes the spec keys and reruns).

IPGD (Algorithm 1) settings, shared by every IPGD+ run:

* ``RADIUS = 1e-15`` — "a perturbation radius close to the round-off error in double precision"
  [T, value stripped]; 1e-15 is within a factor ~5 of float64's unit round-off times ‖x‖ ≈ 1.
* ``G_THRES = 1e-5`` — gradient threshold: small enough that intermediate plateaus rarely trigger
  (each trigger costs up to T steps, pitfall 13) and large enough that the final point triggers
  within a few hundred steps of linear convergence.
* ``ESCAPE_TIME = 500`` — T must exceed the escape time from the origin, ≈ log(‖U⋆‖/r)/log(1 + ησ_r)
  ≈ 360 steps for r = 1e-15, η = 0.2, σ_r = 0.5 (pitfall 2: a T too short returns x̃ = 0).
* ``F_THRES = 1e-8`` — the decrease test: far below the decrease at real saddles (~σ_r² = 0.25) and
  above what a 1e-15 perturbation can buy near the optimum (pitfall 3).
* ``PLAIN_STEPS = 1500`` — the GD phase of IPGD+ (T_GD, stripped): enough to reach the residual floor.
* Step sizes: η = 0.2 for sensing (∇f ≈ (X − X⋆)·factor with unit scale under the 1/(4m) and 1/(2m)
  losses), 0.1 for symmetric completion (1/(2p) doubles the gradient), 0.2 for asymmetric completion,
  0.4 / 0.8 for symmetric / asymmetric 1-bit completion (∇_X L = σ(X) − σ(X⋆) ≈ (X − X⋆)/4; the
  paper used one η for MS and 1-bit, so its 1-bit normalization differs from ours; notes pitfall 9),
  0.1 for sparse recovery.

Dimensions (full mode; quick mode shrinks them, see :data:`LOW_RANK`): r = 3 with Σ = diag(1, 0.75,
0.5) (:data:`.problems.SIGMA`); sensing d = 20 (symmetric, m = 150) and d = 15 (asymmetric, m = 150);
completion d = 40, p = 0.5 (d = 20 fails at p = 0.5: the sampling deviation rate exceeds σ_r, notes
§5.1, pitfall 10); 1-bit d = 20 / 15; search rank r' = d (fully over-parameterized) except completion,
r' = 10, so that the dense Hessian of the deviation rate stays D ≤ 800 parameters. Sparse: n = 100,
d = 200, k = 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...experiments.spec import RunSpec

PAPER = "ma2025"
RADIUS = 1e-15
G_THRES = 1e-5
ESCAPE_TIME = 500
F_THRES = 1e-8
PLAIN_STEPS = 1500
#: IPGD stage budget (the stage ends earlier when IPGD terminates).
IPGD_STEPS = 4000
#: Quick mode: a shorter GD phase and IPGD budget (same IPGD settings).
QUICK_PLAIN_STEPS, QUICK_IPGD_STEPS = 600, 2500
#: Perturbation seeds per instance (replicas sharing one operator).
SEEDS = {True: 2, False: 3}

METRICS = ("loss", "ma2025_residual", "ma2025_dist", "ma2025_error", "ma2025_Gamma", "ma2025_Gamma1",
           "ma2025_rsum", "ma2025_r0", "singular_values")


@dataclass(frozen=True)
class Instance:
    """One of Fig. 4's six low-rank problems (or Fig. 5's sparse one)."""

    key: str
    label: str
    problem: dict[str, Any]
    param: dict[str, Any]
    eta: float


#: Fig. 4's one (d, r', p): every instance has dimension d and search rank r' (over-parameterized:
#: r' > r = 3), completion samples entries with probability p; sensing takes m measurements
#: (symmetric, asymmetric). The paper fixes one (d, r', p) for all six panels (its numbers are
#: stripped); these are ours. (r' = d makes completion converge too slowly for the budget.)
FIG4_SIZES = {True: {"d": 15, "k": 5, "p": 0.8, "m_sym": 90, "m_asym": 150},
              False: {"d": 20, "k": 10, "p": 0.5, "m_sym": 150, "m_asym": 150}}


def sensing_instance(quick: bool) -> Instance:
    """Symmetric sensing at r' = d: Fig. 2's instance (whose r' it varies) and the radius sweep's."""
    d, m = (10, 60) if quick else (20, 150)
    return Instance("sym_ms", f"symmetric sensing (d={d}, m={m})",
                    {"name": "ma2025_sensing", "d": d, "m": m, "symmetric": True}, {"name": "symmetric", "k": d}, 0.2)


def low_rank(quick: bool) -> list[Instance]:
    """Fig. 4's six instances {sensing, completion, 1-bit} × {symmetric, asymmetric}, all at one
    (d, r', p) (:data:`FIG4_SIZES`)."""
    z = FIG4_SIZES[quick]
    d, p, k = z["d"], z["p"], z["k"]
    out = [
        Instance("sym_ms", f"symmetric sensing (m={z['m_sym']})",
                 {"name": "ma2025_sensing", "d": d, "m": z["m_sym"], "symmetric": True},
                 {"name": "symmetric", "k": k}, 0.2),
        Instance("asym_ms", f"asymmetric sensing (m={z['m_asym']})",
                 {"name": "ma2025_sensing", "d": d, "m": z["m_asym"], "symmetric": False},
                 {"name": "asymmetric", "k": k}, 0.2),
        Instance("sym_mc", f"symmetric completion (p={p})",
                 {"name": "ma2025_completion", "d": d, "p": p, "symmetric": True},
                 {"name": "symmetric", "k": k}, 0.1),
        Instance("asym_mc", f"asymmetric completion (p={p})",
                 {"name": "ma2025_completion", "d": d, "p": p, "symmetric": False},
                 {"name": "asymmetric", "k": k}, 0.2),
        Instance("sym_1bit", "symmetric 1-bit", {"name": "ma2025_one_bit", "d": d, "symmetric": True},
                 {"name": "symmetric", "k": k}, 0.4),
        Instance("asym_1bit", "asymmetric 1-bit", {"name": "ma2025_one_bit", "d": d, "symmetric": False},
                 {"name": "asymmetric", "k": k}, 0.8),
    ]
    return out


def sparse(quick: bool) -> list[Instance]:
    """Fig. 5: sparse recovery under u⊙u − v⊙v and u⊙v (the paper's Example 2), in both
    modes (one perturbation seed in quick mode: the dense 400 × 400 Hessian every GAMMA_EVERY steps
    dominates the quick budget)."""
    n, d = 100, 200  # quick mode too: n = 50, d = 80 leaves a residual ~0.05 (failed recovery)
    prob = {"name": "ma2025_sparse", "n": n, "d": d, "k": 5}
    kinds = (("uu-vv", "u⊙u − v⊙v"), ("uv", "u⊙v"))
    return [Instance(f"sparse_{kind.replace('-', '')}", f"sparse, x = {lab} (n={n}, d={d}, k=5)", prob,
                     {"name": "hadamard", "kind": kind}, 0.1)
            for kind, lab in kinds]


def ipgd_plus_spec(inst: Instance, *, quick: bool, figure: str, radius: float | list[float] = RADIUS,
                   seeds: int | None = None, metrics=METRICS, log_every: int | None = None,
                   steps: int | None = None, plain_steps: int | None = None, data_seed: int = 0,
                   terminate: bool = True, tags: dict[str, str] | None = None) -> RunSpec:
    """IPGD+ (recipe ``perturbed_then_plain``: IPGD, then GD with the same η) from zero, one replica
    per perturbation seed (or per radius when ``radius`` is a list). ``terminate = False``: the
    perturbed stage never returns early; it perturbs whenever ‖∇f‖ ≤ g_thres and no perturbation
    happened in the last T steps, for its whole budget (Jin et al. 2017's Algorithm 1, the PGD the
    paper describes in §1.2), then GD. ``tags``: extra tags (e.g. the arm of a comparison)."""
    steps = steps or (QUICK_IPGD_STEPS if quick else IPGD_STEPS)
    plain_steps = plain_steps or (QUICK_PLAIN_STEPS if quick else PLAIN_STEPS)
    alg: dict[str, Any] = {"name": "ipgd", "eta": inst.eta, "g_thres": G_THRES, "escape_time": ESCAPE_TIME,
                           "f_thres": F_THRES}
    if not terminate:
        alg["terminate"] = False
    if isinstance(radius, list):
        alg["radius"] = radius[0]  # the schema wants a value; the replicas override it
        replicas: dict[str, Any] = {"algorithm.radius": radius, "algo_seed": list(range(len(radius)))}
    else:
        alg["radius"] = radius
        n = seeds or SEEDS[quick]
        replicas = {"algo_seed": list(range(n))}
    data = {
        "problem": inst.problem,
        "param": inst.param,
        "algorithm": alg,
        "init": {"name": "zero"},
        "recipe": {"name": "perturbed_then_plain", "plain_steps": plain_steps},
        "steps": steps,
        "data_seed": data_seed,
        "metrics": list(metrics),
        "log": {"points": 150, "every": log_every},
        "replicas": replicas,
        "tags": {"paper": PAPER, "figure": figure, "instance": inst.key, **(tags or {})},
    }
    return RunSpec.parse(data)
