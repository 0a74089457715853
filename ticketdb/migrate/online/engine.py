"""``run_online_alter``: copy with pt-online-schema-change, verify, swap — journaled.

1. ``ticketdb_online_copy`` gets its row (with the own triggers' CREATE statements) before
   anything changes; for a partitioned table the partition-maintenance lease is held until the
   end, so a daily REORGANIZE cannot race the copy.
2. pt-osc (ticketdb.migrate.online.ptosc) creates ``_t_new``, applies the ALTER to it, adds its
   copy triggers, copies the rows in chunks (throttled) and stops in its ``before_swap_tables``
   hook; its copy triggers keep ``_t_new`` in sync meanwhile. On Galera the copy starts only
   once every node is proven to hold those triggers (ticketdb.migrate.online.everywhere: a
   node can silently fail to apply a CREATE TRIGGER).
3. The checksum (ticketdb.migrate.online.checksum): a differing chunk aborts — pt-osc's own
   cleanup and then ours remove the copy, the original was never touched.
4. The swap (ticketdb.migrate.online.swap), then ``_t_old`` is dropped and the row deleted.

Any exception or signal (Ctrl-C, SIGTERM) before the swap stops pt-osc and removes the copy;
a kill -9 leaves the row for ``migrate repair`` (ticketdb.migrate.online.repair).

A silent network cannot hold it: a :class:`ticketdb.db.Watchdog` asks the server over a side
connection every ``WATCH_EVERY`` s whether the work connection's session is still there, for the
whole run, and the wait for pt-osc also ends when the caller's lease (``guard``) or the
partition lease is lost. The copy then stops (pt-osc killed, its remains removed when the server
answers, else left with the journal row for ``migrate repair``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ticketdb import catalog, partitions
from ticketdb.db import Watchdog, close_quietly, connect, connection, connection_lost
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.online import checksum, everywhere, journal, ptosc, swap
from ticketdb.project import Project
from ticketdb.server import failover, galera

Say = Callable[[str], None]
#: tests: pause at this point (triggers | copying | verifying | swapping | mid-swap) until
#: PAUSE_FILE is removed
PAUSE_ENV, PAUSE_FILE_ENV = "TICKETDB_OSC_PAUSE", "TICKETDB_OSC_PAUSE_FILE"
#: how often the watchdog asks the server whether the copy's work connection is still there
WATCH_EVERY = 10.0
RESUME_HINT = (
    "the original table is in service and unchanged; `ticketdb migrate repair` runs the copy "
    "again, `ticketdb migrate repair --undo` gives the migration up"
)


@dataclass
class OnlineResult:
    """What one online copy did, for ``migrate up``'s output and the bench JSON."""

    table: str
    alter: str
    rows_copied: int = 0
    copy_seconds: float = 0.0
    checksum_seconds: float = 0.0
    swap_seconds: float = 0.0
    total_seconds: float = 0.0
    chunks: int = 0
    checksum_ok: bool = False
    galera: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pause_point(name: str, say: Say) -> None:
    """A deterministic stop for the kill tests: with TICKETDB_OSC_PAUSE=name, create the pause
    file and wait (at most 300 s) until the test removes it (or kills us)."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    path = Path(os.environ[PAUSE_FILE_ENV])
    path.write_text(str(os.getpid()))
    say(f"paused at {name} ({path})")
    deadline = time.monotonic() + 300
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def why_not_copyable(conn: Any, table: str) -> str | None:
    """What pt-osc cannot do for this table (None: it can)."""
    if not catalog.has_unique_key(conn, table):
        return f"{table} has no primary or unique key (the copy is chunked and replayed by key)"
    children = catalog.referencing_tables(conn, table)
    if children:
        names = ", ".join(children)
        return (
            f"{table} is referenced by foreign keys of {names} (the swap would leave them "
            "pointing at the old table)"
        )
    return None


def leftovers(conn: Any, table: str) -> list[str]:
    """A copy's remains from an earlier run (tables, pt-osc triggers, guards)."""
    exists = {n.lower() for n, _ in catalog.tables(conn)}
    found = [n for n in (journal.new_name(table), journal.old_name(table)) if n.lower() in exists]
    return found + swap.copy_triggers(conn, table) + swap.guards(conn, table)


def _partitioned(conn: Any, table: str) -> bool:
    return any(p.name is not None for p in catalog.partitions(conn, table=table))


def run_online_alter(
    dsn: DSN,
    table: str,
    alter: str,
    *,
    project: Project,
    say: Say = lambda _msg: None,
    max_threads_running: int = 25,
    chunk_time: float = 0.5,
    migration_id: str | None = None,
    step: int | None = None,
    guard: Callable[[], None] | None = None,
) -> OnlineResult:
    """Run ``ALTER TABLE <table> <alter>`` (``alter``: the part after the table name) as a
    verified online copy; raises TicketdbError (original untouched) when it cannot.
    ``guard`` raises when the caller may no longer go on (``migrate``: its lease was lost)."""
    started = time.perf_counter()
    dsn = failover.pick(dsn)
    result = OnlineResult(table, alter)
    new, old = journal.new_name(table), journal.old_name(table)
    with ExitStack() as stack:
        jconn = connect(dsn)  # the journal's own connection (never under LOCK TABLES)
        stack.callback(close_quietly, jconn)
        work = connect(dsn, read_timeout=3600)  # the checksum's and the swap's; watched:
        stack.callback(close_quietly, work)
        dog = Watchdog(dsn, work, WATCH_EVERY)
        stack.callback(dog.stop)
        result.galera = galera.is_galera(work)
        found = [c for c in journal.read(jconn) if c.table == table]
        if found:
            raise TicketdbError(f"{found[0].describe()}; run `ticketdb migrate repair` first")
        left = leftovers(work, table)
        if left:
            raise TicketdbError(
                f"leftovers of an earlier online copy of {table}: {', '.join(left)}; "
                "remove them (`ticketdb drift` lists them) before running it again"
            )
        reason = why_not_copyable(work, table)
        if reason:
            raise TicketdbError(f"cannot copy {table} online: {reason}")
        argv = ptosc.command(
            dsn,
            table,
            alter,
            ptosc.Options(
                max_threads_running,
                chunk_time,
                galera=result.galera,
                add_unique="UNIQUE" in alter.upper(),
            ),  # fmt: skip
        )
        own = swap.own_triggers(work, table, project)
        parts_lock = None
        if _partitioned(work, table):  # no REORGANIZE PARTITION while rows are copied
            lconn = connect(dsn)  # the lease's own: its heartbeat renews it here
            stack.callback(close_quietly, lconn)
            parts_lock = stack.enter_context(
                partitions.maintenance_lock(lconn, table, heartbeat=True)
            )
        journal.begin(jconn, table, alter, [asdict(t) for t in own], migration_id, step)

        def unanswered() -> TicketdbError:
            return TicketdbError(f"the server stopped answering during the online copy of "
                                 f"{table} ({dog.lost})")  # fmt: skip

        def still_ok() -> None:
            if dog.lost:
                raise unanswered()
            if parts_lock is not None:
                parts_lock.check()
            if guard is not None:
                guard()

        child = ptosc.Child.start(argv, dsn.password, say)
        in_service_swapped = False
        try:
            copy_started = time.perf_counter()
            child.wait_for("triggers", check=still_ok)
            if result.galera:
                _copy_triggers_everywhere(dsn, work, table, say)
            pause_point("triggers", say)
            child.tell("go", last=False)
            say(f"copying {table} into {new} (pt-online-schema-change, pid {child.proc.pid})")
            pause_point("copying", say)
            child.wait_for("waiting", check=still_ok)
            result.copy_seconds = time.perf_counter() - copy_started
            journal.phase(jconn, table, "verifying")
            pause_point("verifying", say)
            check = checksum.compare(work, table, new)
            result.checksum_seconds, result.chunks = check.seconds, check.chunks
            result.rows_copied, result.checksum_ok = check.rows_new, check.ok
            if not check.ok:
                raise TicketdbError(
                    f"the copy of {table} differs from the original in {check.mismatch}; "
                    f"nothing was swapped, {table} is unchanged"
                )
            say(f"checksum equal: {check.rows_new} rows in {check.chunks} chunk(s), "
                f"{check.seconds:.2f}s")  # fmt: skip
            if parts_lock is not None:  # still ours: the partition list cannot have moved
                parts_lock.check()
            journal.phase(jconn, table, "swapping")
            pause_point("swapping", say)
            mid = lambda: pause_point("mid-swap", say)  # noqa: E731
            if result.galera:
                result.swap_seconds = swap.swap_by_name(
                    work, table, new, old, own, mid,
                    verify=lambda: _own_triggers_everywhere(dsn, work, new, own, say),
                )  # fmt: skip
            else:
                result.swap_seconds = swap.swap_locked(work, table, new, old, own, mid)
            in_service_swapped = True
            journal.phase(jconn, table, "swapped")
            child.tell("swapped")
            child.finish()
        except BaseException as exc:
            if not in_service_swapped:
                _abandon(child, dsn, table, own, say, migration_id is not None,
                         unreachable=dog.lost is not None)  # fmt: skip
            if dog.lost and connection_lost(exc):  # the watchdog cut it: say why
                raise unanswered() from None
            raise
        swap.drop_old(work, old)
        journal.end(jconn, table)
    result.total_seconds = time.perf_counter() - started
    say(
        f"online copy of {table}: {result.rows_copied} rows, copy {result.copy_seconds:.1f}s, "
        f"checksum {result.checksum_seconds:.2f}s, writers held {result.swap_seconds * 1000:.0f} ms"
    )
    return result


def _copy_triggers_everywhere(dsn: DSN, conn: Any, table: str, say: Say) -> None:
    """Galera, before the first chunk: every node holds pt-osc's copy triggers (a node that
    failed to apply one gets it re-created: ticketdb.migrate.online.everywhere), then this node
    catches up: rows another node wrote before its trigger existed must be visible here before
    pt-osc reads the chunk that should hold them."""
    creates: dict[str, str] = {}
    for name in swap.copy_triggers(conn, table):
        sql = catalog.show_create(conn, "TRIGGER", name)
        if not sql:
            raise TicketdbError(f"cannot read pt-online-schema-change's trigger {name} back")
        creates[name] = sql
    everywhere.ensure(dsn, conn, table, creates, say)
    everywhere.sync_wait(conn, table)


def _own_triggers_everywhere(
    dsn: DSN, conn: Any, on: str, own: list[swap.OwnTrigger], say: Say
) -> None:
    """Galera: every node holds the table's own triggers on ``on``, in their firing order."""
    if own:
        creates = {t.name: swap.retarget(t.sql, on) for t in own}
        everywhere.ensure(dsn, conn, on, creates, say, in_order=True)


def _abandon(
    child: ptosc.Child,
    dsn: DSN,
    table: str,
    own: list[swap.OwnTrigger],
    say: Say,
    in_migration: bool,
    *,
    unreachable: bool = False,
) -> None:
    """Before the swap finished: stop pt-osc (the plugin dies on "abort"; a signal for one
    still copying) and put the original back exactly as it was. ``unreachable``: the server
    stopped answering, so pt-osc is likely stuck in a read and is killed at once (its clean-up
    could not reach the server either)."""
    if child.proc.poll() is None:
        if unreachable:
            child.stop(grace=1)
        else:
            child.tell("abort")
            try:
                child.proc.wait(5)
            except Exception:  # noqa: BLE001 - still copying: it does not read stdin then
                child.stop()
    try:
        # new connections: a signal may have cut the old ones in the middle of a statement
        with connection(dsn) as conn:
            for what in swap.restore(
                conn, table, journal.new_name(table), journal.old_name(table), own
            ):
                say(what)
            if galera.is_galera(conn):  # the triggers it re-created are on every node
                _own_triggers_everywhere(dsn, conn, table, own, say)
            journal.end(conn, table)
    except Exception as exc:  # noqa: BLE001 - the journal row stays for `migrate repair`
        say(f"could not clean up the online copy of {table} ({exc}): run `ticketdb migrate repair`")
        return
    say(RESUME_HINT if in_migration else f"{table} is in service and unchanged; the copy is gone")
