"""ticketdb.catalog against a real server: object listing, SHOW CREATE, partitions and the
server's clock (scratch databases: tests/server/test_databases.py)."""

from __future__ import annotations

import pymysql
import pytest

from ticketdb import catalog
from ticketdb.catalog import database_exists
from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.migrate.repeatable import load_objects
from ticketdb.project import Project


def _exists(server: DSN, name: str) -> bool:
    with connection(server, database=False) as conn:
        return database_exists(conn, name)


def test_objects_lists_every_repeatable_object_of_the_repo(
    migrated_dsn: DSN, project: Project
) -> None:
    wanted = {o.key for o in load_objects(project)}
    assert wanted, "the repo defines procedures, triggers and events"
    with connection(migrated_dsn) as conn:
        found = catalog.objects(conn)
        assert set(found) == wanted  # nothing else in a fresh migrate, kinds upper-case
        assert catalog.objects(conn, migrated_dsn.database) == found
        assert catalog.objects(conn, "no_such_schema") == []


def test_tables_and_triggers(migrated_dsn: DSN) -> None:
    with connection(migrated_dsn) as conn:
        tables = dict(catalog.tables(conn))
        assert tables["service_tickets"] == "BASE TABLE"
        assert tables["ticket_logs"] == "BASE TABLE"
        on_logs = catalog.triggers(conn, on_tables=("ticket_logs",))
        every = catalog.triggers(conn)
        assert on_logs == sorted(on_logs) and set(on_logs) <= set(every)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
            )
            assert len(every) == cur.fetchone()[0]


def test_show_create_reads_the_statement_of_each_kind(migrated_dsn: DSN, project: Project) -> None:
    with connection(migrated_dsn) as conn:
        for obj in load_objects(project):
            text = catalog.show_create(conn, obj.kind, obj.name)
            assert text is not None and text.upper().startswith("CREATE"), (obj.key, text)
            assert obj.name in text
        table = catalog.show_create(conn, "table", "service_tickets")
        assert table is not None and table.startswith("CREATE TABLE `service_tickets`")
        row = catalog.show_create_row(conn, "TABLE", "service_tickets")
        assert row is not None and catalog.create_text(row, "TABLE") == table
        with pytest.raises(pymysql.err.MySQLError) as err:
            catalog.show_create(conn, "PROCEDURE", "no_such_procedure")
        assert err.value.args[0] == 1305  # ER_SP_DOES_NOT_EXIST


def test_partitions_of_a_partitioned_and_a_plain_table(migrated_dsn: DSN) -> None:
    with connection(migrated_dsn) as conn:
        logs = catalog.partitions(conn, table="ticket_logs")
        assert len(logs) >= 2 and all(p.table == "ticket_logs" for p in logs)
        assert all(p.method and p.method.startswith("RANGE") for p in logs)
        assert logs[-1].description == "MAXVALUE"
        assert all(int(p.description or 0) > 0 for p in logs[:-1])
        assert [p.rows for p in logs] == [0] * len(logs)
        assert "to_days" in (logs[0].expression or "").lower()
        (plain,) = catalog.partitions(conn, table="service_tickets")
        assert plain.name is None and plain.method is None
        every = catalog.partitions(conn, migrated_dsn.database)
        assert [p for p in every if p.table == "ticket_logs"] == logs


def test_server_clock(server_dsn: DSN) -> None:
    with connection(server_dsn, database=False) as conn:
        now = catalog.server_now(conn)
        minute = catalog.server_now(conn, to_minute=True)
        today = catalog.server_today(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT NOW(), CURRENT_DATE()")
            sql_now, sql_today = cur.fetchone()
    assert minute.second == 0 and minute.microsecond == 0
    assert abs((sql_now - now).total_seconds()) < 60
    assert minute <= sql_now and (sql_now - minute).total_seconds() < 120
    assert today == sql_today

