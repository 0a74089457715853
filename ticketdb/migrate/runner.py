"""``migrate up|down|status|plan`` on top of yoyo's library API (never its CLI).

Everything that decides what to run happens inside yoyo's lock: computing the pending list before
taking the lock is how two concurrent runs apply the same migration twice.
"""

from __future__ import annotations

import logging
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
from yoyo.exceptions import BadMigration, LockTimeout
from yoyo.migrations import Migration, MigrationList
from yoyo.topologicalsort import CycleError, topological_sort

from ticketdb.catalog import largest_table_rows, table_exists
from ticketdb.db import (
    CLEANUP_TIMEOUT,
    Watchdog,
    close_quietly,
    connect,
    connection,
    read_timeout,
    size_timeout,
    sql_error,
)
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.grants import granted_routines
from ticketdb.locks import JobLock, LockBusy
from ticketdb.migrate import checksums, ledger, locksalt, repeatable, reportsql
from ticketdb.migrate import progress as journal
from ticketdb.migrate.online import repair as online_repair
from ticketdb.migrate.online import route as online_route
from ticketdb.migrate.progress import MIGRATION_TABLE, real_error
from ticketdb.project import Project, check_migration_files
from ticketdb.server import galera, galera_checks
from ticketdb.server.databases import ensure_database

Progress = Callable[[str], None]
#: the shortest read timeout of a migration's connection (DDL on a loaded disk can be slow)
MIGRATE_READ_TIMEOUT = 600.0


class _StrictMySQLBackend(MySQLBackend):
    """yoyo's MySQL backend with our session settings (strict sql_mode) on every connection."""

    def __init__(self, dsn: DSN) -> None:
        # Our DSN, not yoyo's URI, decides where to connect: yoyo's parser knows neither
        # multi-host DSNs nor every password we accept; its URI only keys yoyo's caches.
        self.dsn = dsn
        super().__init__(parse_uri(dsn.with_host(dsn.host, dsn.port).url()), MIGRATION_TABLE)

    def connect(self, dburi: Any) -> Any:
        """A migration's DDL may copy whole tables or wait on a busy disk: its reads wait as
        long as the largest table suggests (at least ``MIGRATE_READ_TIMEOUT``), and a
        :class:`~ticketdb.db.Watchdog` fails them within ~30 s when the server goes silent."""
        conn = connect(self.dsn, autocommit=False)
        rows = largest_table_rows(conn)
        conn.commit()
        conn._read_timeout = max(MIGRATE_READ_TIMEOUT, size_timeout(rows))
        Watchdog(self.dsn, conn)  # ends with the connection
        return conn

    def __exit__(self, *exc: object) -> None:
        """``with backend.copy() as mb``: a connection a lost server (or a signal) already
        closed must not turn the real error into "Already closed"."""
        close_quietly(self.connection)

    def _delete_lock_row(self, pid: int) -> None:
        """yoyo's clean-up, quick: after a lost server the row stays, and the next run (holding
        the migrate lock) removes it as stale."""
        try:
            with read_timeout(self.connection, 2 * CLEANUP_TIMEOUT):
                super()._delete_lock_row(pid)
        except pymysql.err.Error:
            pass

    def copy(self) -> _StrictMySQLBackend:
        return self.__class__(self.dsn)


def _open_backend(dsn: DSN) -> _StrictMySQLBackend:
    try:
        backend = _StrictMySQLBackend(dsn)
        backend.init_database()
    except pymysql.err.MySQLError as exc:
        raise sql_error(exc, where="opening migration backend") from None
    return backend


@contextmanager
def _locked(
    dsn: DSN, lock_timeout: float, say: Progress | None = None
) -> Iterator[tuple[_StrictMySQLBackend, JobLock]]:
    """The migrate lock: a :class:`~ticketdb.locks.JobLock` (GET_LOCK, gone with its connection
    the moment a killed run's socket closes, plus the heartbeat lease ``migrate.<db>`` once
    migration 0040 exists), then yoyo's lock row (cluster-wide already: its INSERT is
    certified by every Galera node).

    A yoyo row found while we hold the JobLock was left by a dead run when we are on one
    server (the GET_LOCK proves it), or when we took the lease over from a holder that died or
    stopped renewing (every ticketdb migrate holds the lease while its row exists): it is
    removed on the spot. Otherwise, on Galera, its owner may live on another node: we wait.
    """
    say = say or (lambda _msg: None)
    with connection(dsn) as salt_conn:  # the lock names are derived from it: first of all
        locksalt.ensure(salt_conn, dsn.database, wait=lock_timeout)
    backend = _open_backend(dsn)
    conn = backend.connection
    job = JobLock.open(dsn, "migrate", say=say)
    started = time.monotonic()
    try:
        try:
            job.acquire(lock_timeout)
        except LockBusy as exc:
            raise TicketdbError(
                f"another migrate run on {dsn.database} still holds the lock after "
                f"{lock_timeout:g}s: {exc.holder}"
            ) from None
        with conn.cursor() as cur:
            cur.execute(f"SELECT pid, ctime FROM {backend.lock_table}")
            stale = cur.fetchone()
        if stale and not galera.is_galera(conn):
            backend.break_lock()
            say(f"removed a stale migrate lock (pid {stale[0]}, taken {stale[1]}): its run is gone")
        elif stale and job.took_over is not None:
            backend.break_lock()
            say(
                f"removed a stale migrate lock (pid {stale[0]}, taken {stale[1]}): its run's "
                f"lease ({job.took_over.owner}, last renewed {job.took_over.renewed_at} UTC) "
                "was given up by a dead run"
            )
        conn.commit()
        journal.ensure_table(backend)
        checksums.ensure_table(conn)
        remaining = max(lock_timeout - (time.monotonic() - started), 0.5)
        with backend.lock(timeout=remaining):
            yield backend, job
    except LockTimeout as exc:
        raise TicketdbError(
            f"{exc}".replace("yoyo break-lock", "ticketdb migrate break-lock")
        ) from None
    finally:
        try:
            conn.close()
        except pymysql.err.Error:
            pass
        job.close()  # releases the GET_LOCK and the lease


def restore_taken_apart(dsn: DSN, project: Project, conn: Any, say: Progress) -> list[str]:
    """Put back the triggers and indexes a killed seed took apart (:mod:`ledger`), reading
    the repo's index definitions from a scratch database this module migrates."""

    def build(ref: DSN, to: str | None) -> None:
        up(ref, project, to=to)

    return ledger.restore(dsn, project, conn, say, build)


@contextmanager
def _hold_seed_lock(dsn: DSN, timeout: float, say: Progress) -> Iterator[JobLock]:
    """A running seed has dropped triggers and indexes on purpose: re-creating them under its
    load would corrupt it, so ``up`` waits (up to the lock timeout) for a seed running on any
    node and lets none start meanwhile."""
    lock = JobLock.open(dsn, "seed", say=say)  # the seed's own: ticketdb.seed.leftovers
    try:
        lock.acquire(timeout)
    except LockBusy as exc:
        lock.close()
        raise TicketdbError(
            f"a seed is still running on {dsn.database} ({exc.holder}): "
            "run `migrate up` when it has finished"
        ) from None
    except BaseException:
        lock.close()
        raise
    try:
        yield lock
    finally:
        lock.close()


def _check_to(to: str | None) -> None:
    """An unset shell variable gives ``--to ''``: never read it as "everything"."""
    if to is not None and not to.strip():
        raise UsageError("--to needs a migration id (or unique prefix); got an empty value")


def load_migrations(project: Project) -> MigrationList:
    """Every migration, loaded and ordered now: yoyo loads one when first asked for its steps,
    and reports a Python file that does not import, a dependency on a missing migration or a
    dependency cycle with a traceback from wherever that happens; here each is one error."""
    if not project.migrations.is_dir():
        raise UsageError(f"no migrations folder at {project.migrations}")
    check_migration_files(project.migrations)
    migrations = read_migrations(str(project.migrations))
    quiet = logging.getLogger("yoyo.migrations")  # it logs the traceback before raising
    level = quiet.level
    quiet.setLevel(logging.CRITICAL + 1)  # (setLevel: it also clears the loggers' cache)
    m = None
    try:
        for m in migrations:
            m.load()
        ms = list(migrations)
        list(topological_sort(ms, {x: x.depends & set(ms) for x in ms}))  # yoyo's is lazy
    except BadMigration as exc:
        raise TicketdbError(_unloadable(exc, m, migrations)) from None
    except CycleError as exc:
        ids = ", ".join(sorted(x.id for x in exc.args[1]))
        raise TicketdbError(f"migrations that depend on each other in a cycle: {ids} "
                            "(fix their `depends`)") from None  # fmt: skip
    finally:
        quiet.setLevel(level)
    return migrations


def _unloadable(exc: BadMigration, m: Migration | None, migrations: MigrationList) -> str:
    path = m.path if m is not None else exc.args[0]
    if len(exc.args) > 1:  # the exception the module raised at import
        cause = exc.args[1]
        why = (f"{cause.msg} (line {cause.lineno})" if isinstance(cause, SyntaxError)
               else f"{type(cause).__name__}: {cause}")  # fmt: skip
        return f"{path}: cannot load this migration: {why}"
    if m is not None and str(exc.args[0]).startswith("Could not resolve dependencies"):
        wanted = getattr(m.module, "__depends__", None) or ()
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        known = {x.id for x in migrations}
        missing = ", ".join(sorted(str(d) for d in wanted if d not in known)) or "?"
        return f"{path}: depends on {missing}, which is not in {Path(path).parent}"
    return f"{path}: cannot load this migration: {exc.args[0] if exc.args else exc}"


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
    #: after a rollback: repeatable objects that do not compile against the schema now
    missing_objects: list[dict[str, str]] = field(default_factory=list)


def migrations_through(migrations: MigrationList, target: str | None) -> set[str]:
    """Ids of the migrations up to and including ``target`` (id or prefix); all when None."""
    _check_to(target)
    ids = [m.id for m in migrations]
    if target is None:
        return set(ids)
    return set(ids[: ids.index(resolve_id(migrations, target).id) + 1])


def up(
    dsn: DSN,
    project: Project,
    *,
    to: str | None = None,
    lock_timeout: float = 120,
    progress: Progress | None = None,
    writes_stopped: bool = False,
    allow_blocking: bool = False,
) -> MigrateResult:
    """Apply pending migrations (up to ``to``), then repeatable objects when at head.

    Each ALTER of an existing table runs by its path (ticketdb.migrate.online.route: INSTANT,
    INPLACE LOCK=NONE, online copy, small-table direct); ``allow_blocking`` runs blocking ones
    directly on purpose. Refusals are made before the first migration runs.

    ``writes_stopped``: the caller has stopped writes on every node, so existing triggers may be
    re-created on Galera (refused otherwise, before any migration runs; see
    ``repeatable.apply_changes``)."""
    say = progress or (lambda _msg: None)
    _check_to(to)
    migrations = load_migrations(project)
    wanted = migrations_through(migrations, to)
    objects = repeatable.load_objects(project)  # parse errors before touching the server
    reports = reportsql.load(project)
    result = MigrateResult(database_created=ensure_database(dsn))
    with (
        _locked(dsn, lock_timeout, say) as (backend, job),
        _hold_seed_lock(dsn, lock_timeout, say) as seed_lock,
    ):
        checksums.check(backend.connection, migrations, say)
        journal.refuse_if_interrupted(backend)
        pending = [m for m in backend.to_apply(migrations) if m.id in wanted]
        online_route.preflight(dsn, project, pending, allow_blocking)
        execute = online_route.Executor(dsn, project, allow_blocking, say, job.check)
        if not writes_stopped:  # the refusal apply_changes makes, asked before any migration
            with connection(dsn) as conn:
                if table_exists(conn, repeatable.TRACK_TABLE):
                    planned = repeatable.plan_changes(conn, objects)
                    repeatable.refuse_live_swaps_on_galera(conn, planned, writes_stopped)
        for m in pending:
            job.check()  # the lease was renewed: no other run can have taken over
            started = time.perf_counter()
            journal.run(backend, m, "apply", say, execute, execute.undoing())
            for lock in (job, seed_lock):  # 0040 just created the lease table: hold it too
                lock.ensure_lease()
            result.applied.append(m.id)
            say(f"applied {m.id} ({time.perf_counter() - started:.2f}s)")
        result.at_head = not list(backend.to_apply(migrations))
        if result.at_head:
            with connection(dsn) as conn:
                changes = repeatable.plan_changes(conn, objects)
                applied = repeatable.apply_changes(conn, changes, writes_stopped=writes_stopped)
                applied += reportsql.sync(conn, reports)  # report_run's statements (0046)
                for change in applied:
                    result.objects.append(change.as_dict())
                    say(f"{change.action} {change.kind.lower()} {change.name} ({change.reason})")
                regrant = sorted(granted_routines(project.root) & repeatable.replaced(applied))
                if regrant:
                    say(f"re-created {', '.join(regrant)}: the server dropped the EXECUTE grants "
                        "on them; run `ticketdb grants apply` again")  # fmt: skip
                for what in restore_taken_apart(dsn, project, conn, say):
                    say(f"restored {what} taken apart by an interrupted seed")
            for lock in (job, seed_lock):  # the lease procedures exist now (first run)
                lock.ensure_lease()
            # Galera: events (re)created here are SLAVESIDE_DISABLED on the other nodes
            for node, names in galera.enable_events_everywhere(dsn).items():
                if names:
                    say(f"enabled {len(names)} event(s) on {node} (Galera: one runner per period)")
        elif objects:
            say("not at head: repeatable objects are applied once every migration is")
        diverged = galera_checks.schema_divergence(dsn)  # Galera only; [] elsewhere
        if diverged:
            done = ", ".join(result.applied) or "no migration"
            raise TicketdbError(
                f"applied and recorded ({done}), but the nodes do not hold the same schema: "
                f"{'; '.join(diverged)} — {galera_checks.DIVERGED}"
            )
    return result


def repair(
    dsn: DSN,
    project: Project,
    *,
    undo: bool = False,
    accept_checksums: list[str] | None = None,
    lock_timeout: float = 120,
    progress: Progress | None = None,
) -> list[str]:
    """Finish (or undo) a migration whose run was killed between its steps and its record.

    ``accept_checksums`` (a list, empty for all): record the current checksums of applied
    migrations whose files changed instead (see :mod:`checksums`)."""
    say = progress or (lambda _msg: None)
    migrations = load_migrations(project)
    with _locked(dsn, lock_timeout, say) as (backend, job):
        if accept_checksums is not None:
            wanted = [resolve_id(migrations, i).id if _is_file_id(migrations, i) else i
                      for i in accept_checksums]  # fmt: skip
            return checksums.accept(backend.connection, migrations, wanted, say)
        with connection(dsn) as conn:  # an online copy first: it says which table is in service
            done = online_repair.repair(conn, say)
        execute = online_route.Executor(dsn, project, False, say, job.check)
        if undo:
            execute = execute.undoing()
        return done + journal.repair(backend, migrations, undo=undo, say=say, execute=execute)


def _is_file_id(migrations: MigrationList, text: str) -> bool:
    """A prefix of a file's id (a deleted migration's id is taken as written)."""
    return any(m.id.startswith(text) for m in migrations)


def break_lock(dsn: DSN) -> None:
    """Remove a stale yoyo lock left by a killed ``migrate`` run."""
    backend = _open_backend(dsn)
    try:
        backend.break_lock()
    finally:
        backend.connection.close()


__all__ = [
    "MigrateResult",
    "break_lock",
    "real_error",
    "repair",
    "up",
]
