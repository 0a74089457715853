"""`ticketdb partitions ensure --retain-months N` from the CLI: which months it drops (with their
logs), what it keeps, the dry run, and that a second run does nothing."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ticketdb import catalog
from ticketdb import partitions as parts
from ticketdb.cli import cli


def ensure(dsn, *args: str):
    res = CliRunner().invoke(cli, ["partitions", "ensure", "--json", *args, "--dsn", dsn.url()])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def names(conn) -> list[str]:
    return [p.name for p in parts.list_partitions(conn, "ticket_logs")]


def month(conn, k: int) -> str:
    return parts.month_name(parts.month_start(catalog.server_today(conn), k))


def log_rows_by_month(conn) -> dict[str, int]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT DATE_FORMAT(action_time, 'p%Y%m'), COUNT(*) FROM ticket_logs GROUP BY 1"
        )
        return dict(cur.fetchall())


def test_retain_months_drops_older_months_and_their_logs(conn, migrated_dsn):
    ensure(migrated_dsn, "--months-ahead", "1", "--months-back", "5")
    assert names(conn) == [month(conn, k) for k in range(-5, 2)] + ["p_future"]
    today = catalog.server_today(conn)
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")  # history: skip the state machine
        for k in range(-5, 1):
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 't', 'low')"
            )
            cur.execute(
                "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time) "
                "VALUES (%s, 1, 'reply', %s)",
                (cur.lastrowid, f"{parts.month_start(today, k)} 12:00:00"),
            )
        cur.execute("SET @ticketdb_bulk_load = NULL")
    assert log_rows_by_month(conn) == {month(conn, k): 1 for k in range(-5, 1)}

    # retain 2: the current month and the two before it stay; -5, -4, -3 go
    dry = ensure(migrated_dsn, "--months-ahead", "1", "--retain-months", "2", "--dry-run")
    assert dry["dry_run"] is True
    assert dry["statements"] == [
        "ALTER TABLE `ticket_logs` DROP PARTITION "
        + ", ".join(f"`{month(conn, k)}`" for k in (-5, -4, -3))
    ]
    assert len(names(conn)) == 8 and len(log_rows_by_month(conn)) == 6  # nothing dropped yet

    done = ensure(migrated_dsn, "--months-ahead", "1", "--retain-months", "2")
    assert done["statements"] == dry["statements"]
    assert names(conn) == [month(conn, k) for k in range(-2, 2)] + ["p_future"]
    assert log_rows_by_month(conn) == {month(conn, k): 1 for k in range(-2, 1)}
    assert [p["name"] for p in done["status"]["partitions"]] == names(conn)

    again = ensure(migrated_dsn, "--months-ahead", "1", "--retain-months", "2")
    assert again["statements"] == []  # idempotent
    # a longer retention never brings anything back nor drops more
    assert ensure(migrated_dsn, "--months-ahead", "1", "--retain-months", "12")["statements"] == []
    assert names(conn) == [month(conn, k) for k in range(-2, 2)] + ["p_future"]


def test_text_output_of_a_retention_run(conn, migrated_dsn):
    ensure(migrated_dsn, "--months-ahead", "1", "--months-back", "3")
    args = ["partitions", "ensure", "--months-ahead", "1", "--retain-months", "1"]
    res = CliRunner().invoke(cli, [*args, "--dsn", migrated_dsn.url()])
    assert res.exit_code == 0, res.output
    dropped = ", ".join(f"`{month(conn, k)}`" for k in (-3, -2))
    assert f"ran: ALTER TABLE `ticket_logs` DROP PARTITION {dropped}" in res.stdout
    assert names(conn) == [month(conn, k) for k in range(-1, 2)] + ["p_future"]
