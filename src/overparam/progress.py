"""Rich progress bars for sweeps: runs done / total with ETA, and one bar per long-running run.

The top bar counts finished runs (stored ones count as done from the start, so the ETA is about the
runs still to compute). A run gets its own iteration bar once it has reported progress for
``show_after`` seconds, so sweeps of many short runs do not flicker, while a long run shows its
step count whether it runs in this process, a pool worker or a Dask worker. The display goes to
stderr and refreshes from Rich's own thread a few times a second; updates arrive at most four
times a second per run (see :mod:`overparam.experiments.executors`), so drawing costs the runs
nothing measurable.
"""

from __future__ import annotations

import threading
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class RichProgress:
    """Implements :class:`overparam.experiments.executors.Progress` on a Rich live display (stderr).

    Args:
        show_after: seconds a run must have been reporting before it gets its own bar.
        console: a ``rich.console.Console`` (default: stderr).
    """

    def __init__(self, *, show_after: float = 1.0, console=None):
        from rich.console import Console

        self.show_after = show_after
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
            refresh_per_second=4,
        )
        self.total_task = None
        self.failed = 0
        self.run_tasks: dict[str, int] = {}
        self.first_seen: dict[str, float] = {}
        self.lock = threading.Lock()  # Dask progress events arrive on the client's event-loop thread

    def start(self, total: int, skipped: int) -> None:
        with self.lock:
            self.bar.start()
            self.total_task = self.bar.add_task("runs", total=total, completed=skipped)

    def run_update(self, key: str, label: str, step: int, steps: int) -> None:
        with self.lock:
            if self.total_task is None:
                return
            now = time.monotonic()
            first = self.first_seen.setdefault(key, now)
            task = self.run_tasks.get(key)
            if task is None:
                if now - first < self.show_after:
                    return
                self.run_tasks[key] = self.bar.add_task(f"  {label}", total=max(steps, 1), completed=step)
            else:
                self.bar.update(task, completed=step, total=max(steps, 1))

    def run_finished(self, key: str, ok: bool) -> None:
        with self.lock:
            self.first_seen.pop(key, None)
            task = self.run_tasks.pop(key, None)
            if task is not None:
                self.bar.remove_task(task)
            if not ok:
                self.failed += 1
            if self.total_task is not None:
                desc = f"runs ({self.failed} failed)" if self.failed else "runs"
                self.bar.update(self.total_task, advance=1, description=desc)

    def close(self) -> None:
        with self.lock:
            for task in self.run_tasks.values():
                self.bar.remove_task(task)
            self.run_tasks.clear()
            self.bar.stop()
