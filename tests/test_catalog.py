"""ticketdb.catalog against a real server: object listing, SHOW CREATE, a table's columns, keys,
partitions and size, events, privileges, sessions and the server's clock."""

from __future__ import annotations

import pymysql
import pytest

from ticketdb import catalog
from ticketdb.catalog import database_exists
from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.migrate.repeatable import load_objects
from ticketdb.project import Project
from ticketdb.server.databases import ensure_database


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


def _grantee(conn: object) -> str:
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SELECT CURRENT_USER()")
        user, _, host = cur.fetchone()[0].rpartition("@")
    return f"'{user}'@'{host}'"


@pytest.fixture
def shapes(db_dsn: DSN) -> DSN:
    """A parent with a key, a child with a foreign key to it, a table without any key."""
    ensure_database(db_dsn)
    with connection(db_dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE parent (id INT PRIMARY KEY, code VARCHAR(20) UNIQUE)")
        cur.execute(
            "CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id INT NULL, note TEXT, "
            "twice BIGINT AS (id * 2) VIRTUAL, FOREIGN KEY (parent_id) REFERENCES parent (id))"
        )
        cur.execute("CREATE TABLE nokey (x INT)")
        cur.execute("INSERT INTO parent VALUES (1, 'a'), (2, 'b')")
    return db_dsn


def test_columns_keys_and_foreign_keys(shapes: DSN) -> None:
    with connection(shapes) as conn:
        cols = catalog.columns(conn, "child")
        assert [c.name for c in cols] == ["id", "parent_id", "note", "twice"]
        assert cols[0].nullable == "NO" and cols[1].nullable == "YES"
        assert cols[2].collation and not cols[0].collation
        assert "VIRTUAL" in cols[3].extra.upper() and "id" in (cols[3].generation or "")
        assert catalog.columns(conn, "no_such_table") == []
        assert catalog.primary_key_column(conn, "child") == ("id", "bigint")
        assert catalog.primary_key_column(conn, "nokey") is None
        assert catalog.has_unique_key(conn, "parent") and not catalog.has_unique_key(conn, "nokey")
        assert catalog.referencing_tables(conn, "parent") == ["child"]
        assert catalog.referencing_tables(conn, "child") == []


def test_triggers_by_name_and_in_firing_order(shapes: DSN) -> None:
    with connection(shapes) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TRIGGER t_a BEFORE INSERT ON nokey FOR EACH ROW SET @a = 1")
            cur.execute(
                "CREATE TRIGGER t_b BEFORE INSERT ON nokey FOR EACH ROW PRECEDES t_a SET @b = 1"
            )
            cur.execute("CREATE TRIGGER t_c AFTER INSERT ON parent FOR EACH ROW SET @c = 1")
        assert catalog.trigger_tables(conn) == [
            ("t_a", "nokey"),
            ("t_b", "nokey"),
            ("t_c", "parent"),
        ]
        assert catalog.trigger_tables(conn, ("nokey",), firing_order=True) == [
            ("t_b", "nokey"),
            ("t_a", "nokey"),
        ]
        assert catalog.triggers(conn, ("parent",)) == ["t_c"]
        assert catalog.trigger_table(conn, "t_b") == "nokey"
        assert catalog.trigger_table(conn, "no_such_trigger") is None


def test_table_size_and_the_largest_table(shapes: DSN) -> None:
    with connection(shapes) as conn:
        with conn.cursor() as cur:
            cur.execute("ANALYZE TABLE parent")
            cur.fetchall()
        rows, size = catalog.table_size(conn, "parent")
        assert rows == 2 and size is not None and size > 0
        assert catalog.table_size(conn, "parent", shapes.database) == (rows, size)
        assert catalog.table_size(conn, "no_such_table") == (None, None)
        assert catalog.largest_table_rows(conn) == 2
    with connection(shapes, database=False) as conn:  # no current database: nothing to size
        assert catalog.table_size(conn, "parent") == (None, None)
        assert catalog.largest_table_rows(conn) == 0


def test_events_and_objects_present(migrated_dsn: DSN, project: Project) -> None:
    files = {o.name for o in load_objects(project) if o.kind == "EVENT"}
    with connection(migrated_dsn) as conn:
        events = catalog.events(conn, migrated_dsn.database)
        assert {e.name for e in events} == files
        assert {e.status for e in events} == {"ENABLED"} and all(e.body for e in events)
        assert migrated_dsn.database in catalog.event_schemas(conn, "ENABLED")
        assert migrated_dsn.database not in catalog.event_schemas(conn, "SLAVESIDE_DISABLED")
        assert catalog.events(conn, "no_such_schema") == []
        present = catalog.objects_present(
            conn, tables=("service_tickets", "no_such_table"), routines=("ticket_assign", "nope")
        )
        assert present == 2
        assert catalog.objects_present(conn, routines=("ticket_assign",)) == 1
        assert catalog.objects_present(conn) == 0


def test_privileges_and_sessions(server_dsn: DSN) -> None:
    with (
        connection(server_dsn, database=False) as conn,
        connection(server_dsn, database=False) as other,
    ):
        grantee = _grantee(conn)
        assert catalog.holds_global_privilege(conn, grantee, ("PROCESS", "SUPER"))
        assert not catalog.holds_global_privilege(conn, "'nobody'@'nowhere'", ("PROCESS",))
        assert {"SELECT", "CREATE", "PROCESS"} <= catalog.privileges(conn, grantee, "anydb")
        assert catalog.privileges(conn, "'nobody'@'nowhere'", "anydb") == set()
        session = catalog.session(conn, other.thread_id())
        assert session is not None and session[0] == grantee.split("@")[0].strip("'")
        assert catalog.session_exists(conn, other.thread_id())
        assert not catalog.session_exists(conn, 2**31 - 1)
        assert catalog.session(conn, 2**31 - 1) is None
