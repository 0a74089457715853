"""Rich progress and summary for the seed phases: CLI presentation, so it lives here; the seed
library only calls :class:`~ticketdb.seed.report.Reporter` hooks and never imports rich."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ticketdb.seed.report import Reporter, SeedResult


class RichReporter(Reporter):
    """One progress line per phase; the load phase shows tickets generated and loaded."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, phase: str, total: int | None = None) -> None:
        self.tasks[phase] = self.progress.add_task(phase, total=total or 1, rate="")

    def advance(self, phase: str, done: int) -> None:
        task = self.tasks[phase]
        self.progress.update(task, completed=done)
        speed = self.progress.tasks[task].speed
        if speed:
            self.progress.update(task, rate=f"{speed:,.0f} tickets/s")

    def finish(self, phase: str) -> None:
        task = self.tasks[phase]
        total = self.progress.tasks[task].total or 1
        self.progress.update(task, completed=total)


def summary_table(result: SeedResult) -> Table:
    table = Table(title=f"seed, anchor {result.spec.as_dict()['now']}")
    table.add_column("phase")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    for ph in result.phases:
        d = ph.as_dict()
        table.add_row(
            d["phase"],
            f"{d['rows']:,}" if d["rows"] else "",
            f"{d['seconds']:.2f}",
            f"{d['rows_per_s']:,}" if d["rows_per_s"] else "",
        )
    table.add_row(
        "[bold]total",
        f"{result.rows:,}",
        f"{result.seconds:.2f}",
        f"{result.as_dict()['rows_per_s']:,}",
    )
    return table
