"""``ticketdb seed``: fill the database with a deterministic, realistic history."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from ticketdb.catalog import server_now
from ticketdb.cli.common import (
    EARLIEST,
    BoundedDateTime,
    Context,
    FiniteFloat,
    console,
    count,
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
#: A --now further than this from the server's clock is a typo unless --allow-far-now: the
#: history would land in months the partition maintenance never keeps.
MAX_NOW_DISTANCE = timedelta(days=2 * 366)


@click.command("seed")
@click.option(
    "--tickets",
    type=count(1, 1_000_000_000),
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
    type=FiniteFloat(3.3, 100),
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
@click.option(
    "--seed", "seed_", type=count(-(2**63), 2**63 - 1), default=1, show_default=True,
    help="Random seed.",
)  # fmt: skip
@click.option("--customers", type=count(10, 1_000_000_000), help="Customers [default: tickets/5].")
@click.option("--agents", type=count(1, 10_000_000), default=200, show_default=True)
@click.option(
    "--now",
    type=BoundedDateTime(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="Anchor of the history [default: the server's NOW() to the minute]. "
    "Same --seed and --now give the same rows and checksum.",
)
@click.option(
    "--allow-far-now",
    is_flag=True,
    help="Allow a --now more than two years from the server's clock.",
)
@click.option("--replace", is_flag=True, help="Overwrite tickets already in the database.")
@click.option(
    "--keep-indexes",
    is_flag=True,
    help="Load with the secondary indexes in place (slower; the default defers them).",
)
@click.option(
    "--vip-threshold",
    type=count(1, 1_000_000),
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
    allow_far_now: bool,
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
    with connection(dsn) as conn:
        server = server_now(conn, to_minute=True)
    if now is None:
        now = server
    elif abs(now - server) > MAX_NOW_DISTANCE and not allow_far_now:
        raise click.BadParameter(
            f"{now:%Y-%m-%d} is more than two years from the server's clock ({server:%Y-%m-%d}); "
            "pass --allow-far-now if you mean it",
            param_hint="--now",
        )
    if (now.year * 12 + now.month - 1) - months < EARLIEST.year * 12:
        raise click.BadParameter(
            f"{months} months before {now:%Y-%m} is before {EARLIEST:%Y-%m-%d}", param_hint="--now"
        )
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
