"""Your own data through ``problems.from_arrays``: arrays on disk in, a recovery run out.

The data here are synthetic — a tiny sensing dataset written to ``.npy`` files as a stand-in for
yours — but everything after ``np.load`` is what you would run on real measurements:
``A`` holds m sensing matrices (m, d, d), ``y`` the m observations, ``X_star`` (optional) a known
answer to measure the test error against.

    python examples/own_data.py [--quick] [--data DIR]     (default: ./own-data)
"""

import argparse
from pathlib import Path

import numpy as np

import overparam as op


def write_dataset(folder: Path, d: int, r: int, m: int, seed: int = 0) -> None:
    """A stand-in for your data: symmetric Gaussian A_i, a rank-r PSD X⋆, y_i = ⟨A_i, X⋆⟩ + noise."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, d, d))
    A = (G + G.transpose(0, 2, 1)) / 2                      # symmetric: stored packed by from_arrays
    U = rng.standard_normal((d, r)) / np.sqrt(d)
    X_star = U @ U.T
    y = np.einsum("mij,ij->m", A, X_star) + 1e-3 * rng.standard_normal(m)
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in [("A", A), ("y", y), ("X_star", X_star)]:
        np.save(folder / f"{name}.npy", arr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller dataset and fewer steps")
    ap.add_argument("--data", default="own-data", help="where the .npy files are written and read")
    args = ap.parse_args()
    d, r, m, steps = (15, 2, 200, 1500) if args.quick else (40, 3, 1000, 5000)
    folder = Path(args.data)
    write_dataset(folder, d, r, m)

    # --- from here on, your data ---
    A, y, X_star = (np.load(folder / f"{n}.npy") for n in ("A", "y", "X_star"))
    prob = op.problems.from_arrays(A=A, y=y, X_star=X_star, r=r)     # loss (1/(2m)) Σ (⟨A_i, X⟩ − y_i)²
    print(f"loaded A {A.shape}, y {y.shape}: operator {type(prob.operator).__name__}, "
          f"loss normalization {prob.info['normalization']}")

    # GD on X = UUᵀ with a full-width U (k = d) from two initialization scales, as two replicas.
    res = op.run(prob, op.params.Symmetric(), op.algorithms.gd(eta=0.1),
                 init=op.init.scaled_identity(alpha=[1e-3, 1e-1]), steps=steps,
                 metrics=["train_error", "test_error", "effective_rank"])
    for alpha, te, tr, er in zip([1e-3, 1e-1], res.final("test_error"), res.final("train_error"),
                                 res.final("effective_rank")):
        print(f"α = {alpha:g}: train error {tr:.2e}, test error ‖UUᵀ − X⋆‖_F/‖X⋆‖_F = {te:.2e}, "
              f"effective rank {er:.2f}")

    U = res.theta[0][0].numpy()               # the first replica's U (d × d); X = UUᵀ is your estimate
    np.save(folder / "X_hat.npy", U @ U.T)
    print(f"wrote {folder / 'X_hat.npy'}")


if __name__ == "__main__":
    main()
