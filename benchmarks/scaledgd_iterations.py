"""Print docs/baselines.md's table: iterations of ScaledGD(λ) and over-parameterized GD to relative
error 1e-6 over κ (see overparam.baselines.compare). Deterministic counts, not timings.

    python benchmarks/scaledgd_iterations.py
"""

from overparam.baselines.compare import scaled_gd_versus_gd

FACTORS = (1.0, 10.0)

if __name__ == "__main__":
    rows = scaled_gd_versus_gd(kappas=(1.0, 10.0, 100.0), lam_factors=FACTORS)
    cols = " | ".join(f"ScaledGD(λ = {c:g}σ_r)" for c in FACTORS)
    print(f"| κ | {cols} | GD |")
    print("|---|" + "---|" * (len(FACTORS) + 1))

    def cell(n, err):
        return str(n) if n is not None else f"not reached (error {err:.1e} at 20 000)"

    for row in rows:
        cs = " | ".join(cell(row[f"scaled_gd@{c:g}"], row[f"scaled_gd_error@{c:g}"]) for c in FACTORS)
        print(f"| {row['kappa']:g} | {cs} | {cell(row['gd'], row['gd_error'])} |")
