"""What a job takes apart, written down in the database before it goes, and put back from the
repo — by the job itself, by the next run, or by ``migrate up``.

A seed drops the two tables' triggers and defers their secondary indexes. A SIGKILL, an OOM
kill or a server crash in between used to leave the database without them for good (and the
next seed recorded the stripped schema as "before"). Now each trigger and index is a row in
``ticketdb_seed_restore`` committed *before* its DROP and deleted only once it is back. Whoever
finds rows there puts the objects back from the repo's own definitions: triggers from
triggers/, indexes from a scratch database migrated to the same migration (never from a
snapshot of a possibly already stripped live table).

The schema's owner is :mod:`ticketdb.migrate`: this module knows the ledger and how to put
things back; the caller hands it the way to build a reference schema (``build``), so nothing
here imports the runner.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ticketdb import catalog
from ticketdb.catalog import table_exists
from ticketdb.db import connection, quote_ident, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.progress import MIGRATION_TABLE
from ticketdb.migrate.repeatable import apply_changes, load_objects, plan_changes
from ticketdb.project import Project
from ticketdb.server import databases

RESTORE_TABLE = "ticketdb_seed_restore"
#: Scratch databases ``<db>__seedref_<hex>`` hold the repo's schema while indexes are restored.
SCRATCH_PURPOSE = "seedref"
Say = Callable[[str], None]
#: builds the repo's schema at a migration (None: head) in the given empty database
Build = Callable[[DSN, "str | None"], None]

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {RESTORE_TABLE} ("
    " kind ENUM('TRIGGER','INDEX') NOT NULL,"
    " table_name VARCHAR(64) NOT NULL,"
    " name VARCHAR(64) NOT NULL,"
    " recorded_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (kind, table_name, name)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
)
_KEY_LINE = re.compile(r"^\s*(KEY\s+`([^`]+)`.*?),?$")


# -- the ledger ---------------------------------------------------------------------------------
def record(conn: Any, kind: str, table: str, name: str) -> None:
    """Committed before the object is dropped (``conn`` is autocommit)."""
    with conn.cursor() as cur:
        cur.execute(_CREATE)
        cur.execute(
            f"INSERT IGNORE INTO {RESTORE_TABLE} (kind, table_name, name) VALUES (%s, %s, %s)",
            (kind, table, name),
        )


def pending(conn: Any) -> list[tuple[str, str, str]]:
    if not table_exists(conn, RESTORE_TABLE):
        return []
    with conn.cursor() as cur:
        cur.execute(f"SELECT kind, table_name, name FROM {RESTORE_TABLE} ORDER BY 1, 2, 3")
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cur.fetchall()]


def secondary_keys(create_sql: str) -> list[tuple[str, str]]:
    """``[(name, "KEY `name` (…)")]`` of the plain secondary indexes, in server order."""
    return [(m.group(2), m.group(1)) for m in map(_KEY_LINE.match, create_sql.splitlines()) if m]


def _show_create(conn: Any, table: str) -> str:
    return catalog.show_create(conn, "TABLE", table) or ""


def _present(conn: Any, kind: str, table: str) -> set[str]:
    if kind == "INDEX":
        return {n for n, _ in secondary_keys(_show_create(conn, table))}
    return set(catalog.triggers(conn, on_tables=(table,)))


def clear_present(conn: Any) -> list[tuple[str, str, str]]:
    """Delete the rows whose object is back; returns the ones still missing."""
    missing = []
    for kind, table, name in pending(conn):
        if name in _present(conn, kind, table):
            with conn.cursor() as cur:
                cur.execute(
                    f"DELETE FROM {RESTORE_TABLE} WHERE kind=%s AND table_name=%s AND name=%s",
                    (kind, table, name),
                )
        else:
            missing.append((kind, table, name))
    return missing


def _last_applied(conn: Any) -> str | None:
    if not table_exists(conn, MIGRATION_TABLE):
        return None
    return scalar(
        conn,
        f"SELECT migration_id FROM {MIGRATION_TABLE} ORDER BY applied_at_utc DESC, "
        "migration_id DESC LIMIT 1",
    )


def repo_keys(dsn: DSN, build: Build, tables: set[str], say: Say) -> dict[str, list]:
    """The repo's secondary indexes of ``tables`` at the live database's migration: migrate a
    scratch database to that migration and read them there (dropped on the way out)."""
    with connection(dsn) as conn:
        last = _last_applied(conn)
    for name in databases.drop_stale_scratch_databases(dsn, dsn.database, SCRATCH_PURPOSE):
        say(f"dropped {name}, left by a restore that was killed")
    with databases.scratch_database(
        dsn, SCRATCH_PURPOSE, charset_of=dsn.database, create=False, on_drop_error=say
    ) as ref:
        say(f"reading the repo's index definitions (scratch database {ref.database})")
        build(ref, last)
        with connection(ref) as rconn:
            return {t: secondary_keys(_show_create(rconn, t)) for t in tables}


def restore_triggers(conn: Any, project: Project, names: set[str]) -> list[str]:
    """Re-create dropped triggers from their files: the repeatable-object machinery sees them
    missing on the server and creates them (never a copy of their SQL here)."""
    changes = [
        c
        for c in plan_changes(conn, load_objects(project))
        if c.kind == "TRIGGER" and c.name in names and c.action == "create"
    ]
    return [c.name for c in apply_changes(conn, changes)]


def restore(dsn: DSN, project: Project, conn: Any, say: Say, build: Build) -> list[str]:
    """Put back whatever the ledger lists and the database lacks; returns what was restored.
    ``build(ref, migration)`` migrates an empty scratch database, where the repo's index
    definitions are read. Raises when something listed cannot be restored (the row stays for
    the next try)."""
    missing = clear_present(conn)
    if not missing:
        return []
    done: list[str] = []
    triggers = {name for kind, _t, name in missing if kind == "TRIGGER"}
    if triggers:
        in_repo = {o.name for o in load_objects(project) if o.kind == "TRIGGER"}
        done += [f"trigger {n}" for n in restore_triggers(conn, project, triggers & in_repo)]
        with conn.cursor() as cur:
            for n in triggers - in_repo:  # its file is gone: nothing to restore
                cur.execute(f"DELETE FROM {RESTORE_TABLE} WHERE kind='TRIGGER' AND name=%s", (n,))
    index_tables = {t for kind, t, _n in missing if kind == "INDEX"}
    if index_tables:
        wanted = repo_keys(dsn, build, index_tables, say)
        for table in sorted(index_tables):
            names = {n for kind, t, n in missing if kind == "INDEX" and t == table}
            have = _present(conn, "INDEX", table)
            adds = [d for n, d in wanted[table] if n in names and n not in have]
            gone = names - {n for n, _ in wanted[table]}
            if adds:
                say(f"re-adding {len(adds)} index(es) of {table} from the repo's definitions")
                with conn.cursor() as cur:
                    cur.execute(
                        f"ALTER TABLE {quote_ident(table)} " + ", ".join(f"ADD {d}" for d in adds)
                    )
                done += [f"index {table}.{d.split('`')[1]}" for d in adds]
            with conn.cursor() as cur:
                for n in gone:  # no longer in the repo at this migration: nothing to restore
                    cur.execute(
                        f"DELETE FROM {RESTORE_TABLE} WHERE kind='INDEX' AND table_name=%s "
                        "AND name=%s",
                        (table, n),
                    )
    left = clear_present(conn)
    if left:
        raise TicketdbError(
            "could not restore " + ", ".join(f"{k.lower()} {t}.{n}" for k, t, n in left)
        )
    return done


