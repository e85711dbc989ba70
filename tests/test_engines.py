"""One loop, one rule (overparam.engines): every registered algorithm on a tiny problem under two log
schedules — the engine that ``select_engine`` picks gives the generic loop's numbers to round-off, and
every engine (the generic loop included) gives the same bits whatever the log schedule; the compiled
segment's bits under many segment-length patterns; every registered metric evaluates on a tiny run."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import overparam as op
from overparam import registry
from overparam.engines import BATCH_METRICS, select_engine
from overparam.engines.factorization import FactorizationEngine
from overparam.engines.sym_packed import SymPackedEngine
from overparam.errors import OverparamError
from overparam.schedule import LogSchedule


def _sensing():
    return op.problems.matrix_sensing(d=6, r=1, m=30, data_seed=0)


def _factorization():
    return op.problems.matrix_factorization(d1=6, d2=5, r=1, data_seed=0)


def _quadratic():
    return op.problems.quadratic_network(d=6, r=1, m=40, data_seed=0)


#: every registered algorithm: (problem, param, algorithm, init, the engine select_engine must pick)
ALGORITHMS = {
    "gd": [(_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02), op.init.gaussian(scale=0.1),
            SymPackedEngine),
           (_factorization, op.params.Asymmetric, lambda: op.algorithms.gd(eta=0.1), op.init.gaussian(scale=0.1),
            FactorizationEngine),
           (_sensing, op.params.Difference, lambda: op.algorithms.gd(eta=0.02), op.init.gaussian(scale=0.1), None)],
    "gd_subspace": [(_sensing, op.params.Symmetric, lambda: registry.get("algorithm", "gd_subspace")(eta=0.02),
                     op.init.gaussian(scale=0.1), SymPackedEngine)],
    "sgd": [(_sensing, op.params.Symmetric, lambda: op.algorithms.sgd(eta=0.005, batch_size=5),
             op.init.gaussian(scale=0.1), None)],
    "proximal_gd": [(_sensing, op.params.Symmetric, lambda: op.algorithms.proximal_gd(eta=0.02, lam=1e-3),
                     op.init.gaussian(scale=0.1), None)],
    "scaled_gd": [(_factorization, op.params.Asymmetric, lambda: op.algorithms.scaled_gd(eta=0.1, lam=1e-2),
                   op.init.gaussian(scale=0.1), None)],
    "ipgd": [(_sensing, op.params.Symmetric,
              lambda: op.algorithms.ipgd(eta=0.02, radius=1e-6, g_thres=1e-3, escape_time=5, f_thres=1e-9),
              op.init.gaussian(scale=0.1), None)],
    "mirror_descent": [(_sensing, op.params.Direct, lambda: op.algorithms.mirror_descent(eta=0.02),
                        op.init.scaled_identity(alpha=0.01), None)],
    "projected_gd": [(_sensing, op.params.Direct, lambda: op.algorithms.projected_gd(eta=0.02),
                      op.init.scaled_identity(alpha=0.01), None)],
    "truncated_rescaled_gd": [(_quadratic, op.params.Symmetric, lambda: op.algorithms.truncated_rescaled_gd(eta=0.01),
                               op.init.gaussian(scale=0.1), None)],
}
ROWS = [(name, i) for name, rows in ALGORITHMS.items() for i in range(len(rows))]
SCHEDULES = (LogSchedule(points=5), LogSchedule(points=0, every=1))
METRICS = ["loss", "train_error", "test_error"]


def test_the_table_covers_every_registered_algorithm():
    assert set(ALGORITHMS) >= set(registry.names("algorithm")), "add a row for each new algorithm"


def _run(row, log, lean=True, steps=40, metrics=METRICS):
    prob, param, algo, init, _ = row
    return op.run(prob(), param(), algo(), init=init, steps=steps, metrics=metrics, log=log, init_seed=[0, 1],
                  lean=lean)


def _common_rows(a, b):
    """Trace columns of ``a`` and ``b`` at the steps both logged (every step ``b`` logged is in ``a``)."""
    sa, sb = a.trace.columns["step"], b.trace.columns["step"]
    ra, rb = a.trace.columns["replica"], b.trace.columns["replica"]
    keys_b = set(zip(sb.tolist(), rb.tolist()))
    pick = np.array([(s, r) in keys_b for s, r in zip(sa.tolist(), ra.tolist())])
    return {k: v[pick] for k, v in a.trace.columns.items()}, b.trace.columns


def assert_same_bits(every, sparse):
    assert every.status == sparse.status and every.stop_step == sparse.stop_step and every.events == sparse.events
    picked, cols = _common_rows(every, sparse)
    for k in cols:
        np.testing.assert_array_equal(picked[k], cols[k], err_msg=k)
    for ta, tb in zip(every.theta_list, sparse.theta_list, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(ta, tb, strict=True))


@pytest.mark.parametrize("name, i", ROWS)
def test_every_algorithm_engine_vs_generic_and_across_log_schedules(name, i):
    row = ALGORITHMS[name][i]
    prob, param, algo, _, expected = row
    assert select_engine(prob(), param(), algo(), metrics=METRICS) is expected
    sparse, every = (_run(row, log) for log in SCHEDULES)
    assert sparse.info["engine"] == (expected.name if expected else "generic")
    assert_same_bits(every, sparse)
    if expected is not None:
        generic = _run(row, SCHEDULES[1], lean=False)
        assert generic.info["engine"] == "generic"
        assert generic.status == every.status and generic.stop_step == every.stop_step
        for k in METRICS:
            x, y = generic.trace.columns[k], every.trace.columns[k]
            assert np.abs(x - y).max() <= 1e-12 * np.abs(x).max(), k
        for ta, tb in zip(generic.theta_list, every.theta_list, strict=True):
            for p, q in zip(ta, tb, strict=True):
                assert (p - q).abs().max() <= 1e-12 * p.abs().max()


# -- the compiled segment under many segment-length patterns (issue 23.5) -------------------------------

PATTERNS = [LogSchedule(points=0, every=1), LogSchedule(points=5), LogSchedule(points=0, every=7),
            LogSchedule(points=40), LogSchedule(points=3, every=13), LogSchedule(points=0, every=64)]


@pytest.mark.parametrize("R", [1, 3, 6])
@pytest.mark.parametrize("extra", [[], ["grad_norm"]])  # all batch metrics / a metric the segment cannot batch
def test_segment_bits_do_not_depend_on_segment_lengths(R, extra):
    prob = op.problems.matrix_sensing(d=7, r=2, m=45, data_seed=3, normalization="1/8")
    metrics = sorted(BATCH_METRICS - {"dist_best_rank_r"}) + ["dist_best_rank_r"] + extra
    etas = [2e-3] * R
    etas[-1] = 0.3 if R > 1 else 2e-3  # the last replica diverges (overflows) when R > 1
    runs = [op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=etas, grad_scale=8.0),
                   init=op.init.gaussian(scale=list(np.logspace(-2, -1, R))), init_seed=list(range(R)), steps=150,
                   metrics=metrics, log=log, diverge_factor=1e300) for log in PATTERNS]
    assert all(r.info["engine"] == SymPackedEngine.name for r in runs)
    if R > 1:
        assert runs[0].status[-1] == "diverged"
    for r in runs[1:]:
        assert_same_bits(runs[0], r)
        assert r.final("loss").tolist() == runs[0].final("loss").tolist()


@pytest.mark.parametrize("log", PATTERNS)
def test_an_overflowing_run_ends_with_the_same_bits_under_every_schedule(log):
    """Issue 23.5's case: η = 50 overflows at step 4; the last finite metrics (step 3) are the engine's,
    whether or not step 3 was logged (before: the generic objective evaluated θ_3 when it was not)."""
    prob = op.problems.matrix_sensing(d=6, r=1, m=30, data_seed=0)
    kw = dict(init=op.init.gaussian(scale=1.0), steps=10_000, metrics=["loss", "train_error"], diverge_factor=1e300)
    a = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=50.0), log=log, **kw)
    b = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=50.0), log=LogSchedule(points=0, every=1), **kw)
    assert a.stop_step == b.stop_step == [4]
    assert a.final("loss").tolist() == b.final("loss").tolist()
    assert a.final("train_error").tolist() == b.final("train_error").tolist()


# -- every registered metric on a tiny run ---------------------------------------------------------------

def _metric_runs():
    """Tiny runs a metric may need: (problem, param, algorithm, init)."""
    return [
        (_sensing, op.params.Symmetric, lambda: op.algorithms.gd(eta=0.02), op.init.gaussian(scale=0.1)),
        (_factorization, op.params.Asymmetric, lambda: op.algorithms.gd(eta=0.1), op.init.gaussian(scale=0.1)),
        (lambda: op.problems.asymmetric_sensing(d1=6, d2=5, r=1, m=40, data_seed=0), op.params.Asymmetric,
         lambda: op.algorithms.gd(eta=0.02), op.init.gaussian(scale=0.1)),
        (_quadratic, op.params.Symmetric, lambda: op.algorithms.truncated_rescaled_gd(eta=0.01),
         op.init.gaussian(scale=0.1)),
        (lambda: registry.get("problem", "ma2025_sensing")(d=6, m=40), op.params.Symmetric,
         lambda: op.algorithms.ipgd(eta=0.02, radius=1e-6, g_thres=1e-3, escape_time=5, f_thres=1e-9),
         op.init.gaussian(scale=0.1)),
        (lambda: registry.get("problem", "jiang2023_model_free")(m=8, n=6, r=2, rank=2, n_top=2),
         op.params.Asymmetric, lambda: op.algorithms.gd(eta=0.05), op.init.gaussian(scale=0.1)),
        (lambda: op.problems.sparse_regression(n=20, d=8, k=2, data_seed=0), op.params.Hadamard,
         lambda: op.algorithms.gd(eta=0.01), op.init.constant(alpha=0.1)),
    ]


def _documents_nan(m) -> bool:
    """Whether the metric's documentation (its doc, its function's, or for a stateful diagnostic's
    output that diagnostic's class and module) says when it is NaN."""
    docs = [m.doc, getattr(m.fn, "__doc__", "")]
    if m.diagnostic is not None:
        docs += [type(m.diagnostic).__doc__, sys.modules[type(m.diagnostic).__module__].__doc__]
    return any("nan" in (d or "").lower() for d in docs)


@pytest.mark.parametrize("name", registry.names("metric"))
def test_every_registered_metric_evaluates_on_a_tiny_run(name):
    m = registry.get("metric", name)
    errors = []
    for prob, param, algo, init in _metric_runs():
        for lean in (True, False):
            try:
                res = op.run(prob(), param(), algo(), init=init, steps=6, metrics=[name], log=LogSchedule(points=0,
                             every=2), lean=lean)
            except OverparamError as e:  # this run does not suit the metric: the next one may
                errors.append(str(e))
                break
            v = np.asarray(res.trace.columns[name], dtype=float)
            assert v.size > 0
            assert np.isfinite(v).all() or (_documents_nan(m) and not np.isinf(v).any()), (name, v)
        else:
            return
    pytest.fail(f"no tiny run evaluates metric {name!r}: {errors}")


# -- shapes are checked before any compiled kernel runs (issue 23.2) --------------------------------------

BAD_SHAPES = r'''
import numpy as np, torch, overparam as op
from overparam.errors import OverparamError
sens = op.problems.matrix_sensing(d=6, r=1, m=30, data_seed=0)
fac = op.problems.matrix_factorization(d1=6, d2=5, r=1, data_seed=0)
A = np.random.default_rng(0).standard_normal((30, 6, 6)); A = A + A.transpose(0, 2, 1)
mine = op.problems.from_arrays(A=A, y=np.ones(30))
r = lambda *s: torch.ones(*s, dtype=torch.float64)
cases = [(sens, op.params.Symmetric(), (r(2, 9, 6),)), (sens, op.params.Symmetric(), (r(2, 5, 6),)),
         (sens, op.params.Symmetric(), (r(2, 6, 6), r(2, 6, 6))), (sens, op.params.Symmetric(), (r(2, 6, 6, 1),)),
         (fac, op.params.Asymmetric(), (r(2, 6, 3), r(2, 5, 2))), (fac, op.params.Asymmetric(), (r(2, 6, 3), r(3, 5, 3))),
         (mine, op.params.Symmetric(), (r(2, 7, 6),)), (mine, op.params.Symmetric(), (r(1, 60, 6),))]
for prob, param, th in cases:
    for lean in (True, False):
        try:
            op.run(prob, param, op.algorithms.gd(eta=0.01), theta0=th, steps=20, metrics=["loss"], lean=lean)
            print("RAN", [tuple(p.shape) for p in th])
        except OverparamError as e:
            print("ERR", str(e))
'''


def test_a_theta0_of_the_wrong_shape_is_a_one_line_error_not_a_crash():
    import subprocess

    out = subprocess.run([sys.executable, "-c", BAD_SHAPES], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])  # before: -11 (segfault) on the compiled path
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 16 and all(ln.startswith("ERR theta0:") for ln in lines), lines
    assert all("expected" in ln for ln in lines)


def test_a_pruned_width_is_a_valid_theta0():
    """A recipe's later stage continues from fewer columns: only the width may differ."""
    prob = _sensing()
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.02), theta0=(torch.full((2, 6, 3), 0.1,
                 dtype=torch.float64),), steps=5, metrics=["loss"])
    assert res.info["engine"] == SymPackedEngine.name and res.theta[0].shape == (2, 6, 3)


def test_a_width_pruned_to_zero_is_a_valid_theta0():
    """Every column pruned (rajaraman2023's sensitivity sweep at a large λ): the fine-tuning stage runs
    from width 0 (X = 0) as it did before the shape checks; a wrong non-width axis is still refused."""
    prob = _sensing()
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.02),
                 theta0=(torch.zeros((2, 6, 0), dtype=torch.float64),), steps=3, metrics=["loss"])
    assert res.theta[0].shape == (2, 6, 0) and torch.isfinite(torch.as_tensor(res.final("loss"))).all()
    with pytest.raises(OverparamError, match=r"theta0: got \(2, 5, 0\)"):
        op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.02),
               theta0=(torch.zeros((2, 5, 0), dtype=torch.float64),), steps=3, metrics=["loss"])


def test_the_engine_checks_every_array_at_its_kernel_entry():
    prob = _sensing()
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.02), init=op.init.gaussian(scale=0.1),
                 steps=2, metrics=["loss"])
    assert res.info["engine"] == SymPackedEngine.name
    from overparam.objective import Objective

    eng = SymPackedEngine(Objective(prob, op.params.Symmetric(), None))
    step, ref = torch.full((2,), 0.01, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    with pytest.raises(OverparamError, match=r"theta0: got \(2, 7, 6\); expected \(R, 6, k\)"):
        eng.segment((torch.zeros(2, 7, 6, dtype=torch.float64),), (step,), 3, ref, 1e8, None, 1.0)
    with pytest.raises(OverparamError, match="algorithm.eta"):
        eng.segment((torch.zeros(2, 6, 6, dtype=torch.float64),), (step[:1],), 3, ref, 1e8, None, 1.0)
    with pytest.raises(OverparamError, match="log: record steps"):
        eng.segment((torch.zeros(2, 6, 6, dtype=torch.float64),), (step,), 3, ref, 1e8, None, 1.0, [2, 1])


# -- threads: a run leaves them as it found them, a worker's are bounded, counts are capped (23.3/6/12) ----

THREADS_PROBE = r'''
import json, sys, threading
from threadpoolctl import threadpool_info
import torch
import overparam as op
from overparam.backend import pin_process_threads, threads
from overparam.experiments import RunSpec
from overparam.experiments.execute import execute

def os_threads():
    return int(next(ln for ln in open("/proc/self/status") if ln.startswith("Threads:")).split()[1])

def settings():
    import numba.np.ufunc.parallel as par
    numba_n = None
    if par._is_initialized:
        import numba
        numba_n = numba.get_num_threads()
    return {"torch": torch.get_num_threads(), "interop": torch.get_num_interop_threads(), "numba": numba_n,
            "blas": sorted((i["filepath"], i["num_threads"]) for i in threadpool_info())}

n = int(sys.argv[1])
tiny = {"steps": 50, "metrics": ["loss", "test_error"], "problem": {"name": "matrix_sensing", "d": 8, "r": 1, "m": 40},
        "param": {"name": "symmetric"}, "algorithm": {"name": "gd", "eta": 0.05}, "init": {"name": "gaussian", "scale": 0.01}}
big = {**tiny, "steps": 300, "problem": {"name": "matrix_sensing", "d": 30, "r": 2, "m": 400},
       "replicas": {"init_seed": list(range(16))}}  # above the segment's parallel threshold
if n == 0:  # a notebook: no pinning; every execute() and problem leaves the settings as it found them
    before = settings()
    execute(RunSpec.parse(tiny))
    first = settings()
    op.problems.matrix_completion(d1=7, d2=6, r=2, p=0.5, data_seed=4)  # y = A(X*): numba's pool starts here
    built = settings()
    execute(RunSpec.parse(big))
    print(json.dumps({"before": before, "after_tiny": first, "after_problem": built, "after_parallel": settings()}))
else:  # a pool worker pinned to n threads
    pin_process_threads(n)
    import numba
    with threads(n):
        execute(RunSpec.parse(tiny))
    with threads(n, kernels=n):
        execute(RunSpec.parse(big))
    print(json.dumps({"threads": os_threads(), "python_threads": threading.active_count(),
                      "numba_pool": numba.config.NUMBA_NUM_THREADS, "torch": torch.get_num_threads()}))
'''


def _probe(arg: int, **env):
    import json
    import os
    import subprocess

    out = subprocess.run([sys.executable, "-c", THREADS_PROBE, str(arg)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_run_leaves_the_process_thread_settings_as_it_found_them():
    """At OMP_NUM_THREADS=1 torch went from 1 to 2 threads after the first execute(), and after building
    a completion problem (numba's OpenMP pool, started by its first parallel kernel, reset OpenMP's count:
    a test session at one torch thread ran on both cores from its collection on)."""
    got = _probe(0, OMP_NUM_THREADS="1")
    assert got["before"]["torch"] == 1
    assert got["after_problem"]["numba"] is not None  # the problem started numba's pool
    for after in ("after_tiny", "after_problem", "after_parallel"):
        assert got[after]["torch"] == got["before"]["torch"], got
        assert got[after]["interop"] == got["before"]["interop"], got
        before_blas = dict(map(tuple, got["before"]["blas"]))
        assert all(dict(map(tuple, got[after]["blas"])).get(k) == v for k, v in before_blas.items()), got
    assert got["after_tiny"]["numba"] is None  # a serial segment never starts numba's pool


def test_one_worker_process_creates_a_bounded_number_of_threads():
    """Issue 23.12: a worker pinned to n threads holds at most 1 + 4n + (usable CPUs) threads: the main
    thread, torch's n − 1 OpenMP workers, numba's pool of n (not one per core), n − 1 per BLAS library
    loaded after pinning, and the CPUs − 1 of NumPy's OpenBLAS started at import before the pinning."""
    from overparam.backend import usable_cpus

    for n in (1, 2):
        got = _probe(n)
        assert got["numba_pool"] == n and got["torch"] == n, got
        assert got["python_threads"] == 1, got  # no Python thread left behind by a run
        assert got["threads"] <= 1 + 4 * n + usable_cpus(), got


def test_thread_counts_are_capped_like_workers(capsys):
    from overparam.backend import check_threads, max_threads, threads
    from overparam.cli import main

    with pytest.raises(OverparamError, match=rf"threads: got 100000; accepted: 1 to {max_threads()} "):
        check_threads(100_000)
    with pytest.raises(OverparamError, match="threads: got 0"), threads(0):
        pass
    with pytest.raises(OverparamError, match=rf"threads: got {max_threads() + 1}"), threads(max_threads() + 1):
        pass
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["run", "no-such-spec.toml", "--threads", "100000"])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and len(err.splitlines()) == 1 and "--threads: got 100000; accepted: 1 to" in err, err


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_kernels_arrays_start_on_a_cache_line(dtype):
    """NumPy aligns to 16 bytes and numba to 32; a kernel's 64-byte vectors then straddle two cache
    lines (the d = 20 segment ran at 23 µs a step instead of 14). The helpers and the operator
    layouts the engines build start on a 64-byte boundary whatever the heap's state, and hold the
    same values as the plain construction."""
    import numba

    from overparam.engines import _kernels as lk
    from overparam.operators._aligned import ALIGN, aligned_empty, aligned_zeros
    from overparam.operators._simd import empty_aligned, zeros_aligned

    keep = [np.empty(s, dtype) for s in (3, 7, 33)]  # disturb the heap between allocations
    for shape in [(1,), (5,), (7, 13), (3, 4, 5), (200, 210)]:
        a, z = aligned_empty(shape, dtype), aligned_zeros(shape, dtype)
        assert a.shape == z.shape == shape and a.dtype == z.dtype == dtype and a.flags.c_contiguous
        assert a.ctypes.data % ALIGN == 0 and z.ctypes.data % ALIGN == 0 and not z.any()
        keep.append(np.empty(shape[0] + 1, dtype))

    @numba.njit
    def inside(like):
        out = np.empty(12, np.int64)
        for i in range(6):
            e, z = empty_aligned(3 + 5 * i, like), zeros_aligned(3 + 5 * i, like)
            out[2 * i] = e.ctypes.data % 64 + (e.size != 3 + 5 * i)
            out[2 * i + 1] = z.ctypes.data % 64 + int(z.sum() != 0) + (z.size != 3 + 5 * i)
        return out

    assert not inside(np.zeros(1, dtype)).any()
    P = np.random.default_rng(0).standard_normal((37, 21)).astype(dtype)
    L = 8 if dtype == np.float64 else 16
    PT, PA = lk.blocked_transpose(P, L), lk.padded_columns(P, 8 * L)
    assert PT.ctypes.data % ALIGN == 0 and PA.ctypes.data % ALIGN == 0
    full = np.zeros((-(-37 // L) * L, 21), dtype)
    full[:37] = P
    np.testing.assert_array_equal(PT, full.reshape(-1, L, 21).transpose(0, 2, 1))
    np.testing.assert_array_equal(PA[:, :21], P)
    assert PA.shape[1] % (8 * L) == 0 and not PA[:, 21:].any()
