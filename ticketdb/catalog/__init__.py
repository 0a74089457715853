"""Reading the server's catalog, in one place: which databases, tables, routines, triggers and
events exist, their SHOW CREATE text, a table's columns, keys and partitions, privileges, the
process list, and the server's clock.

Every module that asks the server what it holds goes through here (tests/test_layout.py fails on
an ``information_schema`` read, a ``SHOW CREATE``/``SHOW TRIGGERS``/``SHOW INDEX``-style read or
a ``mysql.*`` privilege-table read anywhere else in the package), so a difference between MariaDB
and MySQL (a SHOW CREATE column name, a dict vs tuple row) is handled once. Counters and settings
are not the catalog: ``SHOW STATUS``, ``SHOW VARIABLES``, ``@@variables`` and performance_schema
stay with the code that watches them (server/galera.py, bench/serverio.py).

Every function takes an open connection and runs on it: the caller decides which server or Galera
node is asked, and with which timeouts (a clean-up connection that gives up in seconds stays one).
The package imports no other ticketdb module, so every layer may use it, ``ticketdb.db``'s
watchdog included (it asks whether a session still exists). Creating and dropping databases
is not a read: ticketdb.server.databases.

The SQL stays here as text, one copy each, rather than in ``queries/``: those are the statements
on the ticket tables, loaded by ticketdb.app.queries (a layer above this one) and linted against
the schema the migrations build, which has no information_schema; and several statements here
are assembled (an ``IN`` list as long as the argument, the current database or a named one).
"""

from __future__ import annotations

from ticketdb.catalog.access import holds_global_privilege, privileges, session, session_exists
from ticketdb.catalog.clock import server_now, server_today
from ticketdb.catalog.fingerprint import schema_fingerprint
from ticketdb.catalog.inventory import (
    DEFAULT_CHARSET,
    SHOW_CREATE_COLUMN,
    EventRow,
    create_text,
    database_exists,
    default_charset,
    event_schemas,
    events,
    objects,
    objects_present,
    schemata,
    show_create,
    show_create_row,
    table_exists,
    tables,
    trigger_table,
    trigger_tables,
    triggers,
)
from ticketdb.catalog.query import as_tuple, quoted, rows
from ticketdb.catalog.shape import (
    ColumnRow,
    PartitionRow,
    columns,
    has_unique_key,
    largest_table_rows,
    partitions,
    primary_key_column,
    referencing_tables,
    table_size,
)

__all__ = [
    "DEFAULT_CHARSET",
    "SHOW_CREATE_COLUMN",
    "ColumnRow",
    "EventRow",
    "PartitionRow",
    "as_tuple",
    "columns",
    "create_text",
    "database_exists",
    "default_charset",
    "event_schemas",
    "events",
    "has_unique_key",
    "holds_global_privilege",
    "largest_table_rows",
    "objects",
    "objects_present",
    "partitions",
    "primary_key_column",
    "privileges",
    "quoted",
    "referencing_tables",
    "schema_fingerprint",
    "rows",
    "schemata",
    "server_now",
    "server_today",
    "session",
    "session_exists",
    "show_create",
    "show_create_row",
    "table_exists",
    "table_size",
    "tables",
    "trigger_table",
    "trigger_tables",
    "triggers",
]
