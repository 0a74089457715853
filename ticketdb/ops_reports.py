"""Operational reports that read precomputed tables: ``urgent_today`` (queries/urgent_today.sql).

``ticketdb report urgent-today`` (the issue-4 report group) calls :func:`urgent_today`. The list
itself is built nightly by ``rebuild_daily_urgent_tickets`` (workflow); this only reads it, with
each ticket's live state, so the report is cheap at any size and never shows a ticket someone
already closed this morning (unless asked to).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ticketdb.catalog import server_now
from ticketdb.db import connection, scalar
from ticketdb.dsn import DSN
from ticketdb.project import Project
from ticketdb.reports.sqlfile import load_query

URGENT_TODAY = "urgent_today"


def urgent_today(
    dsn: DSN,
    project: Project | None = None,
    *,
    include_handled: bool = False,
    agent_id: int | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Rows of today's urgent list plus when it was built (None: never built, run the rebuild).

    Returns ``{"built_at", "as_of", "columns", "rows": [dict, …]}``.
    """
    query = load_query(project or Project.locate(), URGENT_TODAY)
    with connection(dsn) as conn:
        as_of = as_of or server_now(conn)
        built_at = scalar(conn, "SELECT MAX(built_at) FROM daily_urgent_tickets")
        columns, rows = query.run(
            conn, as_of=as_of, include_handled=int(include_handled), agent_id=agent_id
        )
    return {
        "built_at": built_at,
        "as_of": as_of,
        "columns": columns,
        "rows": [dict(zip(columns, r, strict=True)) for r in rows],
    }
