"""``ticketdb seed``: fill the database with a deterministic, realistic history."""

from __future__ import annotations

from datetime import datetime

import click

from ticketdb.catalog import server_now
from ticketdb.cli.common import (
    Context,
    console,
    dsn_option,
    err_console,
    json_option,
    pass_ctx,
    print_json,
    project_option,
)
from ticketdb.cli.progress import RichReporter, summary_table
from ticketdb.db import connection
from ticketdb.seed import SeedSpec, seed
from ticketdb.seed.raw import raw_load
from ticketdb.seed.runner import DEFAULT_VIP_THRESHOLD

#: A typo of one digit must not fill the disk: ~0.7 GB per million tickets with 4 logs each.
MAX_TICKETS = 2_000_000


@click.command("seed")
@click.option(
    "--tickets",
    type=click.IntRange(1),
    required=True,
    help=f"Number of tickets (at most {MAX_TICKETS:,} unless --allow-large).",
)
@click.option(
    "--allow-large",
    is_flag=True,
    help=f"Allow --tickets above {MAX_TICKETS:,} (about 0.7 GB of disk per million).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Queue behind a seed already running on this database instead of failing at once.",
)
@click.option(
    "--logs-per-ticket",
    type=click.FloatRange(3.3),
    default=4.0,
    show_default=True,
    help="Average log rows per ticket.",
)
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=12,
    show_default=True,
    help="History length: created_at spreads over this many months.",
)
@click.option("--seed", "seed_", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--customers", type=click.IntRange(10), help="Customers [default: tickets/5].")
@click.option("--agents", type=click.IntRange(1), default=200, show_default=True)
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="Anchor of the history [default: the server's NOW() to the minute]. "
    "Same --seed and --now give the same rows and checksum.",
)
@click.option("--replace", is_flag=True, help="Overwrite tickets already in the database.")
@click.option(
    "--keep-indexes",
    is_flag=True,
    help="Load with the secondary indexes in place (slower; the default defers them).",
)
@click.option(
    "--vip-threshold",
    type=click.IntRange(1),
    default=DEFAULT_VIP_THRESHOLD,
    show_default=True,
    help="vip_refresh() threshold after the load.",
)
@click.option(
    "--raw-baseline",
    is_flag=True,
    help="Also time a raw LOAD DATA of the same rows into bare tables and report the ratio.",
)
@dsn_option
@project_option
@json_option
@pass_ctx
def command(
    ctx: Context,
    tickets: int,
    allow_large: bool,
    wait: bool,
    logs_per_ticket: float,
    months: int,
    seed_: int,
    customers: int | None,
    agents: int,
    now: datetime | None,
    replace: bool,
    keep_indexes: bool,
    vip_threshold: int,
    raw_baseline: bool,
    as_json: bool,
) -> None:
    """Fill service_tickets and ticket_logs with generated history (--replace to overwrite).

    Deterministic: the printed checksum depends only on the options (--now included). Rows are
    streamed into LOAD DATA LOCAL INFILE; triggers and secondary indexes are put back exactly
    as the migrations define them afterwards.

    One seed per database at a time: a second one fails at once (exit 1) unless --wait. Each
    trigger and index is written down in the database (ticketdb_seed_restore) before it is
    dropped; if the seed is killed (SIGKILL, a crash) the next seed or `migrate up` puts them
    back from the repo's definitions. SIGTERM and Ctrl-C put them back before exiting. A
    duplicate key or truncated value in the load is a failure, never a skipped row.
    """
    if tickets > MAX_TICKETS and not allow_large:
        raise click.BadParameter(
            f"{tickets:,} is above the safety bound of {MAX_TICKETS:,} "
            f"(~{tickets * 0.7 / 1e6:.1f} GB); pass --allow-large if you mean it",
            param_hint="--tickets",
        )
    dsn = ctx.dsn()
    if now is None:
        with connection(dsn) as conn:
            now = server_now(conn, to_minute=True)
    spec = SeedSpec(
        tickets=tickets,
        logs_per_ticket=logs_per_ticket,
        months=months,
        seed=seed_,
        customers=customers,
        agents=agents,
        now=now,
    )
    with RichReporter(err_console) as reporter:
        result = seed(
            dsn,
            ctx.project(),
            spec,
            replace=replace,
            defer_indexes=not keep_indexes,
            vip_threshold=vip_threshold,
            reporter=reporter,
            wait=wait,
            progress=err_console.print,
        )
    summary = result.as_dict()
    if raw_baseline:
        with err_console.status("raw LOAD DATA baseline into bare tables…"):
            raw = raw_load(dsn, spec)
        summary["raw_load"] = raw.as_dict()
        summary["ratio_to_raw"] = round(result.seconds / raw.seconds, 3)
    if as_json:
        print_json(summary)
        return
    console.print(summary_table(result))
    console.print(f"checksum {result.stats.checksum}  status mix {result.stats.by_status}")
    if raw_baseline:
        console.print(
            f"raw LOAD DATA {summary['raw_load']['seconds']:.2f} s → "
            f"seed/raw = {summary['ratio_to_raw']:.2f}×"
        )
