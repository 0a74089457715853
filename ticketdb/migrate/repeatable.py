"""Repeatable objects (Flyway's R__ idea): procedures/, triggers/, events/, one object per file.

Each file holds one CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT (DELIMITER blocks allowed) whose name
is the file name. ``migrate up`` re-creates an object when its file's checksum differs from the one
recorded in ``ticketdb_repeatable`` or when the object is missing on the server; an object whose
file was deleted is dropped. A failed re-create restores the previous definition, so a typo in a
procedure never leaves the server without it.

Re-creating a trigger is a DROP and a CREATE with a gap between them: a row written in the gap
skips the trigger (no status change, no sequence number), and on Galera the two statements
replicate as two TOI operations between which other nodes keep writing — measured: triggers lost
or half-read on other nodes ("Trigger … has an error in its body"), nodes left with different
triggers, and one node's memory growing until the OOM killer took it. So a trigger that already
exists is swapped under ``LOCK TABLES <its table> WRITE`` (which also locks every table its
triggers write: writers queue for the milliseconds of the swap instead of slipping through),
and on Galera, where table locks are node-local, it is refused unless the caller says writes to
those tables are stopped on every node (``writes_stopped``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import quote_ident, sql_error
from ticketdb.errors import SqlError, TicketdbError
from ticketdb.project import Project, read_sql_file
from ticketdb.server import galera
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


_TRIGGER_TABLE = re.compile(
    r"\bON\s+((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)\s+FOR\s+EACH\s+ROW\b", re.I
)


def _swap_tables(conn: Any, change: Change) -> list[str]:
    """The tables (quoted) to hold while an existing trigger is swapped: the one it is on now
    and the one its new definition names; empty when nothing needs a swap (not a trigger, or
    no trigger of that name on the server yet)."""
    if change.kind != "TRIGGER" or change.action != "replace" or change.obj is None:
        return []
    now_on = catalog.trigger_table(conn, change.name)
    if now_on is None:
        return []
    tables = [quote_ident(now_on)]
    m = _TRIGGER_TABLE.search(change.obj.create_sql)
    if m:
        named = quote_ident(m.group(1).split(".")[-1].strip().strip("`"))
        if named != tables[0]:
            tables.append(named)
    return tables


def live_trigger_swaps(conn: Any, changes: list[Change]) -> list[str]:
    """``trigger on table`` for each change that re-creates a trigger that exists now."""
    out = []
    for change in changes:
        tables = _swap_tables(conn, change)
        if tables:
            out.append(f"{change.name} on {tables[0]}")
    return out


def refuse_live_swaps_on_galera(conn: Any, changes: list[Change], writes_stopped: bool) -> None:
    """On Galera a trigger swap is two TOI statements with other nodes writing between them:
    refuse before changing anything unless the caller stopped the writes."""
    if writes_stopped or not galera.is_galera(conn):
        return
    swaps = live_trigger_swaps(conn, changes)
    if swaps:
        raise TicketdbError(
            f"re-creating {len(swaps)} existing trigger(s) ({', '.join(swaps)}) on a Galera "
            "cluster: DROP and CREATE replicate separately and other nodes' writes between them "
            "skip the trigger or read it half-written. Stop writes to those tables on every "
            "node, then run again with --writes-stopped; nothing was changed"
        )


@contextmanager
def _table_locks(conn: Any, tables: list[str]) -> Iterator[None]:
    if not tables:
        yield
        return
    with conn.cursor() as cur:
        cur.execute("LOCK TABLES " + ", ".join(f"{t} WRITE" for t in tables))
    try:
        yield
    finally:
        with conn.cursor() as cur:
            cur.execute("UNLOCK TABLES")


def replaced(changes: list[Change]) -> set[str]:
    """Routines dropped and created again: the server revoked every grant on them."""
    routines = ("PROCEDURE", "FUNCTION")
    return {c.name for c in changes if c.action == "replace" and c.kind in routines}


def apply_changes(
    conn: Any, changes: list[Change], *, writes_stopped: bool = False
) -> list[Change]:
    """Apply in order; a failed CREATE puts the old definition back and raises the error.
    An existing trigger is swapped under LOCK TABLES (refused on Galera unless
    ``writes_stopped``: see the module docstring)."""
    refuse_live_swaps_on_galera(conn, changes, writes_stopped)
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
            with _table_locks(conn, _swap_tables(conn, change)):
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
