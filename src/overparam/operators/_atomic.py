"""Atomic counters inside numba kernels, for chunks claimed one at a time (:mod:`._team`).

numba's ``prange`` on its OpenMP and workqueue threading layers splits the iterations statically:
with 8 chunks and 2 threads, thread 0 runs chunks 0–3 and thread 1 chunks 4–7 whatever
``numba.parallel_chunksize`` says (measured: a slow chunk 0 kept chunks 1–3 on its thread while
the other thread idled), and the region ends only when both threads have arrived. When a
neighbour's process holds the other core, the step waits a time slice for half its work. Kernels
that claim their chunks through a shared counter instead let whichever thread is running take the
next chunk; the chunks are fixed by the data, so the results do not depend on who ran them.

* :func:`fetch_add`: ``a[i] += v`` atomically (sequentially consistent), returning the old value;
  ``fetch_add(a, i, 0)`` is an atomic read;
* :func:`wait_until`: spin (with the CPU's ``pause`` hint, then ``sched_yield``) until ``a[i] ≥ n``.
"""

from __future__ import annotations

import platform

import numba as nb
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@intrinsic
def fetch_add(typingctx, arr, idx, val):
    """``old = arr[idx]; arr[idx] += val`` as one sequentially consistent atomic operation (int64 array)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        raise TypeError(f"fetch_add: an int64 array is needed; got {arr}")

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, v, "seq_cst")

    return types.int64(arr, idx, val), codegen


@intrinsic
def cpu_relax(typingctx):
    """The spin-wait hint (x86 ``pause``; nothing elsewhere)."""

    def codegen(context, builder, sig, args):
        if _X86:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def sched_yield(typingctx):
    """``sched_yield()`` from the C library: give the core to another runnable thread."""

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.none(), codegen


@nb.njit(cache=True, nogil=True, inline="always")
def wait_until(arr, idx, n):  # pragma: no cover - compiled
    """Return once ``arr[idx] ≥ n`` (read atomically): ~a microsecond of ``pause`` spins, then yielding
    the core between reads, so a waiting thread does not hold a core its neighbour needs."""
    spins = 0
    while fetch_add(arr, idx, 0) < n:
        if spins < 256:
            cpu_relax()
            spins += 1
        else:
            sched_yield()
