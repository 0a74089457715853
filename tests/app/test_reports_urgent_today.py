"""reports.urgent_today: the nightly list read back with each ticket's live state."""

from __future__ import annotations

from typing import Any

from ticketdb.app import reports
from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.project import Project


def urgent_today(dsn: DSN, project: Project, **kwargs: Any) -> dict[str, Any]:
    """The report as its JSON shape (``built_at`` and ``rows`` as dicts), on its own connection
    so it sees what the test's connection committed."""
    with connection(dsn) as conn:
        return reports.urgent_today(conn, project, **kwargs).as_dict()


def _ticket(cur, customer: int, priority: str, hours_ago: int) -> int:
    cur.execute(
        "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
        "VALUES (%s, 'u', %s, NOW() - INTERVAL %s HOUR)",
        (customer, priority, hours_ago),
    )
    return cur.lastrowid


def test_urgent_today_reads_the_nightly_list_with_live_state(conn, migrated_dsn, project):
    with conn.cursor() as cur:
        empty = urgent_today(migrated_dsn, project)
        assert empty["rows"] == [] and empty["built_at"] is None
        overdue = _ticket(cur, 1, "urgent", 3)  # deadline 1 h ago
        soon = _ticket(cur, 2, "high", 20)  # due in 4 h
        handled = _ticket(cur, 3, "urgent", 0)
        _ticket(cur, 4, "low", 0)  # due in 72 h: not urgent today
        cur.execute("CALL rebuild_daily_urgent_tickets(@n)")
        cur.execute(
            "UPDATE service_tickets SET current_status = 'closed' WHERE id = %s", (handled,)
        )
        cur.execute("UPDATE service_tickets SET assigned_agent_id = 7 WHERE id = %s", (soon,))

    rep = urgent_today(migrated_dsn, project)
    assert rep["built_at"] is not None
    ids = [r["ticket_id"] for r in rep["rows"]]
    assert ids == [overdue, soon]  # overdue first; the closed one is gone
    first = rep["rows"][0]
    assert first["overdue"] == 1 and first["minutes_left"] < 0
    assert rep["rows"][1]["assigned_agent_id"] == 7  # live agent, not the nightly one

    everything = urgent_today(migrated_dsn, Project(project.root), include_handled=True)
    assert {r["ticket_id"] for r in everything["rows"]} == {overdue, soon, handled}
    assert [r["ticket_id"] for r in urgent_today(migrated_dsn, project, agent_id=7)["rows"]] == [
        soon
    ]


def test_cli_urgent_today_prints_the_list(conn, migrated_dsn, project):
    from click.testing import CliRunner

    from ticketdb.cli import cli

    runner = CliRunner()
    args = ["--dsn", migrated_dsn.url(), "--project", str(project.root), "report", "urgent-today"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0 and "never been built" in res.output
    with conn.cursor() as cur:
        tid = _ticket(cur, 1, "urgent", 1)
        cur.execute("CALL rebuild_daily_urgent_tickets(@n)")
    res = runner.invoke(cli, [*args, "--json"])
    assert res.exit_code == 0, res.output
    import json

    data = json.loads(res.output)
    assert [r["ticket_id"] for r in data["rows"]] == [tid]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0 and "Urgent tickets" in res.output
