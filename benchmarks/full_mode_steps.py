"""Per-step times of li2018's full-mode configurations, one thread per run (as the process pool runs
them), for the full-mode wall-time estimate in benchmarks/RESULTS.md.

    python benchmarks/full_mode_steps.py            # ~10 min; writes benchmarks/full_mode_steps.json

Each configuration runs a few steps through ``overparam.run`` after a 2-step warm-up. The subspace
row (claim 7) times plain GD at its size (the tracker adds a d × r product per step).
"""

from __future__ import annotations

import json
from pathlib import Path

import overparam as op
from overparam.backend import threads

OUT = Path(__file__).with_name("full_mode_steps.json")


def per_step(res: dict, name: str, prob, param, algo, init, steps: int) -> None:
    kw = dict(metrics=["loss"], log=op.LogSchedule(points=2))
    op.run(prob, param, algo, init=init, steps=2, **kw)
    r = op.run(prob, param, algo, init=init, steps=steps, **kw)
    res[name] = r.wall_time / steps
    print(f"{name}: {res[name] * 1e3:.2f} ms/step ({r.info['engine']})", flush=True)


def main() -> None:
    res: dict[str, float] = {}
    with threads(1):
        S = op.params.Symmetric()
        gd = op.algorithms.gd(eta=0.0025, grad_scale=0.5)
        for d, m in ((100, 2500), (100, 500), (150, 2250), (200, 5000)):
            p = op.problems.matrix_sensing(d=d, r=5, m=m, data_seed=0)
            for R in ((1, 7) if d != 200 else (1, 3, 7)):
                ini = op.init.scaled_identity(alpha=[1e-3] * R) if R > 1 else op.init.scaled_identity(alpha=1e-3)
                per_step(res, f"sensing d={d} m={m} R={R}", p, S, gd, ini, 20 if d < 200 else 6)
            if (d, m) == (100, 2500):
                per_step(res, "subspace-size GD d=100 m=2500 R=6", p, S, gd,
                         op.init.scaled_identity(alpha=[1e-3] * 6), 20)
        direct, pgd = op.registry.get("param", "direct")(), op.registry.get("algorithm", "projected_gd")(eta=0.0025)
        for d, m in ((100, 1000), (150, 1500)):
            p = op.problems.matrix_sensing(d=d, r=5, m=m, data_seed=0)
            per_step(res, f"projected_gd d={d} m={m}", p, direct, pgd, op.init.scaled_identity(alpha=1e-3), 10)
        for m in (10000, 2500):
            q = op.problems.quadratic_network(d=100, r=5, m=m, data_seed=0)
            per_step(res, f"quadnet gd d=100 m={m}", q, S, gd, op.init.scaled_identity(alpha=1e-3), 20)
        q = op.problems.quadratic_network(d=100, r=5, m=2500, data_seed=0)
        per_step(res, "quadnet sgd b=1 d=100 m=2500", q, S, op.algorithms.sgd(eta=1e-3, batch_size=1),
                 op.init.scaled_identity(alpha=1e-3), 2000)
    OUT.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
