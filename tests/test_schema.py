"""The schema as the server sees it: information_schema, generated deadlines, strict ENUMs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pymysql
import pytest

from ticketdb.dsn import DSN


def _rows(conn, sql: str, *args: object) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def test_deadline_is_a_virtual_generated_column(conn) -> None:
    ((extra, expr, dtype),) = _rows(
        conn,
        "SELECT extra, generation_expression, data_type FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name = 'service_tickets' "
        "AND column_name = 'deadline'",
    )
    assert extra.upper() == "VIRTUAL GENERATED"
    assert dtype == "datetime"
    assert "sla_started_at" in expr


def test_index_column_orders(conn) -> None:
    rows = _rows(
        conn,
        "SELECT index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index) "
        "FROM information_schema.statistics "
        "WHERE table_schema = DATABASE() AND table_name = 'service_tickets' GROUP BY index_name",
    )
    idx = dict(rows)
    assert idx["idx_priority_deadline_status"] == "priority,deadline,current_status"
    assert idx["idx_status_priority_created"] == "current_status,priority,created_at"
    assert idx["idx_customer_status"] == "customer_id,current_status"
    assert idx["PRIMARY"] == "id"
    logs = dict(
        _rows(
            conn,
            "SELECT index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index) "
            "FROM information_schema.statistics WHERE table_schema = DATABASE() "
            "AND table_name = 'ticket_logs' GROUP BY index_name",
        )
    )
    assert logs["PRIMARY"] == "id,action_time"
    assert logs["idx_ticket_time"] == "ticket_id,action_time"


def test_logs_partitioned_by_month_with_catch_all(conn) -> None:
    rows = _rows(
        conn,
        "SELECT partition_name, partition_method, partition_expression, partition_description "
        "FROM information_schema.partitions WHERE table_schema = DATABASE() "
        "AND table_name = 'ticket_logs' ORDER BY partition_ordinal_position",
    )
    (today,) = _rows(conn, "SELECT CURRENT_DATE()")[0]
    names = [r[0] for r in rows]
    assert all(r[1] == "RANGE" for r in rows)
    assert "to_days" in rows[0][2].lower() and "action_time" in rows[0][2]
    assert names[-1] == "p_future" and rows[-1][3] == "MAXVALUE"
    prev = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    nxt = (today.replace(day=28) + timedelta(days=5)).replace(day=1)
    for month in (prev, today, nxt):
        assert f"p{month:%Y%m}" in names, names
    # each month partition's bound is the first day of the following month
    (bound,) = _rows(conn, "SELECT TO_DAYS(%s)", nxt)[0]
    assert rows[names.index(f"p{today:%Y%m}")][3] == str(bound)


def test_table_options_are_utf8mb4_innodb(conn) -> None:
    rows = _rows(
        conn,
        "SELECT table_name, engine, table_collation FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name IN ('service_tickets', 'ticket_logs')",
    )
    assert len(rows) == 2
    for _, engine, collation in rows:
        assert engine == "InnoDB" and collation.startswith("utf8mb4_")


@pytest.mark.parametrize(
    "priority,hours", [("urgent", 2), ("high", 24), ("medium", 72), ("low", 72)]
)
def test_deadline_per_priority(conn, priority: str, hours: int) -> None:
    start = datetime(2026, 3, 1, 9, 30, 0)
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")  # no-op before the workflow triggers exist
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
            "VALUES (1, 't', %s, %s)",
            (priority, start),
        )
        cur.execute("SELECT deadline FROM service_tickets WHERE id = LAST_INSERT_ID()")
        (deadline,) = cur.fetchone()
        cur.execute("SET @ticketdb_bulk_load = NULL")
    assert deadline == start + timedelta(hours=hours)


def test_deadline_follows_sla_restart(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
            "VALUES (1, 't', 'medium', '2026-01-01 00:00:00')"
        )
        tid = cur.lastrowid
        cur.execute(
            "UPDATE service_tickets SET priority = 'high', sla_started_at = '2026-01-05 12:00:00' "
            "WHERE id = %s",
            (tid,),
        )
        cur.execute("SELECT deadline FROM service_tickets WHERE id = %s", (tid,))
        assert cur.fetchone()[0] == datetime(2026, 1, 6, 12, 0, 0)


@pytest.mark.parametrize(
    "column,value", [("priority", "critical"), ("current_status", "open"), ("priority", "")]
)
def test_invalid_enum_is_rejected(conn, column: str, value: str) -> None:
    cols = {"priority": "'low'", "current_status": "'pending'"}
    cols[column] = "%s"
    with conn.cursor() as cur, pytest.raises(pymysql.err.DataError) as err:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, current_status) "
            f"VALUES (1, 't', {cols['priority']}, {cols['current_status']})",
            (value,),
        )
    assert err.value.args[0] == 1265  # Data truncated: strict mode refuses, never stores ''
    assert _rows(conn, "SELECT COUNT(*) FROM service_tickets")[0][0] == 0


def test_generated_deadline_cannot_be_written(conn) -> None:
    with conn.cursor() as cur, pytest.raises(pymysql.err.MySQLError) as err:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, deadline) "
            "VALUES (1, 't', 'low', NOW())"
        )
    assert err.value.args[0] in (3105, 1906)  # MySQL / MariaDB: generated column not writable


def test_strict_mode_on_every_tool_connection(migrated_dsn: DSN) -> None:
    from ticketdb.db import connect

    c = connect(migrated_dsn, dict_cursor=True)
    with c.cursor() as cur:
        cur.execute("SELECT @@SESSION.sql_mode AS m")
        assert "STRICT_TRANS_TABLES" in cur.fetchone()["m"]
    c.close()
