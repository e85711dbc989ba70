"""Re-run the benchmark suite and write its JSON (see benchmarks/RESULTS.md for the recorded table).

    python benchmarks/run.py                      # full suite -> benchmarks/results.json
    python benchmarks/run.py --quick              # fewer repeats, extrapolated n=10000 dense baseline
    python benchmarks/run.py --matrix-free 1000   # + time matrix-free sensing at d=1000 (minutes)
    python benchmarks/run.py --only sensing_f64,replicas_8

On a machine with a CUDA GPU the suite adds the d=200, m=5000 sensing step with 1 and 32 replicas
on the GPU; ``--fig3`` also times 000's Fig. 3 in full mode (``overparam reproduce``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

import overparam as op
import overparam.bench as bench


def matrix_free(d: int, steps: int, r: int = 5) -> dict:
    """Build matrix-free sensing at d (m = 5 d r) and time a few fused GD steps."""
    m = 5 * d * r
    t0 = time.perf_counter()
    prob = op.problems.matrix_sensing(d=d, r=r, m=m, data_seed=0, operator="matrix_free")
    build = time.perf_counter() - t0
    param = op.params.Symmetric(k=r)
    theta = op.init.scaled_identity(alpha=1e-3)(param, prob.shape, seeds=[0], device=prob.device, dtype=prob.dtype)
    objective = op.Objective(prob, param)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        ev = objective.evaluate(theta)
        theta = tuple(p - 0.0025 * 0.5 * g for p, g in zip(theta, ev.grad, strict=True))
        times.append(time.perf_counter() - t0)
    n = d * (d + 1) // 2
    return {"d": d, "m": m, "r": r, "k": r, "packed_columns": n, "stored_gb_float64": m * n * 8 / 1e9,
            "build_s (y = A(X*), one pass)": build, "step_s": times,
            "numbers_per_step": m * n, "threads": torch.get_num_threads(), "loss_first_step": float(ev.loss[0])}


def fig3(out: Path) -> dict:
    """Wall time of ``overparam reproduce li2018-fig3`` in full mode (10⁵ iterations at d = 200)."""
    cmd = ["overparam", "reproduce", "li2018-fig3", "--device", "cuda" if torch.cuda.is_available() else "cpu",
           "--store", str(out / "store"), "--out", str(out), "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return {"command": " ".join(cmd), "wall_s": time.perf_counter() - t0, "returncode": proc.returncode,
            "stderr_tail": proc.stderr[-2000:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    ap.add_argument("--only", default=None, help="comma-separated case names")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--matrix-free", type=int, default=None, metavar="D", help="also time matrix-free sensing at d=D")
    ap.add_argument("--matrix-free-steps", type=int, default=2)
    ap.add_argument("--fig3", action="store_true", help="also time 000's Fig. 3 in full mode")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the table as Markdown here")
    args = ap.parse_args()
    only = args.only.split(",") if args.only else None
    result = bench.run_suite(quick=args.quick, threads=args.threads, repeats=args.repeats, only=only,
                             progress=lambda name: print(f"  {name} …", file=sys.stderr, flush=True))
    result["command"] = " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    if args.matrix_free:
        with bench.pinned_threads(result["threads"]):
            result["matrix_free"] = matrix_free(args.matrix_free, args.matrix_free_steps)
    if args.fig3:
        result["fig3_full"] = fig3(args.out.with_name("fig3-run"))
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    if args.markdown:
        args.markdown.write_text(bench.to_markdown(result))
    bench.render(result)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if result["all_targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
