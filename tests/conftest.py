"""Settings for the whole test session.

torch computes on one thread in the test process. The suite's problems are tiny, and there torch's
intra-op thread pool only adds barrier waits: a 4 × 10 × 10 batched product took 18 µs at one thread
and 7.4 ms at two on a 2-core machine under load, which made a 1,800-step recipe test take 35–60 s
instead of 4 s. The executors already run every spec at ``threads = 1`` (so a test's direct
``execute(spec)`` now computes with the sweep's thread count). Tests about thread counts set their own
(``overparam.backend.threads``) or run in a subprocess, which this file does not reach.
"""

import torch

torch.set_num_threads(1)
