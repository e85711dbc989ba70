"""Explicit SIMD vectors inside numba kernels: ``<L x double>`` / ``<L x float>`` as a numba type.

numba's own vectorization is the LLVM *loop* vectorizer (its SLP vectorizer is off by default), and
on this project's CPUs LLVM also prefers 256-bit vectors. A register-blocked kernel whose vectors
run across *replicas* (see :mod:`._dense_kernels`) needs neither: it names its vectors explicitly.
This module gives numba kernels a vector type lowered to an LLVM vector (AVX-512 ``zmm`` registers
for 8 doubles; LLVM splits it into smaller registers on narrower CPUs, so results never depend on
the instruction set) and the few operations such a kernel needs. The lane count L is the length of
a tuple argument (:func:`lane_tag`), so it is a compile-time constant and kernels stay cacheable:

* :func:`load` / :func:`store`: ``L`` consecutive elements of a C-contiguous 1-d array from flat
  index ``i`` (no bounds check: the caller guarantees ``i + L <= a.size``);
* :func:`splat`: a scalar in every lane; :func:`zero`: zeros of an array's dtype;
* :func:`fma` (``a·b + c`` rounded once, ``llvm.fma``, exact on every CPU; :func:`fma1` for
  scalars), :func:`sub`, :func:`mul`;
* :func:`hsum` / :func:`hsum_tree`: the sum of the lanes in lane order / as a tree;
* :func:`prefetch`: a cache hint, to stream the next rows from memory while computing on these;
* :func:`empty_aligned` / :func:`zeros_aligned`: a kernel's own arrays on a 64-byte boundary
  (:mod:`._aligned` says why; its helpers do the same for arrays made in Python).

Every lane is an independent scalar computation, so a kernel written with these produces the
bits of the same loop written lane by lane: no reassociation, no dependence on vector width.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, models, register_model

from ._aligned import ALIGN


class VecType(types.Type):
    """A numba type for an LLVM vector of ``lanes`` elements of ``dtype`` (float32 or float64)."""

    def __init__(self, dtype: types.Float, lanes: int):
        self.dtype = dtype
        self.lanes = lanes
        super().__init__(name=f"Vec({dtype}x{lanes})")


@register_model(VecType)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        elt = ir.DoubleType() if fe_type.dtype == types.float64 else ir.FloatType()
        super().__init__(dmm, fe_type, ir.VectorType(elt, fe_type.lanes))


def _element_pointer(context, builder, arrty, arr, idx):
    ary = context.make_array(arrty)(context, builder, arr)
    return builder.gep(ary.data, [idx])


def _lanes(tag) -> int:
    if not isinstance(tag, types.UniTuple):
        raise TypeError(f"lane tag must be a tuple of L numbers (its length is the lane count); got {tag}")
    return tag.count


def lane_tag(lanes: int) -> tuple[float, ...]:
    """The argument that fixes a kernel's lane count at compile time: a tuple of ``lanes`` zeros.

    Its *type* (a homogeneous tuple of length L) carries L, so one cached kernel compiles one
    specialization per lane count.
    """
    return (0.0,) * lanes


@intrinsic
def load(typingctx, arr, idx, tag):
    """The L elements ``arr[idx : idx + L]`` of a C-contiguous 1-d array as a vector (L = len(tag))."""
    vt = VecType(arr.dtype, _lanes(tag))

    def codegen(context, builder, sig, args):
        p = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        vp = builder.bitcast(p, context.get_value_type(vt).as_pointer())
        return builder.load(vp, align=arr.dtype.bitwidth // 8)

    return vt(arr, idx, tag), codegen


@intrinsic
def store(typingctx, arr, idx, v):
    """``arr[idx : idx + L] = v``."""

    def codegen(context, builder, sig, args):
        p = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        builder.store(args[2], builder.bitcast(p, args[2].type.as_pointer()), align=arr.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(arr, idx, v), codegen


@intrinsic
def splat(typingctx, s, tag):
    """The scalar ``s`` in all L lanes."""
    L = _lanes(tag)
    vt = VecType(s, L)

    def codegen(context, builder, sig, args):
        ty = context.get_value_type(vt)
        v = builder.insert_element(ir.Constant(ty, ir.Undefined), args[0], ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(ir.IntType(32), L), [0] * L))

    return vt(s, tag), codegen


@intrinsic
def zero(typingctx, arr, tag):
    """L zeros of ``arr``'s dtype."""
    vt = VecType(arr.dtype, _lanes(tag))

    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vt), None)

    return vt(arr, tag), codegen


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to bring ``arr[idx]`` (flat index) into cache for reading (``llvm.prefetch``)."""

    def codegen(context, builder, sig, args):
        p = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(p, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.none(arr, idx), codegen


def _reduce_add(builder, vec, fastmath):
    ety = vec.type.element
    bits = 64 if ety == ir.DoubleType() else 32
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ety, [ety, vec.type]),
                                        f"llvm.vector.reduce.fadd.v{vec.type.count}f{bits}")
    return builder.call(fn, [ir.Constant(ety, -0.0), vec], fastmath=fastmath)


@intrinsic
def hsum(typingctx, v):
    """Σ of the lanes, added in lane order (an ordered ``llvm.vector.reduce.fadd``): the bits of a
    scalar loop over the lanes, on every CPU."""

    def codegen(context, builder, sig, args):
        return _reduce_add(builder, args[0], ())

    return v.dtype(v), codegen


@intrinsic
def hsum_tree(typingctx, v):
    """Σ of the lanes as a tree of vector adds (``reassoc``): about twice as fast as :func:`hsum` in
    a dependency chain; the order is LLVM's for the CPU, so bits are reproducible per machine."""

    def codegen(context, builder, sig, args):
        return _reduce_add(builder, args[0], ("reassoc",))

    return v.dtype(v), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c with a single rounding (``llvm.fma``), lane by lane."""

    def codegen(context, builder, sig, args):
        ty = args[0].type
        bits = 64 if ty.element == ir.DoubleType() else 32
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty, ty, ty]),
                                            f"llvm.fma.v{ty.count}f{bits}")
        return builder.call(fn, args)

    return a(a, b, c), codegen


@intrinsic
def fma1(typingctx, a, b, c):
    """a·b + c for three scalars of one float type, rounded once (``llvm.fma``): the bits of one lane
    of :func:`fma`."""

    def codegen(context, builder, sig, args):
        ty = args[0].type
        bits = 64 if ty == ir.DoubleType() else 32
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty, ty, ty]), f"llvm.fma.f{bits}")
        return builder.call(fn, args)

    return a(a, b, c), codegen


@intrinsic
def sub(typingctx, a, b):
    """a − b, lane by lane."""

    def codegen(context, builder, sig, args):
        return builder.fsub(args[0], args[1])

    return a(a, b), codegen


@intrinsic
def mul(typingctx, a, b):
    """a · b, lane by lane."""

    def codegen(context, builder, sig, args):
        return builder.fmul(args[0], args[1])

    return a(a, b), codegen



@nb.njit(cache=True, nogil=True)
def empty_aligned(n, like):  # pragma: no cover - compiled
    """Inside a kernel: ``n`` uninitialized elements of ``like``'s dtype, starting on an
    :data:`~._aligned.ALIGN`-byte boundary (1-d; reshape as needed)."""
    per = ALIGN // like.itemsize
    buf = np.empty(n + per, dtype=like.dtype)
    off = ((ALIGN - buf.ctypes.data % ALIGN) % ALIGN) // like.itemsize
    return buf[off:off + n]


@nb.njit(cache=True, nogil=True)
def zeros_aligned(n, like):  # pragma: no cover - compiled
    """:func:`empty_aligned`, filled with zeros."""
    out = empty_aligned(n, like)
    out[:] = 0
    return out
