"""``overparam bench``: the library's GD step against a paper's NumPy script and the memory limit.

Every case (see :mod:`.cases`) is timed in one process, its contenders interleaved repeat by
repeat (:mod:`.timing`), and reported as ratios with the median and the min/max over repeats:

* **speedup** = NumPy peer time / our time (per replica-step for batched replicas);
* **per_read** = our time / the time to read the operator's stored data once (:mod:`.memory`),
  i.e. **reads of the operator per step** (whole call, all replicas); "≤ 1.5 × two reads" is
  ``per_read ≤ 3``, the fused step's goal is 1;
* **speedup_ceiling** = NumPy peer time / (one read ÷ replicas per call): the largest speedup any
  step that reads the operator at least once could reach on this machine. A speedup target above
  it is reported as out of reach here (``reachable: False``), still not met.

Every ratio is the median over ``repeats`` ≥ 5 paired samples (min and max beside it): each repeat
times the library, the peer and the read once, one after the other, so a change of the machine's
load moves all of them together (:mod:`.timing`). Every result names the CPU model and the load
average before and after the suite (``machine``, ``load_average_end``): numbers taken on a loaded
machine say so.

Threads are set deliberately: torch, numba and the BLAS libraries NumPy loaded all run with
``threads`` threads (default: the CPUs this process may use), for ours and the peer alike.

    overparam.bench.main(quick=True)            # Rich table; exit code 0 if every target is met
    overparam.bench.run_suite(quick=True)       # the same as a JSON-ready dict
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from collections.abc import Callable, Iterator
from typing import Any

import torch

from . import cases as _cases
from .memory import nbytes, readers
from .timing import Stats, interleaved, ratio

SCHEMA = "overparam-bench/1"
#: The fewest paired repeats a ratio is the median of (the default of both modes).
MIN_REPEATS = 5


def default_threads() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def pinned_threads(n: int) -> Iterator[None]:
    """torch, numba and NumPy's BLAS all at ``n`` threads for the block, restored afterwards."""
    import numba
    from threadpoolctl import threadpool_limits

    old_torch, old_numba = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(old_torch)
        numba.set_num_threads(old_numba)


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (``None`` where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return None


def machine() -> dict[str, Any]:
    """What the numbers came from: the CPU model, the load average now, the libraries."""
    import numba
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:  # pragma: no cover - not Linux
        pass
    info = {
        "cpu": cpu,
        "cpus_usable": default_threads(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "simd": torch.backends.cpu.get_cpu_capability(),  # the vector width torch's kernels use here
        "blas": "MKL" if torch.backends.mkl.is_available() else "other",
        "numpy_blas": _numpy_blas(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average": load_average(),
    }
    try:
        with open("/proc/meminfo") as f:
            info["memory_gb"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):  # pragma: no cover
        pass
    return info


def _numpy_blas() -> str | None:
    """The BLAS NumPy loaded (the peers' products), e.g. ``openblas 0.3.31``."""
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    blas.sort(key=lambda lib: "numpy" not in (lib.get("filepath") or ""))  # NumPy's own first (stable)
    return f"{blas[0].get('internal_api')} {blas[0].get('version')}" if blas else None


def _synced(fn: Callable[[], Any], cuda: bool) -> Callable[[], Any]:
    if not cuda:
        return fn

    def call():
        out = fn()
        torch.cuda.synchronize()
        return out

    return call


def measure(case: _cases.Case, repeats: int, *, min_time: float = 0.02) -> dict[str, Any]:
    """Time one case (ours, baseline, reads interleaved) and evaluate its targets."""
    cuda = bool(case.read) and case.read[0].device.type == "cuda" or case.name.startswith("cuda")
    fns: dict[str, Callable[[], Any]] = {"ours": _synced(case.ours, cuda)}
    if case.baseline is not None:
        fns["baseline"] = case.baseline
    read_fns = readers(case.read) if case.read else {}
    for k, f in read_fns.items():
        fns[f"read:{k}"] = _synced(f, cuda)
    agree = None
    if case.agree is not None and case.baseline is not None:
        agree = case.agree(case.ours(), case.baseline())
    samples = interleaved(fns, repeats=repeats, min_time=min_time)
    ours = [t / case.per for t in samples["ours"]]
    row: dict[str, Any] = {
        "name": case.name,
        "description": case.description,
        "params": case.params,
        "ours_s": Stats.of(ours).as_dict(),
        "baseline_kind": case.baseline_kind or None,
        "baseline_s": None,
        "baseline_extrapolated": False,
        "speedup": None,
        "read_s": None,
        "read_bytes": nbytes(case.read) if case.read else None,
        "per_read": None,
        "speedup_ceiling": None,
        "agree_rel": agree,
        "note": case.note or None,
    }
    if "baseline" in samples:
        base = [t / case.baseline_per for t in samples["baseline"]]
        row["baseline_s"] = Stats.of(base).as_dict()
        row["speedup"] = ratio(base, ours).as_dict()
    if read_fns:
        reads = [min(samples[f"read:{k}"][i] for k in read_fns) for i in range(repeats)]
        row["read_s"] = Stats.of(reads).as_dict()
        row["read_GBps"] = row["read_bytes"] / row["read_s"]["median"] / 1e9
        row["per_read"] = ratio(samples["ours"], reads).as_dict()  # whole call (all replicas) per read
        if "baseline" in samples:  # no step that reads the operator once can beat the peer by more
            row["speedup_ceiling"] = ratio(base, [r / case.per for r in reads]).as_dict()
    return row


def _evaluate_targets(row: dict[str, Any], targets: list[_cases.Target]) -> None:
    """Judge each target. A speedup target not met is marked ``reachable: False`` where it lies above
    ``speedup_ceiling`` (the peer's time over one read of the operator, per replica-step): on this
    machine no step that reads the operator even once could meet it. The target is never relaxed."""
    out = []
    ceiling = row.get("speedup_ceiling")
    for t in targets:
        v = row.get(t.metric)
        value = None if v is None else v[t.stat]
        item = {"text": t.text, "metric": t.metric, "stat": t.stat, "op": t.op, "bound": t.bound, "value": value,
                "met": None if value is None else t.met(value), "reachable": None}
        if t.metric == "speedup" and t.op == ">=" and ceiling is not None and item["met"] is False:
            item["reachable"] = ceiling[t.stat] >= t.bound
        out.append(item)
    row["targets"] = out


def _target_text(t: dict[str, Any], row: dict[str, Any], met: str, not_met: str) -> str:
    text = f"{met if t['met'] else not_met}{t['text']}"
    if t.get("reachable") is False:
        text += (f" (out of reach here: one read of the operator takes 1/{row['speedup_ceiling'][t['stat']]:.1f}"
                 " of the peer's step)")
    return text


def run_suite(quick: bool = False, *, scale: float = 1.0, threads: int | None = None, repeats: int | None = None,
              only: list[str] | None = None, progress: Callable[[str], None] | None = None,
              cuda: bool | None = None) -> dict[str, Any]:
    """Run the suite and return the JSON-ready result (see the module docstring).

    Args:
        quick: fewer repeats, a shorter op.run comparison, and the n = 10 000 dense-mask baseline
            extrapolated from the n = 2000 one by the ratio of matrix entries (25×) instead of run.
            The dense step is memory-bound and its n = 2000 arrays partly fit in cache, so the
            extrapolation understates the n = 10 000 cost: the reported speedup is a lower bound.
        scale: shrink every size (tests use ~0.1).
        threads: threads for torch, numba and BLAS (default: all usable CPUs).
        repeats: paired samples per contender, the same for every case (default ``MIN_REPEATS`` = 5
            quick, 7 full); each ratio is the median over them.
        only: case names to run (default all).
        cuda: add the CUDA cases (default: when a GPU is present).
    """
    n_threads = threads or default_threads()
    reps = repeats or (MIN_REPEATS if quick else 7)
    rows: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    info = machine()  # the load average before the suite
    with pinned_threads(n_threads):
        for name, make in _cases.suite(quick, scale=scale, cuda=cuda):
            if only is not None and name not in only:
                continue
            case = make()
            if progress is not None:
                progress(case.name)
            row = measure(case, reps)
            if case.name == "completion_10000" and row["baseline_s"] is None and "completion_2000" in by_name:
                src = by_name["completion_2000"]
                f = (case.params["n"] / src["params"]["n"]) ** 2
                base = Stats(**src["baseline_s"]).scaled(f)
                ours = Stats(**row["ours_s"])
                row["baseline_s"] = base.as_dict()
                row["baseline_kind"] = src["baseline_kind"]
                row["baseline_extrapolated"] = True
                row["speedup"] = Stats(base.median / ours.median, base.median / ours.max, base.median / ours.min).as_dict()
                row["note"] = (f"quick mode: dense-mask time extrapolated from n={src['params']['n']} by the entry "
                               f"ratio {f:g} (a lower bound: the smaller dense problem is partly cache-resident)")
            _evaluate_targets(row, case.targets)
            rows.append(row)
            by_name[case.name] = row
            del case
    met = [t["met"] for row in rows for t in row["targets"] if t["met"] is not None]
    return {
        "schema": SCHEMA,
        "quick": quick,
        "scale": scale,
        "repeats": reps,
        "threads": n_threads,
        "machine": info,
        "load_average_end": load_average(),
        "cases": rows,
        "all_targets_met": all(met),
    }


def _fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _fmt_ratio(r: dict[str, float] | None, digits: int = 1) -> str:
    if r is None:
        return "—"
    return f"{r['median']:.{digits}f} [{r['min']:.{digits}f}–{r['max']:.{digits}f}]"


def render(result: dict[str, Any], console=None) -> None:
    """Print the result as a Rich table (wide enough for every column when not on a terminal)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)
    table = Table(title=escape(f"overparam bench ({'quick' if result['quick'] else 'full'}; {result['threads']} threads; "
                               f"median [min–max] of {result['repeats']} interleaved repeats)"),
                  caption=escape(machine_line(result)))
    for col in ("case", "ours", "NumPy peer", "speedup", "read once", "reads per step", "targets"):
        table.add_column(col, justify="left" if col in ("case", "targets") else "right",
                         no_wrap=col != "targets")
    for row in result["cases"]:
        unit = " /replica-step" if row["params"].get("R", 1) > 1 or row["name"].endswith("_vs_separate") else ""
        base = _fmt_time(row["baseline_s"]["median"]) if row["baseline_s"] else "—"
        if row["baseline_extrapolated"]:
            base += " (extrap.)"
        targets = "; ".join(_target_text(t, row, "✓ ", "✗ ") for t in row["targets"] if t["met"] is not None)
        cells = (row["name"], _fmt_time(row["ours_s"]["median"]) + unit, base, _fmt_ratio(row["speedup"]),
                 _fmt_time(row["read_s"]["median"]) if row["read_s"] else "—", _fmt_ratio(row["per_read"], 2),
                 targets or "—")
        table.add_row(*(escape(c) for c in cells))
    console.print(table)


def _fmt_load(load: list[float] | None) -> str:
    return "unknown" if not load else " / ".join(f"{x:.2f}" for x in load)


def machine_line(result: dict[str, Any]) -> str:
    """CPU model, threads and the load average (1/5/15 min) before and after the suite."""
    m = result["machine"]
    simd = f"{m['simd']}; " if m.get("simd") else ""
    return (f"CPU: {m['cpu']} ({simd}{m['cpus_usable']} usable, {result['threads']} threads); load average before "
            f"{_fmt_load(m.get('load_average'))}, after {_fmt_load(result.get('load_average_end'))}")


def to_markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table (times are medians; ratios median [min–max] over repeats),
    headed by the CPU model and the load average."""
    lines = [machine_line(result) + f"; median [min–max] of {result['repeats']} interleaved repeats", "",
             "| case | ours | NumPy peer | speedup | read once | reads per step | targets |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for row in result["cases"]:
        unit = " /replica-step" if row["params"].get("R", 1) > 1 or row["name"].endswith("_vs_separate") else ""
        base = _fmt_time(row["baseline_s"]["median"]) if row["baseline_s"] else "—"
        if row["baseline_extrapolated"]:
            base += " (extrapolated)"
        targets = "; ".join(_target_text(t, row, "met: ", "**not met**: ") for t in row["targets"]
                            if t["met"] is not None)
        lines.append(f"| {row['name']} — {row['description']} | {_fmt_time(row['ours_s']['median'])}{unit} | {base} | "
                     f"{_fmt_ratio(row['speedup'])} | {_fmt_time(row['read_s']['median']) if row['read_s'] else '—'} | "
                     f"{_fmt_ratio(row['per_read'], 2)} | {targets or '—'} |")
    return "\n".join(lines) + "\n"


def main(quick: bool = False, as_json: bool = False) -> int:
    """Run the suite and print a Rich table (or JSON). Exit code 0 when every target is met, else 1."""
    result = run_suite(quick=quick)
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        render(result)
    return 0 if result["all_targets_met"] else 1


__all__ = ["MIN_REPEATS", "SCHEMA", "load_average", "machine", "machine_line", "main", "measure", "render", "run_suite",
           "to_markdown"]
