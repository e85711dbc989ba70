"""Settings for the whole test session.

torch computes on one thread in the test process. The suite's problems are tiny, and there torch's
intra-op thread pool only adds barrier waits: a 4 × 10 × 10 batched product took 18 µs at one thread
and 7.4 ms at two on a 2-core machine under load, which made a 1,800-step recipe test take 35–60 s
instead of 4 s. numba's parallel kernels run on one thread for the same reason (pytest-xdist runs one
test process per core). The executors already run every spec at ``threads = 1`` (so a test's direct
``execute(spec)`` now computes with the sweep's thread count). Tests about thread counts set their own
(``overparam.backend.threads``) or run in a subprocess, which this file does not reach.

Fixtures that more than one test file builds the same way live here, session-scoped, so that a session
builds each once (under pytest-xdist, once per worker that needs it): :func:`docs_build`.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import pytest
import torch

from overparam.backend import start_numba_pool

# numba's parallel kernels on one thread too (its pool, started here, keeps torch's count:
# backend.start_numba_pool); tests that compare thread counts set their own
start_numba_pool()
numba.set_num_threads(1)
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """``mkdocs build --strict`` of the docs into a temporary directory: ``(process, site)``. The process
    is returned, not checked, so that each user asserts (and reports) its exit status: test_docs.py reads
    the pages, test_screenshots.py shows them in Chromium (a strict build is the site a lenient one gives
    whenever it succeeds)."""
    site = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    cmd = [mkdocs] if mkdocs else [sys.executable, "-m", "mkdocs"]
    proc = subprocess.run([*cmd, "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc, site
