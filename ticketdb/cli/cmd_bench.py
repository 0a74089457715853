"""``ticketdb bench``: time the report queries, the escalation and the seed against baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

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
from ticketdb.cli.tables import fitted

_file = click.Path(dir_okay=False, writable=True, path_type=Path)


def _clients(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        levels = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        levels = []
    if not levels or min(levels) < 1:
        raise click.BadParameter(f"{value!r}: expected client counts like 1,4,16")
    return levels


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
@click.option("--clients", callback=_clients, metavar="N,N,…",
              help="workflow_throughput: client processes per level [default: 1,4,16].")
@click.option("--duration", type=click.FloatRange(0.5), metavar="SECONDS",
              help="workflow_throughput: seconds per level and contender [default: 10].")
@click.option("--sysbench-table-size", type=click.IntRange(100), metavar="ROWS",
              help="workflow_throughput: rows in each of sysbench's 4 tables "
                   "[default: 100000].")  # fmt: skip
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
    clients: list[int] | None,
    duration: float | None,
    sysbench_table_size: int | None,
    json_file: Path | None,
    md_file: Path | None,
    plot_file: Path | None,
    redis_url: str | None,
) -> None:
    """Seed (or reuse) a data set in a bench database and time each scenario.

    Every scenario gets warm-up runs, then --repeat timed runs (p50/p95), its EXPLAIN and the
    rows it examined; where a baseline exists (no index, row-by-row loop, raw LOAD DATA) it is
    measured in the same run and the speed-up reported, with the issue's targets met or missed.
    workflow_throughput runs ticket lives from --clients concurrent processes for --duration
    seconds per level, next to sysbench oltp_write_only and plain SQL on the same server.
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
            clients=clients,
            duration=duration,
            sysbench_table_size=sysbench_table_size,
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
    for table in bench_tables(doc, console):
        console.print(table)
    for t in doc["targets"]:
        if t["met"] is None:
            continue
        mark = "[green]met[/]" if t["met"] else "[red]missed[/]"
        scale = "" if t["at_target_scale"] else " [dim](not at 1M tickets)[/]"
        if not t.get("at_target_profile", True):
            scale += " [dim](not the durable profile)[/]"
        console.print(f"target {t['scenario']} {t['metric']} {t['target']}: {t['value']} {mark}"
                      f"{scale}")  # fmt: skip


def bench_tables(doc: dict[str, Any], on: Any) -> list[Any]:
    """The scenario table (and the per-level one) fitted to ``on`` (a rich Console)."""
    rows = []
    for r in doc["scenarios"]:
        if r.get("error"):
            rows.append([r["name"], "[yellow]skipped[/]", "", "", "", escape(r["error"])])
            continue
        rows.append([
            r["name"],
            f"{r['p50_ms']:,.3f}",
            f"{r['p95_ms']:,.3f}",
            f"{r['baseline_p50_ms']:,.3f}" if r.get("baseline_p50_ms") else "",
            f"{r['speedup']}×" if r.get("speedup") is not None else "",
            escape((r.get("explain") or {}).get("index") or ""),
        ])  # fmt: skip
    out = [fitted(on, ["scenario", "p50 ms", "p95 ms", "baseline p50 ms", "speed-up", "index"],
                  rows, title=f"ticketdb bench — {doc['dataset']['tickets']:,} tickets",
                  right={1, 2, 3, 4})]  # fmt: skip
    levels = next((r.get("levels") for r in doc["scenarios"] if r.get("levels")), None)
    if levels:
        keys = ("clients", "ops_per_s", "p99_ms", "retries", "errors", "sysbench_tps",
                "ratio_to_sysbench", "plain_sql_ops_per_s", "plain_sql_cost")  # fmt: skip
        headers = ["clients", "ops/s", "p99 ms", "retries", "errors", "sysbench tx/s",
                   "÷ sysbench", "plain SQL ops/s", "plain ÷ ours"]  # fmt: skip
        rows = [[escape(str(lv.get(k))) for k in keys] for lv in levels]
        out.append(fitted(on, headers, rows, title="workflow_throughput per level",
                          right=set(range(len(headers)))))  # fmt: skip
    return out
