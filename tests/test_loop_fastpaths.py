"""The generic loop's shortcuts give the bits of the computations they stand for: the rank-one
products at one replica, the rank-one forward that keeps x U for the gradient, and the health check
of the common step (one comparison against a cached bound) against the full masks."""

import torch

from overparam.objective import Evaluation
from overparam.operators import RankOneSensing
from overparam.operators.rank_one import xmm, xtmm
from overparam.run import _Health


def _general_xmm(x, B):
    R, d, k = B.shape
    return (x @ B.transpose(0, 1).reshape(d, R * k)).reshape(x.shape[0], R, k).transpose(0, 1)


def _general_xtmm(x, W):
    R, m, k = W.shape
    return (x.T @ W.transpose(0, 1).reshape(m, R * k)).reshape(x.shape[1], R, k).transpose(0, 1)


def test_rank_one_products_at_one_replica_are_the_batched_products_bit_for_bit():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(37, 7, generator=g, dtype=torch.float64)
    B = torch.randn(1, 7, 5, generator=g, dtype=torch.float64)
    W = torch.randn(1, 37, 5, generator=g, dtype=torch.float64)
    assert torch.equal(xmm(x, B), _general_xmm(x, B))
    assert torch.equal(xtmm(x, W), _general_xtmm(x, W))
    assert xmm(x, B).shape == (1, 37, 5) and xtmm(x, W).shape == (1, 7, 5)
    Bt = torch.randn(1, 5, 7, generator=g, dtype=torch.float64).mT  # not contiguous: the general path
    assert torch.equal(xmm(x, Bt), _general_xmm(x, Bt))


def test_rank_one_forward_keeps_x_u_for_the_gradient_with_the_same_bits():
    op = RankOneSensing.sample(40, 6, seed=5)
    U = torch.randn(2, 6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    w = torch.randn(2, 40, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    z, gradient = op.forward_factored_gradient(U, U)
    assert torch.equal(z, op.forward_factored(U, U))
    G = gradient(w)
    assert G.known and G.known[0][0] is U  # x U from the forward product, not computed again
    assert torch.equal(G.mm(U), op.gradient(w).mm(U))
    V = U + 1.0
    z2, gradient2 = op.forward_factored_gradient(U, V)
    assert torch.equal(z2, op.forward_factored(U, V))
    assert torch.equal(gradient2(w).mm(V), op.gradient(w).mm(V))


def test_the_common_steps_check_agrees_with_the_full_masks():
    y = torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64)  # ‖y‖² = 9
    active = torch.arange(3)

    def ev(loss, fit):
        loss, fit = torch.tensor(loss, dtype=torch.float64), torch.tensor(fit, dtype=torch.float64)
        return Evaluation(loss=loss, z=torch.zeros(3, 1, dtype=torch.float64), fit_sq=fit)

    h = _Health(3, 10.0, 0.1, y)
    h(ev([1.0, 2.0, 0.0], [9.0, 9.0, 9.0]), None, active)  # sets the reference losses
    cases = [([5.0, 19.0, 1e-307], [9.0, 9.0, 9.0], None),       # all quiet (the third ref: clamped to tiny)
             ([11.0, 1.0, 0.0], [9.0, 9.0, 9.0], None),          # replica 0 diverged
             ([float("nan"), 1.0, 0.0], [9.0, 9.0, 9.0], None),  # NaN diverges
             ([1.0, 1.0, 0.0], [0.09, 9.0, 9.0], None),          # replica 0 reached √(0.09/9) = 0.1
             ([1.0, 1.0, 0.0], [9.0, 9.0, 9.0], torch.tensor([False, True, False]))]  # a stop rule hit
    for loss, fit, hits in cases:
        e = ev(loss, fit)
        _, diverged, reached = h(e, None, active)
        flags = diverged | reached if hits is None else diverged | reached | hits
        assert h.quiet(e, active, hits) == (not bool(flags.any())), (loss, fit, hits)
    assert [h.quiet(ev(*c[:2]), active, c[2]) for c in cases] == [True, False, False, False, False]
    sub = torch.tensor([1, 2])  # a new active set: the bound follows it
    assert torch.equal(h.bound(sub, torch.device("cpu")), 10.0 * h.ref[sub])
    assert not h.quiet(ev([1.0, 21.0], [9.0, 9.0]), sub, None)
