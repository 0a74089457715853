"""Each report query against hand-made tickets and logs with answers worked out by hand, through
the library and the CLI (`ticketdb report … --json`)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pymysql
import pytest
from click.testing import CliRunner

from ticketdb.app import reports
from ticketdb.app.queries import all_queries, load_query, parse
from ticketdb.cli import cli
from ticketdb.db import connection, scalar, sql_error
from ticketdb.errors import SqlError, TicketdbError, UsageError
from ticketdb.migrate import reportsql
from ticketdb.partitions import ensure_months

AS_OF = datetime(2026, 3, 10, 12, 0, 0)

# id, customer, priority, status, agent, created_at, closed_at, sla_started_at
# deadline = sla_started_at + 2 h (urgent) / 24 h (high) / 72 h (medium, low)
TICKETS = [
    # timeout warning at AS_OF, 60 min window
    (1, 100, "urgent", "processing", 3, "2026-03-10 10:30:00", None, "2026-03-10 10:30:00"),  # +30m
    (2, 100, "medium", "pending", None, "2026-03-07 12:45:00", None, "2026-03-07 12:45:00"),  # +45m
    (3, 100, "high", "resolved", 3, "2026-03-09 12:10:00", None, "2026-03-09 12:10:00"),  # done
    (4, 101, "low", "processing", 4, "2026-03-07 11:55:00", None, "2026-03-07 11:55:00"),  # -5m
    (5, 101, "high", "processing", 4, "2026-03-09 13:01:00", None, "2026-03-09 13:01:00"),  # +61m
    (6, 500, "urgent", "pending", None, "2026-03-10 10:00:00", None, "2026-03-10 10:00:00"),  # +0
    # agent stats: closed in Feb by agent 7 (10 h, 20 h) and 8 (5 h); Jan and 1 Mar excluded
    # (20 and 22 below also close in Feb: agent 4 after 142 h, agent 5 after 456 h)
    (10, 102, "low", "closed", 7, "2026-02-03 00:00:00", "2026-02-03 10:00:00", "2026-02-03"),
    (11, 102, "low", "closed", 7, "2026-02-27 08:00:00", "2026-02-28 04:00:00", "2026-02-27"),
    (12, 103, "high", "closed", 8, "2026-02-10 09:00:00", "2026-02-10 14:00:00", "2026-02-10"),
    (13, 103, "high", "closed", 7, "2026-01-20 09:00:00", "2026-01-20 11:00:00", "2026-01-20"),
    (14, 103, "high", "closed", 8, "2026-02-28 20:00:00", "2026-03-01 00:00:00", "2026-02-28"),
    # audit trail / transfers
    (20, 500, "medium", "closed", 4, "2026-01-30 10:00:00", "2026-02-05 08:00:00", "2026-01-30"),
    (21, 500, "low", "processing", 6, "2026-01-15 09:00:00", None, "2026-01-15 09:00:00"),
    (22, 501, "medium", "closed", 5, "2026-02-01 09:00:00", "2026-02-20 09:00:00", "2026-02-01"),
]
# ticket, agent, action, time, to_agent
LOGS = [
    (20, 3, "assign", "2026-01-30 10:30:00", None),
    (20, 3, "reply", "2026-01-30 11:00:00", None),
    (20, 3, "reply", "2026-02-02 09:00:00", None),
    (20, 3, "transfer", "2026-02-02 10:00:00", 4),
    (20, 4, "resolve", "2026-02-03 08:00:00", None),
    (20, 4, "close", "2026-02-05 08:00:00", None),
    (21, 2, "assign", "2026-01-15 09:30:00", None),
    (21, 2, "transfer", "2026-01-20 09:00:00", 3),
    (21, 3, "transfer", "2026-02-02 09:00:00", 4),
    (21, 4, "transfer", "2026-02-10 09:00:00", 5),
    (21, 5, "transfer", "2026-02-25 09:00:00", 6),
    (22, 1, "assign", "2026-02-01 09:30:00", None),
    (22, 1, "transfer", "2026-02-03 09:00:00", 2),
    (22, 2, "transfer", "2026-02-04 09:00:00", 5),
    (22, 5, "close", "2026-02-20 09:00:00", None),
]


@pytest.fixture
def fixture_db(conn, migrated_dsn):
    """The tickets and logs above, inserted with the bulk-load switch (final states as given)."""
    ensure_months(conn, "ticket_logs", months_back=3, months_ahead=1, today=AS_OF.date())
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
        cur.executemany(
            "INSERT INTO service_tickets (id, customer_id, title, priority, current_status, "
            "assigned_agent_id, created_at, updated_at, closed_at, sla_started_at) "
            "VALUES (%s, %s, CONCAT('Billing: ticket ', %s), %s, %s, %s, %s, %s, %s, %s)",
            [(t[0], t[1], t[0], *t[2:6], t[5], t[6], t[7]) for t in TICKETS],
        )
        cur.executemany(
            "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time, to_agent_id) "
            "VALUES (%s, %s, %s, %s, %s)",
            LOGS,
        )
        cur.execute("SET @ticketdb_bulk_load = NULL")
    return migrated_dsn


def test_overdue_lists_open_tickets_due_in_the_window(conn, project, fixture_db):
    r = reports.overdue(conn, project, as_of=AS_OF, window_minutes=60)
    rows = [dict(zip(r.columns, row, strict=True)) for row in r.rows]
    assert [(x["id"], x["minutes_left"]) for x in rows] == [(6, 0), (1, 30), (2, 45)]
    wider = reports.overdue(conn, project, as_of=AS_OF, window_minutes=62)
    assert [row[0] for row in wider.rows] == [6, 1, 2, 5]


def test_agents_counts_closes_per_agent_and_month(conn, project, fixture_db):
    r = reports.agents(conn, project, month=date(2026, 2, 1))
    assert r.rows == [
        ("2026-02", 7, 2, Decimal("15.00")),
        ("2026-02", 4, 1, Decimal("142.00")),
        ("2026-02", 5, 1, Decimal("456.00")),
        ("2026-02", 8, 1, Decimal("5.00")),
    ]
    three = reports.agents(conn, project, month=date(2026, 3, 1), months=3)
    assert [(m, a, n) for m, a, n, _ in three.rows] == [
        ("2026-01", 7, 1), ("2026-02", 7, 2), ("2026-02", 4, 1), ("2026-02", 5, 1),
        ("2026-02", 8, 1), ("2026-03", 8, 1),
    ]  # fmt: skip


def test_trail_marks_assign_first_reply_and_close(conn, project, fixture_db):
    r = reports.trail(conn, project, 20)
    got = [(row[2], row[6], row[7]) for row in r.rows]
    assert got == [
        ("assign", "assigned", 30),
        ("reply", "first reply", 60),
        ("reply", None, 4260),
        ("transfer", None, 4320),
        ("resolve", None, 5640),
        ("close", "closed", 8520),
    ]
    assert reports.trail(conn, project, 999).rows == []


def test_transfers_ranks_tickets_in_the_period(conn, project, fixture_db):
    feb = {"since": datetime(2026, 2, 1), "until": datetime(2026, 3, 1)}
    r = reports.transfers(conn, project, limit=10, **feb)
    assert [(row[0], row[1], row[2]) for row in r.rows] == [
        (21, 3, "Billing"), (22, 2, "Billing"), (20, 1, "Billing"),
    ]  # fmt: skip
    assert [row[0] for row in reports.transfers(conn, project, limit=2, **feb).rows] == [21, 22]


def test_vip_open_tickets_query(conn, project, fixture_db):
    cols, rows = load_query(project, "vip_open_tickets").run(conn, customer_id=500)
    # deadline order (21: 18 Jan, 6: 10 Mar); the closed ticket 20 is not listed
    assert [r[0] for r in rows] == [21, 6]


def _admin_and_reporter_cases() -> list[tuple[Any, dict[str, Any]]]:
    feb = {"since": datetime(2026, 2, 1), "until": datetime(2026, 3, 1)}
    return [
        (reports.overdue, {"as_of": AS_OF, "window_minutes": 62}),
        (reports.agents, {"month": date(2026, 3, 1), "months": 3}),
        (reports.trail, {"ticket_id": 20}),
        (reports.trail, {"ticket_id": 21}),
        (reports.transfers, {"limit": 10, **feb}),
        (reports.transfers, {"limit": 2, **feb}),
        (reports.urgent_today, {"as_of": AS_OF, "include_handled": True}),
        (reports.urgent_today, {"as_of": AS_OF, "agent_id": 4}),
    ]


def test_the_reporter_gets_the_admin_rows_through_report_run(conn, project, fixture_db, accounts):
    """The reporter holds EXECUTE on report_run and nothing else. Every report it runs gives
    exactly the column names and rows the query file gives an admin running it directly
    (PyMySQL binding the named parameters): the `?` order, the JSON types and the runner's
    transaction change nothing."""
    with conn.cursor() as cur:  # today's urgent list, so urgent_today has rows to compare
        cur.execute("CALL rebuild_daily_urgent_tickets(@n)")
    seen = {"urgent_today_built"}  # run inside urgent_today
    with connection(accounts["ticketdb_reporter"]) as rep:
        for fn, kwargs in _admin_and_reporter_cases():
            theirs = fn(rep, project, **kwargs)
            columns, rows = load_query(project, theirs.query).run(conn, **theirs.params)
            assert (theirs.columns, theirs.rows) == (columns, rows), theirs.query
            assert theirs.rows or theirs.query == "urgent_today", theirs.query
            seen.add(theirs.query)
        built = reports.urgent_today(rep, project, as_of=AS_OF).meta["built_at"]
    assert built == scalar(conn, "SELECT MAX(built_at) FROM daily_urgent_tickets")
    assert seen == {st.name for st in reportsql.load(project)}  # every loaded report compared


def test_report_parameters_are_checked_before_the_server(conn, project, fixture_db):
    with pytest.raises(UsageError, match="missing parameter"):
        reports.run_report(conn, load_query(project, "audit_trail"))
    with pytest.raises(TicketdbError, match="not marked"):
        reports.run_report(conn, load_query(project, "vip_open_tickets"), customer_id=1)
    with pytest.raises(SqlError, match="unknown parameter"):  # the procedure's own check
        with conn.cursor() as cur:
            try:
                cur.execute("CALL report_run('audit_trail', '{\"ticket_id\": 1, \"x\": 2}')")
            except pymysql.err.MySQLError as exc:
                raise sql_error(exc) from None


@pytest.mark.parametrize(
    "args, key, expected",
    [
        (["overdue", "--at", "2026-03-10 12:00:00"], "id", [6, 1, 2]),
        (["agents", "--month", "2026-02"], "agent_id", [7, 4, 5, 8]),
        (["trail", "20"], "action_type",
         ["assign", "reply", "reply", "transfer", "resolve", "close"]),
        (["transfers", "--since", "2026-02-01", "--until", "2026-03-01"], "ticket_id",
         [21, 22, 20]),
    ],
)  # fmt: skip
def test_cli_json(fixture_db, args, key, expected):
    result = CliRunner().invoke(cli, ["report", *args, "--dsn", fixture_db.url(), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [row[key] for row in doc["rows"]] == expected
    assert doc["query"].startswith("queries/") and doc["columns"]


def test_cli_table(fixture_db):
    result = CliRunner().invoke(cli, ["report", "trail", "20", "--dsn", fixture_db.url()])
    assert result.exit_code == 0, result.output
    assert "audit_trail.sql" in result.output and "6 row(s)" in result.output
    assert "first" in result.output and "assign" in result.output
    assert "new priority" not in result.output  # empty in every row: left out of the table


def test_cli_table_keeps_each_row_on_one_line_when_piped(fixture_db, monkeypatch):
    """Not a terminal (CliRunner's stdout, like a pipe or `make demo`'s log): rich would fold the
    cells at 80 columns, putting "processing" and the deadline on two lines."""
    monkeypatch.delenv("COLUMNS", raising=False)
    args = ["report", "overdue", "--at", "2026-03-10 12:00:00", "--dsn", fixture_db.url()]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = [[c.strip() for c in line[1:-1].split(line[0])] for line in result.stdout.splitlines()
            if line[:1] in ("┃", "│")]  # header, then body  # fmt: skip
    header, body = rows[0], rows[1:]
    assert header == ["id", "priority", "current status", "deadline", "minutes left",
                      "assigned agent id", "customer id"]  # fmt: skip
    assert body == [
        ["6", "urgent", "pending", "2026-03-10 12:00", "0", "", "500"],
        ["1", "urgent", "processing", "2026-03-10 12:30", "30", "3", "100"],
        ["2", "medium", "pending", "2026-03-10 12:45", "45", "", "100"],
    ]


_PARAM_LINE = re.compile(r"^-- param :(\w+) ([A-Z]+) — \S")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def header_lines(text: str) -> list[str]:
    """The leading `--` comment block of a query file."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    return lines


def test_every_query_file_documents_its_parameters(project):
    """Read independently of the loader: each `%(name)s` the query binds has a `-- param :name
    TYPE — meaning` header line, and each header line names a parameter the query uses."""
    queries = all_queries(project)
    assert {q.name for q in queries} >= {"timeout_warning", "agent_monthly_stats",
                                         "audit_trail", "frequent_transfers",
                                         "vip_open_tickets"}  # fmt: skip
    for q in queries:
        head = header_lines(q.path.read_text(encoding="utf-8"))
        assert head[0] == f"-- name: {q.name}", q.path
        assert q.description, q.path
        param_lines = [line for line in head if line.startswith("-- param")]
        documented = [m.group(1) for m in map(_PARAM_LINE.match, param_lines) if m]
        assert len(documented) == len(param_lines), f"{q.path}: param line without TYPE — meaning"
        assert len(set(documented)) == len(documented), f"{q.path}: a parameter documented twice"
        used = set(_PLACEHOLDER.findall(q.pyformat))
        assert used - set(documented) == set(), f"{q.path}: used but not in the header"
        assert set(documented) - used == set(), f"{q.path}: in the header but never used"
        assert q.params == used


@pytest.mark.parametrize(
    "text,message",
    [
        ("-- name: x\n-- x\nSELECT :a", r"documents parameters \[\] but the query uses \['a'\]"),
        ("-- name: x\n-- x\n-- param :a INT — a\nSELECT 1", r"\['a'\] but the query uses \[\]"),
    ],
)
def test_loader_refuses_undocumented_or_unused_parameters(tmp_path, text, message):
    with pytest.raises(TicketdbError, match=message):
        parse("x", tmp_path / "x.sql", text)


def test_placeholders_bind_by_name_and_leave_literals_alone(tmp_path):
    q = parse("x", tmp_path / "x.sql",
              "-- name: x\n-- param :a INT\nSELECT DATE_FORMAT(d, '%Y:%m') AS ':b', :a -- :c\n"
              "FROM t WHERE x = :a")  # fmt: skip
    sql, args = q.bind(a=1)
    assert sql.endswith("SELECT DATE_FORMAT(d, '%%Y:%%m') AS ':b', %(a)s -- :c\nFROM t "
                        "WHERE x = %(a)s")  # fmt: skip
    assert args == {"a": 1}
    # for PREPARE (report_run): one `?` per use, in order; literals and comments untouched
    assert q.qmark.endswith("SELECT DATE_FORMAT(d, '%Y:%m') AS ':b', ? -- :c\nFROM t WHERE x = ?")
    assert q.positions == ("a", "a") and q.runner is None
    with pytest.raises(UsageError, match="missing parameter"):
        q.bind()
    with pytest.raises(UsageError, match="unknown parameter"):
        q.bind(a=1, b=2)
