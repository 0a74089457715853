"""ticket_logs triggers: state machine, integrity without a FOREIGN KEY, bulk-load switch."""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pytest

from ticketdb.db import connection
from ticketdb.dsn import DSN

# (action, from_status) -> to_status for every allowed transition; everything else is rejected.
ALLOWED = {
    ("assign", "pending"): "processing",
    ("assign", "processing"): "processing",
    ("reply", "pending"): "pending",
    ("reply", "processing"): "processing",
    ("transfer", "processing"): "processing",
    ("resolve", "processing"): "resolved",
    ("reopen", "resolved"): "processing",
    ("close", "pending"): "closed",
    ("close", "processing"): "closed",
    ("close", "resolved"): "closed",
    ("escalate", "pending"): "pending",
    ("escalate", "processing"): "processing",
}
ACTIONS = ["assign", "reply", "transfer", "resolve", "reopen", "close", "escalate"]
STATUSES = ["pending", "processing", "resolved", "closed"]
AGENT = 7


@pytest.fixture(scope="module")
def conn(module_migrated_dsn: DSN) -> Iterator[pymysql.connections.Connection]:
    with connection(module_migrated_dsn) as c:
        yield c


def new_ticket(conn, status: str = "pending", priority: str = "medium", agent=None) -> int:
    """A ticket in ``status``, written with the bulk switch on so no log is needed to get there."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, current_status, "
            "assigned_agent_id, sla_started_at, created_at) "
            "VALUES (1, 't', %s, %s, %s, NOW() - INTERVAL 1 HOUR, NOW() - INTERVAL 1 HOUR)",
            (
                priority,
                status,
                agent if agent is not None else (AGENT if status != "pending" else None),
            ),
        )
        return cur.lastrowid


def ticket(conn, tid: int) -> dict:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SELECT * FROM service_tickets WHERE id = %s", (tid,))
        return cur.fetchone()


def log(conn, tid: int, action: str, agent=AGENT, to_agent=None, new_priority=None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, to_agent_id, new_priority) "
            "VALUES (%s, %s, %s, %s, %s)",
            (tid, agent, action, to_agent, new_priority),
        )


def args_for(action: str) -> dict:
    if action == "transfer":
        return {"to_agent": 8}
    if action == "escalate":
        return {"new_priority": "high", "agent": None}
    return {}


def log_count(conn, tid: int) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM ticket_logs WHERE ticket_id = %s", (tid,))
        return cur.fetchone()[0]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_transition_allowed_or_rejected(conn, action):
    """The full action x status matrix: allowed ones move the ticket, the rest SIGNAL 45000."""
    for status in STATUSES:
        tid = new_ticket(conn, status)
        expected = ALLOWED.get((action, status))
        if expected is None:
            with pytest.raises(pymysql.err.OperationalError) as exc:
                log(conn, tid, action, **args_for(action))
            code, msg = exc.value.args
            assert code == 1644, msg  # ER_SIGNAL_EXCEPTION, SQLSTATE 45000
            assert msg == f"ticket {tid}: {action} rejected: ticket is {status}"
            assert log_count(conn, tid) == 0
            assert ticket(conn, tid)["current_status"] == status
        else:
            log(conn, tid, action, **args_for(action))
            assert ticket(conn, tid)["current_status"] == expected, (action, status)
            assert log_count(conn, tid) == 1


def test_assign_sets_agent_and_close_sets_closed_at(conn):
    tid = new_ticket(conn)
    log(conn, tid, "assign", agent=42)
    t = ticket(conn, tid)
    assert (t["current_status"], t["assigned_agent_id"], t["closed_at"]) == ("processing", 42, None)
    with conn.cursor() as cur:
        cur.execute("SELECT NOW() + INTERVAL 7 SECOND")
        when = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time) "
            "VALUES (%s, 42, 'close', %s)",
            (tid, when),
        )
    t = ticket(conn, tid)
    assert t["current_status"] == "closed"
    assert t["closed_at"] == when  # the log's own time, not the insert's


def test_assign_on_closed_ticket_names_ticket_and_transition(conn):
    tid = new_ticket(conn, "closed")
    with pytest.raises(pymysql.err.OperationalError, match=rf"ticket {tid}: assign rejected"):
        log(conn, tid, "assign")


def test_transfer_moves_agent_and_restarts_sla_on_priority_change(conn):
    tid = new_ticket(conn, "processing", "medium", agent=7)
    before = ticket(conn, tid)
    log(conn, tid, "transfer", agent=7, to_agent=9)  # same priority: clock keeps running
    t = ticket(conn, tid)
    assert (t["assigned_agent_id"], t["priority"]) == (9, "medium")
    assert t["sla_started_at"] == before["sla_started_at"]
    log(conn, tid, "transfer", agent=9, to_agent=11, new_priority="high")
    t = ticket(conn, tid)
    assert (t["assigned_agent_id"], t["priority"]) == (11, "high")
    assert t["sla_started_at"] > before["sla_started_at"]


def test_transfer_from_wrong_agent_or_without_target_is_rejected(conn):
    tid = new_ticket(conn, "processing", agent=7)
    with pytest.raises(pymysql.err.OperationalError, match="assigned to agent 7, not 8"):
        log(conn, tid, "transfer", agent=8, to_agent=9)
    with pytest.raises(pymysql.err.OperationalError, match="no target agent"):
        log(conn, tid, "transfer", agent=7)
    assert ticket(conn, tid)["assigned_agent_id"] == 7
    assert log_count(conn, tid) == 0


def test_assign_without_agent_is_rejected(conn):
    tid = new_ticket(conn)
    with pytest.raises(pymysql.err.OperationalError, match="no agent given"):
        log(conn, tid, "assign", agent=None)


def test_orphan_log_is_rejected(conn):
    with pytest.raises(pymysql.err.OperationalError) as exc:
        log(conn, 999_999, "reply")
    assert exc.value.args == (1644, "ticket 999999: reply rejected: ticket does not exist")
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
        try:
            with pytest.raises(pymysql.err.OperationalError, match="does not exist"):
                log(conn, 999_999, "close")
        finally:
            cur.execute("SET @ticketdb_bulk_load = NULL")
        cur.execute("SELECT COUNT(*) FROM ticket_logs WHERE ticket_id = 999999")
        assert cur.fetchone()[0] == 0


def test_ticket_with_logs_cannot_be_deleted(conn):
    tid = new_ticket(conn)
    log(conn, tid, "reply")
    with conn.cursor() as cur:
        with pytest.raises(pymysql.err.OperationalError) as exc:
            cur.execute("DELETE FROM service_tickets WHERE id = %s", (tid,))
        assert exc.value.args == (1644, f"ticket {tid}: delete rejected: ticket has logs")
        assert ticket(conn, tid) is not None
        bare = new_ticket(conn)  # no logs: deleting it is fine
        cur.execute("DELETE FROM service_tickets WHERE id = %s", (bare,))
        assert cur.rowcount == 1


def test_bulk_load_switch_keeps_final_states(conn):
    """Historical logs loaded under the switch neither validate transitions nor move tickets."""
    tid = new_ticket(conn, "resolved", "low", agent=3)
    before = ticket(conn, tid)
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
        try:
            cur.execute(
                "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time) VALUES "
                "(%s, 3, 'assign', '2025-01-01 10:00'), (%s, 3, 'reply', '2025-01-01 11:00'), "
                "(%s, 3, 'resolve', '2025-01-01 12:00'), (%s, 3, 'assign', '2025-01-01 13:00')",
                (tid, tid, tid, tid),
            )
        finally:
            cur.execute("SET @ticketdb_bulk_load = NULL")
    after = ticket(conn, tid)
    assert after.pop("log_seq") == 4 and before.pop("log_seq") == 0  # only the log count moved
    assert after == before
    assert log_count(conn, tid) == 4
    # switch off again: the same kind of log is validated and moves the ticket
    with pytest.raises(pymysql.err.OperationalError, match="assign rejected: ticket is resolved"):
        log(conn, tid, "assign")


def test_bulk_switch_is_per_session(conn, module_migrated_dsn):
    """A user variable dies with its session: a new connection never inherits the switch."""
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
    try:
        with connection(module_migrated_dsn) as other:
            tid = new_ticket(other)
            log(other, tid, "assign")
            assert ticket(other, tid)["current_status"] == "processing"
    finally:
        with conn.cursor() as cur:
            cur.execute("SET @ticketdb_bulk_load = NULL")


def test_logs_are_numbered_per_ticket_in_history_order(conn):
    """ticket_seq = 1, 2, 3… per ticket, whatever the ids and action_time (equal within a
    second, interleaved across Galera nodes); the audit trail orders by it."""
    a, b = new_ticket(conn), new_ticket(conn)
    for tid, action in ((a, "assign"), (b, "assign"), (a, "reply"), (b, "reply"), (a, "resolve")):
        log(conn, tid, action)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT ticket_id, ticket_seq, action_type FROM ticket_logs WHERE ticket_id IN "
            "(%s, %s) ORDER BY ticket_id, ticket_seq",
            (a, b),
        )
        got = [tuple(r) for r in cur.fetchall()]
    assert got == [(a, 1, "assign"), (a, 2, "reply"), (a, 3, "resolve"),
                   (b, 1, "assign"), (b, 2, "reply")]  # fmt: skip
    assert ticket(conn, a)["log_seq"] == 3 and ticket(conn, b)["log_seq"] == 2


def _documented_bulk_example() -> list[str]:
    """The statements of docs/workflow.md's bulk INSERT … SELECT example (one copy: the doc)."""
    from ticketdb import PROJECT_ROOT
    from ticketdb.sqlscript import split

    doc = (PROJECT_ROOT / "docs" / "workflow.md").read_text(encoding="utf-8")
    block = doc.split("<!-- bulk-example:start -->")[1].split("<!-- bulk-example:end -->")[0]
    sql = block.split("```sql")[1].split("```")[0]
    return [s.text for s in split(sql)]


def test_documented_bulk_insert_select_runs(conn):
    """The direct form fails with 1442 even in bulk mode (0041 stores log_seq on the ticket);
    the staged form the docs show works and keeps the tickets' states."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, created_at) "
            "VALUES (42, 'a', 'low', NOW() - INTERVAL 1 HOUR), "
            "(42, 'b', 'low', NOW() - INTERVAL 1 HOUR)"
        )
        cur.execute("SELECT id FROM service_tickets WHERE customer_id = 42 ORDER BY id")
        ids = [r[0] for r in cur.fetchall()]
        cur.execute("SET @ticketdb_bulk_load = 1")
        try:
            with pytest.raises(pymysql.err.OperationalError) as exc:
                cur.execute(
                    "INSERT INTO ticket_logs (ticket_id, action_type, action_time) "
                    "SELECT id, 'reply', created_at FROM service_tickets WHERE customer_id = 42"
                )
            assert exc.value.args[0] == 1442
        finally:
            cur.execute("SET @ticketdb_bulk_load = NULL")
        for statement in _documented_bulk_example():
            cur.execute(statement)
        cur.execute("SELECT @ticketdb_bulk_load")
        assert cur.fetchone() == (None,)
    for tid in ids:
        row = ticket(conn, tid)
        assert (row["current_status"], row["log_seq"]) == ("pending", 1)
        assert log_count(conn, tid) == 1
