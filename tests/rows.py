"""Rows the tests need on a real server, written one way (shared by every test folder)."""

from __future__ import annotations

from ticketdb.db import connect
from ticketdb.dsn import DSN


def open_tickets(
    dsn: DSN, n: int, title: str = "t", *, priority: str = "medium", age_minutes: int = 60
) -> list[int]:
    """``n`` pending tickets of customer 1 whose SLA started ``age_minutes`` ago; their ids."""
    conn = connect(dsn)
    ids = []
    try:
        with conn.cursor() as cur:
            for _ in range(n):
                cur.execute(
                    "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
                    "VALUES (1, %s, %s, NOW() - INTERVAL %s MINUTE)",
                    (title, priority, age_minutes),
                )
                ids.append(cur.lastrowid)
    finally:
        conn.close()
    return ids
