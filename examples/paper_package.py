"""How to add a paper package: settings, a figure, a declared claim — and what ``reproduce`` does with them.

A paper is a package ``src/overparam/papers/<id>/`` whose ``__init__.py`` exposes ``PAPER``; it is
discovered by name (nothing else changes), so ``overparam list papers`` shows it and ``overparam
reproduce <id>`` runs it. This file holds a whole (tiny) paper in one module, ``demo2018``: the
claim of 000 (Li, Ma, Zhang) that small-init GD on an over-parameterized UUᵀ recovers a low-rank X⋆
while a large init does not — with the pieces a real package splits into ``settings.py``,
``figures.py`` and ``__init__.py``. ``main`` then does what ``overparam.reproduce.reproduce`` does for
a target: compute the figure's runs into a store, draw it from the store alone, check the claim.

    python examples/paper_package.py [--quick] [--out DIR]     (default: ./paper-demo)
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from overparam.experiments import RunSpec, Store, run_sweep, write_claims
from overparam.papers.base import Context, Figure, Outcome, Paper, Threshold, claim

# -- settings.py: every number we chose, with its reason -------------------------------------------------
PAPER_ID = "demo2018"
ALPHAS = [1e-3, 1e-2, 1e-1, 1.0]           # init scales U₀ = αI (000 Fig. 1 uses a similar range)
SMALL, LARGE = 1e-3, 1.0
GOOD, GAP = 0.05, 10.0                     # the criterion's thresholds: relative test error, ratio


def fig_specs(quick: bool) -> list[RunSpec]:
    """The runs of the figure: pure data, so any executor can compute them and the store keys them."""
    d, m, steps = (20, 200, 2000) if quick else (100, 2500, 10_000)
    return [RunSpec.parse({
        "problem": {"name": "matrix_sensing", "d": d, "r": 2, "m": m},
        "param": "symmetric",
        "algorithm": {"name": "gd", "eta": 0.2 / d, "grad_scale": 0.5},
        "init": {"name": "scaled_identity"},
        "replicas": {"init.alpha": ALPHAS},
        "steps": steps, "metrics": ["train_error", "test_error"],
        "data_seed": seed, "tags": {"figure": f"{PAPER_ID}-fig1"},
    }) for seed in (0, 1)]


# -- figures.py: draw from the store alone --------------------------------------------------------------
def fig1_plot(ctx: Context, out_dir: Path) -> list[Path]:
    """Test error against the step, one line per α (the first data seed)."""
    spec = ctx.specs(fig_specs)[0]                  # the exact specs that were run (device applied)
    run = ctx.store.load(spec.key())
    trace = run.trace()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for rep in run.summary:                         # one entry per replica: its settings and final metrics
        rows = trace[trace["replica"] == rep["replica"]]
        ax.loglog(rows["step"].clip(lower=1), rows["test_error"], label=f"α = {rep['init.alpha']:g}")
    ax.set(xlabel="step", ylabel="relative test error")
    ax.legend()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{PAPER_ID}-fig1.png", out_dir / f"{PAPER_ID}-fig1.pdf"]
    for p in paths:
        fig.savefig(p, bbox_inches="tight")
    plt.close(fig)
    return paths


@claim(
    id=f"{PAPER_ID}-claim1", paper=PAPER_ID, figure=f"{PAPER_ID}-fig1", specs=fig_specs,
    statement="GD on X = UUᵀ with a full-width U from a small init U₀ = αI recovers the rank-r X⋆; "
              "from a large init it overfits.",
    paper_value="qualitative: small α → test error → 0; α = 1 does not recover",
    # the paper's own words and where they stand; kind: experiment (shown in a figure or table), theorem
    # (proved) or extension (ours, not stated by the paper)
    source={"quote": "Figure 1 shows that the gap between the training and test error narrows down as α decreases.",
            "section": "App. B, Fig. 1"},
    kind="experiment",
    # written before the full-mode run, never edited after seeing a result (else: criterion_revised=…)
    criterion=f"Final relative test error over the data seeds (worst case). Reproduced when α = {SMALL:g} "
              f"gives ≤ {GOOD} and α = {LARGE:g} gives ≥ {GAP:g} × that; partly reproduced when only the small-init "
              "part holds; not reproduced otherwise.",
    # every numeric threshold of the criterion, with a plausible range: the verdict is kept only when it
    # holds at both ends of every range and on each data seed alone (else: inconclusive, with the spread)
    thresholds={"good": Threshold(GOOD, low=0.01, high=0.1, reason="'recovers': a relative error of 1–10 %"),
                "gap": Threshold(GAP, low=3.0, high=30.0, reason="'does not recover': half a decade around 10×")},
)
def claim1(ctx: Context) -> Outcome:
    finals = {a: [] for a in ALPHAS}
    for spec in ctx.specs(fig_specs):
        for rep in ctx.store.load(spec.key()).summary:
            finals[rep["init.alpha"]].append(rep["test_error"])
    small, large = max(finals[SMALL]), min(finals[LARGE])
    good, gap = ctx.threshold("good"), ctx.threshold("gap")  # the values this evaluation uses
    verdict = ("reproduced" if small <= good and large >= gap * small else
               "partly reproduced" if small <= good else "not reproduced")
    return Outcome(measured={"test_error_small_init": small, "test_error_large_init": large}, verdict=verdict,
                   setting=f"{'quick' if ctx.quick else 'full'} mode, {len(finals[SMALL])} data seeds",
                   note=f"worst small-init error {small:.2e}; best large-init error {large:.2e}")


# -- __init__.py: the paper's metadata ------------------------------------------------------------------
PAPER = Paper(id=PAPER_ID, title="A demonstration paper package", citation="(none: the example of docs/howto)",
              figures=[Figure(f"{PAPER_ID}-fig1", PAPER_ID, "Small vs large init", fig_specs, fig1_plot)],
              claims=[claim1], docs=f"docs/{PAPER_ID}.md")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="quick mode (the figures' smaller settings)")
    ap.add_argument("--out", default="paper-demo", help="store and output directory")
    args = ap.parse_args()
    out = Path(args.out)
    ctx = Context(store=Store(out / "store"), quick=args.quick)

    # What reproduce() does for this paper: 1. compute every missing run (any executor) ...
    specs = [s for f in PAPER.figures for s in ctx.specs(f.specs)]
    report = run_sweep(specs, ctx.store)
    print(f"{report.total} runs: {len(report.computed)} computed, {report.skipped} already stored")
    # ... 2. draw the figures from the store alone ...
    for fig in PAPER.figures:
        print(f"{fig.id}: wrote", ", ".join(str(p) for p in fig.plot(ctx, out)))
    # ... 3. check the claims and write claims.json / claims.md.
    claims = [c.check(ctx) for c in PAPER.claims]
    for c in claims:
        print(f"{c.id}: {c.verdict} — {c.note}")
    print("wrote", ", ".join(str(p) for p in write_claims(claims, out, quick=args.quick)))


if __name__ == "__main__":
    main()
