"""Scheduled jobs: the events exist with their schedules and actually fire (schedule shortened)."""

from __future__ import annotations

import threading
import time

from waiting import eventually

from ticketdb import partitions as parts
from ticketdb.db import connect, scalar

EVENTS = {
    "escalate_stale_tickets_hourly": ("1", "HOUR"),
    "maintain_log_partitions_daily": ("1", "DAY"),
    "rebuild_daily_urgent_tickets_nightly": ("1", "DAY"),
}


def every_second(conn, event: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f"ALTER EVENT {event} ON SCHEDULE EVERY 1 SECOND STARTS CURRENT_TIMESTAMP")


def disable(conn, event: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f"ALTER EVENT {event} DISABLE")


def test_events_are_defined_with_their_schedules(conn, event_scheduler):
    assert scalar(conn, "SELECT @@event_scheduler") in ("ON", 1, "1")
    with conn.cursor() as cur:
        cur.execute(
            "SELECT event_name, interval_value, interval_field, status, on_completion "
            "FROM information_schema.events WHERE event_schema = DATABASE()"
        )
        got = {r[0]: (str(r[1]), r[2], r[3], r[4]) for r in cur.fetchall()}
    for name, (value, field) in EVENTS.items():
        assert got[name] == (value, field, "ENABLED", "PRESERVE")
        body = scalar(
            conn,
            "SELECT event_definition FROM information_schema.events "
            "WHERE event_schema = DATABASE() AND event_name = %s",
            (name,),
        )
        proc = body.split("CALL", 1)[1].split("(", 1)[0].strip()
        n = scalar(
            conn,
            "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = DATABASE() "
            "AND routine_type = 'PROCEDURE' AND routine_name = %s",
            (proc,),
        )
        assert n == 1, f"{name} calls {proc}, which does not exist"


def test_escalation_event_fires(conn, event_scheduler):
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, created_at, sla_started_at)"
            " VALUES (1, 't', 'medium', NOW() - INTERVAL 2 DAY, NOW() - INTERVAL 2 DAY)"
        )
        tid = cur.lastrowid
    every_second(conn, "escalate_stale_tickets_hourly")
    try:
        fired = eventually(
            lambda: (
                scalar(conn, "SELECT priority FROM service_tickets WHERE id=%s", (tid,)) == "high"
            ),
            15,
        )
    finally:
        disable(conn, "escalate_stale_tickets_hourly")
    assert fired, "the escalation event did not escalate the stale ticket within 15 s"
    # it ran many times by now: still exactly one escalation (idempotent)
    assert scalar(conn, "SELECT COUNT(*) FROM ticket_logs WHERE ticket_id=%s", (tid,)) == 1


def test_partition_event_adds_next_months_and_is_idempotent(conn, event_scheduler):
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE ticketdb_settings SET value = '3' WHERE name = 'log_partitions_months_ahead'"
        )
        cur.execute("SELECT CURRENT_DATE()")
        today = cur.fetchone()[0]
    want = parts.month_name(parts.month_start(today, 3))
    every_second(conn, "maintain_log_partitions_daily")
    try:
        fired = eventually(
            lambda: want in [p.name for p in parts.list_partitions(conn, "ticket_logs")], 15
        )
        time.sleep(2.5)  # let it run a few more times
    finally:
        disable(conn, "maintain_log_partitions_daily")
    assert fired, f"partition {want} was not created by the event"
    names = [p.name for p in parts.list_partitions(conn, "ticket_logs")]
    expected = [parts.month_name(parts.month_start(today, k)) for k in range(-1, 4)]
    assert names == expected + ["p_future"]


def open_ticket(conn, priority: str, sla_hours_ago: float, status: str = "pending") -> int:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, current_status, "
            "sla_started_at) VALUES (1, 't', %s, %s, NOW() - INTERVAL %s MINUTE)",
            (priority, status, int(sla_hours_ago * 60)),
        )
        return cur.lastrowid


def rebuild(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("CALL rebuild_daily_urgent_tickets(@n)")
        cur.execute("SELECT @n")
        return cur.fetchone()[0]


def urgent(conn) -> dict[int, int]:
    with conn.cursor() as cur:
        cur.execute("SELECT ticket_id, overdue FROM daily_urgent_tickets")
        return dict(cur.fetchall())


def test_rebuild_daily_urgent_tickets(conn):
    u = open_ticket(conn, "urgent", 0)  # urgent: listed whatever its deadline
    due = open_ticket(conn, "high", 10)  # deadline in 14 h: within the 24 h horizon
    late = open_ticket(conn, "medium", 80, "processing")  # overdue by 8 h
    open_ticket(conn, "low", 1)  # deadline in 71 h: not listed
    open_ticket(conn, "urgent", 5, "resolved")  # not open: not listed
    assert rebuild(conn) == 3
    assert urgent(conn) == {u: 0, due: 0, late: 1}
    with conn.cursor() as cur:
        cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s", (late,))
    assert rebuild(conn) == 2
    assert urgent(conn) == {u: 0, due: 0}
    leftovers = scalar(
        conn,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_name IN ('daily_urgent_tickets_shadow', 'daily_urgent_tickets_old')",
    )
    assert leftovers == 0


def test_readers_never_see_a_half_built_urgent_list(conn, migrated_dsn):
    """While rebuilds run in a loop, every read sees the complete list (all N rows, never 0)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 't', 'urgent')",
            [()] * 300,
        )
    assert rebuild(conn) == 300
    stop = threading.Event()
    counts: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        r = connect(migrated_dsn)
        try:
            while not stop.is_set():
                counts.append(scalar(r, "SELECT COUNT(*) FROM daily_urgent_tickets"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            r.close()

    t = threading.Thread(target=reader)
    t.start()
    try:
        rounds = 0
        while rounds < 5 or (len(counts) < 50 and rounds < 500):
            assert rebuild(conn) == 300
            rounds += 1
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
    assert errors == []
    assert counts and set(counts) == {300}


def test_urgent_rebuild_event_fires(conn, event_scheduler):
    open_ticket(conn, "urgent", 0)
    every_second(conn, "rebuild_daily_urgent_tickets_nightly")
    try:
        fired = eventually(
            lambda: scalar(conn, "SELECT COUNT(*) FROM daily_urgent_tickets") == 1, 15
        )
    finally:
        disable(conn, "rebuild_daily_urgent_tickets_nightly")
    assert fired


def test_urgent_rebuild_is_serialized(conn, migrated_dsn):
    """A second rebuild waits for the cluster-wide lease held by another session."""
    holder = connect(migrated_dsn)
    with holder.cursor() as cur:
        cur.execute("CALL lease_acquire(CONCAT('urgent.', DATABASE()), 60, 0, @won)")
    assert scalar(holder, "SELECT @won") == 1
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(rebuild(conn)))
    worker.start()
    time.sleep(1.0)
    assert worker.is_alive()
    with holder.cursor() as cur:
        cur.execute("CALL lease_release(CONCAT('urgent.', DATABASE()))")
    worker.join(30)
    holder.close()
    assert not worker.is_alive()
    assert result == [0]
