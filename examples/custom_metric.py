"""How to add a metric: a plain function of the run's snapshot, and a stateful diagnostic.

* ``nuclear_norm`` — ‖X_t‖_* = Σ_i σ_i(X_t), a function of θ_t alone: a plain metric, computed
  only at logged steps (``snap.singular_values`` comes from the factors where that is cheaper).
* ``path_length`` — ℓ_t = Σ_{s<t} ‖θ_{s+1} − θ_s‖_F, the length of the optimization path so far:
  it needs every step, not only the logged ones, so it is a stateful diagnostic (``init`` at θ_0,
  ``update`` after every step, ``read`` at logged steps). The run updates it only when one of its
  metrics is asked for.

    python examples/custom_metric.py [--quick]

Checks: for GD each step moves θ by η‖∇f(θ_t)‖, so with every step logged, ℓ_T = η Σ_t ‖∇f(θ_t)‖
(the built-in ``grad_norm``) to rounding; and ℓ_T ≥ ‖θ_T − θ_0‖ (the triangle inequality).
"""

import argparse

import numpy as np
import torch

import overparam as op
from overparam.metrics import Diagnostic, Snapshot, diagnostic_metrics, metric


@metric("nuclear_norm", needs_matrix=True)
def nuclear_norm(snap: Snapshot) -> torch.Tensor:
    """‖X‖_* = Σ_i σ_i(X) of the end-to-end matrix, one value per replica ``(R,)``."""
    return snap.singular_values.sum(-1)


class PathLength(Diagnostic):
    """ℓ_t = Σ_{s<t} ‖θ_{s+1} − θ_s‖_F over all blocks of θ (module docstring)."""

    name = "path_length"
    outputs = ("path_length",)

    def init(self, objective, theta, algorithm):
        return torch.zeros(theta[0].shape[0], dtype=theta[0].dtype, device=theta[0].device)   # (R,)

    def update(self, state, t, theta, out, objective):
        # theta is θ_t, out.theta is θ_{t+1} (out: the algorithm's StepOut for this step)
        sq = sum(((new - old) ** 2).flatten(1).sum(-1) for new, old in zip(out.theta, theta, strict=True))
        return state + sq.sqrt()

    def read(self, state, snap):
        return {"path_length": state}


diagnostic_metrics(PathLength(), docs={"path_length": "Σ_{s<t} ‖θ_{s+1} − θ_s‖_F"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller problem")
    args = ap.parse_args()
    d, r, m, steps = (15, 2, 150, 200) if args.quick else (40, 3, 800, 2000)
    eta = 0.1
    prob = op.problems.matrix_sensing(d=d, r=r, m=m, data_seed=0)
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=eta),
                 init=op.init.scaled_identity(alpha=[1e-3, 1e-1]), steps=steps,
                 metrics=["test_error", "nuclear_norm", "path_length", "grad_norm"],
                 log=op.LogSchedule(points=0, every=1))                   # every step: the check needs it
    df = res.trace.to_frame()
    nuc_star = float(torch.linalg.matrix_norm(prob.X_star, ord="nuc"))
    for i, alpha in enumerate([1e-3, 1e-1]):
        rows = df[df["replica"] == i].sort_values("step")
        path = rows["path_length"].to_numpy()
        via_grad = eta * rows["grad_norm"].to_numpy()[:-1].sum()          # η Σ_{t<T} ‖∇f(θ_t)‖
        (U,) = res.theta
        chord = float(torch.linalg.norm(U[i] - alpha * torch.eye(d, dtype=U.dtype)))   # ‖θ_T − θ_0‖, θ_0 = αI
        print(f"α = {alpha:g}: ‖X_T‖_* = {rows['nuclear_norm'].iloc[-1]:.4f} (‖X⋆‖_* = {nuc_star:.4f}), "
              f"path length {path[-1]:.4f}, η Σ‖∇f‖ = {via_grad:.4f}, ‖θ_T − θ_0‖ = {chord:.4f}")
        assert np.isclose(path[-1], via_grad, rtol=1e-10)
        assert path[-1] >= chord and np.all(np.diff(path) >= 0)
    print("checks passed: ℓ_T = η Σ‖∇f(θ_t)‖ and ℓ_T ≥ ‖θ_T − θ_0‖")


if __name__ == "__main__":
    main()
