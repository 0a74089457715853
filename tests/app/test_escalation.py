"""escalate_stale_tickets(): rules as data, chunked, idempotent, index-driven, fresh SLA clock."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pymysql
import pytest

from ticketdb import PROJECT_ROOT
from ticketdb.db import connect, connection
from ticketdb.dsn import DSN


@pytest.fixture
def migrated_dsn(module_migrated_dsn: DSN) -> DSN:
    return module_migrated_dsn


@pytest.fixture
def conn(module_migrated_dsn: DSN) -> Iterator[pymysql.connections.Connection]:
    """Empty tickets/logs and default rules/settings (TRUNCATE fires no triggers)."""
    with connection(module_migrated_dsn) as c:
        with c.cursor() as cur:
            cur.execute("TRUNCATE TABLE ticket_logs")
            cur.execute("TRUNCATE TABLE service_tickets")
            cur.execute("DELETE FROM escalation_rules WHERE from_priority <> 'medium'")
            cur.execute(
                "UPDATE escalation_rules SET to_priority = 'high', unassigned_hours = 24, "
                "enabled = 1"
            )
            cur.execute(
                "UPDATE ticketdb_settings SET value = '1000' WHERE name = 'escalation_batch_size'"
            )
        yield c


def add_ticket(conn, priority: str, age_hours: float, status: str = "pending", agent=None) -> int:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, current_status, "
            "assigned_agent_id, created_at, sla_started_at) VALUES (1, 't', %s, %s, %s, "
            "NOW() - INTERVAL %s MINUTE, NOW() - INTERVAL %s MINUTE)",
            (priority, status, agent, int(age_hours * 60), int(age_hours * 60)),
        )
        return cur.lastrowid


def escalate(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("CALL escalate_stale_tickets(@n)")
        cur.execute("SELECT @n")
        return cur.fetchone()[0]


def rows(conn, sql: str, args=()) -> list[dict]:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def test_escalates_only_stale_pending_unassigned_medium(conn):
    stale = add_ticket(conn, "medium", 25)
    fresh = add_ticket(conn, "medium", 23)
    low = add_ticket(conn, "low", 100)
    assigned = add_ticket(conn, "medium", 30, status="processing", agent=4)
    odd = add_ticket(conn, "medium", 30, agent=5)  # pending but assigned (e.g. imported)
    assert escalate(conn) == 1
    prio = {r["id"]: r["priority"] for r in rows(conn, "SELECT id, priority FROM service_tickets")}
    assert prio == {stale: "high", fresh: "medium", low: "low", assigned: "medium", odd: "medium"}
    logs = rows(conn, "SELECT ticket_id, action_type, agent_id, new_priority FROM ticket_logs")
    assert logs == [
        {"ticket_id": stale, "action_type": "escalate", "agent_id": None, "new_priority": "high"}
    ]


def test_escalated_ticket_is_not_instantly_overdue(conn):
    tid = add_ticket(conn, "medium", 30)
    escalate(conn)
    (t,) = rows(
        conn,
        "SELECT priority, deadline, sla_started_at, created_at, NOW() AS now "
        "FROM service_tickets WHERE id = %s",
        (tid,),
    )
    assert t["priority"] == "high"
    assert t["deadline"] > t["now"]  # created_at + 24 h would be 6 h overdue
    assert abs((t["sla_started_at"] - t["now"]).total_seconds()) < 5
    # and it shows up in the timeout-warning window of the next 24 hours
    (w,) = rows(
        conn,
        "SELECT COUNT(*) AS n FROM service_tickets WHERE priority IN ('urgent','high','medium',"
        "'low') AND deadline BETWEEN NOW() AND NOW() + INTERVAL 24 HOUR AND id = %s",
        (tid,),
    )
    assert w["n"] == 1


def test_idempotent(conn):
    for _ in range(3):
        add_ticket(conn, "medium", 48)
    assert escalate(conn) == 3
    assert escalate(conn) == 0
    (n,) = rows(conn, "SELECT COUNT(*) AS n FROM ticket_logs WHERE action_type = 'escalate'")
    assert n["n"] == 3


def test_chunked_batches_cover_everything(conn):
    """Batch size 2 over 7 stale tickets: several transactions, every ticket exactly once."""
    with conn.cursor() as cur:
        cur.execute("UPDATE ticketdb_settings SET value = '2' WHERE name = 'escalation_batch_size'")
    ids = [add_ticket(conn, "medium", 25 + i) for i in range(7)]
    # same created_at on a batch boundary must not be skipped nor escalated twice
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE service_tickets SET created_at = NOW() - INTERVAL 40 HOUR "
            "WHERE id IN (%s, %s, %s)",
            ids[:3],
        )
    assert escalate(conn) == 7
    got = rows(conn, "SELECT ticket_id, COUNT(*) AS n FROM ticket_logs GROUP BY ticket_id")
    assert {r["ticket_id"]: r["n"] for r in got} == {i: 1 for i in ids}


def test_rules_are_data(conn):
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE escalation_rules SET unassigned_hours = 2 WHERE from_priority = 'medium'"
        )
        cur.execute(
            "INSERT INTO escalation_rules (from_priority, to_priority, unassigned_hours) "
            "VALUES ('low', 'medium', 48)"
        )
    m = add_ticket(conn, "medium", 3)
    low = add_ticket(conn, "low", 50)
    assert escalate(conn) == 2
    prio = dict(rows_tuple(conn, "SELECT id, priority FROM service_tickets"))
    assert prio == {m: "high", low: "medium"}  # rule order: medium->high ran before low->medium
    with conn.cursor() as cur:
        cur.execute("UPDATE escalation_rules SET enabled = 0")
    add_ticket(conn, "medium", 100)
    assert escalate(conn) == 0
    with conn.cursor() as cur, pytest.raises(pymysql.err.OperationalError):
        # a "rule" that lowers priority is refused by the table's CHECK
        cur.execute(
            "INSERT INTO escalation_rules (from_priority, to_priority, unassigned_hours) "
            "VALUES ('urgent', 'low', 1)"
        )


def rows_tuple(conn, sql: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def scan_select() -> str:
    """The batch SELECT exactly as the procedure runs it, variables replaced by values."""
    text = (PROJECT_ROOT / "procedures" / "escalate_stale_tickets.sql").read_text()
    body = re.search(r"-- scan:start[^\n]*\n(.*?)-- scan:end", text, re.S).group(1)
    for var, value in {
        "v_from_created": "'1000-01-01 00:00:00'",
        "v_cutoff": "NOW() - INTERVAL 24 HOUR",
        "v_from": "'medium'",
        "v_batch": "1000",
    }.items():
        body = re.sub(rf"\b{var}\b", value, body)
    return body


def test_scan_uses_status_priority_created_index(conn):
    for i in range(30):
        add_ticket(conn, ["urgent", "high", "medium", "low"][i % 4], i, "pending")
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("ANALYZE TABLE service_tickets")
        cur.fetchall()
        cur.execute("EXPLAIN " + scan_select())
        (plan,) = cur.fetchall()
    assert plan["key"] == "idx_status_priority_created"
    assert plan["type"] == "range"
    assert "filesort" not in (plan["Extra"] or "")


def test_locked_chunk_is_retried_not_skipped(conn, migrated_dsn):
    """A ticket locked by a long transaction: the chunk times out (1205), is retried, succeeds."""
    ids = [add_ticket(conn, "medium", 30) for _ in range(3)]
    holder = connect(migrated_dsn, autocommit=False)
    with holder.cursor() as cur:
        cur.execute("SELECT id FROM service_tickets WHERE id = %s FOR UPDATE", (ids[1],))
    with conn.cursor() as cur:
        cur.execute("SET SESSION innodb_lock_wait_timeout = 1")
    release = threading.Timer(1.5, holder.commit)
    release.start()
    started = time.monotonic()
    try:
        assert escalate(conn) == 3
    finally:
        release.join(30)
        holder.close()
    assert not release.is_alive()
    assert time.monotonic() - started >= 1.0  # it did wait and retry
    got = rows(conn, "SELECT ticket_id, COUNT(*) AS n FROM ticket_logs GROUP BY ticket_id")
    assert {r["ticket_id"]: r["n"] for r in got} == {i: 1 for i in ids}


def test_conflict_backoff_counts_sleeps_and_gives_up_at_the_fifth_attempt(conn) -> None:
    """The retry step the chunked maintenance procedures share (procedures/conflict_backoff.sql)."""
    with conn.cursor() as cur:
        cur.execute("SET @attempt = 0")
        started = time.monotonic()
        cur.execute("CALL conflict_backoff('x: still conflicting', @attempt)")
        assert time.monotonic() - started >= 0.04  # backed off (0.05 s at the first attempt)
        cur.execute("SELECT @attempt")
        assert cur.fetchone()[0] == 1
        cur.execute("SET @attempt = 4")
        with pytest.raises(pymysql.err.OperationalError) as err:
            cur.execute("CALL conflict_backoff('x: still conflicting', @attempt)")
    assert err.value.args == (1213, "x: still conflicting")
