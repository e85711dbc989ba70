"""Rich progress bars for sweeps: runs done / total with ETA, and one bar per running run."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class RichProgress:
    """Implements :class:`overparam.experiments.executors.Progress` on a Rich live display (stderr)."""

    def __init__(self):
        from rich.console import Console

        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.total_task = None
        self.run_tasks: dict[str, int] = {}

    def start(self, total: int, skipped: int) -> None:
        self.bar.start()
        self.total_task = self.bar.add_task("runs", total=max(total, 1), completed=skipped)

    def run_update(self, key: str, label: str, step: int, steps: int) -> None:
        task = self.run_tasks.get(key)
        if task is None:
            task = self.bar.add_task(f"  {label}", total=max(steps, 1))
            self.run_tasks[key] = task
        self.bar.update(task, completed=step)

    def run_finished(self, key: str, ok: bool) -> None:
        task = self.run_tasks.pop(key, None)
        if task is not None:
            self.bar.remove_task(task)
        if self.total_task is not None:
            self.bar.advance(self.total_task)

    def close(self) -> None:
        self.bar.stop()
