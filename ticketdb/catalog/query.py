"""Running a catalog statement on any open connection: rows as tuples whatever the cursor class,
the schema a statement is about, and the quoting of a name inside SHOW CREATE."""

from __future__ import annotations

from typing import Any


def as_tuple(row: Any) -> tuple:
    """A row as a tuple, whether the connection's cursor class gives dicts or tuples."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


def rows(conn: Any, sql: str, args: Any = None) -> list[tuple]:
    """Every row of ``sql`` as tuples (any cursor class)."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return [as_tuple(r) for r in cur.fetchall()]


def first(conn: Any, sql: str, args: Any = None) -> Any:
    """First column of the first row (None without rows)."""
    found = rows(conn, sql, args)
    return found[0][0] if found else None


def schema(database: str | None) -> tuple[str, tuple[str, ...]]:
    """SQL for "the schema" and its arguments: ``database`` or the connection's current one."""
    return ("%s", (database,)) if database is not None else ("DATABASE()", ())


def in_list(values: tuple[Any, ...]) -> str:
    """``(%s, %s, …)``, one placeholder per value (never for none: ``IN ()`` is an error)."""
    return f"({', '.join(['%s'] * len(values))})"


def quoted(name: str) -> str:
    """A backtick-quoted identifier (also ``ticketdb.db.quote_ident``: the rule lives here because
    db's watchdog reads the process list through this package, which cannot import db)."""
    return "`" + name.replace("`", "``") + "`"
