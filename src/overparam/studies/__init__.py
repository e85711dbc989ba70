"""Studies: experiments that compare several methods over a grid of problems, each runnable as one
command (``overparam study …``) on the sweep machinery (stored, resumable, on every executor).

* :mod:`overparam.studies.phase_transition` — the probability of exact recovery over a grid of
  m/(dr) and r for five methods (issue 17, item 6).
* :mod:`overparam.studies.depth` — deep matrix factorization (N = 1, 2, 3) on matrix completion:
  error and effective rank against the number of observed entries (Arora, Cohen, Hu, Luo 2019).
"""
