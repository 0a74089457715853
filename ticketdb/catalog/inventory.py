"""What the server holds: databases, tables, routines, triggers and events, and the SHOW CREATE
text of each. Functions read the connection's current database unless a ``database`` is given."""

from __future__ import annotations

from typing import Any, NamedTuple

import pymysql.cursors

from ticketdb.catalog.query import first, in_list, quoted, rows, schema

#: The column of each ``SHOW CREATE <kind>`` result that holds the statement.
SHOW_CREATE_COLUMN = {
    "TABLE": "Create Table",
    "VIEW": "Create View",
    "SEQUENCE": "Create Sequence",
    "PROCEDURE": "Create Procedure",
    "FUNCTION": "Create Function",
    "TRIGGER": "SQL Original Statement",
    "EVENT": "Create Event",
}
#: What ticketdb creates a database with, and assumes for one the catalog does not know.
DEFAULT_CHARSET = ("utf8mb4", "utf8mb4_unicode_ci")


# -- databases ----------------------------------------------------------------------------------
def database_exists(conn: Any, name: str) -> bool:
    """Does database ``name`` exist on the connection's server?"""
    return bool(
        first(
            conn, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name=%s", (name,)
        )
    )


def schemata(conn: Any) -> list[str]:
    """The name of every database on the server the connection may see."""
    return [str(r[0]) for r in rows(conn, "SELECT schema_name FROM information_schema.schemata")]


def default_charset(conn: Any, database: str) -> tuple[str, str]:
    """``(character set, collation)`` of ``database``; utf8mb4 / unicode_ci when it is missing."""
    found = rows(
        conn,
        "SELECT default_character_set_name, default_collation_name "
        "FROM information_schema.schemata WHERE schema_name = %s",
        (database,),
    )
    return (str(found[0][0]), str(found[0][1])) if found else DEFAULT_CHARSET


# -- tables and objects -------------------------------------------------------------------------
def table_exists(conn: Any, name: str) -> bool:
    """In the connection's current database."""
    return bool(
        first(
            conn,
            "SELECT COUNT(*) FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = %s",
            (name,),
        )
    )


def tables(conn: Any, database: str | None = None) -> list[tuple[str, str]]:
    """``(name, table_type)`` of every table, view and sequence (type as information_schema
    spells it: BASE TABLE, VIEW, SEQUENCE, SYSTEM VERSIONED)."""
    where, args = schema(database)
    return rows(
        conn,
        "SELECT table_name, table_type FROM information_schema.tables "
        f"WHERE table_schema = {where}",
        args,
    )


def objects_present(
    conn: Any, *, tables: tuple[str, ...] = (), routines: tuple[str, ...] = ()
) -> int:
    """How many of ``tables`` and ``routines`` exist in the current database, in one query (a
    feature's table and procedures, e.g. the leases of migration 0040, are all there or not)."""
    parts, args = [], []
    if tables:
        parts.append(
            "(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
            f"AND table_name IN {in_list(tables)})"
        )
        args += tables
    if routines:
        parts.append(
            "(SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = "
            f"DATABASE() AND routine_name IN {in_list(routines)})"
        )
        args += routines
    return int(first(conn, "SELECT " + " + ".join(parts), args)) if parts else 0


def objects(conn: Any, database: str | None = None) -> list[tuple[str, str]]:
    """``(KIND, name)`` of every routine, trigger and event; KIND upper-case as
    ``SHOW CREATE`` takes it (PROCEDURE, FUNCTION, TRIGGER, EVENT; MariaDB also PACKAGE …)."""
    where, args = schema(database)
    return [
        (str(kind).upper(), name)
        for kind, name in rows(
            conn,
            "SELECT routine_type, routine_name FROM information_schema.routines "
            f"WHERE routine_schema = {where} "
            "UNION ALL SELECT 'TRIGGER', trigger_name FROM information_schema.triggers "
            f"WHERE trigger_schema = {where} "
            "UNION ALL SELECT 'EVENT', event_name FROM information_schema.events "
            f"WHERE event_schema = {where}",
            args * 3,
        )
    ]


# -- triggers and events ------------------------------------------------------------------------
def triggers(conn: Any, on_tables: tuple[str, ...] = ()) -> list[str]:
    """Trigger names of the current database (only those on ``on_tables`` when given), sorted."""
    return [name for name, _ in trigger_tables(conn, on_tables)]


def trigger_tables(
    conn: Any, on_tables: tuple[str, ...] = (), *, firing_order: bool = False
) -> list[tuple[str, str]]:
    """``(trigger, table it is on)`` in the current database (only on ``on_tables`` when
    given), sorted by trigger name, or with ``firing_order`` grouped by event and timing and
    in the order the server fires each group (FOLLOWS/PRECEDES: the order re-creating keeps)."""
    sql = (
        "SELECT trigger_name, event_object_table FROM information_schema.triggers "
        "WHERE trigger_schema = DATABASE()"
    )
    if on_tables:
        sql += f" AND event_object_table IN {in_list(on_tables)}"
    order = "event_manipulation, action_timing, action_order" if firing_order else "trigger_name"
    return rows(conn, f"{sql} ORDER BY {order}", on_tables or None)


def trigger_table(conn: Any, name: str) -> str | None:
    """The table trigger ``name`` of the current database is on; None when there is none."""
    found = rows(
        conn,
        "SELECT event_object_table FROM information_schema.triggers "
        "WHERE trigger_schema = DATABASE() AND trigger_name = %s",
        (name,),
    )
    return str(found[0][0]) if found else None


class EventRow(NamedTuple):
    """One event as this server holds it: on Galera ``status`` differs from node to node
    (SLAVESIDE_DISABLED where the event was replicated to, not created)."""

    name: str
    status: str
    body: str | None


def events(conn: Any, database: str) -> list[EventRow]:
    """The events of ``database`` on this server (this node: status is node-local)."""
    return [
        EventRow(*r)
        for r in rows(
            conn,
            "SELECT event_name, status, event_definition FROM information_schema.events "
            "WHERE event_schema = %s",
            (database,),
        )
    ]


def event_schemas(conn: Any, status: str) -> list[str]:
    """Databases holding at least one event in ``status`` on this server (node)."""
    return [
        r[0]
        for r in rows(
            conn,
            "SELECT DISTINCT event_schema FROM information_schema.events WHERE status = %s",
            (status,),
        )
    ]


# -- SHOW CREATE --------------------------------------------------------------------------------
def show_create_row(conn: Any, kind: str, name: str) -> dict[str, Any] | None:
    """The whole ``SHOW CREATE <kind> <name>`` row (it also holds sql_mode, character sets …).

    Server errors (no such object, no privilege) are raised as PyMySQL errors.
    """
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(f"SHOW CREATE {kind.upper()} {quoted(name)}")
        return cur.fetchone()


def create_text(row: dict[str, Any] | None, kind: str) -> str | None:
    """The statement of a :func:`show_create_row` row; None when the server hides it (a user
    without the privilege to see a routine's body gets NULL there)."""
    if not row:
        return None
    text = row.get(SHOW_CREATE_COLUMN[kind.upper()])
    return None if text is None else str(text)


def show_create(conn: Any, kind: str, name: str) -> str | None:
    """The CREATE statement the server would re-create ``name`` with (None if hidden)."""
    return create_text(show_create_row(conn, kind, name), kind)
