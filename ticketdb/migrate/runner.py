"""``migrate up|down|status|plan`` on top of yoyo's library API (never its CLI).

Everything that decides what to run happens inside yoyo's lock: computing the pending list before
taking the lock is how two concurrent runs apply the same migration twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
from yoyo import read_migrations
from yoyo.backends.core.mysql import MySQLBackend
from yoyo.connections import parse_uri
from yoyo.exceptions import LockTimeout
from yoyo.migrations import Migration, MigrationList

from ticketdb import galera
from ticketdb.catalog import database_exists, ensure_database, table_exists
from ticketdb.db import connect, connection, sql_error
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.migrate import repeatable
from ticketdb.project import Project

MIGRATION_TABLE = "_yoyo_migration"
Progress = Callable[[str], None]


class _StrictMySQLBackend(MySQLBackend):
    """yoyo's MySQL backend with our session settings (strict sql_mode) on every connection."""

    def connect(self, dburi: Any) -> Any:
        dsn = DSN(
            host=dburi.hostname or "127.0.0.1",
            port=dburi.port or 3306,
            user=dburi.username or "root",
            password=dburi.password or "",
            database=dburi.database,
            params=tuple(dburi.args.items()),
        )
        return connect(dsn, autocommit=False)


def _open_backend(dsn: DSN) -> _StrictMySQLBackend:
    uri = parse_uri(dsn.url())
    try:
        backend = _StrictMySQLBackend(uri, MIGRATION_TABLE)
        backend.init_database()
    except pymysql.err.MySQLError as exc:
        raise sql_error(exc, where="opening migration backend") from None
    return backend


@contextmanager
def _locked(dsn: DSN, lock_timeout: float) -> Iterator[_StrictMySQLBackend]:
    backend = _open_backend(dsn)
    try:
        with backend.lock(timeout=lock_timeout):
            yield backend
    except LockTimeout as exc:
        raise TicketdbError(
            f"{exc}".replace("yoyo break-lock", "ticketdb migrate break-lock")
        ) from None
    finally:
        backend.connection.close()


def real_error(exc: BaseException) -> BaseException:
    """MySQL DDL commits implicitly, so yoyo's ROLLBACK TO SAVEPOINT fails and hides the real
    error in ``__context__``; walk back to the first server error."""
    seen = exc
    while True:
        ctx = seen.__context__
        code = seen.args[0] if seen.args and isinstance(seen.args[0], int) else None
        if code in (1305,) and isinstance(ctx, pymysql.err.MySQLError):  # SAVEPOINT does not exist
            seen = ctx
            continue
        return seen


def load_migrations(project: Project) -> MigrationList:
    if not project.migrations.is_dir():
        raise UsageError(f"no migrations folder at {project.migrations}")
    return read_migrations(str(project.migrations))


def resolve_id(migrations: MigrationList, text: str) -> Migration:
    """Exact id, or a unique prefix such as ``0002``."""
    exact = [m for m in migrations if m.id == text]
    if exact:
        return exact[0]
    pref = [m for m in migrations if m.id.startswith(text)]
    if len(pref) == 1:
        return pref[0]
    known = ", ".join(m.id for m in migrations) or "none"
    if not pref:
        raise UsageError(f"unknown migration id {text!r} (known: {known})")
    raise UsageError(f"migration id {text!r} is ambiguous: {', '.join(m.id for m in pref)}")


@dataclass
class MigrateResult:
    applied: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    objects: list[dict[str, str]] = field(default_factory=list)
    database_created: bool = False
    at_head: bool = False


def _through(migrations: MigrationList, target: str | None) -> set[str]:
    """Ids of the migrations up to and including ``target`` (id or prefix); all when None."""
    ids = [m.id for m in migrations]
    return set(ids[: ids.index(resolve_id(migrations, target).id) + 1] if target else ids)


def up(
    dsn: DSN,
    project: Project,
    *,
    to: str | None = None,
    lock_timeout: float = 120,
    progress: Progress | None = None,
) -> MigrateResult:
    """Apply pending migrations (up to ``to``), then repeatable objects when at head."""
    say = progress or (lambda _msg: None)
    migrations = load_migrations(project)
    wanted = _through(migrations, to)
    objects = repeatable.load_objects(project)  # parse errors before touching the server
    result = MigrateResult(database_created=ensure_database(dsn))
    with _locked(dsn, lock_timeout) as backend:
        pending = [m for m in backend.to_apply(migrations) if m.id in wanted]
        for m in pending:
            started = time.perf_counter()
            try:
                backend.apply_one(m)
            except pymysql.err.MySQLError as exc:
                raise sql_error(real_error(exc), where=f"migration {m.id}") from None
            except Exception as exc:  # a Python migration that raised something else
                raise TicketdbError(f"migration {m.id}: {exc}") from None
            result.applied.append(m.id)
            say(f"applied {m.id} ({time.perf_counter() - started:.2f}s)")
        result.at_head = not list(backend.to_apply(migrations))
        if result.at_head:
            with connection(dsn) as conn:
                changes = repeatable.plan_changes(conn, objects)
                for change in repeatable.apply_changes(conn, changes):
                    result.objects.append(change.as_dict())
                    say(f"{change.action} {change.kind.lower()} {change.name} ({change.reason})")
            # Galera: events (re)created here are SLAVESIDE_DISABLED on the other nodes
            for node, names in galera.enable_events_everywhere(dsn).items():
                if names:
                    say(f"enabled {len(names)} event(s) on {node} (Galera: one runner per period)")
        elif objects:
            say("not at head: repeatable objects are applied once every migration is")
    return result


def down(
    dsn: DSN,
    project: Project,
    *,
    to: str | None = None,
    all_: bool = False,
    lock_timeout: float = 120,
    progress: Progress | None = None,
) -> MigrateResult:
    """Roll back the last migration, everything after ``to``, or everything (``all_``).

    Repeatable objects are written against the head schema, so any rollback drops them first;
    the next ``up`` to head re-creates them.
    """
    say = progress or (lambda _msg: None)
    if to and all_:
        raise UsageError("use either --to or --all, not both")
    migrations = load_migrations(project)
    target = resolve_id(migrations, to) if to else None
    objects = repeatable.load_objects(project)
    result = MigrateResult()
    with _locked(dsn, lock_timeout) as backend:
        applied = list(backend.to_rollback(migrations))  # newest first
        if target is not None:
            if target not in applied:
                raise UsageError(f"migration {target.id} is not applied; nothing to roll back to")
            chosen = applied[: applied.index(target)]
        elif all_:
            chosen = applied
        else:
            chosen = applied[:1]
        if chosen:
            with connection(dsn) as conn:
                for kind, name in repeatable.drop_all(conn, objects):
                    result.objects.append(
                        {"action": "drop", "kind": kind, "name": name, "reason": "rollback"}
                    )
                    say(f"drop {kind.lower()} {name}")
        for m in chosen:
            started = time.perf_counter()
            try:
                backend.rollback_one(m)
            except pymysql.err.MySQLError as exc:
                raise sql_error(real_error(exc), where=f"rollback of {m.id}") from None
            result.rolled_back.append(m.id)
            say(f"rolled back {m.id} ({time.perf_counter() - started:.2f}s)")
    return result


def _applied_at(dsn: DSN) -> dict[str, str]:
    with connection(dsn) as conn:
        if not table_exists(conn, MIGRATION_TABLE):
            return {}
        with conn.cursor() as cur:
            cur.execute(f"SELECT migration_id, applied_at_utc FROM {MIGRATION_TABLE}")
            return {mid: str(at) for mid, at in cur.fetchall()}


def _database_exists(dsn: DSN) -> bool:
    with connection(dsn, database=False) as conn:
        return database_exists(conn, dsn.database)


def status(dsn: DSN, project: Project) -> dict[str, Any]:
    """Read-only: which migrations are applied (and when), which objects would change."""
    migrations = load_migrations(project)
    objects = repeatable.load_objects(project)
    exists = _database_exists(dsn)
    applied = _applied_at(dsn) if exists else {}
    rows = [
        {"id": m.id, "applied": m.id in applied, "applied_at_utc": applied.get(m.id)}
        for m in migrations
    ]
    changes: list[dict[str, str]] = []
    if exists:
        with connection(dsn) as conn:
            changes = [c.as_dict() for c in repeatable.plan_changes(conn, objects)]
    else:
        changes = [
            {"action": "create", "kind": o.kind, "name": o.name, "reason": "new"} for o in objects
        ]
    unknown = sorted(set(applied) - {m.id for m in migrations})
    return {
        "database": dsn.database,
        "database_exists": exists,
        "migrations": rows,
        "pending": [r["id"] for r in rows if not r["applied"]],
        "applied_unknown": unknown,
        "objects": [{"kind": o.kind, "name": o.name, "path": str(o.path)} for o in objects],
        "object_changes": changes,
    }


def plan(dsn: DSN, project: Project, *, to: str | None = None) -> dict[str, Any]:
    """What ``up`` would run, with each pending migration's SQL; runs nothing."""
    migrations = load_migrations(project)
    wanted = _through(migrations, to)
    st = status(dsn, project)
    pending = [m for m in migrations if m.id in st["pending"] and m.id in wanted]
    steps = [
        {"id": m.id, "path": m.path, "sql": Path(m.path).read_text(encoding="utf-8")}
        for m in pending
    ]
    at_head = len(pending) == len(st["pending"])
    return {
        "database": st["database"],
        "create_database": not st["database_exists"],
        "migrations": steps,
        "object_changes": st["object_changes"] if at_head else [],
    }


def break_lock(dsn: DSN) -> None:
    """Remove a stale yoyo lock left by a killed ``migrate`` run."""
    backend = _open_backend(dsn)
    try:
        backend.break_lock()
    finally:
        backend.connection.close()


__all__ = ["MigrateResult", "break_lock", "down", "plan", "real_error", "status", "up"]
