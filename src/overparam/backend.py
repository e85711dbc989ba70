"""Compute backend: dtype and device resolution, seeded generators, thread settings.

There is no global state here: no global RNG, no module-level device. Every random draw in the
library goes through :func:`generator`, which derives a torch generator from explicit integer
seeds and string tags with NumPy's ``SeedSequence`` (stable across processes and platforms,
unlike Python's ``hash``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .errors import BackendError, OverparamError  # noqa: F401  (BackendError: re-exported)

DEFAULT_DTYPE = torch.float64

_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "double": torch.float64,
    "float": torch.float32,
}


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    """Map ``None`` / ``"float64"`` / ``"float32"`` / a torch dtype to a floating torch dtype."""
    if dtype is None:
        return DEFAULT_DTYPE
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float64, torch.float32):
            raise BackendError(f"dtype: got {dtype}; accepted: float64, float32")
        return dtype
    try:
        return _DTYPES[str(dtype)]
    except KeyError:
        raise BackendError(f"dtype: got {dtype!r}; accepted: float64, float32") from None


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Map ``None`` (CPU) / ``"cpu"`` / ``"cuda"`` / ``"cuda:1"`` to a torch device.

    Raises :class:`BackendError` with a clear message when CUDA is asked for but absent.
    """
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise BackendError(f"device: got {device!r}; accepted: cpu, cuda, cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BackendError("device: 'cuda' was requested but no CUDA device is available here")
    if dev.type not in ("cpu", "cuda"):
        raise BackendError(f"device: got {device!r}; accepted: cpu, cuda, cuda:N")
    return dev


def _key_words(key: Any) -> list[int]:
    """Turn one seed key (int or str) into 32-bit words for ``SeedSequence``."""
    if isinstance(key, (bool, np.bool_)):
        key = int(key)
    if isinstance(key, (int, np.integer)):
        k = int(key)
        if k < 0:
            raise BackendError(f"seed: got {k}; accepted: integers >= 0")
        words = []
        while True:
            words.append(k & 0xFFFFFFFF)
            k >>= 32
            if not k:
                return words
    digest = hashlib.sha256(str(key).encode()).digest()[:16]
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def derive_seed(*keys: int | str) -> int:
    """A 63-bit seed derived from integer seeds and string tags.

    ``derive_seed(data_seed, "sensing", block)`` is the same number in every process, so data
    generated from it is identical whichever executor built it.
    """
    entropy: list[int] = []
    for key in keys:
        words = _key_words(key)
        entropy.extend([len(words), *words])
    state = np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & 0x7FFF_FFFF_FFFF_FFFF


def generator(*keys: int | str, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch generator on ``device`` seeded with :func:`derive_seed` of ``keys``."""
    g = torch.Generator(device=torch.device(device))
    g.manual_seed(derive_seed(*keys))
    return g


def as_tensor(x: Any, *, dtype: torch.dtype | None = None, device: torch.device | None = None) -> torch.Tensor:
    """Accept NumPy arrays, lists and tensors at the edges; return a tensor of ``dtype``/``device``."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype=dtype or x.dtype, device=device or x.device)
    arr = np.asarray(x)
    t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.is_floating_point() or dtype is not None:
        t = t.to(dtype=dtype or DEFAULT_DTYPE)
    return t.to(device=device or torch.device("cpu"))


def to_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def _numba_threads(n: int | None) -> int | None:
    """Set numba's thread count (starting its pool if needed) and return the previous count.

    This must come before torch's setting: starting numba's OpenMP pool resets OpenMP's thread
    count, and torch's intra-op count with it, to numba's default (all cores)."""
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    old = numba.get_num_threads()  # launches the pool now rather than inside a later kernel call
    if n is not None:
        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    return old


#: At most this many threads per usable CPU for one run (torch, BLAS, numba): like the worker cap
#: (``executors.max_workers``); more only oversubscribes the cores, and a huge count exhausts the
#: machine's threads (``--threads 100000`` segfaulted).
THREADS_PER_CPU = 4


def max_threads() -> int:
    """The largest thread count a run accepts on this machine: :data:`THREADS_PER_CPU` per usable CPU."""
    return THREADS_PER_CPU * usable_cpus()


def check_threads(n: Any, option: str = "threads") -> int:
    """``n`` if it is an integer from 1 to :func:`max_threads`, else a one-line :class:`BackendError`
    naming ``option`` and the accepted range."""
    cap = max_threads()
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or not 1 <= n <= cap:
        raise BackendError(f"{option}: got {n!r}; accepted: 1 to {cap} ({THREADS_PER_CPU} per usable CPU, "
                           f"{usable_cpus()} here)")
    return int(n)


@contextlib.contextmanager
def threads(n: int | None, kernels: int | None = None) -> Iterator[None]:
    """Set the thread count of torch, the BLAS libraries and numba's kernels for the block
    (``None`` leaves them unchanged).

    The count can change the last bits of a result (BLAS splits reductions across threads), so the
    executors run every spec under the same count. numba is set first (see :func:`_numba_threads`),
    then torch, then the BLAS libraries NumPy loaded (through ``threadpoolctl``).

    ``kernels`` gives numba's compiled kernels another count (default ``n``): their results do not
    depend on it (fixed chunks, replicas computed whole by one thread), so a scheduler may hand a
    run the cores no other run uses without changing a bit (:mod:`overparam.experiments.executors`).
    """
    if n is None:
        yield
        return
    check_threads(n)
    if kernels is not None:
        check_threads(kernels, "kernel threads")
    from threadpoolctl import threadpool_limits

    old_numba = _numba_threads(max(n, kernels or n))
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        if old_numba is not None:
            _numba_threads(old_numba)
        torch.set_num_threads(old)


def _numba_pool_running() -> bool:
    """Whether numba's threading layer (its OpenMP / TBB pool) has been launched in this process;
    asking numba for its thread count would launch it."""
    try:
        from numba.np.ufunc import parallel
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    return bool(getattr(parallel, "_is_initialized", False))


_controller: list[Any] = [None, None]  # (threadpoolctl controller, numba pool state when it was made)


def _blas_libraries() -> list[Any]:
    """threadpoolctl's controllers of the BLAS / OpenMP libraries loaded now (rescanned when numba's
    pool, which loads its own OpenMP runtime, has started since the last scan; a scan costs ms)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return []
    pool = _numba_pool_running()
    if _controller[0] is None or _controller[1] != pool:
        _controller[0], _controller[1] = ThreadpoolController(), pool
    return list(_controller[0].lib_controllers)


@contextlib.contextmanager
def preserved_threads() -> Iterator[None]:
    """Leave the process's thread settings as the block found them: torch's intra-op count, numba's
    count (when its pool was running before), and every BLAS / OpenMP library's count (threadpoolctl).

    A run may start numba's OpenMP pool (a parallel kernel), which resets OpenMP's thread count —
    torch's intra-op count with it — to numba's default (all cores): without this, a process at one
    thread runs every later computation on all cores after its first run."""
    torch_n = torch.get_num_threads()
    numba_n = None
    if _numba_pool_running():
        import numba

        numba_n = numba.get_num_threads()
    libs = [(lib, lib.num_threads) for lib in _blas_libraries()]
    try:
        yield
    finally:
        if numba_n is not None:
            import numba

            if numba.get_num_threads() != numba_n:
                numba.set_num_threads(numba_n)
        for lib, n in libs:
            if lib.get_num_threads() != n:
                lib.set_num_threads(n)
        if torch.get_num_threads() != torch_n:
            torch.set_num_threads(torch_n)


def start_numba_pool() -> None:
    """Launch numba's threading layer now, leaving the process's thread settings as they were.

    The first parallel kernel a process calls (or loads from numba's disk cache) launches numba's
    OpenMP pool, and the launch resets OpenMP's thread count, torch's intra-op count with it, to
    numba's default (every core). Building a problem computes y = 𝒜(X⋆) through such a kernel, so
    without this a process at one torch thread ran on every core after its first
    ``op.problems.matrix_completion(...)``, outside any :func:`overparam.run` (which keeps its own
    settings, :func:`preserved_threads`). The modules that define parallel kernels call this when
    they are imported, i.e. when a kernel is first needed; a pool or Dask worker has pinned its
    count by then (:func:`pin_process_threads`), so the pool starts with that count."""
    if _numba_pool_running():
        return
    with preserved_threads(), contextlib.suppress(ImportError):
        import numba

        numba.get_num_threads()  # launches the threading layer


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def pin_process_threads(n: int) -> None:
    """Pin this process (a pool or Dask worker) to ``n`` threads for its whole life.

    numba's pool, when it is not running yet, is started with ``n`` threads rather than one per
    core: a worker's threads stay bounded (main + torch's n − 1 + numba's n + each BLAS's n − 1;
    ``tests/test_engines.py::test_one_worker_process_creates_a_bounded_number_of_threads``)."""
    check_threads(n)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)
    if not _numba_pool_running():
        with contextlib.suppress(ImportError):
            import numba

            numba.config.NUMBA_NUM_THREADS = n
    _numba_threads(n)
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass


def is_sequence(v: Any) -> bool:
    """A per-replica sequence (list, tuple, array, non-scalar tensor), as opposed to one value."""
    return isinstance(v, (list, tuple, np.ndarray)) or (isinstance(v, torch.Tensor) and v.ndim > 0)


def per_replica(value: Any, R: int) -> list[Any]:
    """``value`` as a list of ``R`` entries (scalars repeat; sequences must have length ``R``)."""
    if is_sequence(value):
        seq = list(value)
        if len(seq) != R:
            raise BackendError(f"got {len(seq)} per-replica values for {R} replicas")
        return seq
    return [value] * R


def select(state: Any, keep: torch.Tensor) -> Any:
    """Restrict a state (tensors with a replica axis, lists, dicts, tuples) to the replicas ``keep``."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state[keep] if state.ndim else state
    if isinstance(state, dict):
        return {k: select(v, keep) for k, v in state.items()}
    if isinstance(state, list):
        idx = keep.tolist()
        return [state[i] for i in idx]
    if isinstance(state, tuple):
        return tuple(select(v, keep) for v in state)
    if hasattr(state, "select"):
        return state.select(keep)
    return state
