"""Print docs/baselines.md's table: iterations of ScaledGD(λ) and over-parameterized GD to relative
error 1e-6 over κ (see overparam.baselines.compare). Deterministic counts, not timings.

    python benchmarks/scaledgd_iterations.py
"""

from overparam.baselines.compare import scaled_gd_versus_gd

if __name__ == "__main__":
    rows = scaled_gd_versus_gd(kappas=(1.0, 10.0, 100.0))
    print("| κ | λ = σ_r(X⋆) | ScaledGD(λ) iterations | GD iterations | GD / ScaledGD(λ) |")
    print("|---|---|---|---|---|")
    for row in rows:
        s, g = row["scaled_gd"], row["gd"]
        ratio = f"{g / s:.1f}" if s and g else "—"
        print(f"| {row['kappa']:g} | {row['lam']:.3g} | {s if s is not None else 'not reached'} | "
              f"{g if g is not None else 'not reached'} | {ratio} |")
