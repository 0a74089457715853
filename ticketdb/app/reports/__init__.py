"""Supervisor reports: the queries of queries/*.sql (the same files ``ticketdb bench`` times),
bound to friendly parameters. Each function returns a :class:`Report`; the CLI prints it.

Every report runs through ``CALL report_run(name, json)`` (procedures/report_run.sql), for an
admin as for the reporter account, whose only privilege that is: one path, so what the reporter
sees is what the tests check. The procedure runs the statement ``migrate up`` loaded from the
same file (ticketdb.migrate.reportsql); the file here only checks the parameters first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pymysql

from ticketdb.app.queries import Query, load_query
from ticketdb.catalog import server_now
from ticketdb.db import error_code, sql_error
from ticketdb.errors import TicketdbError
from ticketdb.partitions import month_start
from ticketdb.project import Project
from ticketdb.retry import retry_conflicts

_NO_PROCEDURE = 1305


@dataclass
class Report:
    name: str
    query: str  # the queries/ file it ran
    title: str
    params: dict[str, Any]
    columns: list[str]
    rows: list[tuple]
    #: facts about the report beyond its rows (e.g. when a precomputed list was built)
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "query": f"queries/{self.query}.sql",
            "params": self.params,
            **self.meta,
            "columns": self.columns,
            "rows": self.records(),
        }

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def _json_value(value: Any) -> Any:
    """A parameter as report_run binds it: numbers and NULL as such, dates as the text
    PyMySQL would have sent."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, int | str):
        return value
    raise TypeError(f"cannot pass {type(value).__name__} to report_run")


def run_report(conn: Any, query: Query, **params: Any) -> tuple[list[str], list[tuple]]:
    """``CALL report_run`` for ``query`` (marked ``-- runner: report_run``): (columns, rows).
    A read aborted by a Galera applier or a TOI DDL (1213) is run again."""
    if query.runner != "report_run":
        raise TicketdbError(f"{query.path} is not marked `-- runner: report_run`")
    query.bind(**params)  # a missing or unknown parameter: exit 2 before the server
    args = json.dumps({k: _json_value(v) for k, v in params.items()})

    def once() -> tuple[list[str], list[tuple]]:
        with conn.cursor() as cur:
            cur.execute("CALL report_run(%s, %s)", (query.name, args))
            columns = [d[0] for d in cur.description] if cur.description else []
            rows = [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cur.fetchall()]
            while cur.nextset():
                pass
        return columns, rows

    try:
        return retry_conflicts(once)
    except pymysql.err.MySQLError as exc:
        if error_code(exc) == _NO_PROCEDURE:
            raise TicketdbError(
                "this database has no report_run procedure: run `ticketdb migrate up`"
            ) from None
        raise sql_error(exc, where=f"report {query.name}") from None


def _run(conn: Any, project: Project, report: str, query: str, title: str, **params: Any) -> Report:
    columns, rows = run_report(conn, load_query(project, query), **params)
    return Report(report, query, title, params, columns, rows)


def overdue(
    conn: Any, project: Project, *, as_of: datetime | None = None, window_minutes: int = 60
) -> Report:
    """Open tickets whose deadline falls within the next ``window_minutes`` (alert list)."""
    as_of = as_of or server_now(conn)
    return _run(conn, project, "overdue", "timeout_warning",
                f"open tickets due within {window_minutes} min of {as_of:%Y-%m-%d %H:%M}",
                as_of=as_of, window_minutes=window_minutes)  # fmt: skip


def agents(conn: Any, project: Project, *, month: date | None = None, months: int = 1) -> Report:
    """Tickets closed per agent per month for ``months`` months ending with ``month``."""
    last = month_start(month or server_now(conn).date())
    first = month_start(last, -(months - 1))
    return _run(conn, project, "agents", "agent_monthly_stats",
                f"tickets closed per agent, {first:%Y-%m} … {last:%Y-%m}",
                **{"from": first, "to": month_start(last, 1)})  # fmt: skip


def trail(conn: Any, project: Project, ticket_id: int) -> Report:
    """One ticket's log, oldest first, milestones marked."""
    return _run(conn, project, "trail", "audit_trail", f"ticket {ticket_id}: audit trail",
                ticket_id=ticket_id)  # fmt: skip


def transfers(
    conn: Any,
    project: Project,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    days: int = 30,
    limit: int = 20,
) -> Report:
    """The most transferred tickets in [since, until) (default: the last ``days`` days)."""
    until = until or server_now(conn)
    since = since or until - timedelta(days=days)
    return _run(conn, project, "transfers", "frequent_transfers",
                f"most transferred tickets, {since:%Y-%m-%d %H:%M} … {until:%Y-%m-%d %H:%M}",
                **{"from": since, "to": until, "limit": limit})  # fmt: skip


def urgent_today(
    conn: Any,
    project: Project,
    *,
    include_handled: bool = False,
    agent_id: int | None = None,
    as_of: datetime | None = None,
) -> Report:
    """Today's urgent list (``daily_urgent_tickets``, rebuilt nightly) with live ticket states.

    Only reads the precomputed list, so it is cheap at any size; tickets handled since the build
    are left out unless ``include_handled``. ``meta["built_at"]`` is None when the list was never
    built (run ``rebuild_daily_urgent_tickets`` or wait for the nightly event).
    """
    as_of = as_of or server_now(conn)
    built_at = run_report(conn, load_query(project, "urgent_today_built"))[1][0][0]
    title = (f"Urgent tickets (list built {built_at:%Y-%m-%d %H:%M})" if built_at
             else "Urgent tickets (list never built)")  # fmt: skip
    report = _run(conn, project, "urgent-today", "urgent_today", title,
                  as_of=as_of, include_handled=int(include_handled), agent_id=agent_id)  # fmt: skip
    report.meta = {"built_at": built_at, "as_of": as_of}
    return report
