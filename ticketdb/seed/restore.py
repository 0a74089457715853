"""What a seed takes apart, written down in the database before it goes, and put back from the
repo — by the seed itself, by the next seed, or by ``migrate up``.

A seed drops the two tables' triggers and defers their secondary indexes. A SIGKILL, an OOM
kill or a server crash in between used to leave the database without them for good (and the
next seed recorded the stripped schema as "before"). Now each trigger and index is a row in
``ticketdb_seed_restore`` committed *before* its DROP and deleted only once it is back. Whoever
finds rows there puts the objects back from the repo's own definitions: triggers from
triggers/, indexes from a scratch database migrated to the same migration (never from a
snapshot of a possibly already stripped live table).

One seed at a time per database, cluster-wide: a :class:`ticketdb.locks.JobLock` (GET_LOCK,
released by the server the moment the lock's connection dies, plus the lease ``seed.<db>``
renewed by a heartbeat, which another Galera node sees) held for the whole run. ``migrate up``
takes it too, so it never re-creates triggers under a running load on any node.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ticketdb import catalog, locks
from ticketdb.catalog import table_exists
from ticketdb.db import connection, quote_ident, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.project import Project

RESTORE_TABLE = "ticketdb_seed_restore"
#: Scratch databases ``<db>__seedref_<hex>`` hold the repo's schema while indexes are restored.
SCRATCH_PURPOSE = "seedref"
FIFO_PREFIX = "ticketdb-seed-"
Say = Callable[[str], None]

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


# -- the one-seed-at-a-time lock ----------------------------------------------------------------
def lock_name(database: str) -> str:
    """The seed's GET_LOCK (node-local); its cluster-wide lease is ``seed.<database>``."""
    return locks.lock_name("seed", database)


def take_lock(
    dsn: DSN, *, wait: bool, say: Say, ttl: int = locks.DEFAULT_TTL, database: str | None = None
) -> locks.JobLock:
    """Hold the seed lock (GET_LOCK + cluster lease, on a connection of its own with a
    heartbeat) or fail at once naming the holder; ``close()`` the result when done."""
    database = database or dsn.database
    lock = locks.JobLock.open(dsn, "seed", database, ttl=ttl, say=say)
    try:
        lock.acquire(None if wait else 0)
    except locks.LockBusy as exc:
        lock.close()
        raise TicketdbError(
            f"another seed (or a migrate up) is running on {database}: {exc.holder}; "
            "wait for it to finish, or pass --wait to queue behind it"
        ) from None
    except BaseException:
        lock.close()
        raise
    return lock


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
    with conn.cursor() as cur:
        cur.execute(
            "SELECT trigger_name FROM information_schema.triggers "
            "WHERE trigger_schema = DATABASE() AND event_object_table = %s",
            (table,),
        )
        return {r[0] if not isinstance(r, dict) else next(iter(r.values())) for r in cur}


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
    from ticketdb.migrate.runner import MIGRATION_TABLE

    if not table_exists(conn, MIGRATION_TABLE):
        return None
    return scalar(
        conn,
        f"SELECT migration_id FROM {MIGRATION_TABLE} ORDER BY applied_at_utc DESC, "
        "migration_id DESC LIMIT 1",
    )


def repo_keys(dsn: DSN, project: Project, tables: set[str], say: Say) -> dict[str, list]:
    """The repo's secondary indexes of ``tables`` at the live database's migration: migrate a
    scratch database to that migration and read them there (dropped on the way out)."""
    from ticketdb import migrate as mig

    with connection(dsn) as conn:
        last = _last_applied(conn)
    for name in catalog.drop_stale_scratch_databases(dsn, dsn.database, SCRATCH_PURPOSE):
        say(f"dropped {name}, left by a restore that was killed")
    with catalog.scratch_database(
        dsn, SCRATCH_PURPOSE, charset_of=dsn.database, create=False, on_drop_error=say
    ) as ref:
        say(f"reading the repo's index definitions (scratch database {ref.database})")
        mig.up(ref, project, to=last)
        with connection(ref) as rconn:
            return {t: secondary_keys(_show_create(rconn, t)) for t in tables}


def restore(dsn: DSN, project: Project, conn: Any, say: Say) -> list[str]:
    """Put back whatever the ledger lists and the database lacks; returns what was restored.
    Raises when something listed cannot be restored (the row stays for the next try)."""
    from ticketdb.seed.runner import restore_triggers

    missing = clear_present(conn)
    if not missing:
        return []
    done: list[str] = []
    triggers = {name for kind, _t, name in missing if kind == "TRIGGER"}
    if triggers:
        from ticketdb.migrate.repeatable import load_objects

        in_repo = {o.name for o in load_objects(project) if o.kind == "TRIGGER"}
        done += [f"trigger {n}" for n in restore_triggers(conn, project, triggers & in_repo)]
        with conn.cursor() as cur:
            for n in triggers - in_repo:  # its file is gone: nothing to restore
                cur.execute(f"DELETE FROM {RESTORE_TABLE} WHERE kind='TRIGGER' AND name=%s", (n,))
    index_tables = {t for kind, t, _n in missing if kind == "INDEX"}
    if index_tables:
        wanted = repo_keys(dsn, project, index_tables, say)
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


# -- FIFO folders -------------------------------------------------------------------------------
def fifo_folder() -> Path:
    """A private folder for the FIFOs, named after this process so a later run can tell a
    killed run's leftovers from a live one's."""
    return Path(tempfile.mkdtemp(prefix=f"{FIFO_PREFIX}{os.getpid()}-"))


def remove_stale_fifo_folders(base: Path | None = None) -> list[Path]:
    """FIFO folders whose process is gone (killed with -9, or a crash)."""
    base = base or Path(tempfile.gettempdir())
    removed = []
    for path in base.glob(f"{FIFO_PREFIX}*"):
        m = re.fullmatch(rf"{re.escape(FIFO_PREFIX)}(\d+)-.*", path.name)
        if not m or not path.is_dir():
            continue
        pid = int(m.group(1))
        try:
            os.kill(pid, 0)
            continue  # alive (or not ours to judge)
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
