"""Querying the results store with pandas: filters, a group-by over seeds, a pivot, traces.

Reads the store that ``examples/dask_sweep.py`` fills (default ``./example-store``); when that
store holds no run of the sweep yet, it computes the sweep first, serially.

    python examples/query_store.py [--quick] [--store DIR]

The same table is on the command line: ``overparam results --store DIR --where problem.m=160 --csv``.
"""

import argparse

import pandas as pd
from dask_sweep import sweep  # the sweep's specs (examples/dask_sweep.py, beside this file)

from overparam.experiments import Store, run_sweep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the quick sweep (computed if missing)")
    ap.add_argument("--store", default="example-store", help="the results store directory")
    args = ap.parse_args()
    store = Store(args.store)
    if store.table(**{"tags.example": "dask_sweep"}).empty:
        print("no stored run of the sweep yet: computing it serially")
        run_sweep(sweep(args.quick), store)

    # One row per (run, replica): the flattened spec, the replica's own settings, status, final metrics.
    df = store.table(**{"tags.example": "dask_sweep"})
    print(f"{len(df)} rows, {df['key'].nunique()} runs, {len(df.columns)} columns "
          f"(key, the flattened spec, replica, status, stop_step, final metrics, wall_time)")

    # Filters are equalities; a list matches any of its values.
    small = store.table(**{"tags.example": "dask_sweep", "init.alpha": [1e-3, 1e-2], "status": "completed"})
    print(f"\nα ∈ {{1e-3, 1e-2}}, completed: {len(small)} rows")

    # Group over the data seeds: the mean and spread of the final test error per (m, α).
    per_cell = (df.groupby(["problem.m", "init.alpha"])["test_error"]
                  .agg(["mean", "std", "count"]).reset_index())
    print("\ntest error over the data seeds:")
    print(per_cell.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

    # A pivot: m down, α across — the table behind a "sample complexity × init scale" figure.
    pivot = df.pivot_table(index="problem.m", columns="init.alpha", values="test_error", aggfunc="median")
    print("\nmedian test error (rows: m, columns: α):")
    print(pivot.to_string(float_format=lambda v: f"{v:.2e}"))

    # Traces: every logged step of the matching replicas, in long form, with the columns asked for.
    m_max = int(df["problem.m"].max())
    long = store.trace_table(columns=["init.alpha", "data_seed"], **{"tags.example": "dask_sweep",
                                                                     "problem.m": m_max})
    last = (long.sort_values("step").groupby(["init.alpha", "data_seed"]).tail(1)
                .sort_values(["init.alpha", "data_seed"]))
    assert isinstance(last, pd.DataFrame)
    print(f"\ntraces at m = {m_max}: {len(long)} rows; last logged step per (α, seed):")
    print(last[["init.alpha", "data_seed", "step", "test_error"]].to_string(index=False))


if __name__ == "__main__":
    main()
