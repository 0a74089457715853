"""``ticketdb report``: the benchmarked queries as supervisor tables (or JSON)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from rich.markup import escape

from ticketdb.app import reports
from ticketdb.cli.common import (
    Context,
    console,
    dsn_option,
    json_option,
    pass_ctx,
    print_json,
    project_option,
)
from ticketdb.cli.tables import fitted
from ticketdb.db import connection

_when = click.DateTime(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"])


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return f"{v:%Y-%m-%d %H:%M}"
    if isinstance(v, Decimal):
        return f"{v:,.2f}"
    return str(v)


def _show(report: reports.Report, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    console.print(report_table(report, console))


def report_table(report: reports.Report, on: Any) -> Any:
    """The report as a table that fits ``on`` (a rich Console) with no value split."""
    # columns empty in every row are left out of the table (not of the JSON): narrow terminals
    shown = [i for i in range(len(report.columns)) if any(r[i] is not None for r in report.rows)]
    right = set()
    for n, i in enumerate(shown):
        values = [r[i] for r in report.rows if r[i] is not None]
        if all(isinstance(v, int | float | Decimal) for v in values):
            right.add(n)
    return fitted(
        on,
        [report.columns[i].replace("_", " ") for i in shown],
        [[escape(_cell(row[i])) for i in shown] for row in report.rows],
        title=report.title,
        caption=f"queries/{report.query}.sql · {len(report.rows)} row(s)",
        right=right,
    )


def _run(ctx: Context, fn: Any, *args: Any, **kwargs: Any) -> reports.Report:
    with connection(ctx.dsn()) as conn:
        return fn(conn, ctx.project(), *args, **kwargs)


@click.group("report")
def command() -> None:
    """Supervisor reports; the SQL is queries/<name>.sql, the same file `ticketdb bench` times."""


@command.command()
@click.option("--window", "window_minutes", type=click.IntRange(1), default=60, show_default=True,
              help="Minutes ahead to look.")  # fmt: skip
@click.option("--at", "as_of", type=_when, help="Pretend it is this time [default: server NOW()].")
@dsn_option
@project_option
@json_option
@pass_ctx
def overdue(ctx: Context, window_minutes: int, as_of: datetime | None, as_json: bool) -> None:
    """Open tickets about to breach their deadline (queries/timeout_warning.sql)."""
    _show(_run(ctx, reports.overdue, as_of=as_of, window_minutes=window_minutes), as_json)


@command.command()
@click.option("--month", type=click.DateTime(["%Y-%m"]), help="Last month shown [default: now].")
@click.option("--months", type=click.IntRange(1, 120), default=1, show_default=True)
@dsn_option
@project_option
@json_option
@pass_ctx
def agents(ctx: Context, month: datetime | None, months: int, as_json: bool) -> None:
    """Tickets closed per agent per month, average hours to close (agent_monthly_stats.sql)."""
    m: date | None = month.date() if month else None
    _show(_run(ctx, reports.agents, month=m, months=months), as_json)


@command.command()
@click.argument("ticket_id", type=click.IntRange(1))
@dsn_option
@project_option
@json_option
@pass_ctx
def trail(ctx: Context, ticket_id: int, as_json: bool) -> None:
    """One ticket's history with assign / first reply / close marked (audit_trail.sql)."""
    report = _run(ctx, reports.trail, ticket_id)
    if not report.rows and not as_json:
        console.print(f"ticket {ticket_id}: no such ticket, or no logs yet")
        return
    _show(report, as_json)


@command.command()
@click.option("--since", type=_when, help="Start of the period [default: --days before --until].")
@click.option("--until", type=_when, help="End of the period, exclusive [default: now].")
@click.option("--days", type=click.IntRange(1), default=30, show_default=True)
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@dsn_option
@project_option
@json_option
@pass_ctx
def transfers(
    ctx: Context,
    since: datetime | None,
    until: datetime | None,
    days: int,
    limit: int,
    as_json: bool,
) -> None:
    """Tickets transferred most often in a period (frequent_transfers.sql)."""
    report = _run(ctx, reports.transfers, since=since, until=until, days=days, limit=limit)
    _show(report, as_json)


@command.command("urgent-today")
@click.option("--agent", "agent_id", type=click.IntRange(1), help="Only this agent's tickets.")
@click.option(
    "--include-handled", is_flag=True, help="Also show tickets resolved/closed since the rebuild."
)
@dsn_option
@project_option
@json_option
@pass_ctx
def urgent_today(ctx: Context, agent_id: int | None, include_handled: bool, as_json: bool) -> None:
    """Today's precomputed urgent list (daily_urgent_tickets, rebuilt nightly), live states."""
    report = _run(ctx, reports.urgent_today, include_handled=include_handled, agent_id=agent_id)
    if report.meta["built_at"] is None and not as_json:
        console.print(
            "the urgent list has never been built: CALL rebuild_daily_urgent_tickets(@n) "
            "or wait for the nightly event"
        )
        return
    _show(report, as_json)
