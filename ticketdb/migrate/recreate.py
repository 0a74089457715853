"""Repeatable objects around a rollback: dropped before it, re-created right after when they still
compile against the rolled-back schema, listed (and left for ``doctor`` to fail on) when not.

Procedures, triggers and events are written against the head schema, so a rollback drops them all
first (a trigger must not fire on a rollback's own DELETE, and a dropped column would leave it
broken). Leaving them all dropped until the next ``up`` switched the ticket state machine off, so
every object that was on the server before the rollback is put back at once when

* the linter finds no table, column or row reference of its body missing from the schema the
  still-applied migrations make (the server binds a routine's tables only when it runs, so its
  CREATE succeeding proves nothing: the linter's schema model does, as in ``ticketdb lint``),
* it uses no routine that could not be put back, and
* the server accepts its CREATE (a trigger on a dropped table does not).

The others keep their row in ``ticketdb_repeatable``: ``migrate up`` to head re-creates them
("missing on server") and ``ticketdb doctor`` fails while any is missing.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketdb import catalog
from ticketdb.db import quote_ident
from ticketdb.errors import SqlError
from ticketdb.migrate import repeatable
from ticketdb.migrate.repeatable import TRACK_TABLE, Change, RepeatableObject
from ticketdb.project import REPEATABLE_DIRS, Project

#: lint findings that mean "does not compile against this schema"
UNRESOLVED = frozenset({"TDB000", "TDB001", "TDB002", "TDB018", "TDB019"})


@dataclass(frozen=True)
class Missing:
    kind: str
    name: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "reason": self.reason}


def drop_for_rollback(conn: Any, objects: Sequence[RepeatableObject]) -> list[tuple[str, str]]:
    """Drop every repeatable object on the server (tracked or defined by a file); their
    tracking rows stay, so those that cannot come back are known to be missing."""
    repeatable.ensure_track_table(conn)
    present = repeatable.server_objects(conn)
    keys = set(repeatable.tracked(conn)) | {o.key for o in objects}
    by_key = {o.key: o for o in objects}
    dropped = []
    with conn.cursor() as cur:
        for kind, name in sorted(keys):
            if (kind, name) not in present:
                continue
            cur.execute(f"DROP {kind} IF EXISTS {quote_ident(name)}")
            dropped.append((kind, name))
            obj = by_key.get((kind, name))
            if obj is None:  # its file is gone: nothing to put back, nothing missing
                cur.execute(
                    f"DELETE FROM {TRACK_TABLE} WHERE kind = %s AND name = %s", (kind, name)
                )
            else:  # tracked, or present but untracked (a baselined database): tracked now
                cur.execute(
                    f"INSERT IGNORE INTO {TRACK_TABLE} (kind, name, checksum, path) "
                    "VALUES (%s, %s, %s, %s)",
                    (kind, name, "", f"{obj.path.parent.name}/{obj.path.name}"),
                )
    return dropped


def unresolved(
    project: Project, applied: Iterable[str], objects: Sequence[RepeatableObject]
) -> dict[tuple[str, str], str]:
    """Objects whose body names a table/column the applied migrations do not make: the linter
    run on a copy of the project holding only those migrations. key → first finding."""
    from ticketdb.lint.engine import lint  # sqlglot: only when a rollback needs it

    root = Path(tempfile.mkdtemp(prefix="ticketdb-rollback-"))
    try:
        (root / "migrations").mkdir()
        keep = set(applied)
        for path in project.migrations.iterdir():
            stem = path.name.rsplit(".", 1)[0]
            if path.suffix in (".sql", ".py") and stem in keep:
                shutil.copy2(path, root / "migrations" / path.name)
        copies: dict[Path, tuple[str, str]] = {}
        for d in REPEATABLE_DIRS:
            (root / d).mkdir()
        for obj in objects:
            copy = root / obj.path.parent.name / obj.path.name
            if obj.path.parent.name in REPEATABLE_DIRS:
                shutil.copy2(obj.path, copy)
                copies[copy.resolve()] = obj.key
        result = lint(Project(root.resolve()), sorted(copies))
        out: dict[tuple[str, str], str] = {}
        for f in result.findings:
            key = copies.get(Path(f.path).resolve()) or copies.get((root / f.path).resolve())
            if key and f.code in UNRESOLVED and key not in out:
                out[key] = f"{f.code} {f.message}"
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _uses(obj: RepeatableObject, routine: str) -> bool:
    word = rf"(?<![\w$`]){re.escape(routine)}(?![\w$`])"
    return re.search(word, obj.create_sql, re.IGNORECASE) is not None


def after_rollback(
    conn: Any,
    project: Project,
    objects: Sequence[RepeatableObject],
    wanted: set[tuple[str, str]],
    applied: Iterable[str],
) -> tuple[list[Change], list[Missing]]:
    """Re-create the ``wanted`` objects (those present before the rollback) that compile
    against the schema now; return what was created and what is missing, with why."""
    chosen = [o for o in objects if o.key in wanted]
    if not chosen:
        return [], []
    reasons = unresolved(project, applied, chosen)
    gone = set(reasons)
    changed = True
    while changed:  # an object calling a routine that cannot come back cannot either
        changed = False
        for o in chosen:
            if o.key in gone:
                continue
            for kind, name in sorted(gone):
                if kind in ("PROCEDURE", "FUNCTION") and _uses(o, name):
                    reasons[o.key] = f"uses {kind.lower()} {name}, which is not re-created"
                    gone.add(o.key)
                    changed = True
                    break
    created: list[Change] = []
    missing: list[Missing] = []
    for o in chosen:
        if o.key in gone:
            missing.append(Missing(o.kind, o.name, reasons[o.key]))
            continue
        change = Change("create", o.kind, o.name, "after rollback", o)
        try:
            created.extend(repeatable.apply_changes(conn, [change]))
        except SqlError as exc:
            missing.append(Missing(o.kind, o.name, f"the server refused it: {exc}"))
    return created, missing


def missing_on_server(conn: Any) -> list[tuple[str, str]]:
    """Tracked objects the server does not have (rolled back past what they need, or dropped
    by hand): what ``doctor`` fails on and ``migrate up`` to head re-creates."""
    if not catalog.table_exists(conn, TRACK_TABLE):
        return []
    present = repeatable.server_objects(conn)
    return sorted(k for k in repeatable.tracked(conn) if k not in present)
