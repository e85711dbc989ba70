"""Studies: experiments that compare several methods over a grid of problems, each runnable as one
command (``overparam study …``) on the sweep machinery (stored, resumable, on every executor).

* :mod:`overparam.studies.phase_transition` — the probability of exact recovery over a grid of
  m/(dr) and r for six methods, with boundaries at three recovery thresholds.
* :mod:`overparam.studies.init_scale` — the probability that small-init GD recovers, over the
  init scale α and m/(dr), beside trace minimization's boundary, with a budget check.
* :mod:`overparam.studies.glrl` — small-init GD against greedy low-rank learning (Li, Luo, Lyu 2021) and
  against the minimum-trace solution on both sides of the trace-minimization threshold.
* :mod:`overparam.studies.depth` — deep matrix factorization (N = 1, 2, 3) on matrix completion:
  error and effective rank against the number of observed entries (Arora, Cohen, Hu, Luo 2019).
"""
