"""Compiled GD segments for small dense sensing problems (numba, CPU): many steps in one call.

At the sizes of papers 001–004 (d = 20–30, m = 100–240: the sensing matrix is a few hundred kB)
a GD step is some 200 k multiply-adds, about 20 µs of arithmetic, and the generic step's fifteen
torch calls (pack, two products, unpack, the pullback, the update, the health check) cost ten
times that in dispatch. :func:`sym_packed_single` runs the whole update

    x = svec(U Uᵀ),  z = P x,  fit = ‖z − y‖²,  g = Pᵀ (s (z − y)),  G = smat(g),
    U ← U − η (2 G U)

for ``n`` steps inside one call, with the run loop's divergence and target checks at every step
(it stops *before* a step where a replica would diverge or reach the target, so that the run loop
handles that step itself). P is the packed-symmetric sensing matrix (m × d(d+1)/2), s = 2c.

Determinism. Every replica's arithmetic is a fixed sequence of operations on its own data: its
dot products are L interleaved partial sums added in lane order (explicit SIMD vectors of
:mod:`overparam.operators._simd`, so the bits do not depend on the CPU's vector width), its other sums run in index
order. Replicas are split into groups that run in parallel (one per thread), but the split only
decides *who* computes a replica, never *how*: the results are the same bits for any thread count.
A group stops at the first step where one of its replicas is flagged; the caller replays the
groups that went further (:mod:`overparam.engines.sym_packed`), which gives them the same bits again.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..operators._aligned import aligned_empty, aligned_zeros
from ..operators._simd import empty_aligned, fma, fma1, load, mul, splat, store, sub, zero, zeros_aligned


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def sym_packed_single(P, PT, PA, y, s, c, wpk, where, winv, U0, Ucur, Uprev, step, ref, factor, ynsq, target,
                      n, check, stop, Z, FIT, GRAD, rec, Urec, FITrec, Zrec, tag):  # pragma: no cover - compiled
    """One replica at a time (replicas in parallel), with exactly the arithmetic of one lane of
    :func:`sym_packed_lanes`, vectorized across what that kernel runs sequentially per lane:

    * z: eight rows per vector (``PT`` (m/8, D, 8): P in blocks of eight rows, transposed), four
      blocks at once; each row's dot product is one ``fma`` chain over the columns, in order;
    * g = Pᵀ w: eight columns per vector, four at once; each column's sum is one ``fma`` chain over
      the rows, in order; ‖z − y‖² one ``fma`` chain over the rows;
    * svec(UUᵀ): eight entries of a row per vector; G U: eight columns of U per vector.

    P (m, D); PA (m, Dq): P with its columns padded by zeros to a multiple of 8L; U0, Ucur, Uprev,
    GRAD (R, d, k); step, ref, FIT (R,); Z (R, m); stop (R,).
    rec: the steps (from 0, increasing) at which θ, ‖z − y‖² and z are copied into Urec (nrec, R, d, k),
    FITrec (nrec, R) and Zrec (nrec, R, m) for the run loop's records (``check`` mode)."""
    m, D = P.shape
    R, d, k = U0.shape
    L = len(tag)
    nbk = PT.shape[0]
    dp = -(-d // L) * L
    kp = -(-k // L) * L
    zero_ = s - s
    for r in nb.prange(R):
        # U with its columns padded to a multiple of L (U[b, a] at b·kp + a), Uᵀ padded likewise
        cur = zeros_aligned(d * kp + 4 * L, U0)  # + 4L: the four-vector loop below reads past kp
        nxt = zeros_aligned(d * kp + 4 * L, U0)
        for j in range(d):
            for a in range(k):
                cur[j * kp + a] = U0[r, j, a]
        UT = zeros_aligned(k * dp + L, U0)
        x = zeros_aligned(D, U0)
        Dq = PA.shape[1]
        g = zeros_aligned(Dq, U0)
        zb = zeros_aligned(nbk * L, U0)
        w = zeros_aligned(m, U0)
        Gj = zeros_aligned(d, U0)
        xrow = zeros_aligned(dp, U0)
        eta = step[r]
        ev = splat(eta, tag)
        two = splat(s / s + s / s, tag)  # 2 in the data's dtype
        made = n
        nrec = rec.shape[0]
        pos_rec = 0
        for t in range(n):
            # x = svec(U Uᵀ): x_(j,b) = w Σ_a U[j, a] U[b, a], eight b at a time
            for a in range(k):
                for b in range(d):
                    UT[a * dp + b] = cur[b * kp + a]
            pos = 0
            for j in range(d):
                for b0 in range(j, d, L):
                    acc = zero(x, tag)
                    for a in range(k):
                        acc = fma(splat(cur[j * kp + a], tag), load(UT, a * dp + b0, tag), acc)
                    store(xrow, 0, acc)
                    for b in range(b0, min(d, b0 + L)):
                        x[pos] = xrow[b - b0] * wpk[pos]
                        pos += 1
            # z = P x: rows in vectors of eight, eight blocks of rows at once
            q = 0
            while q < nbk:
                nq = min(8, nbk - q)
                B0 = PT[q].reshape(-1)
                B1 = PT[q + min(1, nq - 1)].reshape(-1)
                B2 = PT[q + min(2, nq - 1)].reshape(-1)
                B3 = PT[q + min(3, nq - 1)].reshape(-1)
                B4 = PT[q + min(4, nq - 1)].reshape(-1)
                B5 = PT[q + min(5, nq - 1)].reshape(-1)
                B6 = PT[q + min(6, nq - 1)].reshape(-1)
                B7 = PT[q + min(7, nq - 1)].reshape(-1)
                a0 = zero(x, tag)
                a1 = zero(x, tag)
                a2 = zero(x, tag)
                a3 = zero(x, tag)
                a4 = zero(x, tag)
                a5 = zero(x, tag)
                a6 = zero(x, tag)
                a7 = zero(x, tag)
                for j in range(D):
                    xj = splat(x[j], tag)
                    o = j * L
                    a0 = fma(load(B0, o, tag), xj, a0)
                    a1 = fma(load(B1, o, tag), xj, a1)
                    a2 = fma(load(B2, o, tag), xj, a2)
                    a3 = fma(load(B3, o, tag), xj, a3)
                    a4 = fma(load(B4, o, tag), xj, a4)
                    a5 = fma(load(B5, o, tag), xj, a5)
                    a6 = fma(load(B6, o, tag), xj, a6)
                    a7 = fma(load(B7, o, tag), xj, a7)
                store(zb, q * L, a0)
                if nq > 1:
                    store(zb, (q + 1) * L, a1)
                if nq > 2:
                    store(zb, (q + 2) * L, a2)
                if nq > 3:
                    store(zb, (q + 3) * L, a3)
                if nq > 4:
                    store(zb, (q + 4) * L, a4)
                if nq > 5:
                    store(zb, (q + 5) * L, a5)
                if nq > 6:
                    store(zb, (q + 6) * L, a6)
                if nq > 7:
                    store(zb, (q + 7) * L, a7)
                q += 8
            fv = zero_
            for i in range(m):
                e = zb[i] - y[i]
                Z[r, i] = zb[i]
                fv = fma1(e, e, fv)
                w[i] = s * e
            FIT[r] = fv
            if check:
                flagged = not (c * fv <= factor * ref[r])
                if target >= 0 and np.sqrt(fv / ynsq) <= target:
                    flagged = True
                if flagged:
                    made = t
                    break
                if pos_rec < nrec and rec[pos_rec] == t:
                    for j in range(d):
                        for a in range(k):
                            Urec[pos_rec, r, j, a] = cur[j * kp + a]
                    FITrec[pos_rec, r] = fv
                    for i in range(m):
                        Zrec[pos_rec, r, i] = zb[i]
                    pos_rec += 1
            # g = Pᵀ w: columns in vectors of eight, eight vectors at once, each a chain over the rows
            Pf = PA.reshape(-1)
            for j0 in range(0, Dq, 8 * L):
                g0 = zero(x, tag)
                g1 = zero(x, tag)
                g2 = zero(x, tag)
                g3 = zero(x, tag)
                g4 = zero(x, tag)
                g5 = zero(x, tag)
                g6 = zero(x, tag)
                g7 = zero(x, tag)
                for i in range(m):
                    wi = splat(w[i], tag)
                    o = i * Dq + j0
                    g0 = fma(load(Pf, o, tag), wi, g0)
                    g1 = fma(load(Pf, o + L, tag), wi, g1)
                    g2 = fma(load(Pf, o + 2 * L, tag), wi, g2)
                    g3 = fma(load(Pf, o + 3 * L, tag), wi, g3)
                    g4 = fma(load(Pf, o + 4 * L, tag), wi, g4)
                    g5 = fma(load(Pf, o + 5 * L, tag), wi, g5)
                    g6 = fma(load(Pf, o + 6 * L, tag), wi, g6)
                    g7 = fma(load(Pf, o + 7 * L, tag), wi, g7)
                store(g, j0, g0)
                store(g, j0 + L, g1)
                store(g, j0 + 2 * L, g2)
                store(g, j0 + 3 * L, g3)
                store(g, j0 + 4 * L, g4)
                store(g, j0 + 5 * L, g5)
                store(g, j0 + 6 * L, g6)
                store(g, j0 + 7 * L, g7)
            # U ← U − η (2 G U), G = smat(g); eight columns of U per vector
            for j in range(d):
                for b in range(d):
                    Gj[b] = g[where[j * d + b]] * winv[j * d + b]
                for a0_ in range(0, kp, 4 * L):
                    c0 = zero(x, tag)
                    c1 = zero(x, tag)
                    c2 = zero(x, tag)
                    c3 = zero(x, tag)
                    for b in range(d):
                        gb = splat(Gj[b], tag)
                        o = b * kp + a0_
                        c0 = fma(gb, load(cur, o, tag), c0)
                        c1 = fma(gb, load(cur, o + L, tag), c1)
                        c2 = fma(gb, load(cur, o + 2 * L, tag), c2)
                        c3 = fma(gb, load(cur, o + 3 * L, tag), c3)
                    for v in range(min(4, (kp - a0_) // L)):
                        acc = c0 if v == 0 else (c1 if v == 1 else (c2 if v == 2 else c3))
                        d2 = mul(two, acc)
                        o = j * kp + a0_ + v * L
                        store(nxt, o, sub(load(cur, o, tag), mul(ev, d2)))
                        if not check:
                            store(xrow, 0, d2)
                            for a in range(a0_ + v * L, min(k, a0_ + (v + 1) * L)):
                                GRAD[r, j, a] = xrow[a - a0_ - v * L]
            tmp = cur
            cur = nxt
            nxt = tmp
        stop[r] = made
        for j in range(d):
            for a in range(k):
                Ucur[r, j, a] = cur[j * kp + a]
                Uprev[r, j, a] = nxt[j * kp + a]


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def sym_packed_lanes(P, y, s, c, wpk, where, winv, U0, Ucur, Uprev, step, ref, nvalid, factor, ynsq, target,
                     n, check, stop, Z, FIT, GRAD, rec, Urec, FITrec, Zrec, tag):  # pragma: no cover - compiled
    """As :func:`sym_packed_single` with the replicas of group q in the lanes: U0, Ucur, Uprev,
    GRAD (ng, d, k, L); step, ref, FIT (ng, L); Z (ng, m, L); nvalid (ng,) real lanes per group.
    Every lane is a plain sequential computation (``fma`` chains in index order). Records as in
    :func:`sym_packed_single`, in the lane layout: Urec (nrec, ng, d, k, L), FITrec (nrec, ng, L),
    Zrec (nrec, ng, m, L)."""
    m, D = P.shape
    ng, d, k, L = U0.shape
    ss = splat(s, tag)
    for q in nb.prange(ng):
        cur = empty_aligned(U0[q].size, U0)
        cur[:] = U0[q].reshape(-1)
        nxt = empty_aligned(U0[q].size, U0)
        nxt[:] = U0[q].reshape(-1)
        x = empty_aligned(D * L, U0)
        g = empty_aligned(D * L, U0)
        fit = empty_aligned(L, U0)
        Zq = Z[q].reshape(-1)
        eta = load(step[q], 0, tag)
        made = n
        nrec = rec.shape[0]
        pos_rec = 0
        for t in range(n):
            # x = svec(U Uᵀ): x_(j,b) = w Σ_a U[j, a] U[b, a]
            pos = 0
            for j in range(d):
                for b in range(j, d):
                    acc = zero(x, tag)
                    for a in range(k):
                        acc = fma(load(cur, (j * k + a) * L, tag), load(cur, (b * k + a) * L, tag), acc)
                    store(x, pos * L, mul(acc, splat(wpk[pos], tag)))
                    pos += 1
            for e in range(0, D * L, L):
                store(g, e, zero(g, tag))
            fv = zero(g, tag)
            # z = P x, residual, g = Pᵀ(s(z − y)), eight rows at a time
            i = 0
            while i < m:
                na = min(8, m - i)
                p0 = P[i]
                p1 = P[i + min(1, na - 1)]
                p2 = P[i + min(2, na - 1)]
                p3 = P[i + min(3, na - 1)]
                p4 = P[i + min(4, na - 1)]
                p5 = P[i + min(5, na - 1)]
                p6 = P[i + min(6, na - 1)]
                p7 = P[i + min(7, na - 1)]
                a0 = zero(x, tag)
                a1 = zero(x, tag)
                a2 = zero(x, tag)
                a3 = zero(x, tag)
                a4 = zero(x, tag)
                a5 = zero(x, tag)
                a6 = zero(x, tag)
                a7 = zero(x, tag)
                for j in range(D):
                    xj = load(x, j * L, tag)
                    a0 = fma(splat(p0[j], tag), xj, a0)
                    a1 = fma(splat(p1[j], tag), xj, a1)
                    a2 = fma(splat(p2[j], tag), xj, a2)
                    a3 = fma(splat(p3[j], tag), xj, a3)
                    a4 = fma(splat(p4[j], tag), xj, a4)
                    a5 = fma(splat(p5[j], tag), xj, a5)
                    a6 = fma(splat(p6[j], tag), xj, a6)
                    a7 = fma(splat(p7[j], tag), xj, a7)
                store(Zq, i * L, a0)
                e0 = sub(a0, splat(y[i], tag))
                fv = fma(e0, e0, fv)
                a0 = mul(ss, e0)
                if na > 1:
                    store(Zq, (i + 1) * L, a1)
                    e1 = sub(a1, splat(y[i + 1], tag))
                    fv = fma(e1, e1, fv)
                    a1 = mul(ss, e1)
                else:
                    a1 = zero(x, tag)
                if na > 2:
                    store(Zq, (i + 2) * L, a2)
                    e2 = sub(a2, splat(y[i + 2], tag))
                    fv = fma(e2, e2, fv)
                    a2 = mul(ss, e2)
                else:
                    a2 = zero(x, tag)
                if na > 3:
                    store(Zq, (i + 3) * L, a3)
                    e3 = sub(a3, splat(y[i + 3], tag))
                    fv = fma(e3, e3, fv)
                    a3 = mul(ss, e3)
                else:
                    a3 = zero(x, tag)
                if na > 4:
                    store(Zq, (i + 4) * L, a4)
                    e4 = sub(a4, splat(y[i + 4], tag))
                    fv = fma(e4, e4, fv)
                    a4 = mul(ss, e4)
                else:
                    a4 = zero(x, tag)
                if na > 5:
                    store(Zq, (i + 5) * L, a5)
                    e5 = sub(a5, splat(y[i + 5], tag))
                    fv = fma(e5, e5, fv)
                    a5 = mul(ss, e5)
                else:
                    a5 = zero(x, tag)
                if na > 6:
                    store(Zq, (i + 6) * L, a6)
                    e6 = sub(a6, splat(y[i + 6], tag))
                    fv = fma(e6, e6, fv)
                    a6 = mul(ss, e6)
                else:
                    a6 = zero(x, tag)
                if na > 7:
                    store(Zq, (i + 7) * L, a7)
                    e7 = sub(a7, splat(y[i + 7], tag))
                    fv = fma(e7, e7, fv)
                    a7 = mul(ss, e7)
                else:
                    a7 = zero(x, tag)
                for j in range(D):
                    gj = load(g, j * L, tag)
                    gj = fma(splat(p0[j], tag), a0, gj)
                    gj = fma(splat(p1[j], tag), a1, gj)
                    gj = fma(splat(p2[j], tag), a2, gj)
                    gj = fma(splat(p3[j], tag), a3, gj)
                    gj = fma(splat(p4[j], tag), a4, gj)
                    gj = fma(splat(p5[j], tag), a5, gj)
                    gj = fma(splat(p6[j], tag), a6, gj)
                    gj = fma(splat(p7[j], tag), a7, gj)
                    store(g, j * L, gj)
                i += 8
            store(fit, 0, fv)
            flagged = False
            for l in range(L):
                FIT[q, l] = fit[l]
                if check and l < nvalid[q]:
                    if not (c * fit[l] <= factor * ref[q, l]):
                        flagged = True
                    if target >= 0 and np.sqrt(fit[l] / ynsq) <= target:
                        flagged = True
            if flagged:
                made = t
                break
            if check and pos_rec < nrec and rec[pos_rec] == t:
                Urec[pos_rec, q] = cur.reshape(d, k, L)
                FITrec[pos_rec, q] = fit
                Zrec[pos_rec, q] = Zq.reshape(m, L)
                pos_rec += 1
            # U ← U − η (2 G U), G = smat(g)
            two = splat(s / s + s / s, tag)  # 2 in the data's dtype
            for j in range(d):
                for a in range(k):
                    acc = zero(x, tag)
                    for b in range(d):
                        e = where[j * d + b]
                        acc = fma(mul(load(g, e * L, tag), splat(winv[j * d + b], tag)),
                                  load(cur, (b * k + a) * L, tag), acc)
                    d2 = mul(two, acc)
                    o = (j * k + a) * L
                    store(nxt, o, sub(load(cur, o, tag), mul(eta, d2)))
                    if not check:
                        store(GRAD[q].reshape(-1), o, d2)
            tmp = cur
            cur = nxt
            nxt = tmp
        stop[q] = made
        Ucur[q] = cur.reshape(d, k, L)
        Uprev[q] = nxt.reshape(d, k, L)



def _serial(disp, name: str):
    """``disp``'s Python function compiled again without ``parallel`` (``prange`` is then ``range``),
    under its own name so that numba's disk cache keeps the two apart: a call of one replica group
    skips the parallel region's launch (tens of µs per call)."""
    import types

    f = disp.py_func
    g = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__, f.__closure__)
    g.__qualname__ = name
    g.__doc__ = f.__doc__
    return nb.njit(cache=True, nogil=True, boundscheck=False)(g)


sym_packed_single_serial = _serial(sym_packed_single, "sym_packed_single_serial")
sym_packed_lanes_serial = _serial(sym_packed_lanes, "sym_packed_lanes_serial")


class Entry:
    """A kernel called through the compiled entry point of its one signature: numba's dispatcher
    types every argument on every call (≈ 1 µs per array, 20–40 µs for these kernels); the run
    calls a kernel with the same types each time, so the first call resolves the overload and later
    calls go straight to it."""

    def __init__(self, disp):
        self.disp = disp
        self.fn = None

    def __call__(self, *args):
        if self.fn is None:
            self.disp(*args)
            sig = tuple(nb.typeof(a) for a in args)
            self.fn = self.disp.overloads[self.disp.signatures[self.disp.signatures.index(sig)]].entry_point
            return None
        return self.fn(*args)


def padded_columns(P: np.ndarray, multiple: int) -> np.ndarray:
    """P (m, D) with zero columns appended up to a multiple of ``multiple``."""
    m, D = P.shape
    out = aligned_zeros((m, -(-D // multiple) * multiple), P.dtype)
    out[:, :D] = P
    return out


def blocked_transpose(P: np.ndarray, L: int) -> np.ndarray:
    """P (m, D) as (⌈m/L⌉, D, L) blocks of L rows, transposed (rows past m are zeros)."""
    m, D = P.shape
    nb_ = -(-m // L)
    out = aligned_empty((nb_, D, L), P.dtype)
    full = np.zeros((nb_ * L, D), dtype=P.dtype)
    full[:m] = P
    out[...] = full.reshape(nb_, L, D).transpose(0, 2, 1)
    return out
