"""Every operator: adjoint identity ⟨𝒜X, w⟩ = ⟨X, 𝒜*w⟩, batched = looped, fast paths = dense paths."""

import math

import pytest
import torch

from overparam.operators import (
    EntrySampling,
    GaussianDesign,
    GaussianSensing,
    IdentityOperator,
    RankOneSensing,
    SymmetricPacking,
)
from overparam.operators.entries import sample_entries
from overparam.operators.gaussian import gaussian_rows

D64 = torch.float64


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


def _operators():
    """(name, operator, symmetric-domain?) for every operator kind and layout."""
    ops = [
        ("gauss-packed-sym", GaussianSensing.sample(40, (6, 6), seed=1, packed=True, ensemble="sym")),
        ("gauss-packed-triu", GaussianSensing.sample(40, (6, 6), seed=1, packed=True, ensemble="triu")),
        ("gauss-general-raw", GaussianSensing.sample(40, (5, 7), seed=2, packed=False, ensemble="raw")),
        ("gauss-general-sym", GaussianSensing.sample(40, (6, 6), seed=3, packed=False, ensemble="sym")),
        ("gauss-general-triu", GaussianSensing.sample(40, (6, 6), seed=3, packed=False, ensemble="triu")),
        ("rank-one", RankOneSensing.sample(50, 6, seed=4)),
        ("entries-rect-bernoulli", EntrySampling.sample((9, 7), seed=5, p=0.4)),
        ("entries-rect-fixed", EntrySampling.sample((9, 7), seed=5, m=20)),
        ("entries-sym", EntrySampling.sample((8, 8), seed=6, p=0.5, symmetric=True)),
        ("identity", IdentityOperator((5, 4))),
        ("identity-sym", IdentityOperator((5, 5), symmetric=True)),
        ("design", GaussianDesign.sample(12, 9, seed=7)),
    ]
    return ops


OPS = _operators()
IDS = [n for n, _ in OPS]


def _random_input(op, R=None, seed=0):
    shape = ((R,) if R else ()) + tuple(op.in_shape)
    X = torch.randn(shape, generator=_g(seed), dtype=D64)
    if op.symmetric_domain:
        X = 0.5 * (X + X.mT)
    return X


@pytest.mark.parametrize("name,op", OPS, ids=IDS)
def test_adjoint_identity(name, op):
    X = _random_input(op, seed=1)
    w = torch.randn(op.m, generator=_g(2), dtype=D64)
    lhs = torch.dot(op.forward(X), w)
    rhs = (X * op.adjoint(w)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-12, atol=1e-12), (lhs, rhs)


@pytest.mark.parametrize("name,op", OPS, ids=IDS)
def test_batched_equals_looped(name, op):
    R = 3
    X = _random_input(op, R=R, seed=3)
    w = torch.randn(R, op.m, generator=_g(4), dtype=D64)
    zb = op.forward(X)
    ab = op.adjoint(w)
    for r in range(R):
        assert torch.allclose(zb[r], op.forward(X[r]), rtol=1e-12, atol=1e-12)
        assert torch.allclose(ab[r], op.adjoint(w[r]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,op", [o for o in OPS if len(o[1].in_shape) == 2], ids=[n for n, o in OPS if len(o.in_shape) == 2])
def test_factored_and_gradient_fast_paths(name, op):
    R, k = 2, 3
    d1, d2 = op.in_shape
    L = torch.randn(R, d1, k, generator=_g(5), dtype=D64)
    Rf = L if op.symmetric_domain else torch.randn(R, d2, k, generator=_g(6), dtype=D64)
    assert torch.allclose(op.forward_factored(L, Rf), op.forward(L @ Rf.mT), rtol=1e-12, atol=1e-12)
    w = torch.randn(R, op.m, generator=_g(7), dtype=D64)
    G = op.gradient(w)
    dense = op.adjoint(w)
    B = torch.randn(R, d2, k, generator=_g(8), dtype=D64)
    Bt = torch.randn(R, d1, k, generator=_g(9), dtype=D64)
    assert torch.allclose(G.dense(), dense, rtol=1e-12, atol=1e-12)
    assert torch.allclose(G.mm(B), dense @ B, rtol=1e-12, atol=1e-12)
    assert torch.allclose(G.tmm(Bt), dense.mT @ Bt, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,op", OPS, ids=IDS)
def test_select_rows_per_replica(name, op):
    """Mini-batch rows (per replica) give the rows of the full map, for forward and adjoint."""
    R, b = 2, 4
    idx = torch.randint(0, op.m, (R, b), generator=_g(10))
    sub = op.select(idx)
    X = _random_input(op, R=R, seed=11)
    z_full = op.forward(X)
    z_sub = sub.forward(X)
    for r in range(R):
        assert torch.allclose(z_sub[r], z_full[r, idx[r]], rtol=1e-12, atol=1e-12)
    w = torch.randn(R, b, generator=_g(12), dtype=D64)
    lhs = (z_sub * w).sum(-1)
    rhs = (X * sub.adjoint(w)).flatten(1).sum(-1)
    assert torch.allclose(lhs, rhs, rtol=1e-12, atol=1e-12)


def test_svec_is_isometric_and_inverse():
    d = 7
    P = SymmetricPacking(d, torch.device("cpu"), D64)
    X = torch.randn(d, d, generator=_g(13), dtype=D64)
    X = X + X.T
    Y = torch.randn(d, d, generator=_g(14), dtype=D64)
    Y = Y + Y.T
    assert P.D == d * (d + 1) // 2
    assert torch.allclose(P.pack(X) @ P.pack(Y), (X * Y).sum())
    assert torch.allclose(P.unpack(P.pack(X)), X)


def test_packed_equals_general_on_symmetric_inputs():
    general = GaussianSensing.sample(30, (5, 5), seed=3, packed=False, ensemble="sym")
    A = general.A.reshape(30, 5, 5)
    packed = GaussianSensing.from_matrices(A)
    assert packed.packed and packed.A.shape == (30, 15)
    X = _random_input(packed, R=2, seed=15)
    assert torch.allclose(packed.forward(X), general.forward(X), rtol=1e-12)
    w = torch.randn(2, 30, generator=_g(16), dtype=D64)
    assert torch.allclose(packed.adjoint(w), general.adjoint(w), rtol=1e-12)


def test_ensembles_have_the_stated_second_moments():
    """E⟨A, X⟩² = ‖X‖_F² for sym/raw; 2‖X‖_F² − Σ X_jj² for 003's upper-triangle fill."""
    d, m = 6, 40000
    X = _random_input(IdentityOperator((d, d), symmetric=True), seed=17)
    fro2 = float((X * X).sum())
    for ens, expected in [("sym", fro2), ("triu", 2 * fro2 - float((torch.diagonal(X) ** 2).sum()))]:
        op = GaussianSensing.sample(m, (d, d), seed=18, packed=True, ensemble=ens)
        est = float((op.forward(X) ** 2).mean())
        assert abs(est / expected - 1) < 0.03, (ens, est, expected)


def test_blockwise_generation_is_prefix_stable():
    """Rows come in seeded blocks: the first m rows do not depend on how many rows are drawn."""
    a = gaussian_rows(5, 300, (4, 4), packed=True, ensemble="sym", scale=1.0, dtype=D64, block_rows=64)
    b = gaussian_rows(5, 100, (4, 4), packed=True, ensemble="sym", scale=1.0, dtype=D64, block_rows=64)
    assert torch.equal(a[:100], b)


def test_entry_sampling_counts_and_symmetry():
    rows, cols = sample_entries((50, 40), seed=1, m=123)
    assert rows.numel() == 123
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) == 123
    keys = rows * 40 + cols
    assert torch.all(keys[1:] > keys[:-1])  # CSR order, distinct
    rows, cols = sample_entries((30, 30), seed=2, p=0.3, symmetric=True)
    pairs = set(zip(rows.tolist(), cols.tolist(), strict=True))
    assert all((j, i) in pairs for i, j in pairs)
    n = 2000
    rows, cols = sample_entries((n, n), seed=3, p=0.01)
    expected = 0.01 * n * n
    assert abs(rows.numel() - expected) < 5 * math.sqrt(expected)


def test_rank_one_never_forms_outer_products_and_matches_dense():
    op = RankOneSensing.sample(20, 5, seed=9)
    A = torch.einsum("mi,mj->mij", op.x, op.x)
    X = _random_input(op, seed=19)
    assert torch.allclose(op.forward(X), torch.einsum("mij,ij->m", A, X))
    w = torch.randn(20, generator=_g(20), dtype=D64)
    assert torch.allclose(op.adjoint(w), torch.einsum("m,mij->ij", w, A))


def test_dense_matrix_reproduces_forward():
    for _, op in OPS:
        M = op.dense_matrix()
        X = _random_input(op, seed=21)
        assert torch.allclose(M @ X.reshape(-1), op.forward(X), rtol=1e-10, atol=1e-10)


def test_to_changes_dtype_and_keeps_values():
    op = GaussianSensing.sample(10, (4, 4), seed=1, packed=True)
    op32 = op.to(dtype=torch.float32)
    assert op32.dtype == torch.float32
    assert torch.allclose(op32.A.double(), op.A, rtol=1e-6)


@pytest.mark.parametrize("name,op", OPS, ids=IDS)
def test_forward_adjoint_equals_two_passes(name, op):
    """The squared-loss hooks (fused where the operator fuses) = forward, then gradient of s(z − y),
    for dense X and for factors; products a fused kernel precomputed equal the sparse/dense ones."""
    R = 3
    X = _random_input(op, R=R, seed=22)
    y = torch.randn(op.m, generator=_g(23), dtype=D64)
    if hasattr(op, "fused_min_bytes"):
        op.fused_min_bytes = 0  # the fused kernel even though A is small
    z, G, rsq = op.forward_adjoint(X, y, 0.7)
    z0 = op.forward(X)
    assert torch.allclose(z, z0, rtol=1e-12, atol=1e-12)
    assert torch.allclose(G.dense(), op.adjoint(0.7 * (z0 - y)), rtol=1e-12, atol=1e-12)
    assert torch.allclose(rsq, ((z0 - y) ** 2).sum(-1), rtol=1e-12)
    if len(op.in_shape) != 2:
        return
    d1, d2 = op.in_shape
    L = torch.randn(R, d1, 3, generator=_g(30), dtype=D64)
    for Rf in (L, torch.randn(R, d2, 3, generator=_g(31), dtype=D64)) if d1 == d2 else (
            torch.randn(R, d2, 3, generator=_g(31), dtype=D64),):
        if op.symmetric_domain and Rf is not L:
            continue
        z, G, rsq = op.forward_factored_adjoint(L, Rf, y, 0.7)
        z0 = op.forward_factored(L, Rf)
        G0 = op.gradient(0.7 * (z0 - y))
        assert torch.allclose(z, z0, rtol=1e-12, atol=1e-12)
        assert torch.allclose(rsq, ((z0 - y) ** 2).sum(-1), rtol=1e-12)
        assert torch.allclose(G.mm(Rf), G0.mm(Rf), rtol=1e-12, atol=1e-12)
        assert torch.allclose(G.tmm(L), G0.tmm(L), rtol=1e-12, atol=1e-12)
        assert torch.allclose(G.sym_mm(L), G0.sym_mm(L), rtol=1e-12, atol=1e-12) if d1 == d2 else True
        assert torch.allclose(G.dense(), G0.dense(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("R", [1, 2, 4, 5, 8, 9, 16, 17, 40])
def test_fused_sensing_kernel_matches_two_products(R, dtype):
    """Every lane layout of the fused kernel (1, 4, 8, 16 lanes; padded replicas; the MKL fallback
    beyond FUSED_MAX_REPLICAS), with m not a multiple of the row block or of the chunk."""
    from overparam.operators._dense_kernels import fused_residual_adjoint

    m, n = 613, 45
    A = torch.randn(m, n, generator=_g(24), dtype=D64)
    x = torch.randn(R, n, generator=_g(25), dtype=D64)
    y = torch.randn(m, generator=_g(26), dtype=D64)
    z0 = x @ A.T
    g0 = (0.3 * (z0 - y)) @ A
    z, g = fused_residual_adjoint(A.to(dtype), x.to(dtype), y.to(dtype), 0.3)
    tol = 1e-12 if dtype == D64 else 2e-5
    assert z.dtype == dtype and g.dtype == dtype
    assert float((z.double() - z0).abs().max() / z0.abs().max()) < tol
    assert float((g.double() - g0).abs().max() / g0.abs().max()) < tol
    op = GaussianSensing(A.to(dtype), (n, 1), packed=False)
    op.fused_min_bytes = 0  # the fused kernel even though A is small
    zo, Go, _ = op.forward_adjoint(x.to(dtype).reshape(R, n, 1), y.to(dtype), 0.3)
    assert float((Go.dense().reshape(R, n).double() - g0).abs().max() / g0.abs().max()) < tol


def test_fused_sensing_is_independent_of_thread_count():
    import numba

    from overparam.operators._dense_kernels import fused_residual_adjoint

    A = torch.randn(1000, 300, generator=_g(27), dtype=D64)
    y = torch.randn(1000, generator=_g(28), dtype=D64)
    old = numba.get_num_threads()
    try:
        for R in (1, 8):
            x = torch.randn(R, 300, generator=_g(29), dtype=D64)
            numba.set_num_threads(1)
            z1, g1 = fused_residual_adjoint(A, x, y, 0.5)
            numba.set_num_threads(old)
            z2, g2 = fused_residual_adjoint(A, x, y, 0.5)
            assert torch.equal(z1, z2) and torch.equal(g1, g2)
    finally:
        numba.set_num_threads(old)


@pytest.mark.parametrize("R", [1, 2, 5, 8, 9, 16, 17])
def test_packed_sensing_forward_adjoint_for_every_replica_count(R):
    """φ/φ* written into and read out of the kernel's replica lanes = svec, products, smat."""
    op = GaussianSensing.sample(203, (9, 9), seed=32, packed=True)
    op.fused_min_bytes = 0  # the fused kernel even though A is small
    X = _random_input(op, R=R, seed=33)
    y = torch.randn(op.m, generator=_g(34), dtype=D64)
    z, G, rsq = op.forward_adjoint(X, y, 0.4)
    z0 = op.forward(X)
    assert torch.allclose(z, z0, rtol=1e-12, atol=1e-12)
    assert torch.allclose(G.dense(), op.adjoint(0.4 * (z0 - y)), rtol=1e-12, atol=1e-12)
    assert torch.allclose(G.dense(), G.dense().mT, rtol=0, atol=0)  # exactly symmetric


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("R", [1, 3, 8, 12])
@pytest.mark.parametrize("m", [613, 700, 5])
def test_long_row_kernels_give_the_bits_of_the_row_block_kernels(m, R, dtype):
    """The long-row kernels (one replica: rows in pipelined pairs; replicas: super-blocks × column
    tiles) are the same arithmetic as the row-block kernels: equal bits, for m not a multiple of
    4, 8 or a chunk, n not a multiple of the lanes, tiles and super-blocks that do not divide."""
    import numpy as np

    from overparam.operators import _compiled
    from overparam.operators import _dense_kernels as dk

    n = 45
    A = torch.randn(m, n, generator=_g(40), dtype=D64).to(dtype).numpy()
    y = torch.randn(m, generator=_g(41), dtype=D64).to(dtype).numpy()
    s = np.float64(0.3) if dtype == D64 else np.float32(0.3)
    if R == 1:
        x = torch.randn(n, generator=_g(42), dtype=D64).to(dtype).numpy()
        CH = dk.chunk_rows(m, 4)
        nch = -(-m // CH)
        tag = (0.0,) * dk.LANES[dtype]
        out = [(np.empty(m, A.dtype), np.empty((nch, n), A.dtype)) for _ in range(2)]
        _compiled.fused_rows(A, x, y, s, out[0][0], out[0][1], CH, tag)
        _compiled.fused_rows_pairs(A, x, y, s, out[1][0], out[1][1], CH, tag)
        assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
        return
    L = dk.lanes_for(R, dtype)
    ng = -(-R // L)
    XT = torch.randn(ng, n, L, generator=_g(43), dtype=D64).to(dtype).numpy()
    CH = dk.chunk_rows(m)
    nch = -(-m // CH)
    tag = (0.0,) * L
    Z0, G0 = np.empty((ng, m, L), A.dtype), np.empty((nch, ng, n, L), A.dtype)
    _compiled.fused_replicas(A, XT, y, s, Z0, G0, CH, tag)
    for SB, CT in ((8, 7), (16, 45), (24, 10), (64, 1024)):
        Z1, G1 = np.empty_like(Z0), np.empty_like(G0)
        _compiled.fused_replicas_piped(A, XT, y, s, Z1, G1, CH, SB, CT, tag)
        assert np.array_equal(Z0, Z1) and np.array_equal(G0, G1), (SB, CT)


@pytest.mark.parametrize("R", [1, 3, 8, 12])
def test_forward_adjoint_takes_the_long_row_kernels_with_the_same_bits(R, monkeypatch):
    """Above ``LONG_ROW_COLUMNS`` (d = 200's rows of 20 100 entries) forward_adjoint runs the long-row
    kernels; lowering the threshold to a small operator gives bit for bit the row-block results."""
    from overparam.operators import _compiled
    from overparam.operators import _dense_kernels as dk

    op = GaussianSensing.sample(301, (9, 9), seed=35, packed=True)
    op.fused_min_bytes = 0
    X = _random_input(op, R=R, seed=36)
    y = torch.randn(op.m, generator=_g(37), dtype=D64)
    z0, G0, r0 = op.forward_adjoint(X, y, 0.4)
    called = []
    for name in ("fused_rows_pairs", "fused_replicas_piped"):
        kernel = getattr(_compiled, name)
        monkeypatch.setattr(_compiled, name, lambda *a, _k=kernel, _n=name: (called.append(_n), _k(*a))[1])
    monkeypatch.setattr(dk, "LONG_ROW_COLUMNS", 0)
    monkeypatch.setattr(dk, "SUPER_BYTES", 16 * op.A.shape[1] * 8)  # 16 rows: several super-blocks
    z1, G1, r1 = op.forward_adjoint(X, y, 0.4)
    assert called == ["fused_rows_pairs" if R == 1 else "fused_replicas_piped"]
    assert torch.equal(z0, z1) and torch.equal(G0.dense(), G1.dense()) and torch.equal(r0, r1)
