"""Creating and dropping databases on a DSN's server: the DSN's own (``migrate up`` creates it),
and scratch databases beside it that a drift check, a DDL probe, a raw load or a benchmark uses
and always drops, named so that a later run recognises the leftovers of a killed one.

Reads of what exists go through ticketdb.catalog; this module changes things.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.catalog import DEFAULT_CHARSET
from ticketdb.db import connection, quote_ident, scalar, sql_error, watched
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.server import galera

#: Scratch databases are named ``<database>__<purpose>_<8 hex digits>`` (see :func:`scratch_name`)
#: so a later run can recognise leftovers of one that was killed before it could drop them.
SCRATCH_SEPARATOR = "__"
SCRATCH_SUFFIX_RE = r"[0-9a-f]{8}"
_MAX_IDENT = 64


def ensure_database(dsn: DSN) -> bool:
    """Create the DSN's database if missing (utf8mb4); returns True when it was created."""
    with connection(dsn, database=False) as conn:
        if catalog.database_exists(conn, dsn.database):
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
    return [name for name in catalog.schemata(conn) if is_scratch_name(name, database, purpose)]


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
                catalog.default_charset(conn, charset_of)
                if charset_of is not None
                else DEFAULT_CHARSET
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
