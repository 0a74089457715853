"""``ticketdb seed``: empty the two tables, bulk-load generated history, restore the schema.

Phases (each timed, rows/s in the JSON summary):
  prepare   – check LOCAL INFILE, drop the workflow triggers of both tables, TRUNCATE, add the
              monthly log partitions the history needs, drop secondary indexes (deferred)
  load      – generator → two FIFOs → two concurrent LOAD DATA LOCAL INFILE (ticketdb.seed.load);
              as soon as a table's load commits, its loader re-adds its secondary indexes exactly
              as SHOW CREATE TABLE had them (one ALTER); after the tickets' indexes, the derived
              data: CALL vip_refresh(threshold) (customers, VIP tier) and cache_invalidate_all()
              (the cache triggers did not see the load)
  triggers  – re-create the dropped triggers from their files (ticketdb.migrate.repeatable)
  analyze   – ANALYZE TABLE so the optimizer sees the new cardinalities
Whatever happens, triggers and indexes are put back (``finally``) and the result is checked
against the SHOW CREATE TABLE taken before.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ticketdb import catalog
from ticketdb.db import (
    connect,
    connection,
    quote_ident,
    scalar,
    size_timeout,
    watched,
)
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.locks import JobLock
from ticketdb.migrate import ledger
from ticketdb.migrate.ledger import restore_triggers, secondary_keys
from ticketdb.migrate.repeatable import load_objects, server_objects
from ticketdb.migrate.runner import restore_taken_apart
from ticketdb.partitions import ensure_months
from ticketdb.project import Project
from ticketdb.seed import cleanup, leftovers
from ticketdb.seed.generate import LOG_COLUMNS, TICKET_COLUMNS, GenStats, SeedSpec
from ticketdb.seed.load import Target, spec_rows, stream_load
from ticketdb.seed.report import Phase, Reporter, SeedResult
from ticketdb.seed.wslimits import check_write_set_limits

TICKETS, LOGS = "service_tickets", "ticket_logs"
TARGETS = (Target(TICKETS, TICKET_COLUMNS), Target(LOGS, LOG_COLUMNS))
#: Tables derived from the tickets (rebuilt by procedures/events). Emptied with the tickets so
#: nothing points at the previous data set; customers is rebuilt by vip_refresh() at the end.
DERIVED_TABLES = ("daily_urgent_tickets", "alert_outbox", "customers")
DEFAULT_VIP_THRESHOLD = 20
_AUTO_INC = re.compile(r" AUTO_INCREMENT=\d+")


def show_create(conn: Any, table: str) -> str:
    """SHOW CREATE TABLE without the AUTO_INCREMENT counter (a load moves it; not schema)."""
    return _AUTO_INC.sub("", catalog.show_create(conn, "TABLE", table) or "")


def months_between(first: datetime, last: datetime) -> int:
    return (last.year * 12 + last.month) - (first.year * 12 + first.month)


def _workflow_triggers(conn: Any) -> list[str]:
    return catalog.triggers(conn, on_tables=(TICKETS, LOGS))


def _trigger_tables(conn: Any) -> list[tuple[str, str]]:
    """(trigger, table) of the two seeded tables: the restore ledger records both."""
    return catalog.trigger_tables(conn, on_tables=(TICKETS, LOGS))


@contextmanager
def _phase(
    result: SeedResult, reporter: Reporter, name: str, total: int | None = None
) -> Iterator[Phase]:
    ph = Phase(name)
    reporter.start(name, total)
    t0 = time.perf_counter()
    try:
        yield ph
    finally:
        ph.seconds = time.perf_counter() - t0
        result.phases.append(ph)
        reporter.finish(name)


def seed(
    dsn: DSN,
    project: Project,
    spec: SeedSpec,
    *,
    replace: bool = False,
    defer_indexes: bool = True,
    vip_threshold: int = DEFAULT_VIP_THRESHOLD,
    reporter: Reporter | None = None,
    wait: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Replace the contents of service_tickets and ticket_logs with ``spec``'s generated data.

    One seed per database at a time (the loser fails at once, or queues with ``wait``); what a
    killed earlier run left taken apart is put back first (ticketdb.migrate.ledger).
    """
    reporter = reporter or Reporter()
    say = progress or (lambda _msg: None)
    # cluster-wide (GET_LOCK + lease with heartbeat) on a connection of its own, so a signal
    # that kills a query on the seed's connections never lets a second seed in
    job = leftovers.take_lock(dsn, wait=wait, say=say)
    try:
        return _seed_locked(
            dsn, project, spec, job, reporter, say, replace, defer_indexes, vip_threshold
        )
    finally:
        job.close()


def _seed_locked(
    dsn: DSN,
    project: Project,
    spec: SeedSpec,
    job: JobLock,
    reporter: Reporter,
    say: Callable[[str], None],
    replace: bool,
    defer_indexes: bool,
    vip_threshold: int,
) -> SeedResult:
    result = SeedResult(spec, GenStats())
    t_all = time.perf_counter()
    conn = connect(dsn, local_infile=True)
    try:
        for path in leftovers.remove_stale_fifo_folders():
            say(f"removed {path} left by a killed seed")
        for what in restore_taken_apart(dsn, project, conn, say):
            say(f"restored {what} taken apart by an interrupted seed")
    except BaseException:
        conn.close()
        raise
    dropped: set[str] = set()
    keys: dict[str, list[tuple[str, str]]] = {}
    completed = loading = False
    try:
        check_write_set_limits(conn, spec)  # Galera: fail before anything is dropped
        before = {t: show_create(conn, t) for t in (TICKETS, LOGS)}
        with _phase(result, reporter, "prepare"):
            _prepare(conn, project, spec, replace, defer_indexes, dropped, keys)
        # Each table's indexes are re-added by its loader thread as soon as its LOAD DATA has
        # committed (the tickets finish first, so their indexes build while the logs still
        # load); the derived data follows the tickets' indexes: vip_refresh groups by customer
        # through idx_customer_status (at 1M: 2 s after them, 3.5-5 s during their build).
        chains = {
            TICKETS: [("indexes", _add_keys_job(TICKETS, keys.get(TICKETS))),
                      ("derived", lambda c: _refresh_derived(c, vip_threshold))],
            LOGS: [("indexes", _add_keys_job(LOGS, keys.get(LOGS)))],
        }  # fmt: skip
        after = {t: _chain(dsn, t, chain, result.phases, reporter) for t, chain in chains.items()}
        loading = True
        with _phase(result, reporter, "load", spec.tickets) as ph:
            stats, load_seconds = stream_load(
                dsn,
                spec,
                TARGETS,
                after=after,
                on_progress=lambda t, n: reporter.advance("load", t),
            )
            result.stats = stats
            ph.rows = stats.tickets + stats.logs
        for table, n in ((TICKETS, stats.tickets), (LOGS, stats.logs)):
            result.phases.append(Phase(f"load {table}", n, load_seconds[table]))
        keys = {}  # every index is back
        completed = True
    except BaseException as exc:
        failure: BaseException | None = exc
        raise
    else:
        failure = None
    finally:
        # Whatever failed above: put back what is missing, cheap things first, each its own
        # step, on a connection known to be in step with the server (the lock is on its own)
        conn = _put_back(
            dsn, project, conn, spec, job, say, result, reporter,
            dropped=dropped, keys=keys, completed=completed, loading=loading, failure=failure,
        )  # fmt: skip
    try:
        with _phase(result, reporter, "analyze") as ph:
            with conn.cursor() as cur:
                cur.execute(f"ANALYZE TABLE {TICKETS}, {LOGS}")
                cur.fetchall()
            ph.rows = result.rows
        final = {t: show_create(conn, t) for t in (TICKETS, LOGS)}
        missing = sorted(dropped - set(_workflow_triggers(conn)))
    finally:
        conn.close()
    job.check()  # the lease was ours throughout (else another seed may have interleaved)
    for table in (TICKETS, LOGS):
        if _strip_partitions(final[table]) != _strip_partitions(before[table]):
            raise TicketdbError(f"seed left {table} defined differently from before (indexes?)")
    if missing:
        raise TicketdbError(f"seed could not restore trigger(s): {', '.join(missing)}")
    result.seconds = time.perf_counter() - t_all
    return result


def _put_back(
    dsn: DSN,
    project: Project,
    conn: Any,
    spec: SeedSpec,
    job: JobLock,
    say: Callable[[str], None],
    result: SeedResult,
    reporter: Reporter,
    *,
    dropped: set[str],
    keys: dict[str, list[tuple[str, str]]],
    completed: bool,
    loading: bool,
    failure: BaseException | None,
) -> Any:
    """Put back the triggers (cheap), then each table's indexes (expensive), each step on its
    own, the ledger cleared after each, so a step that fails (no disk left for a sort) leaves
    the others done and the ledger naming exactly what is still missing. A load cut off after
    one table committed leaves that table emptied (tickets without their logs contradict the
    workflow). Returns the connection for the rest of the run (None when it stops here)."""
    left = [f"trigger {n}" for n in sorted(dropped)]
    left += [f"index {t}.{n}" for t, defs in keys.items() for n, _ in defs or ()]
    try:
        conn = cleanup.usable(dsn, conn, job, trusted=completed)
        why = None if conn is not None else str(job.lost)
    except TicketdbError as exc:  # the server is unreachable: nothing can be put back now
        why = str(exc)
    if why is not None:
        raise TicketdbError(
            f"{cleanup.failure_text(failure)}{why}; could not put back "
            f"{', '.join(left) or 'anything'}: the next seed or `migrate up` restores what the "
            f"ledger lists ({ledger.RESTORE_TABLE})"
        ) from None
    problems: list[str] = []
    if loading and not completed:
        derived = lambda: _existing_tables(conn, DERIVED_TABLES)  # noqa: E731
        problems += cleanup.empty_half_load(conn, say, (TICKETS, LOGS), derived)
    if dropped:
        with _phase(result, reporter, "triggers") as ph:
            try:
                ph.rows = len(restore_triggers(conn, project, dropped))
            except Exception as exc:  # noqa: BLE001 - the next steps still run
                problems.append(f"triggers: {cleanup.error_text(exc)}")
        cleanup.clear_ledger(conn, problems)
    for table, defs in keys.items():
        if not defs:
            continue
        with _phase(result, reporter, f"rebuild {table}"):
            try:
                with watched(dsn, conn, size_timeout(spec_rows(spec))):
                    _add_keys_job(table, defs)(conn)
            except Exception as exc:  # noqa: BLE001 - the next steps still run
                problems.append(f"indexes of {table}: {cleanup.error_text(exc)}")
        cleanup.clear_ledger(conn, problems)
    if problems:
        missing = []
        try:
            missing = ledger.clear_present(conn)
        except Exception:  # noqa: BLE001 - reported below with what is known
            pass
        conn.close()
        still = ", ".join(f"{k.lower()} {t}.{n}" for k, t, n in missing)
        raise TicketdbError(
            f"{cleanup.failure_text(failure)}clean-up incomplete: {'; '.join(problems)}"
            + (f"; still missing: {still} (listed in {ledger.RESTORE_TABLE}: the next seed or "
               "`migrate up` puts them back)" if still else "")
        )  # fmt: skip
    cleanup.clear_ledger(conn, problems)
    if not completed:
        conn.close()
    return conn


def _prepare(
    conn: Any,
    project: Project,
    spec: SeedSpec,
    replace: bool,
    defer_indexes: bool,
    dropped: set[str],
    keys: dict[str, list[tuple[str, str]]],
) -> None:
    """Everything before the load. Each trigger dropped and each index deferred is recorded in
    ``dropped`` / ``keys`` before it goes, so a failure half-way still gets them put back."""
    if not scalar(conn, "SELECT @@GLOBAL.local_infile"):
        raise TicketdbError(
            "the server has local_infile=OFF: seed loads with LOAD DATA LOCAL INFILE "
            "(SET GLOBAL local_infile=1, or local-infile=1 in my.cnf)"
        )
    if scalar(conn, f"SELECT EXISTS (SELECT 1 FROM {TICKETS})") and not replace:
        raise UsageError(f"{TICKETS} is not empty: pass --replace to overwrite it")
    known = {o.name for o in load_objects(project) if o.kind == "TRIGGER"}
    present = _trigger_tables(conn)
    unknown = sorted({name for name, _table in present} - known)
    if unknown:
        raise TicketdbError(
            f"trigger(s) {', '.join(unknown)} exist on the server but not in triggers/: "
            "seed could not put them back (see `ticketdb drift`)"
        )
    with conn.cursor() as cur:
        for name, table in present:
            ledger.record(conn, "TRIGGER", table, name)  # committed before the DROP
            dropped.add(name)
            cur.execute(f"DROP TRIGGER IF EXISTS {quote_ident(name)}")
        cur.execute(f"TRUNCATE TABLE {LOGS}")
        cur.execute(f"TRUNCATE TABLE {TICKETS}")
        for table in _existing_tables(conn, DERIVED_TABLES):
            cur.execute(f"TRUNCATE TABLE {quote_ident(table)}")
        ensure_months(
            conn,
            LOGS,
            months_back=months_between(spec.start, spec.now),
            months_ahead=1,
            today=spec.now.date(),
        )
    if defer_indexes:
        for table in (TICKETS, LOGS):
            keys[table] = secondary_keys(show_create(conn, table))
            for name, _definition in keys[table]:
                ledger.record(conn, "INDEX", table, name)  # committed before the DROP
            drop_keys(conn, quote_ident(table), keys[table])


def drop_keys(conn: Any, table_sql: str, keys: list[tuple[str, str]]) -> None:
    """Drop the given secondary indexes of ``table_sql`` (an already quoted name) in one ALTER."""
    if keys:
        drops = ", ".join(f"DROP KEY {quote_ident(n)}" for n, _ in keys)
        with conn.cursor() as cur:
            cur.execute(f"ALTER TABLE {table_sql} {drops}")


Job = Callable[[Any], int]


def _add_keys_job(table: str, defs: list[tuple[str, str]] | None) -> Job:
    """Re-add deferred indexes with one ALTER (one scan, one sort per index); indexes already
    there are skipped, so the recovery path can run it again after a partial failure."""

    def run(conn: Any) -> int:
        present = {name for name, _ in secondary_keys(show_create(conn, table))}
        missing = [d for name, d in defs or () if name not in present]
        if missing:
            adds = ", ".join(f"ADD {d}" for d in missing)
            with conn.cursor() as cur:
                cur.execute(f"ALTER TABLE {quote_ident(table)} {adds}")
        return len(missing)

    return run


def _refresh_derived(conn: Any, vip_threshold: int) -> int:
    """customers/VIP tiers via vip_refresh(), and one cache epoch bump: the cache triggers did
    not see the load. Both are the other features' own procedures, called when present."""
    routines = {name for kind, name in server_objects(conn) if kind == "PROCEDURE"}
    vips = 0
    with conn.cursor() as cur:
        if "vip_refresh" in routines:
            cur.execute("CALL vip_refresh(%s)", (vip_threshold,))
            vips = _drain(cur)
        if "cache_invalidate_all" in routines:
            cur.execute("CALL cache_invalidate_all()")
            _drain(cur)
    return vips


def _chain(
    dsn: DSN, table: str, jobs: list[tuple[str, Job]], out: list[Phase], reporter: Reporter
) -> Callable[[int], None]:
    """One table's post-load jobs on a fresh connection, each timed into ``out``."""

    def run(rows: int) -> None:
        with connection(dsn) as conn, watched(dsn, conn, size_timeout(rows)):
            for name, job in jobs:
                label = name if name == "derived" else f"{name} {table}"
                reporter.start(label)
                t0 = time.perf_counter()
                n = job(conn)
                out.append(Phase(label, n if name == "derived" else rows,
                                 time.perf_counter() - t0))  # fmt: skip
                reporter.finish(label)

    return run


def _existing_tables(conn: Any, names: tuple[str, ...]) -> list[str]:
    return sorted(name for name, _type in catalog.tables(conn) if name in names)


def _drain(cur: Any) -> int:
    """Consume every result set of a CALL; returns the first value of the first row, if any."""
    first = None
    while True:
        rows = cur.fetchall() if cur.description else ()
        if first is None and rows:
            first = rows[0][0]
        if not cur.nextset():
            return int(first or 0)


def _strip_partitions(create_sql: str) -> str:
    """Seed adds history months on purpose; everything before the partition clause must match."""
    return create_sql.split("PARTITION BY", 1)[0]
