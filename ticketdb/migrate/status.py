"""What ``migrate status`` and ``migrate plan`` show: read-only views of a database's migrations,
repeatable objects and interrupted runs (a step journal row, a stopped online copy), taking no
lock, so a CI log can show them while another run holds the migrate lease."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yoyo.migrations import MigrationList

from ticketdb.catalog import database_exists, table_exists
from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.locks import live_holder
from ticketdb.migrate import checksums, repeatable
from ticketdb.migrate import progress as journal
from ticketdb.migrate.online import journal as online_journal
from ticketdb.migrate.progress import MIGRATION_TABLE
from ticketdb.migrate.runner import load_migrations, migrations_through
from ticketdb.project import Project, read_sql_file


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


def _verify_checksums(dsn: DSN, migrations: MigrationList) -> checksums.Verification:
    """Read-only: a mismatch refuses (exit 1); unrecorded ones wait for the next locked run."""
    with connection(dsn) as conn:
        found = checksums.verify(conn, migrations)
    checksums.refuse(found)
    return found


def status(dsn: DSN, project: Project) -> dict[str, Any]:
    """Read-only: which migrations are applied (and when), which objects would change; refuses
    (before anything else) when an applied migration's files changed since it was applied."""
    migrations = load_migrations(project)
    objects = repeatable.load_objects(project)
    exists = _database_exists(dsn)
    sums = _verify_checksums(dsn, migrations) if exists else None
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
    interrupted, copies, running = _interrupted(dsn) if exists else ([], [], None)
    return {
        "interrupted": interrupted,
        "online_copies": copies,
        "running": running,
        "database": dsn.database,
        "database_exists": exists,
        "migrations": rows,
        "pending": [r["id"] for r in rows if not r["applied"]],
        "applied_unknown": unknown,
        "checksums": (sums or checksums.Verification([], [], 0)).as_dict(),
        "objects": [{"kind": o.kind, "name": o.name, "path": str(o.path)} for o in objects],
        "object_changes": changes,
    }


def plan(dsn: DSN, project: Project, *, to: str | None = None) -> dict[str, Any]:
    """What ``up`` would run, with each pending migration's SQL; runs nothing."""
    migrations = load_migrations(project)
    wanted = migrations_through(migrations, to)
    st = status(dsn, project)
    pending = [m for m in migrations if m.id in st["pending"] and m.id in wanted]
    steps = [{"id": m.id, "path": m.path, "sql": read_sql_file(Path(m.path))} for m in pending]
    at_head = len(pending) == len(st["pending"])
    return {
        "database": st["database"],
        "create_database": not st["database_exists"],
        "migrations": steps,
        "object_changes": st["object_changes"] if at_head else [],
    }


def _interrupted(dsn: DSN) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """The step journal's rows, the online copies' rows (ticketdb.migrate.online.journal), and
    who runs ``migrate`` right now (then the rows may be its work in progress, not a kill's)."""
    with connection(dsn) as conn:
        steps = []
        if table_exists(conn, journal.PROGRESS_TABLE):
            steps = [row.as_dict() for row in journal.read_interrupted(conn)]
        copies = [c.as_dict() for c in online_journal.read(conn)]
        running = live_holder(conn, "migrate", dsn.database) if steps or copies else None
        return steps, copies, running
