"""``ticketdb partitions``: inspect and run the monthly ticket_logs partition maintenance by hand.

The daily event does the same through the SQL procedure ``maintain_log_partitions``; both take
the cluster-wide lease 'partitions.<db>.<table>' (ticketdb_leases), so a manual run and the
event never collide, on any node.
"""

from __future__ import annotations

import click
from rich.table import Table

from ticketdb import partitions as parts
from ticketdb.cli.common import (
    Context,
    console,
    count,
    dsn_option,
    json_option,
    pass_ctx,
    print_json,
)
from ticketdb.db import connection

_table_option = click.option(
    "--table", default="ticket_logs", show_default=True, help="Monthly-partitioned table."
)


@click.group()
def command() -> None:
    """Monthly partitions of ticket_logs: status, and ensure (add months ahead, retention)."""


command.name = "partitions"


@command.command("status")
@_table_option
@dsn_option
@json_option
@pass_ctx
def status_cmd(ctx: Context, table: str, as_json: bool) -> None:
    """List partitions with their month ranges and estimated rows."""
    with connection(ctx.dsn()) as conn:
        report = parts.status(conn, table)
    if as_json:
        print_json(report)
        return
    t = Table(title=f"{table} partitions (today {report['today']})")
    for col in ("partition", "from", "to (exclusive)", "rows (estimate)"):
        t.add_column(col)
    for p in report["partitions"]:
        t.add_row(p["name"], p["from"] or "-", p["to"] or "MAXVALUE", str(p["rows_estimate"]))
    console.print(t)
    console.print(
        f"months ahead: {report['months_ahead']}; covered until {report['covered_until']}"
    )
    if report["future_rows_estimate"]:
        console.print(
            f"[yellow]warn[/]: ~{report['future_rows_estimate']} rows in the MAXVALUE partition "
            "(run `ticketdb partitions ensure`)"
        )


@command.command("ensure")
@click.option(
    "--months-ahead",
    type=count(0, 120),
    required=True,
    help="Months after the current one that must have their own partition.",
)
@click.option(
    "--months-back",
    type=count(0, 240),
    default=0,
    show_default=True,
    help="Months before the current one to split out (for loading history).",
)
@click.option(
    "--retain-months",
    type=count(1, 1200),
    default=None,
    help="Drop month partitions older than this many months (deletes their logs).",
)
@click.option("--dry-run", is_flag=True, help="Print the ALTER statements without running them.")
@_table_option
@dsn_option
@json_option
@pass_ctx
def ensure_cmd(
    ctx: Context,
    months_ahead: int,
    months_back: int,
    retain_months: int | None,
    dry_run: bool,
    table: str,
    as_json: bool,
) -> None:
    """Add missing months (reorganising MAXVALUE), optionally drop old ones. Idempotent."""
    with connection(ctx.dsn()) as conn:
        sqls = parts.maintain(
            conn,
            table,
            months_ahead=months_ahead,
            months_back=months_back,
            retain_months=retain_months,
            dry_run=dry_run,
        )
        report = parts.status(conn, table)
    if as_json:
        print_json({"dry_run": dry_run, "statements": sqls, "status": report})
        return
    verb = "would run" if dry_run else "ran"
    if not sqls:
        console.print(f"{table}: nothing to do (covered until {report['covered_until']})")
    for sql in sqls:
        console.print(f"{verb}: {sql}", highlight=False, soft_wrap=True)
