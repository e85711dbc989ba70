"""A custom sweep on Dask: a grid of specs, computed by a Dask cluster, stored in a results store.

The sweep: symmetric matrix sensing, the number of measurements m against the initialization
scale α (four α as replicas of one run, sharing its operator), three data seeds per m. The cluster
here is a LocalCluster of 2 single-threaded worker processes on 127.0.0.1; on a real cluster pass
its scheduler's address instead (``docs/experiments.md``: SLURM through dask-jobqueue).

    python examples/dask_sweep.py [--quick] [--store DIR]     (default store: ./example-store)

Running it again computes nothing: every run is keyed by its spec and already stored. Then query
the store with ``python examples/query_store.py --store DIR``.
"""

import argparse

from overparam.experiments import RunSpec, Store, grid, run_sweep


def sweep(quick: bool) -> list[RunSpec]:
    """The specs of the sweep: one base spec, then a grid over two of its fields."""
    d, steps = (20, 2000) if quick else (50, 5000)
    base = RunSpec.parse({
        "problem": {"name": "matrix_sensing", "d": d, "r": 2, "m": 10 * d},
        "param": "symmetric",
        "algorithm": {"name": "gd", "eta": 0.4 / d, "grad_scale": 0.5},   # a stable step ∝ 1/d
        "init": {"name": "scaled_identity", "alpha": 1e-3},
        "steps": steps,
        "metrics": ["train_error", "test_error"],
        "replicas": {"init.alpha": [1e-3, 1e-2, 1e-1, 1.0]},        # 4 replicas, one operator
        "tags": {"example": "dask_sweep"},                            # free labels, not part of the key
    })
    ms = [4 * d, 8 * d] if quick else [2 * d, 4 * d, 8 * d, 16 * d]
    return grid(base, {"problem.m": ms, "data_seed": [0, 1, 2]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small grid that runs in seconds")
    ap.add_argument("--store", default="example-store", help="the results store directory")
    args = ap.parse_args()

    from dask.distributed import Client, LocalCluster  # pip install 'overparam[dask]'

    specs = sweep(args.quick)
    store = Store(args.store)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster):
        # Any scheduler address works here, e.g. "tcp://10.1.2.3:8786" of a cluster started elsewhere.
        report = run_sweep(specs, store, dask=cluster.scheduler_address)
    print(f"{report.total} specs: {len(report.computed)} computed, {report.skipped} already stored, "
          f"{len(report.failed)} failed ({report.executor}, {report.wall_time:.1f} s)")
    for key, error in report.failed:                  # also recorded under <store>/failures/
        print(f"failed {key}: {error.splitlines()[0]}")

    df = store.table(**{"tags.example": "dask_sweep"}).sort_values(["problem.m", "data_seed", "init.alpha"])
    print(f"the store holds {len(df)} rows (run × replica) of this sweep, e.g.:")
    print(df[["problem.m", "data_seed", "init.alpha", "status", "test_error"]].head(8).to_string(index=False))


if __name__ == "__main__":   # Dask's worker processes re-import this file: guard the entry point
    main()
