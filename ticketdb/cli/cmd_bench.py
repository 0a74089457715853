"""``ticketdb bench``: time the report queries, the escalation and the seed against baselines."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ticketdb import migrate as mig
from ticketdb.bench import run_bench
from ticketdb.bench.output import markdown, plot
from ticketdb.bench.runner import TARGET_TICKETS
from ticketdb.cli.common import (
    Context,
    console,
    dsn_option,
    err_console,
    non_empty,
    pass_ctx,
    project_option,
)
from ticketdb.cli.progress import RichReporter

_file = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("bench")
@click.option("--tickets", type=click.IntRange(100), default=TARGET_TICKETS, show_default=True,
              help="Tickets to seed (about 4 logs each).")  # fmt: skip
@click.option("--reuse", is_flag=True, help="Keep the data already in the bench database.")
@click.option("--repeat", type=click.IntRange(1), default=20, show_default=True,
              help="Timed runs per scenario (after warm-up; slow ones stop earlier).")  # fmt: skip
@click.option("--scenario", "only", multiple=True, metavar="NAME",
              help="Run only these scenarios (repeatable).")  # fmt: skip
@click.option(
    "--database",
    metavar="NAME",
    callback=non_empty,
    help="Bench database [default: <DSN database>_bench]; created and migrated.",
)
@click.option("--no-raw-baseline", is_flag=True,
              help="Skip the raw LOAD DATA reference for seed_load.")  # fmt: skip
@click.option("--seed", "seed_value", type=int, default=1, show_default=True)
@click.option("--json", "json_file", type=_file, help="Write the JSON document here.")
@click.option("--markdown", "md_file", type=_file, help="Write a Markdown table here.")
@click.option("--plot", "plot_file", type=_file, help="Write a PNG chart here (matplotlib).")
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Redis for the vip_open_tickets_cached scenario (default: $TICKETDB_REDIS_URL, then "
    "redis://127.0.0.1:6379/0); reported skipped when it does not answer.",
)
@dsn_option
@project_option
@pass_ctx
def command(
    ctx: Context,
    tickets: int,
    reuse: bool,
    repeat: int,
    only: tuple[str, ...],
    database: str | None,
    no_raw_baseline: bool,
    seed_value: int,
    json_file: Path | None,
    md_file: Path | None,
    plot_file: Path | None,
    redis_url: str | None,
) -> None:
    """Seed (or reuse) a data set in a bench database and time each scenario.

    Every scenario gets warm-up runs, then --repeat timed runs (p50/p95), its EXPLAIN and the
    rows it examined; where a baseline exists (no index, row-by-row loop, raw LOAD DATA) it is
    measured in the same run and the speed-up reported, with the issue's targets met or missed.
    The bench database's tickets are replaced unless --reuse.
    """
    base = ctx.dsn()
    dsn = base.with_database(database or f"{base.database}_bench")
    project = ctx.project()
    mig.up(dsn, project)
    with RichReporter(err_console) as reporter:
        doc = run_bench(
            dsn,
            project,
            tickets=tickets,
            reuse=reuse,
            repeat=repeat,
            only=list(only) or None,
            raw_baseline=not no_raw_baseline,
            seed_value=seed_value,
            redis_url=redis_url,
            log=lambda msg: reporter.progress.console.print(f"[dim]{msg}[/]"),
            reporter=reporter,
        )
    for path in (json_file, md_file, plot_file):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
    if json_file:
        json_file.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    if md_file:
        md_file.write_text(markdown(doc))
    if plot_file:
        plot(doc, plot_file)
    table = Table(title=f"ticketdb bench — {doc['dataset']['tickets']:,} tickets")
    for col in ("scenario", "p50 ms", "p95 ms", "baseline p50 ms", "speed-up", "index"):
        table.add_column(col, justify="left" if col in ("scenario", "index") else "right")
    for r in doc["scenarios"]:
        if r.get("error"):
            table.add_row(r["name"], "[yellow]skipped[/]", "", "", "", r["error"])
            continue
        table.add_row(
            r["name"],
            f"{r['p50_ms']:,.3f}",
            f"{r['p95_ms']:,.3f}",
            f"{r['baseline_p50_ms']:,.3f}" if r.get("baseline_p50_ms") else "",
            f"{r['speedup']}×" if r.get("speedup") is not None else "",
            (r.get("explain") or {}).get("index") or "",
        )
    console.print(table)
    for t in doc["targets"]:
        if t["met"] is None:
            continue
        mark = "[green]met[/]" if t["met"] else "[red]missed[/]"
        scale = "" if t["at_target_scale"] else " [dim](not at 1M tickets)[/]"
        console.print(f"target {t['scenario']} {t['metric']} {t['target']}: {t['value']} {mark}"
                      f"{scale}")  # fmt: skip
