"""Monthly ticket_logs partitions: SQL maintenance procedure, Python/CLI maintenance, pruning."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner

from ticketdb import partitions as parts
from ticketdb.cli import cli
from ticketdb.db import connect, flavor


def names(conn) -> list[str]:
    return [p.name for p in parts.list_partitions(conn, "ticket_logs")]


def today(conn) -> date:
    with conn.cursor() as cur:
        cur.execute("SELECT CURRENT_DATE()")
        return cur.fetchone()[0]


def months(conn, first: int, last: int) -> list[str]:
    t = today(conn)
    return [parts.month_name(parts.month_start(t, k)) for k in range(first, last + 1)]


def call_maintain(conn, ahead, retain=None) -> int:
    with conn.cursor() as cur:
        cur.execute("CALL maintain_log_partitions(%s, %s, @n)", (ahead, retain))
        cur.execute("SELECT @n")
        return cur.fetchone()[0]


def test_procedure_adds_months_ahead_and_is_idempotent(conn):
    assert names(conn) == months(conn, -1, 1) + ["p_future"]  # what migration 0003 made
    planned = parts.maintain(conn, "ticket_logs", months_ahead=4, dry_run=True)
    assert len(planned) == 1  # Python: one REORGANIZE of p_future into 3 months + p_future
    assert call_maintain(conn, 4) == 3
    assert names(conn) == months(conn, -1, 4) + ["p_future"]
    # same names and bounds the Python side would produce: it now has nothing left to do
    assert parts.maintain(conn, "ticket_logs", months_ahead=4, months_back=1, dry_run=True) == []
    bounds = {p.name: p.upper for p in parts.list_partitions(conn, "ticket_logs")}
    for k in range(-1, 5):
        first = parts.month_start(today(conn), k)
        assert bounds[parts.month_name(first)] == parts.month_start(first, 1)
    assert call_maintain(conn, 4) == 0
    assert names(conn) == months(conn, -1, 4) + ["p_future"]


def test_procedure_reads_months_ahead_from_settings(conn):
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE ticketdb_settings SET value = '2' WHERE name = 'log_partitions_months_ahead'"
        )
    assert call_maintain(conn, None) == 1
    assert names(conn)[-2] == months(conn, 2, 2)[0]


def _log_at(conn, when: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1,'t','low')"
        )
        tid = cur.lastrowid
        cur.execute("SET @ticketdb_bulk_load = 1")
        cur.execute(
            "INSERT INTO ticket_logs (ticket_id, agent_id, action_type, action_time) "
            "VALUES (%s, 1, 'reply', %s)",
            (tid, when),
        )
        cur.execute("SET @ticketdb_bulk_load = NULL")


def test_retention_drops_old_months_only(conn):
    parts.maintain(conn, "ticket_logs", months_ahead=1, months_back=5)
    t = today(conn)
    for k in range(-5, 1):
        _log_at(conn, f"{parts.month_start(t, k)} 12:00:00")
    assert call_maintain(conn, 1, 3) == 1  # one DROP PARTITION statement
    assert names(conn) == months(conn, -3, 1) + ["p_future"]
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*), MIN(action_time) FROM ticket_logs")
        n, oldest = cur.fetchone()
    assert n == 4
    assert oldest.date() == parts.month_start(t, -3)
    assert parts.retire_before(conn, "ticket_logs", 3, dry_run=True) == []  # Python agrees
    assert call_maintain(conn, 1, 3) == 0


def test_procedure_waits_for_the_python_maintenance_lock(conn, migrated_dsn):
    """The event's procedure and `partitions ensure` share one lease: no collision."""
    other = connect(migrated_dsn)
    result: list[int] = []
    with parts.maintenance_lock(conn, "ticket_logs"):
        worker = threading.Thread(target=lambda: result.append(call_maintain(other, 3)))
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive() and result == []
        assert names(conn) == months(conn, -1, 1) + ["p_future"]  # nothing touched meanwhile
    worker.join(30)
    assert not worker.is_alive()
    other.close()
    assert result == [2]
    assert names(conn) == months(conn, -1, 3) + ["p_future"]


def _midnight(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time())


def test_one_month_query_touches_one_partition(conn):
    """Closed upper bound (last second of the month): pruning keeps exactly one partition.

    (The half-open form ``< first day of next month`` also scans the first partition: the
    optimizer cannot exclude NULL from TO_DAYS() on that bound. docs/workflow.md says so.)
    """
    t = today(conn)
    for k in (-1, 0, 1):
        _log_at(conn, f"{parts.month_start(t, k)} 08:00:00")
        _log_at(conn, f"{_midnight(parts.month_start(t, k + 1)) - timedelta(seconds=1)}")
    first = parts.month_start(t)
    last = _midnight(parts.month_start(t, 1)) - timedelta(seconds=1)
    query = (
        "SELECT COUNT(*) FROM ticket_logs "
        f"WHERE action_time BETWEEN '{first} 00:00:00' AND '{last}'"
    )
    explain = "EXPLAIN PARTITIONS " if flavor(conn).is_mariadb else "EXPLAIN "
    with conn.cursor() as cur:
        cur.execute(explain + query)
        cols = [d[0] for d in cur.description]
        (row,) = cur.fetchall()
        assert dict(zip(cols, row, strict=True))["partitions"] == parts.month_name(first)
        cur.execute(query)
        assert cur.fetchone()[0] == 2  # 08:00 on the 1st and 23:59:59 on the last day


def test_cli_status_and_ensure(migrated_dsn, conn):
    runner = CliRunner()
    dsn = ["--dsn", migrated_dsn.url()]
    res = runner.invoke(cli, ["partitions", "status", "--json", *dsn])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert [p["name"] for p in st["partitions"]] == months(conn, -1, 1) + ["p_future"]
    assert st["months_ahead"] == 1 and st["current_month_covered"] is True

    res = runner.invoke(
        cli, ["partitions", "ensure", "--months-ahead", "3", "--dry-run", "--json", *dsn]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["dry_run"] is True and len(out["statements"]) == 1
    assert names(conn) == months(conn, -1, 1) + ["p_future"]  # dry run changed nothing

    args = ["partitions", "ensure", "--months-ahead", "3", "--months-back", "2", "--json", *dsn]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"]["months_ahead"] == 3
    assert names(conn) == months(conn, -2, 3) + ["p_future"]
    res = runner.invoke(cli, args)  # idempotent
    assert json.loads(res.output)["statements"] == []

    res = runner.invoke(cli, ["partitions", "status", *dsn])
    assert res.exit_code == 0 and "months ahead: 3" in res.output


@pytest.mark.parametrize(
    "extra", [["--retain-months", "1", "--months-back", "2"], ["--retain-months", "0"]]
)
def test_cli_rejects_retention_that_contradicts_months_back(migrated_dsn, extra):
    res = CliRunner().invoke(
        cli,
        ["partitions", "ensure", "--months-ahead", "1", *extra, "--dsn", migrated_dsn.url()],
    )
    assert res.exit_code == 2, res.output
