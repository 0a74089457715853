"""Repeatable objects (Flyway's R__ idea): procedures/, triggers/, events/, one object per file.

Each file holds one CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT (DELIMITER blocks allowed) whose name
is the file name. ``migrate up`` re-creates an object when its file's checksum differs from the one
recorded in ``ticketdb_repeatable`` or when the object is missing on the server; an object whose
file was deleted is dropped. A failed re-create restores the previous definition, so a typo in a
procedure never leaves the server without it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import quote_ident, sql_error
from ticketdb.errors import SqlError, TicketdbError
from ticketdb.project import Project, read_sql_file
from ticketdb.sqlscript import SplitError, Statement, create_header, split

TRACK_TABLE = "ticketdb_repeatable"
_DIR_KINDS = {
    "procedures": {"PROCEDURE", "FUNCTION"},
    "triggers": {"TRIGGER"},
    "events": {"EVENT"},
}


@dataclass(frozen=True)
class RepeatableObject:
    kind: str
    name: str
    path: Path
    checksum: str
    statements: tuple[Statement, ...] = field(repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    @property
    def create_sql(self) -> str:
        return next(s.text for s in self.statements if create_header(s.text))


@dataclass(frozen=True)
class Change:
    action: str  # create | replace | drop
    kind: str
    name: str
    reason: str
    obj: RepeatableObject | None = None

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "kind": self.kind, "name": self.name, "reason": self.reason}


def checksum(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def load_file(path: Path, allowed_kinds: set[str] | None = None) -> RepeatableObject:
    """Read one object file: one CREATE (plus an optional DROP of itself), nothing else."""
    text = read_sql_file(path)
    try:
        statements = split(text)
    except SplitError as exc:
        raise TicketdbError(f"{path}:{exc.line}:{exc.col}: {exc}") from None
    creates = [(s, h) for s in statements if (h := create_header(s.text))]
    if len(creates) != 1:
        raise TicketdbError(
            f"{path}: expected exactly one CREATE of a procedure/function/trigger/event, "
            f"found {len(creates)}"
        )
    stmt, header = creates[0]
    if allowed_kinds and header.kind not in allowed_kinds:
        raise TicketdbError(
            f"{path}:{stmt.line}: a {header.kind} does not belong in {path.parent.name}/ "
            f"(expected {' or '.join(sorted(allowed_kinds))})"
        )
    if header.name != path.stem:
        raise TicketdbError(
            f"{path}:{stmt.line}: file defines {header.kind} {header.name!r}; "
            f"the file name must be the object name ({header.name}.sql)"
        )
    for s in statements:
        if s is stmt:
            continue
        words = s.first_words(5)
        if words[:1] != ["DROP"] or header.kind not in words:
            raise TicketdbError(
                f"{path}:{s.line}: only the CREATE (and a DROP … IF EXISTS of the same object) "
                "may be in a repeatable object file; one object per file"
            )
    return RepeatableObject(header.kind, header.name, path, checksum(text), tuple(statements))


def load_objects(project: Project) -> list[RepeatableObject]:
    objects: list[RepeatableObject] = []
    seen: dict[tuple[str, str], Path] = {}
    for folder in project.repeatable_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.sql")):
            obj = load_file(path, _DIR_KINDS.get(folder.name))
            if obj.key in seen:
                raise TicketdbError(
                    f"{path}: {obj.kind} {obj.name} is also defined in {seen[obj.key]}"
                )
            seen[obj.key] = path
            objects.append(obj)
    return objects


def ensure_track_table(conn: Any) -> None:
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {TRACK_TABLE} ("
            " kind VARCHAR(16) NOT NULL,"
            " name VARCHAR(64) NOT NULL,"
            " checksum CHAR(64) NOT NULL,"
            " path VARCHAR(255) NOT NULL,"
            " applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
            " PRIMARY KEY (kind, name)"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        )


def tracked(conn: Any) -> dict[tuple[str, str], str]:
    if not catalog.table_exists(conn, TRACK_TABLE):
        return {}
    recorded = catalog.rows(conn, f"SELECT kind, name, checksum FROM {TRACK_TABLE}")
    return {(kind, name): checksum for kind, name, checksum in recorded}


def server_objects(conn: Any) -> set[tuple[str, str]]:
    """Routines, triggers and events that exist in the current database."""
    return set(catalog.objects(conn))


def plan_changes(conn: Any, objects: list[RepeatableObject]) -> list[Change]:
    recorded = tracked(conn)
    present = server_objects(conn)
    changes: list[Change] = []
    for obj in objects:
        old = recorded.get(obj.key)
        if obj.key not in present:
            reason = "new" if old is None else "missing on server"
            changes.append(Change("create", obj.kind, obj.name, reason, obj))
        elif old is None:
            changes.append(Change("replace", obj.kind, obj.name, "not tracked yet", obj))
        elif old != obj.checksum:
            changes.append(Change("replace", obj.kind, obj.name, "file changed", obj))
    wanted = {o.key for o in objects}
    for kind, name in sorted(recorded):
        if (kind, name) not in wanted:
            changes.append(Change("drop", kind, name, "file removed"))
    return changes


def _drop_sql(kind: str, name: str) -> str:
    return f"DROP {kind} IF EXISTS {quote_ident(name)}"


def _show_create(conn: Any, kind: str, name: str) -> str | None:
    try:
        return catalog.show_create(conn, kind, name)
    except pymysql.err.MySQLError:
        return None


def apply_changes(conn: Any, changes: list[Change]) -> list[Change]:
    """Apply in order; a failed CREATE puts the old definition back and raises the error."""
    ensure_track_table(conn)
    done: list[Change] = []
    for change in changes:
        with conn.cursor() as cur:
            if change.action == "drop":
                cur.execute(_drop_sql(change.kind, change.name))
                cur.execute(
                    f"DELETE FROM {TRACK_TABLE} WHERE kind=%s AND name=%s",
                    (change.kind, change.name),
                )
                done.append(change)
                continue
            obj = change.obj
            assert obj is not None
            previous = (
                _show_create(conn, obj.kind, obj.name) if change.action == "replace" else None
            )
            cur.execute(_drop_sql(obj.kind, obj.name))
            try:
                cur.execute(obj.create_sql)
            except pymysql.err.MySQLError as exc:
                err = sql_error(exc, where=f"{obj.path.name}")
                if previous:
                    try:
                        cur.execute(previous)
                        err = SqlError(f"{err} — previous definition restored", None)
                    except pymysql.err.MySQLError:
                        pass
                raise err from None
            cur.execute(
                f"REPLACE INTO {TRACK_TABLE} (kind, name, checksum, path) VALUES (%s, %s, %s, %s)",
                (obj.kind, obj.name, obj.checksum, f"{obj.path.parent.name}/{obj.path.name}"),
            )
        done.append(change)
    return done


def drop_all(conn: Any, objects: list[RepeatableObject]) -> list[tuple[str, str]]:
    """Drop every repeatable object (tracked or defined by a file); they follow the head schema."""
    keys = set(tracked(conn)) | {o.key for o in objects}
    present = server_objects(conn)
    dropped = []
    with conn.cursor() as cur:
        for kind, name in sorted(keys):
            if (kind, name) in present:
                cur.execute(_drop_sql(kind, name))
                dropped.append((kind, name))
        cur.execute(f"DROP TABLE IF EXISTS {TRACK_TABLE}")
    return dropped

