"""The numba kernels of :mod:`._dense_kernels` (dense sensing) and :mod:`._kernels` (completion),
defined at module level so that numba's on-disk cache finds them in every process.

A kernel defined inside a factory function is a closure over the intrinsics it calls, and numba
keys a closure's cache entry on a pickle of those objects, which differs from process to process:
every process compiled every kernel again (6–10 s each on the development machine). This module
imports numba; it is itself imported only when a kernel is first needed, so ``import overparam``
stays cheap. The documentation of each kernel is in the module that uses it.
"""

from __future__ import annotations

import numba as nb

from ..backend import start_numba_pool
from ._atomic import fetch_add, wait_until
from ._simd import empty_aligned, fma, hsum, hsum_tree, load, mul, prefetch, splat, store, sub, zero, zeros_aligned

# launched here, before any kernel, so that the launch leaves torch's and BLAS's counts as they were
start_numba_pool()


@nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _sum_tile(parts, out, j0, j1):  # pragma: no cover - compiled
    """out[j0:j1] = Σ_c parts[c, j0:j1], summed in chunk order (the one reduction order)."""
    for j in range(j0, j1):
        out[j] = parts[0, j]
    for c in range(1, parts.shape[0]):
        for j in range(j0, j1):
            out[j] += parts[c, j]


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def sum_chunks(parts, out):  # pragma: no cover - compiled
    N = parts.shape[1]
    tile = 2048
    for t in nb.prange((N + tile - 1) // tile):
        _sum_tile(parts, out, t * tile, min(N, t * tile + tile))


@nb.njit(cache=True, nogil=True, boundscheck=False)
def row_sumsq(res, out):  # pragma: no cover - compiled
    """out[r] = Σ_i res[r, i]², one sequential sum per row (the same order whatever the rows)."""
    for r in range(res.shape[0]):
        acc = 0.0
        for i in range(res.shape[1]):
            acc += res[r, i] * res[r, i]
        out[r] = acc


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def fused_rows(P, x, y, s, z, gp, CH, tag):  # pragma: no cover - compiled
    """One replica, SIMD along the row (L = len(tag) lanes): z = P x and the per-chunk partial
    gradients gp[c] = Σ_{i∈chunk c} s(z_i − y_i) P_i. Each dot product is L interleaved partial
    sums added in lane order, then the row's tail: a fixed order."""
    m, n = P.shape
    L = len(tag)
    nv = n - n % L
    Pf = P.reshape(-1)
    nch = gp.shape[0]
    for c in nb.prange(nch):
        i0 = c * CH
        i1 = min(m, i0 + CH)
        g = gp[c]
        for j in range(n):
            g[j] = 0.0
        i = i0
        while i < i1:
            na = min(4, i1 - i)
            p0 = P[i]
            p1 = P[i + min(1, na - 1)]
            p2 = P[i + min(2, na - 1)]
            p3 = P[i + min(3, na - 1)]
            nxt = (i + 4) * n if i + 8 <= m else i * n  # the next rows, streamed in during the adjoint
            a0 = zero(x, tag)
            a1 = zero(x, tag)
            a2 = zero(x, tag)
            a3 = zero(x, tag)
            for j in range(0, nv, L):
                xj = load(x, j, tag)
                a0 = fma(load(p0, j, tag), xj, a0)
                a1 = fma(load(p1, j, tag), xj, a1)
                a2 = fma(load(p2, j, tag), xj, a2)
                a3 = fma(load(p3, j, tag), xj, a3)
            s0 = hsum(a0)
            s1 = hsum(a1)
            s2 = hsum(a2)
            s3 = hsum(a3)
            for j in range(nv, n):
                s0 += p0[j] * x[j]
                s1 += p1[j] * x[j]
                s2 += p2[j] * x[j]
                s3 += p3[j] * x[j]
            z[i] = s0
            w0 = s * (s0 - y[i])
            w1 = w2 = w3 = s - s  # zero of the data's dtype (weights of rows past the chunk)
            if na > 1:
                z[i + 1] = s1
                w1 = s * (s1 - y[i + 1])
            if na > 2:
                z[i + 2] = s2
                w2 = s * (s2 - y[i + 2])
            if na > 3:
                z[i + 3] = s3
                w3 = s * (s3 - y[i + 3])
            v0 = splat(w0, tag)
            v1 = splat(w1, tag)
            v2 = splat(w2, tag)
            v3 = splat(w3, tag)
            for j in range(0, nv, L):
                prefetch(Pf, nxt + j)
                prefetch(Pf, nxt + n + j)
                prefetch(Pf, nxt + 2 * n + j)
                prefetch(Pf, nxt + 3 * n + j)
                gj = load(g, j, tag)
                gj = fma(v0, load(p0, j, tag), gj)
                gj = fma(v1, load(p1, j, tag), gj)
                gj = fma(v2, load(p2, j, tag), gj)
                gj = fma(v3, load(p3, j, tag), gj)
                store(g, j, gj)
            for j in range(nv, n):
                g[j] += w0 * p0[j] + w1 * p1[j] + w2 * p2[j] + w3 * p3[j]
            i += 4

@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def fused_replicas(P, XT, y, s, ZT, GP, CH, tag):  # pragma: no cover - compiled
    """Replicas in SIMD lanes. XT (ng, n, L): replica group q's inputs, lane = replica;
    ZT (ng, m, L) receives z; GP (nch, ng, n, L) the per-chunk partial gradients."""
    m, n = P.shape
    nch = GP.shape[0]
    ng = XT.shape[0]
    Pf = P.reshape(-1)
    for c in nb.prange(nch):
        i0 = c * CH
        i1 = min(m, i0 + CH)
        ss = splat(s, tag)
        for q in range(ng):
            G = GP[c, q].reshape(-1)
            for j in range(0, G.size, len(tag)):
                store(G, j, zero(G, tag))
        i = i0
        while i < i1:
            na = min(8, i1 - i)
            p0 = P[i]
            p1 = P[i + min(1, na - 1)]
            p2 = P[i + min(2, na - 1)]
            p3 = P[i + min(3, na - 1)]
            p4 = P[i + min(4, na - 1)]
            p5 = P[i + min(5, na - 1)]
            p6 = P[i + min(6, na - 1)]
            p7 = P[i + min(7, na - 1)]
            nxt = (i + 8) * n if i + 16 <= m else i * n  # the next rows, streamed in during the adjoint
            for q in range(ng):
                X = XT[q].reshape(-1)
                Zq = ZT[q].reshape(-1)
                G = GP[c, q].reshape(-1)
                a0 = zero(X, tag)
                a1 = zero(X, tag)
                a2 = zero(X, tag)
                a3 = zero(X, tag)
                a4 = zero(X, tag)
                a5 = zero(X, tag)
                a6 = zero(X, tag)
                a7 = zero(X, tag)
                L = len(tag)
                for j in range(n):
                    xj = load(X, j * L, tag)
                    a0 = fma(splat(p0[j], tag), xj, a0)
                    a1 = fma(splat(p1[j], tag), xj, a1)
                    a2 = fma(splat(p2[j], tag), xj, a2)
                    a3 = fma(splat(p3[j], tag), xj, a3)
                    a4 = fma(splat(p4[j], tag), xj, a4)
                    a5 = fma(splat(p5[j], tag), xj, a5)
                    a6 = fma(splat(p6[j], tag), xj, a6)
                    a7 = fma(splat(p7[j], tag), xj, a7)
                # z, then the residual weights w = s (z − y); rows past the chunk get w = 0
                store(Zq, i * L, a0)
                a0 = mul(ss, sub(a0, splat(y[i], tag)))
                if na > 1:
                    store(Zq, (i + 1) * L, a1)
                    a1 = mul(ss, sub(a1, splat(y[i + 1], tag)))
                else:
                    a1 = zero(X, tag)
                if na > 2:
                    store(Zq, (i + 2) * L, a2)
                    a2 = mul(ss, sub(a2, splat(y[i + 2], tag)))
                else:
                    a2 = zero(X, tag)
                if na > 3:
                    store(Zq, (i + 3) * L, a3)
                    a3 = mul(ss, sub(a3, splat(y[i + 3], tag)))
                else:
                    a3 = zero(X, tag)
                if na > 4:
                    store(Zq, (i + 4) * L, a4)
                    a4 = mul(ss, sub(a4, splat(y[i + 4], tag)))
                else:
                    a4 = zero(X, tag)
                if na > 5:
                    store(Zq, (i + 5) * L, a5)
                    a5 = mul(ss, sub(a5, splat(y[i + 5], tag)))
                else:
                    a5 = zero(X, tag)
                if na > 6:
                    store(Zq, (i + 6) * L, a6)
                    a6 = mul(ss, sub(a6, splat(y[i + 6], tag)))
                else:
                    a6 = zero(X, tag)
                if na > 7:
                    store(Zq, (i + 7) * L, a7)
                    a7 = mul(ss, sub(a7, splat(y[i + 7], tag)))
                else:
                    a7 = zero(X, tag)
                for j in range(n):
                    if q == 0:
                        prefetch(Pf, nxt + (j & 7) * n + j)
                    gj = load(G, j * L, tag)
                    gj = fma(splat(p0[j], tag), a0, gj)
                    gj = fma(splat(p1[j], tag), a1, gj)
                    gj = fma(splat(p2[j], tag), a2, gj)
                    gj = fma(splat(p3[j], tag), a3, gj)
                    gj = fma(splat(p4[j], tag), a4, gj)
                    gj = fma(splat(p5[j], tag), a5, gj)
                    gj = fma(splat(p6[j], tag), a6, gj)
                    gj = fma(splat(p7[j], tag), a7, gj)
                    store(G, j * L, gj)
            i += 8


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def fused_rows_pairs(P, x, y, s, z, gp, CH, tag):  # pragma: no cover - compiled
    """:func:`fused_rows` for long rows, software-pipelined: the rows are taken in pairs and the
    forward (dot products) of pair h+1 runs in the same column loop as the adjoint of pair h, so
    the stream of A from memory never stops for an adjoint that reads from cache, and only four
    rows, x and g are live (not 8 rows + x + g as with the next block prefetched during the
    adjoint). The same bits as :func:`fused_rows`: every z_i is the same L-lane dot product, the
    vector part of g the same fma chain over the rows in order, and the tail columns are summed
    per quad of rows as there ((w0 p0 + w1 p1) + w2 p2) + w3 p3 (``tail`` holds the first pair's)."""
    m, n = P.shape
    L = len(tag)
    nv = n - n % L
    nch = gp.shape[0]
    for c in nb.prange(nch):
        i0 = c * CH
        i1 = min(m, i0 + CH)
        g = gp[c]
        for j in range(n):
            g[j] = 0.0
        nq = (i1 - i0 + 3) // 4
        nh = 2 * nq
        tail = zeros_aligned(max(1, n - nv), P)
        # half h: quad q = h // 2, rows i = i0 + 4q + 2(h%2) + {0,1}; pointer index min(k, na-1) within the quad
        # prologue: forward of half 0
        na = min(4, i1 - i0)
        pa = P[i0 + min(0, na - 1)]
        pb = P[i0 + min(1, na - 1)]
        a0 = zero(x, tag)
        a1 = zero(x, tag)
        for j in range(0, nv, L):
            xj = load(x, j, tag)
            a0 = fma(load(pa, j, tag), xj, a0)
            a1 = fma(load(pb, j, tag), xj, a1)
        s0 = hsum(a0)
        s1 = hsum(a1)
        for j in range(nv, n):
            s0 += pa[j] * x[j]
            s1 += pb[j] * x[j]
        for h in range(nh):
            # finalize forward of half h: rows k = 2(h%2) + {0,1} of quad h//2
            qi = i0 + 4 * (h // 2)
            na = min(4, i1 - qi)
            k0 = 2 * (h % 2)
            w0 = s - s
            w1 = s - s
            if k0 < na:
                z[qi + k0] = s0
                w0 = s * (s0 - y[qi + k0])
            if k0 + 1 < na:
                z[qi + k0 + 1] = s1
                w1 = s * (s1 - y[qi + k0 + 1])
            ca = P[qi + min(k0, na - 1)]
            cb = P[qi + min(k0 + 1, na - 1)]
            v0 = splat(w0, tag)
            v1 = splat(w1, tag)
            if h + 1 < nh:
                qn = i0 + 4 * ((h + 1) // 2)
                nan_ = min(4, i1 - qn)
                kn = 2 * ((h + 1) % 2)
                pa = P[qn + min(kn, nan_ - 1)]
                pb = P[qn + min(kn + 1, nan_ - 1)]
                a0 = zero(x, tag)
                a1 = zero(x, tag)
                for j in range(0, nv, L):
                    xj = load(x, j, tag)
                    a0 = fma(load(pa, j, tag), xj, a0)
                    a1 = fma(load(pb, j, tag), xj, a1)
                    gj = load(g, j, tag)
                    gj = fma(v0, load(ca, j, tag), gj)
                    gj = fma(v1, load(cb, j, tag), gj)
                    store(g, j, gj)
                s0 = hsum(a0)
                s1 = hsum(a1)
                for j in range(nv, n):
                    s0 += pa[j] * x[j]
                    s1 += pb[j] * x[j]
            else:
                for j in range(0, nv, L):
                    gj = load(g, j, tag)
                    gj = fma(v0, load(ca, j, tag), gj)
                    gj = fma(v1, load(cb, j, tag), gj)
                    store(g, j, gj)
            # tail: ((w0 p0 + w1 p1) + w2 p2) + w3 p3 added to g once per quad, as fused_rows
            if k0 == 0:
                for j in range(nv, n):
                    tail[j - nv] = w0 * ca[j] + w1 * cb[j]
            else:
                for j in range(nv, n):
                    g[j] += tail[j - nv] + w0 * ca[j] + w1 * cb[j]


@nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _rows8(P, i, i1):  # pragma: no cover - compiled
    na = min(8, i1 - i)
    return (P[i], P[i + min(1, na - 1)], P[i + min(2, na - 1)], P[i + min(3, na - 1)], P[i + min(4, na - 1)],
            P[i + min(5, na - 1)], P[i + min(6, na - 1)], P[i + min(7, na - 1)])


@nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _fwd8(P, i, i1, X, Aq, o, t0, t1, L, tag):  # pragma: no cover - compiled
    p0, p1, p2, p3, p4, p5, p6, p7 = _rows8(P, i, i1)
    if t0 == 0:
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero(X, tag)
    else:
        a0 = load(Aq, o, tag)
        a1 = load(Aq, o + L, tag)
        a2 = load(Aq, o + 2 * L, tag)
        a3 = load(Aq, o + 3 * L, tag)
        a4 = load(Aq, o + 4 * L, tag)
        a5 = load(Aq, o + 5 * L, tag)
        a6 = load(Aq, o + 6 * L, tag)
        a7 = load(Aq, o + 7 * L, tag)
    for j in range(t0, t1):
        xj = load(X, j * L, tag)
        a0 = fma(splat(p0[j], tag), xj, a0)
        a1 = fma(splat(p1[j], tag), xj, a1)
        a2 = fma(splat(p2[j], tag), xj, a2)
        a3 = fma(splat(p3[j], tag), xj, a3)
        a4 = fma(splat(p4[j], tag), xj, a4)
        a5 = fma(splat(p5[j], tag), xj, a5)
        a6 = fma(splat(p6[j], tag), xj, a6)
        a7 = fma(splat(p7[j], tag), xj, a7)
    store(Aq, o, a0)
    store(Aq, o + L, a1)
    store(Aq, o + 2 * L, a2)
    store(Aq, o + 3 * L, a3)
    store(Aq, o + 4 * L, a4)
    store(Aq, o + 5 * L, a5)
    store(Aq, o + 6 * L, a6)
    store(Aq, o + 7 * L, a7)


@nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _adj8(P, i, i1, G, Wq, o, t0, t1, L, tag):  # pragma: no cover - compiled
    p0, p1, p2, p3, p4, p5, p6, p7 = _rows8(P, i, i1)
    w0 = load(Wq, o, tag)
    w1 = load(Wq, o + L, tag)
    w2 = load(Wq, o + 2 * L, tag)
    w3 = load(Wq, o + 3 * L, tag)
    w4 = load(Wq, o + 4 * L, tag)
    w5 = load(Wq, o + 5 * L, tag)
    w6 = load(Wq, o + 6 * L, tag)
    w7 = load(Wq, o + 7 * L, tag)
    for j in range(t0, t1):
        gj = load(G, j * L, tag)
        gj = fma(splat(p0[j], tag), w0, gj)
        gj = fma(splat(p1[j], tag), w1, gj)
        gj = fma(splat(p2[j], tag), w2, gj)
        gj = fma(splat(p3[j], tag), w3, gj)
        gj = fma(splat(p4[j], tag), w4, gj)
        gj = fma(splat(p5[j], tag), w5, gj)
        gj = fma(splat(p6[j], tag), w6, gj)
        gj = fma(splat(p7[j], tag), w7, gj)
        store(G, j * L, gj)


@nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _both8(P, i, i1, G, Wq, o, k, X, Aq, t0, t1, L, tag):  # pragma: no cover - compiled
    """adjoint of rows i.. (weights Wq at o) and forward of rows k.. (accumulators Aq at o) in one loop."""
    p0, p1, p2, p3, p4, p5, p6, p7 = _rows8(P, i, i1)
    q0, q1, q2, q3, q4, q5, q6, q7 = _rows8(P, k, i1)
    w0 = load(Wq, o, tag)
    w1 = load(Wq, o + L, tag)
    w2 = load(Wq, o + 2 * L, tag)
    w3 = load(Wq, o + 3 * L, tag)
    w4 = load(Wq, o + 4 * L, tag)
    w5 = load(Wq, o + 5 * L, tag)
    w6 = load(Wq, o + 6 * L, tag)
    w7 = load(Wq, o + 7 * L, tag)
    if t0 == 0:
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero(X, tag)
    else:
        a0 = load(Aq, o, tag)
        a1 = load(Aq, o + L, tag)
        a2 = load(Aq, o + 2 * L, tag)
        a3 = load(Aq, o + 3 * L, tag)
        a4 = load(Aq, o + 4 * L, tag)
        a5 = load(Aq, o + 5 * L, tag)
        a6 = load(Aq, o + 6 * L, tag)
        a7 = load(Aq, o + 7 * L, tag)
    for j in range(t0, t1):
        xj = load(X, j * L, tag)
        a0 = fma(splat(q0[j], tag), xj, a0)
        a1 = fma(splat(q1[j], tag), xj, a1)
        a2 = fma(splat(q2[j], tag), xj, a2)
        a3 = fma(splat(q3[j], tag), xj, a3)
        a4 = fma(splat(q4[j], tag), xj, a4)
        a5 = fma(splat(q5[j], tag), xj, a5)
        a6 = fma(splat(q6[j], tag), xj, a6)
        a7 = fma(splat(q7[j], tag), xj, a7)
        gj = load(G, j * L, tag)
        gj = fma(splat(p0[j], tag), w0, gj)
        gj = fma(splat(p1[j], tag), w1, gj)
        gj = fma(splat(p2[j], tag), w2, gj)
        gj = fma(splat(p3[j], tag), w3, gj)
        gj = fma(splat(p4[j], tag), w4, gj)
        gj = fma(splat(p5[j], tag), w5, gj)
        gj = fma(splat(p6[j], tag), w6, gj)
        gj = fma(splat(p7[j], tag), w7, gj)
        store(G, j * L, gj)
    store(Aq, o, a0)
    store(Aq, o + L, a1)
    store(Aq, o + 2 * L, a2)
    store(Aq, o + 3 * L, a3)
    store(Aq, o + 4 * L, a4)
    store(Aq, o + 5 * L, a5)
    store(Aq, o + 6 * L, a6)
    store(Aq, o + 7 * L, a7)


@nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _weights(ZT, acc, y, ss, b0, b1, i1, L, tag):  # pragma: no cover - compiled
    """z of the super-block's rows, and w = s (z − y) in place of the accumulators (0 past the chunk)."""
    for q in range(ZT.shape[0]):
        Zq = ZT[q].reshape(-1)
        Aq = acc[q]
        for i in range(b0, b0 + ((b1 - b0 + 7) // 8) * 8):
            o = (i - b0) * L
            if i < i1:
                a = load(Aq, o, tag)
                store(Zq, i * L, a)
                store(Aq, o, mul(ss, sub(a, splat(y[i], tag))))
            else:
                store(Aq, o, zero(Aq, tag))


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def fused_replicas_piped(P, XT, y, s, ZT, GP, CH, SB, CT, tag):  # pragma: no cover - compiled
    """:func:`fused_replicas` for long rows: each chunk's rows in super-blocks of SB rows (a multiple
    of 8), every pass over a super-block in column tiles of CT. The forward of super-block b+1
    runs in the same column loop as the adjoint of super-block b (``_both8``: 8 rows streamed from
    memory for the forward, 8 rows of the previous super-block re-read from cache for the adjoint,
    16 accumulators), and the replicas' input and gradient tiles (CT × L each) stay in L2 across a
    super-block instead of being streamed once per 8 rows. ``acc[b % 2]`` holds the forward
    accumulators of one super-block, then (``_weights``) its residual weights. The same bits as
    :func:`fused_replicas`: every lane's dot product is the same fma chain over the columns in
    order (accumulators stored and reloaded between tiles), and every gradient entry the same fma
    chain over the chunk's rows in order."""
    m, n = P.shape
    nch = GP.shape[0]
    ng = XT.shape[0]
    L = len(tag)
    for c in nb.prange(nch):
        i0 = c * CH
        i1 = min(m, i0 + CH)
        ss = splat(s, tag)
        for q in range(ng):
            G = GP[c, q].reshape(-1)
            for j in range(0, G.size, L):
                store(G, j, zero(G, tag))
        acc = empty_aligned(2 * ng * SB * L, P).reshape((2, ng, SB * L))
        nb_ = (i1 - i0 + SB - 1) // SB
        # the forward of super-block 0
        b1 = min(i1, i0 + SB)
        for t0 in range(0, n, CT):
            t1 = min(n, t0 + CT)
            for q in range(ng):
                for i in range(i0, b1, 8):
                    _fwd8(P, i, i1, XT[q].reshape(-1), acc[0, q], (i - i0) * L, t0, t1, L, tag)
        _weights(ZT, acc[0], y, ss, i0, b1, i1, L, tag)
        for b in range(nb_):
            cur = b % 2
            b0 = i0 + b * SB
            b1 = min(i1, b0 + SB)
            k0 = b1  # the next super-block [k0, k1)
            k1 = min(i1, k0 + SB)
            ncur = (b1 - b0 + 7) // 8
            nnext = (k1 - k0 + 7) // 8 if b + 1 < nb_ else 0
            for t0 in range(0, n, CT):
                t1 = min(n, t0 + CT)
                for q in range(ng):
                    G = GP[c, q].reshape(-1)
                    X = XT[q].reshape(-1)
                    Wq = acc[cur, q]
                    Aq = acc[1 - cur, q]
                    for g in range(max(ncur, nnext)):
                        o = g * 8 * L
                        if g < ncur and g < nnext:
                            _both8(P, b0 + 8 * g, i1, G, Wq, o, k0 + 8 * g, X, Aq, t0, t1, L, tag)
                        elif g < ncur:
                            _adj8(P, b0 + 8 * g, i1, G, Wq, o, t0, t1, L, tag)
                        else:
                            _fwd8(P, k0 + 8 * g, i1, X, Aq, o, t0, t1, L, tag)
            if nnext:
                _weights(ZT, acc[1 - cur], y, ss, k0, k1, i1, L, tag)


@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def embed_lanes(Xf, up, lo, w, XT):  # pragma: no cover - compiled
    """XT[q, t, l] = ½(X[r, up_t] + X[r, lo_t]) w_t for replica r = qL + l (0 for padding lanes):
    the svec packing (or vec, with up = lo, w = 1) straight into the replica-lane layout."""
    R = Xf.shape[0]
    ng, D, L = XT.shape
    tile = 512
    for b in nb.prange((D + tile - 1) // tile):
        for t in range(b * tile, min(D, (b + 1) * tile)):
            u = up[t]
            v = lo[t]
            wt = w[t]
            for r in range(ng * L):
                if r < R:
                    XT[r // L, t, r % L] = 0.5 * (Xf[r, u] + Xf[r, v]) * wt
                else:
                    XT[r // L, t, r % L] = 0.0

@nb.njit(parallel=True, cache=True, nogil=True, boundscheck=False)
def unembed_lanes(G, where, winv, out):  # pragma: no cover - compiled
    """out[r, e] = G[q, where_e, l] winv_e: smat (or reshape) from the replica-lane layout."""
    R, E = out.shape
    L = G.shape[2]
    tile = 512
    for b in nb.prange((E + tile - 1) // tile):
        for e in range(b * tile, min(E, (b + 1) * tile)):
            t = where[e]
            we = winv[e]
            for r in range(R):
                out[r, e] = G[r // L, t, r % L] * we


@nb.njit(parallel=True, cache=True, nogil=True)
def sddmm_csr(crow, cols, L, R, out):  # pragma: no cover - compiled
    n = crow.shape[0] - 1
    k = L.shape[1]
    for i in nb.prange(n):
        for e in range(crow[i], crow[i + 1]):
            j = cols[e]
            s = 0.0
            for l in range(k):
                s += L[i, l] * R[j, l]
            out[e] = s


@nb.njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _entry_chunk(c, crow, cols, bounds, Lf, Rf, y, s, z, GRf, GtLp, rsq, tag):  # pragma: no cover - compiled
    """Chunk c of the fused completion step (rows bounds[c] .. bounds[c+1]): see :func:`fused_step`."""
    k = len(tag)
    part = GtLp[c].reshape(-1)
    for t in range(0, part.size, k):
        store(part, t, zero(part, tag))
    acc = s - s
    for i in range(bounds[c], bounds[c + 1]):
        li = load(Lf, i * k, tag)
        gi = zero(Lf, tag)
        for e in range(crow[i], crow[i + 1]):
            j = cols[e]
            rj = load(Rf, j * k, tag)
            d = hsum_tree(mul(li, rj))  # Σ_l L[i,l] R[j,l]
            z[e] = d
            r = d - y[e]
            acc += r * r
            w = splat(s * r, tag)
            gi = fma(w, rj, gi)
            store(part, j * k, fma(w, li, load(part, j * k, tag)))
        store(GRf, i * k, gi)
    rsq[c] = acc


@nb.njit(cache=True, nogil=True, boundscheck=False)
def fused_step(ctr, crow, cols, bounds, L, R, y, s, z, GR, GtLp, rsq, GtL, tile, tag, last):  # pragma: no cover
    """One replica of the fused completion step, run by every thread of a :mod:`._team` at once; the
    work is claimed chunk by chunk through the atomic counters ``ctr`` (int64[4], zeros: next row
    chunk, row chunks done, next column tile, column tiles done).

    Phase 1, row chunks (bounds (nch+1,) row ranges): a factor row (k = len(tag) numbers) is one SIMD
    vector, so G R's row i and the dot products stay in registers; z (|Ω|,) and GR (n1, k) out, each
    chunk's partial of Gᵀ L into GtLp[c] (n2, k) and its Σ r_e² into rsq[c]. Phase 2, once every chunk
    is done: Gᵀ L = Σ_c GtLp[c] in chunk order, ``tile`` numbers per claim, into GtL (n2·k,). The
    thread with ``last`` set returns only when every tile is done. Which thread ran a chunk or tile
    does not change a bit of the result."""
    nch = bounds.shape[0] - 1
    Lf = L.reshape(-1)
    Rf = R.reshape(-1)
    GRf = GR.reshape(-1)
    while True:
        c = fetch_add(ctr, 0, 1)
        if c >= nch:
            break
        _entry_chunk(c, crow, cols, bounds, Lf, Rf, y, s, z, GRf, GtLp, rsq, tag)
        fetch_add(ctr, 1, 1)
    N = GtL.shape[0]
    parts = GtLp.reshape(nch, N)
    ntile = (N + tile - 1) // tile
    wait_until(ctr, 1, nch)
    while True:
        t = fetch_add(ctr, 2, 1)
        if t >= ntile:
            break
        _sum_tile(parts, GtL, t * tile, min(N, t * tile + tile))
        fetch_add(ctr, 3, 1)
    if last:
        wait_until(ctr, 3, ntile)
