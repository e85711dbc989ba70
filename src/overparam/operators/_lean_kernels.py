"""Compiled GD segments for small dense sensing problems (numba, CPU): many steps in one call.

At the sizes of papers 001–004 (d = 20–30, m = 100–240: the sensing matrix is a few hundred kB)
a GD step is some 200 k multiply-adds, about 20 µs of arithmetic, and the generic step's fifteen
torch calls (pack, two products, unpack, the pullback, the update, the health check) cost ten
times that in dispatch. :func:`sym_packed_segment` runs the whole update

    x = svec(U Uᵀ),  z = P x,  fit = ‖z − y‖²,  g = Pᵀ (s (z − y)),  G = smat(g),
    U ← U − η (2 G U)

for ``n`` steps inside one call, with the run loop's divergence and target checks at every step
(it stops *before* a step where a replica would diverge or reach the target, so that the run loop
handles that step itself). P is the packed-symmetric sensing matrix (m × d(d+1)/2), s = 2c.

Determinism. Every replica's arithmetic is a fixed sequence of operations on its own data: its
dot products are L interleaved partial sums added in lane order (explicit SIMD vectors of
:mod:`._simd`, so the bits do not depend on the CPU's vector width), its other sums run in index
order. Replicas are split into groups that run in parallel (one per thread), but the split only
decides *who* computes a replica, never *how*: the results are the same bits for any thread count.
A group stops at the first step where one of its replicas is flagged; the caller replays the
groups that went further (:func:`overparam.lean`), which gives them the same bits again.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._simd import fma, hsum, load, mul, splat, store, sub, zero


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def sym_packed_segment(P, y, s, c, wpk, where, winv, U0, Ucur, Uprev, step, ref, factor, ynsq, target,
                       n, check, bounds, stop, Z, FIT, GRAD, tag):  # pragma: no cover - compiled
    """P (m, D); y (m,); s = 2c, c: the loss constant; wpk (D,) svec weights; where (d·d,) and winv
    (d·d,): smat as one gather; U0 (R, d, k): θ at the segment's start; Ucur, Uprev (R, d, k): θ where
    the group stopped and the θ before it; step (R,) η·s per replica; ref (R,) the divergence
    reference; factor, ynsq = ‖y‖², target (< 0: none); n: steps; check: test the flags;
    bounds (ng + 1,): replica groups; stop (ng,): steps each group made; Z (R, m), FIT (R,),
    GRAD (R, d, k): z, ‖z − y‖² and ∇_U f at the last evaluated θ (GRAD when ``check`` is off)."""
    m, D = P.shape
    R, d, k = U0.shape
    L = len(tag)
    nv = D - D % L
    ng = bounds.shape[0] - 1
    zero_ = s - s
    for q in nb.prange(ng):
        r0 = bounds[q]
        nr = bounds[q + 1] - r0
        cur = np.empty((nr, d, k), dtype=U0.dtype)
        nxt = np.empty((nr, d, k), dtype=U0.dtype)
        for r in range(nr):
            for j in range(d):
                for a in range(k):
                    cur[r, j, a] = U0[r0 + r, j, a]
                    nxt[r, j, a] = U0[r0 + r, j, a]
        x = np.empty((nr, D), dtype=U0.dtype)
        g = np.empty((nr, D), dtype=U0.dtype)
        UT = np.empty((k, d), dtype=U0.dtype)
        acc = np.empty(d, dtype=U0.dtype)
        acck = np.empty(k, dtype=U0.dtype)
        fit = np.empty(nr, dtype=U0.dtype)
        made = n
        for t in range(n):
            # x = svec(U Uᵀ): row j of U Uᵀ from j on, as Σ_a U[j, a] Uᵀ[a, :] (index order)
            for r in range(nr):
                Ur = cur[r]
                for a in range(k):
                    for b in range(d):
                        UT[a, b] = Ur[b, a]
                pos = 0
                for j in range(d):
                    for b in range(j, d):
                        acc[b] = zero_
                    for a in range(k):
                        u = Ur[j, a]
                        for b in range(j, d):
                            acc[b] += u * UT[a, b]
                    for b in range(j, d):
                        x[r, pos] = acc[b] * wpk[pos]
                        pos += 1
                for e in range(D):
                    g[r, e] = zero_
                fit[r] = zero_
            # z = P x, the residual, and g = Pᵀ (s (z − y)), four rows at a time (P's rows in L1)
            i = 0
            while i < m:
                na = min(4, m - i)
                p0 = P[i]
                p1 = P[i + min(1, na - 1)]
                p2 = P[i + min(2, na - 1)]
                p3 = P[i + min(3, na - 1)]
                for r in range(nr):
                    xr = x[r]
                    a0 = zero(xr, tag)
                    a1 = zero(xr, tag)
                    a2 = zero(xr, tag)
                    a3 = zero(xr, tag)
                    for j in range(0, nv, L):
                        xj = load(xr, j, tag)
                        a0 = fma(load(p0, j, tag), xj, a0)
                        a1 = fma(load(p1, j, tag), xj, a1)
                        a2 = fma(load(p2, j, tag), xj, a2)
                        a3 = fma(load(p3, j, tag), xj, a3)
                    s0 = hsum(a0)
                    s1 = hsum(a1)
                    s2 = hsum(a2)
                    s3 = hsum(a3)
                    for j in range(nv, D):
                        s0 += p0[j] * xr[j]
                        s1 += p1[j] * xr[j]
                        s2 += p2[j] * xr[j]
                        s3 += p3[j] * xr[j]
                    zr = Z[r0 + r]
                    e0 = s0 - y[i]
                    zr[i] = s0
                    f = fit[r] + e0 * e0
                    w0 = s * e0
                    w1 = w2 = w3 = zero_
                    if na > 1:
                        e1 = s1 - y[i + 1]
                        zr[i + 1] = s1
                        f += e1 * e1
                        w1 = s * e1
                    if na > 2:
                        e2 = s2 - y[i + 2]
                        zr[i + 2] = s2
                        f += e2 * e2
                        w2 = s * e2
                    if na > 3:
                        e3 = s3 - y[i + 3]
                        zr[i + 3] = s3
                        f += e3 * e3
                        w3 = s * e3
                    fit[r] = f
                    gr = g[r]
                    v0 = splat(w0, tag)
                    v1 = splat(w1, tag)
                    v2 = splat(w2, tag)
                    v3 = splat(w3, tag)
                    for j in range(0, nv, L):
                        gj = load(gr, j, tag)
                        gj = fma(v0, load(p0, j, tag), gj)
                        gj = fma(v1, load(p1, j, tag), gj)
                        gj = fma(v2, load(p2, j, tag), gj)
                        gj = fma(v3, load(p3, j, tag), gj)
                        store(gr, j, gj)
                    for j in range(nv, D):
                        gr[j] += w0 * p0[j] + w1 * p1[j] + w2 * p2[j] + w3 * p3[j]
                i += 4
            flagged = False
            for r in range(nr):
                FIT[r0 + r] = fit[r]
                if check:
                    loss = c * fit[r]
                    if not (loss <= factor * ref[r0 + r]):
                        flagged = True
                    if target >= 0 and np.sqrt(fit[r] / ynsq) <= target:
                        flagged = True
            if flagged:
                made = t
                break
            # G = smat(g); U ← U − η (2 G U), into the other buffer
            for r in range(nr):
                Ur = cur[r]
                Un = nxt[r]
                gr = g[r]
                eta = step[r0 + r]
                for j in range(d):
                    for a in range(k):
                        acck[a] = zero_
                    for b in range(d):
                        gjb = gr[where[j * d + b]] * winv[j * d + b]
                        for a in range(k):
                            acck[a] += gjb * Ur[b, a]
                    for a in range(k):
                        d2 = 2.0 * acck[a]
                        Un[j, a] = Ur[j, a] - eta * d2
                        if not check:
                            GRAD[r0 + r, j, a] = d2
            tmp = cur
            cur = nxt
            nxt = tmp
        stop[q] = made
        for r in range(nr):
            for j in range(d):
                for a in range(k):
                    Ucur[r0 + r, j, a] = cur[r, j, a]
                    Uprev[r0 + r, j, a] = nxt[r, j, a]



@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def sym_packed_lanes(P, y, s, c, wpk, where, winv, U0, Ucur, Uprev, step, ref, nvalid, factor, ynsq, target,
                     n, check, stop, Z, FIT, GRAD, tag):  # pragma: no cover - compiled
    """As :func:`sym_packed_segment` with the replicas of group q in the lanes: U0, Ucur, Uprev,
    GRAD (ng, d, k, L); step, ref, FIT (ng, L); Z (ng, m, L); nvalid (ng,) real lanes per group.
    Every lane is a plain sequential computation (``fma`` chains in index order)."""
    m, D = P.shape
    ng, d, k, L = U0.shape
    ss = splat(s, tag)
    for q in nb.prange(ng):
        cur = U0[q].copy().reshape(-1)
        nxt = U0[q].copy().reshape(-1)
        x = np.empty(D * L, dtype=U0.dtype)
        g = np.empty(D * L, dtype=U0.dtype)
        fit = np.empty(L, dtype=U0.dtype)
        Zq = Z[q].reshape(-1)
        eta = load(step[q], 0, tag)
        made = n
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



def sym_packed_kernel():
    """The row-layout segment kernel (replica groups in parallel)."""
    return sym_packed_segment


def sym_packed_lanes_kernel():
    """The segment kernel with replicas as SIMD lanes (R ≥ one vector): groups of L replicas."""
    return sym_packed_lanes
