"""Inside one table: its columns, keys, foreign keys pointing at it, partitions and the server's
size estimates. Functions read the connection's current database unless a ``database`` is given."""

from __future__ import annotations

from typing import Any, NamedTuple

from ticketdb.catalog.query import first, rows, schema


class ColumnRow(NamedTuple):
    """One row of information_schema.columns."""

    name: str
    type: str  # column_type, e.g. varchar(190), int(10) unsigned
    nullable: str  # YES / NO
    collation: str | None
    extra: str  # auto_increment, VIRTUAL GENERATED, …
    generation: str | None  # generation_expression ('' or None when not generated)


def columns(conn: Any, table: str) -> list[ColumnRow]:
    """Every column of ``table`` in the current database, in table order."""
    return [
        ColumnRow(*r)
        for r in rows(
            conn,
            "SELECT column_name, column_type, is_nullable, collation_name, extra, "
            "generation_expression FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]


def primary_key_column(conn: Any, table: str) -> tuple[str, str] | None:
    """``(name, data_type)`` of the first column of ``table``'s primary key; None without one."""
    found = rows(
        conn,
        "SELECT k.column_name, c.data_type FROM information_schema.key_column_usage k "
        "JOIN information_schema.columns c ON c.table_schema = k.table_schema "
        "AND c.table_name = k.table_name AND c.column_name = k.column_name "
        "WHERE k.table_schema = DATABASE() AND k.table_name = %s AND k.constraint_name = "
        "'PRIMARY' ORDER BY k.ordinal_position LIMIT 1",
        (table,),
    )
    return (str(found[0][0]), str(found[0][1])) if found else None


def has_unique_key(conn: Any, table: str) -> bool:
    """``table`` has a primary key or a UNIQUE key."""
    return bool(
        first(
            conn,
            "SELECT COUNT(*) FROM information_schema.table_constraints WHERE table_schema = "
            "DATABASE() AND table_name = %s AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
            (table,),
        )
    )


def referencing_tables(conn: Any, table: str) -> list[str]:
    """Other tables of the current database whose foreign keys reference ``table``."""
    return [
        str(r[0])
        for r in rows(
            conn,
            "SELECT DISTINCT table_name FROM information_schema.referential_constraints WHERE "
            "constraint_schema = DATABASE() AND referenced_table_name = %s AND table_name <> %s",
            (table, table),
        )
    ]


def table_size(conn: Any, table: str, database: str | None = None) -> tuple[int | None, int | None]:
    """The server's estimates for ``table``: rows, data + index bytes (None, None when the
    table does not exist; None for a figure the engine does not give)."""
    where, args = schema(database)
    found = rows(
        conn,
        "SELECT table_rows, data_length + index_length FROM information_schema.tables "
        f"WHERE table_schema = {where} AND table_name = %s",
        (*args, table),
    )
    if not found:
        return None, None
    n, size = found[0]
    return (int(n) if n is not None else None), (int(size) if size is not None else None)


def largest_table_rows(conn: Any) -> int:
    """The server's row estimate of the biggest table in the current database (0 for none)."""
    return int(
        first(
            conn,
            "SELECT COALESCE(MAX(table_rows), 0) FROM information_schema.tables "
            "WHERE table_schema = DATABASE()",
        )
    )


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
    where, args = schema(database)
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
