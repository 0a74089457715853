"""Forged tickets and back-dated actions: what issue 10 got through, refused at the database.

The app account may only INSERT (customer_id, title, priority) — a ticket is born pending,
unassigned, open, its SLA clock starting now — and has no UPDATE at all; a live action dated
before its ticket, before the ticket's previous action, or in the future is refused by the log
trigger (so closed_at, which is the close action's time, cannot precede created_at).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace

import pymysql
import pytest

from ticketdb import PROJECT_ROOT
from ticketdb import grants as gr
from ticketdb.app.workflow import Workflow
from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN

HOST = "127.0.0.1"


def _code(conn: pymysql.connections.Connection, sql: str, args: tuple | None = None) -> int | None:
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
    except pymysql.err.MySQLError as exc:
        return exc.args[0]
    return None


@pytest.fixture
def accounts(migrated_dsn: DSN, server_dsn: DSN) -> Iterator[dict[str, DSN]]:
    if server_dsn.host not in ("127.0.0.1", "localhost"):
        pytest.skip("account tests connect over TCP from 127.0.0.1 to a local server")
    env = {var: "Tdb-" + secrets.token_urlsafe(12) + "9a!" for var in gr.USERS.values()}
    gr.apply(migrated_dsn, PROJECT_ROOT, env=env, host=HOST)
    yield {
        user: replace(migrated_dsn, user=user, password=env[var], params=())
        for user, var in gr.USERS.items()
    }
    with connect(server_dsn, database=False) as c, c.cursor() as cur:
        for user in gr.USERS:
            cur.execute("DROP USER IF EXISTS %s@%s", (user, HOST))


FORGED = [
    ("current_status", "'closed'"),
    ("assigned_agent_id", "7"),
    ("closed_at", "'2001-01-01 00:00:00'"),
    ("sla_started_at", "'2099-01-01 00:00:00'"),
    ("created_at", "'2001-01-01 00:00:00'"),
    ("updated_at", "'2001-01-01 00:00:00'"),
    ("id", "424242"),
]


def test_app_cannot_forge_a_ticket_or_update_one(accounts: dict[str, DSN], conn) -> None:
    app = connect(accounts["ticketdb_app"])
    try:
        for column, value in FORGED:
            sql = (
                f"INSERT INTO service_tickets (customer_id, title, priority, {column}) "
                f"VALUES (1, 'forged', 'low', {value})"
            )
            assert _code(app, sql) == 1143, column  # column access denied
        assert _code(app, "INSERT INTO service_tickets SET customer_id = 1, title = 'x', "
                          "priority = 'low', current_status = 'closed'") == 1143  # fmt: skip
        for stmt in (
            "UPDATE service_tickets SET current_status = 'closed'",
            "UPDATE service_tickets SET closed_at = NOW()",
            "REPLACE INTO service_tickets (customer_id, title, priority) VALUES (1, 'r', 'low')",
            "DELETE FROM service_tickets",
        ):
            assert _code(app, stmt) in (1142, 1143), stmt
        # the honest INSERT works, and what it creates is a new ticket in every respect
        with app.cursor() as cur:
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1,'ok','high')"
            )
            tid = cur.lastrowid
    finally:
        app.close()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT current_status, assigned_agent_id, closed_at, "
            "ABS(TIMESTAMPDIFF(SECOND, sla_started_at, NOW())), "
            "ABS(TIMESTAMPDIFF(SECOND, created_at, NOW())) FROM service_tickets WHERE id = %s",
            (tid,),
        )
        status, agent, closed, sla_age, age = cur.fetchone()
    assert (status, agent, closed) == ("pending", None, None)
    assert sla_age <= 5 and age <= 5
    assert scalar(conn, "SELECT COUNT(*) FROM service_tickets WHERE title = 'forged'") == 0


def test_reporter_cannot_update_status(accounts: dict[str, DSN]) -> None:
    rep = connect(accounts["ticketdb_reporter"])
    try:
        assert _code(rep, "UPDATE service_tickets SET current_status = 'closed'") == 1142
    finally:
        rep.close()


def test_workflow_procedures_still_work_for_the_app(accounts: dict[str, DSN], conn) -> None:
    """The procedures run as DEFINER: the app's narrow grants do not reach into them."""
    app = connect(accounts["ticketdb_app"])
    with app.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (3, 'w', 'low')"
        )
        tid = cur.lastrowid
    app.close()
    with Workflow.open(accounts["ticketdb_app"]) as wf:
        wf.assign(tid, 5)
        wf.reply(tid, 5, "hello")
        wf.resolve(tid, 5)
        wf.close(tid, 5)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT current_status, closed_at IS NOT NULL FROM service_tickets WHERE id=%s", (tid,)
        )
        assert cur.fetchone() == ("closed", 1)


def _ticket(conn) -> int:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 't', 'low')"
        )
        return cur.lastrowid


def _log(conn, tid: int, action: str, when: str, agent: int = 1) -> int | None:
    return _code(
        conn,
        "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time) "
        f"VALUES (%s, %s, %s, {when})",
        (tid, agent, action),
    )


def test_back_dated_or_future_live_actions_are_refused(conn) -> None:
    tid = _ticket(conn)
    assert _log(conn, tid, "close", "'1000-01-01 00:00:00'") == 1644  # before creation
    assert _log(conn, tid, "assign", "NOW() + INTERVAL 1 DAY") == 1644  # future
    assert _log(conn, tid, "assign", "NOW() + INTERVAL 30 SECOND") is None  # clock skew: ok
    assert _log(conn, tid, "reply", "NOW()") == 1644  # before the previous action
    with pytest.raises(pymysql.err.OperationalError, match="before the ticket's previous action"):
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time) "
                "VALUES (%s, 1, 'close', NOW())",
                (tid,),
            )
    assert _log(conn, tid, "close", "NOW() + INTERVAL 31 SECOND") is None
    with conn.cursor() as cur:
        cur.execute(
            "SELECT current_status, closed_at >= created_at FROM service_tickets WHERE id = %s",
            (tid,),
        )
        assert cur.fetchone() == ("closed", 1)
        cur.execute("SELECT COUNT(*) FROM ticket_logs WHERE ticket_id = %s", (tid,))
        assert cur.fetchone()[0] == 2


def test_bulk_load_path_keeps_its_own_rule(conn) -> None:
    """History loaded under the bulk switch may be old; a missing ticket is still refused."""
    tid = _ticket(conn)
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
    try:
        assert _log(conn, tid, "reply", "'2020-01-01 00:00:00'") is None
        assert _log(conn, 987654321, "reply", "NOW()") == 1644
    finally:
        with conn.cursor() as cur:
            cur.execute("SET @ticketdb_bulk_load = NULL")
