"""`ticketdb alerts enqueue|status` (and `run --once` to stdout) on a migrated database, and the
event `alert_enqueue_event`: its schedule, that it queues alerts, and its 30-day purge."""

from __future__ import annotations

import json

from click.testing import CliRunner
from waiting import eventually

from ticketdb.cli import cli
from ticketdb.db import scalar


def alerts(dsn, *args: str):
    return CliRunner().invoke(cli, ["alerts", *args, "--dsn", dsn.url()])


def due_tickets(conn, n: int) -> list[int]:
    """n urgent tickets due in ~20 minutes (inside the default 60-minute window)."""
    ids = []
    with conn.cursor() as cur:
        for i in range(n):
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
                "VALUES (7, %s, 'urgent', NOW() - INTERVAL 100 MINUTE)",
                (f"due {i}",),
            )
            ids.append(cur.lastrowid)
    return ids


def status_json(dsn) -> dict[str, int]:
    res = alerts(dsn, "status", "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_status_and_enqueue_from_the_cli(conn, migrated_dsn):
    zero = {"pending": 0, "sent": 0, "cleared": 0, "failed": 0, "leased": 0}
    assert status_json(migrated_dsn) == zero
    a, b, c = due_tickets(conn, 3)
    with conn.cursor() as cur:  # due in 3 hours: outside 60 minutes, inside 240
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
            "VALUES (8, 'later', 'high', NOW() - INTERVAL 21 HOUR)"
        )
        later = cur.lastrowid

    res = alerts(migrated_dsn, "enqueue")
    assert res.exit_code == 0, res.output
    assert res.stderr.strip() == "3 alert(s) pending"
    assert status_json(migrated_dsn) == {**zero, "pending": 3}
    res = alerts(migrated_dsn, "enqueue")  # idempotent
    assert res.stderr.strip() == "3 alert(s) pending"
    res = alerts(migrated_dsn, "enqueue", "--window", "240")
    assert res.exit_code == 0 and res.stderr.strip() == "4 alert(s) pending"

    with conn.cursor() as cur:  # handled, and one claimed by a worker right now
        cur.execute("UPDATE service_tickets SET current_status = 'resolved' WHERE id = %s", (a,))
        cur.execute(
            "UPDATE alert_outbox SET lease_owner = 'w', lease_until = NOW(6) + INTERVAL 1 MINUTE "
            "WHERE ticket_id = %s",
            (b,),
        )
    assert status_json(migrated_dsn) == {**zero, "pending": 3, "cleared": 1, "leased": 1}
    text = alerts(migrated_dsn, "status")
    assert text.exit_code == 0
    assert text.stdout.splitlines() == [
        "pending  3", "sent     0", "cleared  1", "failed   0", "leased   1",
    ]  # fmt: skip

    with conn.cursor() as cur:
        cur.execute("UPDATE alert_outbox SET lease_owner = NULL, lease_until = NULL")
    res = alerts(migrated_dsn, "run", "--once")
    assert res.exit_code == 0, res.output
    delivered = [json.loads(line) for line in res.stdout.splitlines()]
    assert sorted(d["ticket_id"] for d in delivered) == sorted([b, c, later])  # not a: cleared
    assert status_json(migrated_dsn) == {**zero, "sent": 3, "cleared": 1}


def test_enqueue_rejects_a_bad_window(migrated_dsn):
    for bad in ("0", "10081", "soon"):
        res = alerts(migrated_dsn, "enqueue", "--window", bad)
        assert res.exit_code == 2, res.output


# -- the event ------------------------------------------------------------------------------------


def test_event_is_scheduled_every_minute(conn, event_scheduler):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT interval_value, interval_field, status, ends, event_definition "
            "FROM information_schema.events WHERE event_schema = DATABASE() "
            "AND event_name = 'alert_enqueue_event'"
        )
        value, field, status, ends, body = cur.fetchone()
    assert (str(value), field, status, ends) == ("1", "MINUTE", "ENABLED", None)
    assert "CALL alert_enqueue(60)" in body


def test_event_queues_alerts_and_purges_old_delivered_ones(conn, event_scheduler):
    """Fired every second for the test: due tickets get queued; sent/cleared alerts older than
    30 days are deleted, everything else (recent, pending, failed) is kept."""
    with conn.cursor() as cur:
        cur.execute("ALTER EVENT alert_enqueue_event DISABLE")
        rows = {  # ticket_id: (status, age in days)
            9001: ("sent", 31), 9002: ("cleared", 45), 9003: ("sent", 29),
            9004: ("pending", 60), 9005: ("failed", 60), 9006: ("cleared", 1),
        }  # fmt: skip
        for tid, (status, age) in rows.items():
            cur.execute(
                "INSERT INTO alert_outbox (ticket_id, deadline, customer_id, priority, status, "
                "created_at) VALUES (%s, NOW() - INTERVAL %s DAY, 1, 'low', %s, "
                "NOW() - INTERVAL %s DAY)",
                (tid, age, status, age),
            )
    due = due_tickets(conn, 2)
    with conn.cursor() as cur:
        cur.execute(
            "ALTER EVENT alert_enqueue_event ON SCHEDULE EVERY 1 SECOND "
            "STARTS CURRENT_TIMESTAMP ENABLE"
        )

    def queued() -> bool:
        return scalar(conn, "SELECT COUNT(*) FROM alert_outbox WHERE ticket_id IN (%s, %s) "
                      "AND status = 'pending'", tuple(due)) == 2  # fmt: skip

    def purged() -> bool:
        sql = "SELECT COUNT(*) FROM alert_outbox WHERE ticket_id IN (9001, 9002)"
        return scalar(conn, sql) == 0

    assert eventually(queued, 20), "the event never queued the due tickets"
    assert eventually(purged, 20), "the event never purged the old sent/cleared alerts"
    with conn.cursor() as cur:
        cur.execute("ALTER EVENT alert_enqueue_event DISABLE")
        cur.execute("SELECT ticket_id, status FROM alert_outbox WHERE ticket_id >= 9000")
        kept = dict(cur.fetchall())
    assert kept == {9003: "sent", 9004: "pending", 9005: "failed", 9006: "cleared"}
