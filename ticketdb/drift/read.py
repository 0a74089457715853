"""Reading one database's schema objects from the server, normalised (a drift snapshot)."""

from __future__ import annotations

import fnmatch
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import sql_error
from ticketdb.drift.model import Definition
from ticketdb.drift.normalise import (
    normalise_event,
    normalise_routine,
    normalise_table,
    signature,
    strip_database,
)
from ticketdb.errors import TicketdbError
from ticketdb.leases import SALT_TABLE
from ticketdb.migrate import repeatable, reportsql
from ticketdb.migrate.checksums import CHECKSUM_TABLE
from ticketdb.migrate.runner import MIGRATION_TABLE

#: Bookkeeping tables of the migration tooling: never schema (the checksum table is missing on
#: a database migrated by an older ticketdb until its next `migrate up`; the lock salt is
#: random per database by design).
TOOL_TABLES = frozenset(
    {MIGRATION_TABLE, "_yoyo_log", "_yoyo_version", "yoyo_lock", repeatable.TRACK_TABLE,
     CHECKSUM_TABLE, SALT_TABLE}
)  # fmt: skip
TOOL_TABLE_PATTERNS = ("yoyo_tmp_*",)


def _show(conn: Any, what: str, name: str) -> dict[str, Any]:
    row = catalog.show_create_row(conn, what, name)
    if not row:
        raise TicketdbError(f"SHOW CREATE {what} {name} returned nothing")
    return row


def _create_text(row: dict[str, Any], kind: str, name: str) -> str:
    text = catalog.create_text(row, kind)
    if text is None:
        raise TicketdbError(
            f"cannot read the definition of {kind.lower()} {name}: the connecting user needs "
            "privileges to see it (SHOW_ROUTINE / SELECT on mysql.proc, TRIGGER, EVENT)"
        )
    return text


def is_tool_table(name: str) -> bool:
    return name in TOOL_TABLES or any(fnmatch.fnmatchcase(name, p) for p in TOOL_TABLE_PATTERNS)


def snapshot(
    conn: Any,
    database: str,
    *,
    unquoted_db: bool = False,
    fixed_start_events: frozenset[str] = frozenset(),
) -> dict[tuple[str, str], Definition]:
    """Every schema object of ``database`` (the connection's current one), normalised.

    ``fixed_start_events``: events whose STARTS time of day is fixed by the repo (compared).
    """
    objs: dict[tuple[str, str], Definition] = {}

    def add(kind: str, name: str, text: str, extra: tuple[Any, ...] = (), **kw: Any) -> None:
        objs[(kind, name)] = Definition(kind, name, text, (signature(text), *extra), **kw)

    parts: dict[str, list[tuple[str, str, str]]] = {}
    exprs: dict[str, str | None] = {}
    for p in catalog.partitions(conn, database):
        if p.name is None:
            continue  # not partitioned
        parts.setdefault(p.table, []).append((p.name, p.method or "", p.description or ""))
        if (p.method or "").startswith("RANGE"):
            exprs[p.table] = p.expression
    for name, ttype in catalog.tables(conn, database):
        if is_tool_table(name):
            continue
        if ttype == "VIEW":
            try:
                row = _show(conn, "VIEW", name)
            except pymysql.err.MySQLError as exc:  # e.g. 1356: its table was dropped by hand
                add("view", name, f"-- view cannot be read: {sql_error(exc)}")
                continue
            text = normalise_routine(_create_text(row, "VIEW", name), database,
                                     unquoted_db=unquoted_db)  # fmt: skip
            add("view", name, text)
        elif ttype == "SEQUENCE":
            row = _show(conn, "SEQUENCE", name)
            text = catalog.create_text(row, "SEQUENCE") or ""
            add("sequence", name, normalise_routine(text, database, unquoted_db=unquoted_db))
        elif ttype in ("BASE TABLE", "SYSTEM VERSIONED"):
            row = _show(conn, "TABLE", name)
            text = strip_database(_create_text(row, "TABLE", name), database)
            norm, ranges = normalise_table(text, parts.get(name, ()))
            add("table", name, norm, partitions=ranges, partition_expr=exprs.get(name), raw=text)
    for what, name in catalog.objects(conn, database):
        kind = what.lower()
        if what not in ("PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"):
            continue  # e.g. MariaDB PACKAGE
        row = _show(conn, what, name)
        text = _create_text(row, what, name)
        if kind == "event":
            text = normalise_event(
                text, database, unquoted_db=unquoted_db, time_of_day=name in fixed_start_events
            )
        else:
            text = normalise_routine(text, database, unquoted_db=unquoted_db)
        mode = str(row.get("sql_mode") or "")
        # sql_mode is part of a routine: a hand re-create from a non-strict client changes it
        add(kind, name, text, (mode,), sql_mode=mode)
    # the rows report_run executes with the migrator's rights are compared like routines
    for name, row in reportsql.rows(conn).items():
        _n, sql_text, _params, positions, _sum, _path = row
        add("report", name, f"-- binds: {positions}\n{sql_text}", (positions,),
            raw=reportsql.replace_sql(row))  # fmt: skip
    return objs
