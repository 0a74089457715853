"""Reading the server's catalog, in one place: which objects exist, their SHOW CREATE text, the
partitions of a table, scratch databases and the server's clock.

Every module that asks the server what it holds goes through here, so a difference between MariaDB
and MySQL (a SHOW CREATE column name, a dict vs tuple row) is handled once. Functions take an open
connection and read the connection's current database unless a ``database`` is given.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, NamedTuple

import pymysql
import pymysql.cursors

from ticketdb.db import connection, quote_ident, scalar, sql_error, watched
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.server import galera

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
#: Scratch databases are named ``<database>__<purpose>_<8 hex digits>`` (see :func:`scratch_name`)
#: so a later run can recognise leftovers of one that was killed before it could drop them.
SCRATCH_SEPARATOR = "__"
SCRATCH_SUFFIX_RE = r"[0-9a-f]{8}"
DEFAULT_CHARSET = ("utf8mb4", "utf8mb4_unicode_ci")
_MAX_IDENT = 64


# -- rows ---------------------------------------------------------------------------------------
def as_tuple(row: Any) -> tuple:
    """A row as a tuple, whether the connection's cursor class gives dicts or tuples."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


def rows(conn: Any, sql: str, args: Any = None) -> list[tuple]:
    """Every row of ``sql`` as tuples (any cursor class)."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return [as_tuple(r) for r in cur.fetchall()]


def _schema(database: str | None) -> tuple[str, tuple[str, ...]]:
    """SQL for "the schema" and its arguments: ``database`` or the connection's current one."""
    return ("%s", (database,)) if database is not None else ("DATABASE()", ())


# -- what exists --------------------------------------------------------------------------------
def database_exists(conn: Any, name: str) -> bool:
    """Does database ``name`` exist on the connection's server?"""
    return bool(
        scalar(
            conn, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name=%s", (name,)
        )
    )


def table_exists(conn: Any, name: str) -> bool:
    """In the connection's current database."""
    return bool(
        scalar(
            conn,
            "SELECT COUNT(*) FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = %s",
            (name,),
        )
    )


def tables(conn: Any, database: str | None = None) -> list[tuple[str, str]]:
    """``(name, table_type)`` of every table, view and sequence (type as information_schema
    spells it: BASE TABLE, VIEW, SEQUENCE, SYSTEM VERSIONED)."""
    where, args = _schema(database)
    return rows(
        conn,
        "SELECT table_name, table_type FROM information_schema.tables "
        f"WHERE table_schema = {where}",
        args,
    )


def objects(conn: Any, database: str | None = None) -> list[tuple[str, str]]:
    """``(KIND, name)`` of every routine, trigger and event; KIND upper-case as
    ``SHOW CREATE`` takes it (PROCEDURE, FUNCTION, TRIGGER, EVENT; MariaDB also PACKAGE …)."""
    where, args = _schema(database)
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


def triggers(conn: Any, on_tables: tuple[str, ...] = ()) -> list[str]:
    """Trigger names of the current database (only those on ``on_tables`` when given), sorted."""
    return [name for name, _ in trigger_tables(conn, on_tables)]


def trigger_tables(conn: Any, on_tables: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``(trigger, table it is on)`` in the current database (only on ``on_tables`` when
    given), sorted by trigger name."""
    sql = (
        "SELECT trigger_name, event_object_table FROM information_schema.triggers "
        "WHERE trigger_schema = DATABASE()"
    )
    if on_tables:
        sql += f" AND event_object_table IN ({', '.join(['%s'] * len(on_tables))})"
    return rows(conn, sql + " ORDER BY trigger_name", on_tables or None)


def trigger_table(conn: Any, name: str) -> str | None:
    """The table trigger ``name`` of the current database is on; None when there is none."""
    found = rows(
        conn,
        "SELECT event_object_table FROM information_schema.triggers "
        "WHERE trigger_schema = DATABASE() AND trigger_name = %s",
        (name,),
    )
    return str(found[0][0]) if found else None


# -- SHOW CREATE --------------------------------------------------------------------------------
def show_create_row(conn: Any, kind: str, name: str) -> dict[str, Any] | None:
    """The whole ``SHOW CREATE <kind> <name>`` row (it also holds sql_mode, character sets …).

    Server errors (no such object, no privilege) are raised as PyMySQL errors.
    """
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(f"SHOW CREATE {kind.upper()} {quote_ident(name)}")
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


# -- partitions ---------------------------------------------------------------------------------
class PartitionRow(NamedTuple):
    """One row of information_schema.partitions (an unpartitioned table has one, name None)."""

    table: str
    name: str | None
    method: str | None
    expression: str | None
    description: str | None
    rows: int


def partitions(
    conn: Any, database: str | None = None, table: str | None = None
) -> list[PartitionRow]:
    """Partition rows of every table (or of ``table``) in table and partition order; a
    subpartitioned table gives one row per subpartition."""
    where, args = _schema(database)
    sql = (
        "SELECT table_name, partition_name, partition_method, partition_expression, "
        "partition_description, table_rows FROM information_schema.partitions "
        f"WHERE table_schema = {where}"
    )
    if table is not None:
        sql += " AND table_name = %s"
        args = (*args, table)
    sql += " ORDER BY table_name, partition_ordinal_position"
    return [
        PartitionRow(t, n, m, e, None if d is None else str(d), int(r or 0))
        for t, n, m, e, d, r in rows(conn, sql, args)
    ]


# -- creating and dropping databases ------------------------------------------------------------
def ensure_database(dsn: DSN) -> bool:
    """Create the DSN's database if missing (utf8mb4); returns True when it was created."""
    with connection(dsn, database=False) as conn:
        if database_exists(conn, dsn.database):
            return False
        with conn.cursor() as cur:
            charset, collation = DEFAULT_CHARSET
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS {quote_ident(dsn.database)} "
                f"CHARACTER SET {charset} COLLATE {collation}"
            )
        return True


def scratch_prefix(database: str, purpose: str) -> str:
    """``<database>__<purpose>_``, the database name cut so the whole name fits 64 characters."""
    tail = f"{SCRATCH_SEPARATOR}{purpose}_"
    return database[: _MAX_IDENT - len(tail) - 8] + tail


def scratch_name(database: str, purpose: str) -> str:
    """A new scratch database name for ``database``: ``<database>__<purpose>_<8 hex>``."""
    return scratch_prefix(database, purpose) + uuid.uuid4().hex[:8]


def is_scratch_name(name: str, database: str, purpose: str) -> bool:
    prefix = scratch_prefix(database, purpose)
    rest = name[len(prefix) :]
    return name.startswith(prefix) and re.fullmatch(SCRATCH_SUFFIX_RE, rest) is not None


def scratch_databases(conn: Any, database: str, purpose: str) -> list[str]:
    """Existing scratch databases of ``database`` for ``purpose`` (leftovers, or a run now)."""
    return [
        r[0]
        for r in rows(conn, "SELECT schema_name FROM information_schema.schemata")
        if is_scratch_name(r[0], database, purpose)
    ]


def default_charset(conn: Any, database: str) -> tuple[str, str]:
    """``(character set, collation)`` of ``database``; utf8mb4 / unicode_ci when it is missing."""
    found = rows(
        conn,
        "SELECT default_character_set_name, default_collation_name "
        "FROM information_schema.schemata WHERE schema_name = %s",
        (database,),
    )
    return (str(found[0][0]), str(found[0][1])) if found else DEFAULT_CHARSET


def scratch_lock(name: str) -> str:
    """The GET_LOCK a scratch database's owner holds while it lives: a name with no holder
    belongs to a run that was killed (the server frees a dead connection's locks at once)."""
    return "ticketdb.scratch." + hashlib.sha1(name.encode()).hexdigest()


def drop_stale_scratch_databases(dsn: DSN, database: str, purpose: str) -> list[str]:
    """Drop the scratch databases of ``database``/``purpose`` whose owner is gone; returns them.
    On Galera nothing is dropped (the owner may hold its lock on another node)."""
    with connection(dsn, database=False) as conn:
        if galera.is_galera(conn):  # GET_LOCK is node-local there: its absence proves nothing
            return []
        stale = [
            name
            for name in scratch_databases(conn, database, purpose)
            if scalar(conn, "SELECT IS_USED_LOCK(%s)", (scratch_lock(name),)) is None
        ]
        with conn.cursor() as cur:
            for name in stale:
                cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
    return stale


def drop_database(dsn: DSN, name: str) -> None:
    """Removing many tables' files can take minutes on a busy disk; a silent server still
    fails it early (ticketdb.db.watched)."""
    with connection(dsn, database=False) as conn, watched(dsn, conn, 600), conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


@contextmanager
def scratch_database(
    dsn: DSN,
    purpose: str,
    *,
    charset_of: str | None = None,
    create: bool = True,
    on_drop_error: Callable[[str], None] | None = None,
) -> Iterator[DSN]:
    """A scratch database on ``dsn``'s server, named after ``dsn.database`` and ``purpose``,
    always dropped on the way out; yields its DSN.

    ``charset_of``: copy that database's character set and collation (else utf8mb4/unicode_ci).
    ``create=False``: only the name and the drop (the caller creates it, e.g. ``migrate up``).
    A failed drop is passed to ``on_drop_error`` as one line; without one it is raised, unless
    the body already failed (that error is the one that matters and is never hidden).
    """
    name = scratch_name(dsn.database, purpose)
    # the owner's lock first, then the database: a concurrent clean-up never sees it unowned
    with connection(dsn, database=False) as owner:
        scalar(owner, "SELECT GET_LOCK(%s, 0)", (scratch_lock(name),))
        yield from _scratch_body(dsn, name, purpose, charset_of, create, on_drop_error)


def _scratch_body(
    dsn: DSN,
    name: str,
    purpose: str,
    charset_of: str | None,
    create: bool,
    on_drop_error: Callable[[str], None] | None,
) -> Iterator[DSN]:
    if create:
        with connection(dsn, database=False) as conn:
            charset, collation = (
                default_charset(conn, charset_of) if charset_of is not None else DEFAULT_CHARSET
            )
            try:
                with conn.cursor() as cur:
                    cur.execute(
                        f"CREATE DATABASE {quote_ident(name)} "
                        f"CHARACTER SET {charset} COLLATE {collation}"
                    )
            except pymysql.err.MySQLError as exc:
                raise sql_error(
                    exc, where=f"creating scratch database {name} ({purpose} needs CREATE and DROP)"
                ) from None
    body_failed = True
    try:
        yield dsn.with_database(name)
        body_failed = False
    finally:
        try:
            drop_database(dsn, name)
        except (pymysql.err.MySQLError, TicketdbError) as exc:
            msg = f"could not drop scratch database {name}: {exc}; drop it by hand"
            if on_drop_error is not None:
                on_drop_error(msg)
            elif not body_failed:
                raise TicketdbError(msg) from None


# -- the server's clock -------------------------------------------------------------------------
def server_now(conn: Any, *, to_minute: bool = False) -> datetime:
    """The server's NOW(): "now" for reports and seeds is the database's, not the client's.

    ``to_minute`` drops seconds (a seed's anchor, so the same seed gives the same rows).
    """
    now: datetime = scalar(conn, "SELECT NOW()")
    return now.replace(second=0, microsecond=0) if to_minute else now


def server_today(conn: Any) -> date:
    """Month boundaries follow the server's calendar, not the client's."""
    return scalar(conn, "SELECT CURRENT_DATE()")
