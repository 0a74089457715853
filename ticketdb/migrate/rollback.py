"""``migrate down`` and ``migrate plan --down``: rollbacks that say what they will do first.

``plan --down`` prints the rollback SQL (yoyo's steps, in the order they run) without running it.
``down`` works out the same plan under the migrate lock: the migrations it undoes, and the tables
and columns their rollback statements drop (or truncate) with the rows they hold now. A table or
column holding rows is refused unless the caller allows data loss (``--allow-data-loss``); the
CLI also asks for confirmation on a terminal (``--yes`` without one), passing the migration ids it
showed as ``expect`` so that a plan that changed meanwhile (another run) is refused, not run.

Repeatable objects are dropped before the rollback and the ones that still compile are re-created
right after it (:mod:`recreate`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import sqlglot
from sqlglot import exp
from yoyo.migrations import Migration, MigrationList, StepGroup

from ticketdb import catalog
from ticketdb.db import connection, quote_ident
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.migrate import checksums, recreate, repeatable
from ticketdb.migrate import progress as journal
from ticketdb.migrate.online import route as online_route
from ticketdb.migrate.runner import (
    MigrateResult,
    Progress,
    _check_to,
    _locked,
    load_migrations,
    resolve_id,
)
from ticketdb.project import Project
from ticketdb.server import galera
from ticketdb.sqlscript import SplitError, split


@dataclass(frozen=True)
class Drop:
    """A table or column a rollback statement removes (or a table it empties)."""

    migration: str
    action: str  # drop table | drop column | truncate table
    table: str
    column: str | None
    rows: int | None  # None: not on the server now (nothing to lose)

    def describe(self) -> str:
        what = f"{self.table}.{self.column}" if self.column else self.table
        held = "not on the server" if self.rows is None else f"{self.rows} row(s)"
        return f"{self.action} {what} ({held})"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DownPlan:
    database: str
    migrations: list[dict[str, Any]] = field(default_factory=list)  # id, path, sql, python
    drops: list[Drop] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)  # dropped, and re-created if they compile

    @property
    def ids(self) -> list[str]:
        return [m["id"] for m in self.migrations]

    @property
    def data_loss(self) -> list[Drop]:
        return [d for d in self.drops if d.rows]

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "direction": "down",
            "migrations": self.migrations,
            "drops": [d.as_dict() for d in self.drops],
            "data_loss": [d.as_dict() for d in self.data_loss],
            "objects": self.objects,
        }


def _leaves(step: Any) -> list[Any]:
    """yoyo's steps (wrapped, grouped) flattened, in the order their rollbacks run."""
    inner = getattr(step, "step", step)
    if isinstance(inner, StepGroup):
        return [leaf for s in reversed(inner.steps) for leaf in _leaves(s)]
    return [inner]


def rollback_statements(m: Migration) -> tuple[list[str], list[str]]:
    """The SQL a rollback of ``m`` runs, in order, and notes on Python rollback functions."""
    m.load()
    sql: list[str] = []
    notes: list[str] = []
    for step in reversed(list(m.steps or [])):
        for leaf in _leaves(step):
            undo = getattr(leaf, "_rollback", None)
            if isinstance(undo, str):
                sql.append(undo.strip().rstrip(";"))
            elif undo is not None:
                name = getattr(undo, "__name__", repr(undo))
                label = "a lambda" if name == "<lambda>" else f"{name}()"
                notes.append(f"Python step ({label}) in {Path(m.path).name}")
    return sql, notes


def _targets(statement: str) -> list[tuple[str, str, str | None]]:
    """(action, table, column) of what one statement drops or empties."""
    try:
        tree = sqlglot.parse_one(statement, read="mysql")
    except sqlglot.errors.SqlglotError:
        return []
    out: list[tuple[str, str, str | None]] = []
    if isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
        tables = tree.args.get("tables") or [tree.this]
        out += [("drop table", t.name, None) for t in tables if isinstance(t, exp.Table)]
    elif isinstance(tree, exp.TruncateTable):
        out += [("truncate table", t.name, None) for t in tree.expressions]
    elif isinstance(tree, exp.Alter) and isinstance(tree.this, exp.Table):
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.Drop) and (action.args.get("kind") or "") == "COLUMN":
                cols = action.args.get("tables") or [action.this]
                out += [("drop column", tree.this.name, c.name) for c in cols if c is not None]
    return out


def _rows(conn: Any, table: str, column: str | None) -> int | None:
    """Rows of the table (non-NULL values of the column); None when it does not exist."""
    what = f"COUNT({quote_ident(column)})" if column else "COUNT(*)"
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT {what} FROM {quote_ident(table)}")
            return int(catalog.as_tuple(cur.fetchone())[0])
    except pymysql.err.MySQLError as exc:
        if exc.args and exc.args[0] in (1054, 1146):  # unknown column / table
            return None
        raise


def plan_of(conn: Any, database: str, chosen: Sequence[Migration], objects: list[str]) -> DownPlan:
    plan = DownPlan(database, objects=objects)
    for m in chosen:
        sql, notes = rollback_statements(m)
        plan.migrations.append(
            {
                "id": m.id,
                "path": m.path,
                "sql": ";\n".join(sql) + (";" if sql else ""),
                "python": notes,
            }  # fmt: skip
        )
        for statement in sql:
            try:
                parts = [s.text for s in split(statement)]
            except SplitError:
                parts = [statement]
            for part in parts:
                for action, table, column in _targets(part):
                    plan.drops.append(Drop(m.id, action, table, column, _rows(conn, table, column)))
    return plan


def _choose(
    migrations: MigrationList, applied: list[Migration], to: str | None, all_: bool
) -> list[Migration]:
    """Newest first: the last one, everything after ``to``, or everything."""
    if to is not None and all_:
        raise UsageError("use either --to or --all, not both")
    if to is not None:
        target = resolve_id(migrations, to)
        if target not in applied:
            raise UsageError(f"migration {target.id} is not applied; nothing to roll back to")
        return applied[: applied.index(target)]
    return applied if all_ else applied[:1]


def _object_names(conn: Any, objects: list[repeatable.RepeatableObject]) -> list[str]:
    present = repeatable.server_objects(conn)
    return [f"{k.lower()} {n}" for k, n in sorted(present & {o.key for o in objects})]


def plan_down(dsn: DSN, project: Project, *, to: str | None = None, all_: bool = False) -> DownPlan:
    """Read-only: what ``down`` (with the same ``to``/``all_``) would undo and drop."""
    _check_to(to)
    migrations = load_migrations(project)
    objects = repeatable.load_objects(project)
    with connection(dsn, database=False) as c:
        if not catalog.database_exists(c, dsn.database):
            return DownPlan(dsn.database)
    with connection(dsn) as conn:
        checksums.refuse(checksums.verify(conn, migrations))
        if catalog.table_exists(conn, journal.PROGRESS_TABLE):
            for row in journal.read_interrupted(conn):
                raise TicketdbError(f"{row.describe()}; {journal.REPAIR_HINT}")
        applied_ids = set(checksums.applied_at(conn))
        applied = [m for m in reversed(list(migrations)) if m.id in applied_ids]
        chosen = _choose(migrations, applied, to, all_)
        names = _object_names(conn, objects) if chosen else []
        return plan_of(conn, dsn.database, chosen, names)


def refuse_data_loss(plan: DownPlan) -> None:
    if plan.data_loss:
        lost = "; ".join(d.describe() for d in plan.data_loss)
        raise TicketdbError(
            f"rolling back would drop data: {lost}. Nothing was done; run again with "
            "--allow-data-loss to drop it (back it up first)"
        )


def down(
    dsn: DSN,
    project: Project,
    *,
    to: str | None = None,
    all_: bool = False,
    allow_data_loss: bool = False,
    expect: Sequence[str] | None = None,
    lock_timeout: float = 120,
    progress: Progress | None = None,
    allow_blocking: bool = False,
) -> MigrateResult:
    """Roll back the last migration, everything after ``to``, or everything (``all_``).

    Refused (nothing done) when it would drop a table or column holding rows, unless
    ``allow_data_loss``; or when ``expect`` (the ids a preview showed) is not what it would
    undo now. Repeatable objects are dropped first; those that still compile are re-created.
    Each ALTER of an existing table runs by its path, as in ``up`` (an online copy for a
    blocking one on a big table; refused before any change where that is not possible,
    unless ``allow_blocking``)."""
    say = progress or (lambda _msg: None)
    _check_to(to)
    if to is not None and all_:
        raise UsageError("use either --to or --all, not both")
    migrations = load_migrations(project)
    objects = repeatable.load_objects(project)
    result = MigrateResult()
    with _locked(dsn, lock_timeout, say) as (backend, job):
        checksums.check(backend.connection, migrations, say)
        journal.refuse_if_interrupted(backend)
        chosen = _choose(migrations, list(backend.to_rollback(migrations)), to, all_)
        if expect is not None and {m.id for m in chosen} != set(expect):
            now = ", ".join(m.id for m in chosen) or "nothing"
            raise TicketdbError(
                f"the rollback changed since it was shown (now: {now}); nothing was done: "
                "run it again"
            )
        if not chosen:
            return result
        with connection(dsn) as conn:
            plan = plan_of(conn, dsn.database, chosen, [])
            if not allow_data_loss:
                refuse_data_loss(plan)
        online_route.preflight(dsn, project, chosen, allow_blocking, direction="rollback")
        execute = online_route.Executor(dsn, project, allow_blocking, say, job.check)
        with connection(dsn) as conn:
            present = repeatable.server_objects(conn)
            for kind, name in recreate.drop_for_rollback(conn, objects):
                result.objects.append(
                    {"action": "drop", "kind": kind, "name": name, "reason": "rollback"}
                )
                say(f"drop {kind.lower()} {name}")
        for m in chosen:
            started = time.perf_counter()
            journal.run(backend, m, "rollback", say, execute, execute.undoing())
            result.rolled_back.append(m.id)
            say(f"rolled back {m.id} ({time.perf_counter() - started:.2f}s)")
        hashes = set(backend.get_applied_migration_hashes())
        backend.commit()
        still = [m.id for m in migrations if m.hash in hashes]
        with connection(dsn) as conn:
            created, missing = recreate.after_rollback(conn, project, objects, present, still)
        for change in created:
            result.objects.append(change.as_dict())
            say(f"re-created {change.kind.lower()} {change.name} (compiles against the schema now)")
        result.missing_objects = [m.as_dict() for m in missing]
        for m in missing:
            say(f"not re-created: {m.kind.lower()} {m.name}: {m.reason}")
        if missing:
            say(
                f"{len(missing)} repeatable object(s) stay missing (`ticketdb doctor` fails) "
                "until `ticketdb migrate up` to head re-creates them"
            )
        if created:
            for node, names in galera.enable_events_everywhere(dsn).items():
                if names:
                    say(f"enabled {len(names)} event(s) on {node} (Galera: one runner per period)")
    return result
