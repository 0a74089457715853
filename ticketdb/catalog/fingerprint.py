"""A database's schema as one comparable value: what two servers that should hold the same
schema (the nodes of a Galera cluster) can be compared by.

Why: Galera ignores a DDL statement a node fails to apply (``wsrep_ignore_apply_errors``, default
7 on MariaDB 10.11): that node goes on with a trigger, routine, column or index fewer, and no
status counter says so (seen with a replicated CREATE TRIGGER, docs/online-ddl.md). Digests of
bodies (MD5 on the server) keep the value small.
"""

from __future__ import annotations

from typing import Any

from ticketdb.catalog.query import rows

_PARTS = {
    "trigger": (
        "SELECT trigger_name, CONCAT_WS('/', event_object_table, event_manipulation, "
        "action_timing, action_order, MD5(action_statement)) FROM information_schema.triggers "
        "WHERE trigger_schema = %s"
    ),
    "routine": (
        "SELECT CONCAT(routine_type, ' ', routine_name), MD5(CONCAT_WS('/', routine_definition, "
        "sql_data_access, security_type)) FROM information_schema.routines "
        "WHERE routine_schema = %s"
    ),
    "column": (
        "SELECT CONCAT(table_name, '.', column_name), CONCAT_WS('/', ordinal_position, "
        "column_type, is_nullable, MD5(COALESCE(generation_expression, ''))) "
        "FROM information_schema.columns WHERE table_schema = %s"
    ),
    "index": (
        "SELECT CONCAT(table_name, '.', index_name), GROUP_CONCAT(CONCAT(column_name, "
        "IF(non_unique = 0, ' unique', '')) ORDER BY seq_in_index SEPARATOR ',') "
        "FROM information_schema.statistics WHERE table_schema = %s "
        "GROUP BY table_name, index_name"
    ),
}


def schema_fingerprint(conn: Any, database: str) -> dict[str, str]:
    """``"<kind> <name>"`` → a digest of its definition, for every trigger, routine, column and
    index of ``database`` (events are left out: Galera enables them on one node by design)."""
    out: dict[str, str] = {}
    for kind, sql in _PARTS.items():
        for name, value in rows(conn, sql, (database,)):
            out[f"{kind} {name}"] = str(value)
    return out
