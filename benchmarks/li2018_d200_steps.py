"""Per-step cost of li2018's d = 200 runs (Figs. 1–3: r = 5, m = 5,000, an 804 MB packed operator) through
``op.run`` at one thread, with R = 1, 3 and 7 replicas (Fig. 3, Fig. 2, Fig. 1). Usage:
``PYTHONPATH=src python benchmarks/li2018_d200_steps.py [steps]`` (default 150; about 4 GB of memory)."""
import sys
import time

from overparam.backend import threads
from overparam.experiments.execute import build
from overparam.papers.li2018.fig1 import FIG1_ALPHAS
from overparam.papers.li2018.settings import sensing_spec
from overparam.run import run
from overparam.schedule import LogSchedule

N = int(sys.argv[1]) if len(sys.argv) > 1 else 150
alphas = {1: [1e-2], 3: [1.0, 1e-3, 1e-2], 7: FIG1_ALPHAS}
t0 = time.perf_counter()
spec = sensing_spec(200, 5, trial=0, steps=N, alphas=FIG1_ALPHAS, figure="bench")
b = build(spec)
print(f"problem built in {time.perf_counter() - t0:.1f} s; A {b.problem.operator.nbytes / 1e6:.0f} MB", flush=True)
with threads(1, kernels=1):
    for R in (1, 3, 7):
        s = sensing_spec(200, 5, trial=0, steps=N, alphas=alphas[R], figure="bench")
        bb = build(s)
        kw = dict(bb.run_kwargs, log=LogSchedule(points=10))
        run(b.problem, bb.param, bb.algorithm, **{**kw, "steps": 3})  # warm-up (kernels compiled)
        t = time.perf_counter()
        res = run(b.problem, bb.param, bb.algorithm, **kw)
        dt = time.perf_counter() - t
        print(f"R = {R}: {N} steps in {dt:.1f} s = {1e3 * dt / N:.1f} ms/step; engine {res.info['engine']}; "
              f"threads {res.info['threads']}", flush=True)
