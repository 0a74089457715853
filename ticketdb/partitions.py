"""Monthly RANGE partitions on TO_DAYS(<date column>): inspect, add months, merge, retire.

Partitions are named ``pYYYYMM`` and hold rows with a date before the first day of the following
month; ``p_future`` (``MAXVALUE``) catches everything later. Adding months splits whichever
partition currently covers them with ``REORGANIZE PARTITION`` (the catch-all for future months,
the oldest month partition for history), so the same code serves migrations, the seed (which
needs months back) and ``ticketdb partitions ensure``. Runs are serialized with the cluster-wide
lease ``partitions.<db>.<table>`` (procedures/lease_acquire.sql; GET_LOCK would be node-local on
Galera): two reorganizations at once fail on boundary order or duplicate partition names. The
plan is always read after the lease is won, so a run that waited re-plans.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from ticketdb import catalog, leases, locks
from ticketdb.db import quote_ident, scalar
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.retry import retry_conflicts

FUTURE = "p_future"
_TO_DAYS_OFFSET = 365  # MySQL TO_DAYS('0001-01-01') = 366, Python ordinal = 1


def to_days(d: date) -> int:
    return d.toordinal() + _TO_DAYS_OFFSET


def from_days(n: int) -> date:
    return date.fromordinal(n - _TO_DAYS_OFFSET)


def month_start(d: date, shift: int = 0) -> date:
    idx = d.year * 12 + (d.month - 1) + shift
    return date(idx // 12, idx % 12 + 1, 1)


def month_name(first_day: date) -> str:
    return f"p{first_day:%Y%m}"


@dataclass(frozen=True)
class Partition:
    name: str
    bound: int | None  # TO_DAYS upper bound (exclusive); None = MAXVALUE
    rows: int

    @property
    def upper(self) -> date | None:
        return from_days(self.bound) if self.bound is not None else None


def list_partitions(conn: Any, table: str) -> list[Partition]:
    out = []
    for row in catalog.partitions(conn, table=table):
        if row.name is None:
            raise TicketdbError(f"table {table} is not partitioned")
        bound = None if str(row.description).upper() == "MAXVALUE" else int(str(row.description))
        out.append(Partition(row.name, bound, row.rows))
    if not out:
        raise TicketdbError(f"table {table} not found in the current database")
    return out


#: What the SQL procedure holds the lease for (no heartbeat there): a shorter TTL here would
#: let ``lease_acquire`` take a live procedure run over after that shorter time.
MAINTENANCE_TTL = 600


@contextmanager
def maintenance_lock(
    conn: Any, table: str, timeout: int = 60, *, heartbeat: bool = False
) -> Iterator[locks.JobLock]:
    """The lease the maintenance procedure takes, so CLI and event (any node) never collide.

    Held on ``conn`` itself for the procedure's TTL; a holder whose connection is gone from
    this server is taken over at once. Without ``heartbeat`` (the caller's statements run on
    ``conn``) the TTL bounds the hold; a holder for longer (an online copy of the table, which
    may take hours) passes a connection of its own and ``heartbeat=True``, and calls the lock's
    ``check()`` before acting on the assumption. Before migration 0040 (no ``ticketdb_leases``
    yet: the partitioning migration itself, which runs under yoyo's lock) it is a node-local
    GET_LOCK.
    """
    database = scalar(conn, "SELECT DATABASE()")
    leased = leases.leases_available(conn)
    salt = None if leased else leases.lock_salt(conn, database)
    lock = locks.JobLock(
        conn,
        f"partition maintenance of {table}",
        lease=f"partitions.{database}.{table}",
        local=None if leased else leases.lock_name("partitions", f"{database}.{table}", salt),
        ttl=MAINTENANCE_TTL,
        heartbeat=heartbeat and leased,
    )
    try:
        lock.acquire(timeout)
    except locks.LockBusy as exc:
        kind = "lease" if leased else "lock"
        raise TicketdbError(
            f"partition maintenance of {table} is running elsewhere ({kind} timeout): {exc.holder}"
        ) from None
    try:
        yield lock
    finally:
        lock.release()


def plan_months(
    parts: list[Partition], first: date, last: date
) -> list[tuple[str, list[tuple[str, int]], int | None]]:
    """REORGANIZE steps that make every month in [first, last] its own partition.

    Returns ``[(partition_to_split, [(new_name, bound), …], kept_bound)]``.
    """
    existing = {p.bound for p in parts}
    names = {p.name for p in parts}
    wanted: list[tuple[str, int]] = []
    m = month_start(first)
    while m <= month_start(last):
        bound = to_days(month_start(m, 1))
        if bound not in existing and month_name(m) not in names:
            wanted.append((month_name(m), bound))
        m = month_start(m, 1)
    steps = []
    for p in parts:
        lower = max(
            (
                q.bound
                for q in parts
                if q.bound is not None and (p.bound is None or q.bound < p.bound)
            ),
            default=None,
        )
        inside = [
            (n, b)
            for n, b in wanted
            if (lower is None or b > lower) and (p.bound is None or b < p.bound)
        ]
        if inside:
            steps.append((p.name, sorted(inside, key=lambda x: x[1]), p.bound))
    return steps


def reorganize_sql(table: str, step: tuple[str, list[tuple[str, int]], int | None]) -> str:
    name, new, kept = step
    pieces = [f"PARTITION {quote_ident(n)} VALUES LESS THAN ({b})" for n, b in new]
    pieces.append(
        f"PARTITION {quote_ident(name)} VALUES LESS THAN "
        + ("MAXVALUE" if kept is None else f"({kept})")
    )
    return (
        f"ALTER TABLE {quote_ident(table)} REORGANIZE PARTITION {quote_ident(name)} INTO ("
        + ", ".join(pieces)
        + ")"
    )


def _ensure_sql(conn: Any, table: str, first: date, last: date) -> list[str]:
    return [
        reorganize_sql(table, s) for s in plan_months(list_partitions(conn, table), first, last)
    ]


def _retire_sql(conn: Any, table: str, keep_months: int, today: date) -> list[str]:
    cutoff = to_days(month_start(today, -keep_months))
    old = [
        p.name
        for p in list_partitions(conn, table)
        if p.name != FUTURE and p.bound is not None and p.bound <= cutoff
    ]
    return (
        [f"ALTER TABLE {quote_ident(table)} DROP PARTITION {', '.join(map(quote_ident, old))}"]
        if old
        else []
    )


def _run(conn: Any, sqls: list[str]) -> None:
    """Each ALTER is atomic; one aborted on Galera (1213, e.g. by a conflicting TOI) is rerun."""
    with conn.cursor() as cur:
        for sql in sqls:
            retry_conflicts(lambda sql=sql: cur.execute(sql))


def ensure_months(
    conn: Any,
    table: str,
    *,
    months_back: int = 1,
    months_ahead: int = 1,
    today: date | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Make sure each month from ``months_back`` before to ``months_ahead`` after today exists.

    Idempotent; returns the SQL it ran (or would run with ``dry_run``).
    """
    today = today or catalog.server_today(conn)
    first, last = month_start(today, -months_back), month_start(today, months_ahead)
    with maintenance_lock(conn, table):
        sqls = _ensure_sql(conn, table, first, last)
        if not dry_run:
            _run(conn, sqls)
    return sqls


def retire_before(
    conn: Any, table: str, keep_months: int, today: date | None = None, dry_run: bool = False
) -> list[str]:
    """Drop month partitions entirely older than ``keep_months`` months (retention)."""
    today = today or catalog.server_today(conn)
    with maintenance_lock(conn, table):
        sqls = _retire_sql(conn, table, keep_months, today)
        if not dry_run:
            _run(conn, sqls)
    return sqls


def maintain(
    conn: Any,
    table: str,
    *,
    months_ahead: int,
    months_back: int = 0,
    retain_months: int | None = None,
    today: date | None = None,
    dry_run: bool = False,
) -> list[str]:
    """``ensure_months`` then, with ``retain_months``, ``retire_before``: one lock, one plan.

    Same result as the SQL procedure ``maintain_log_partitions`` the daily event runs (and the
    same lease), plus ``months_back`` for history the seed loads. With ``dry_run`` the
    retention step is planned against the current partitions (adding future months never
    changes which old ones it drops).
    """
    if months_ahead < 0 or months_back < 0:
        raise UsageError("--months-ahead and --months-back must be >= 0")
    if retain_months is not None and retain_months < max(months_back, 1):
        raise UsageError(
            f"--retain-months {retain_months} would drop months that --months-back "
            f"{months_back} keeps (or the current month); use at least {max(months_back, 1)}"
        )
    today = today or catalog.server_today(conn)
    first, last = month_start(today, -months_back), month_start(today, months_ahead)
    with maintenance_lock(conn, table):
        sqls = _ensure_sql(conn, table, first, last)
        if not dry_run:
            _run(conn, sqls)
        if retain_months is not None:
            retire = _retire_sql(conn, table, retain_months, today)
            if not dry_run:
                _run(conn, retire)
            sqls += retire
    return sqls


def status(conn: Any, table: str, today: date | None = None) -> dict[str, Any]:
    """Partitions with their month ranges, and how far ahead the monthly ones reach."""
    today = today or catalog.server_today(conn)
    parts = list_partitions(conn, table)
    rows = []
    lower: date | None = None
    for p in parts:
        rows.append(
            {
                "name": p.name,
                "from": lower.isoformat() if lower else None,
                "to": p.upper.isoformat() if p.upper else None,
                "rows_estimate": p.rows,
            }
        )
        lower = p.upper
    this_month = month_start(today)
    ahead = sum(1 for p in parts if p.upper is not None and p.upper > month_start(this_month, 1))
    covered = [p.upper for p in parts if p.upper is not None]
    return {
        "table": table,
        "today": today.isoformat(),
        "partitions": rows,
        "months_ahead": ahead,
        "current_month_covered": any(
            p.upper is not None and p.upper == month_start(this_month, 1) for p in parts
        ),
        "covered_until": max(covered).isoformat() if covered else None,
        "future_rows_estimate": next((p.rows for p in parts if p.bound is None), 0),
    }


def merge_all(conn: Any, table: str) -> None:
    """Undo monthly splitting: everything back into the single MAXVALUE catch-all."""
    parts = list_partitions(conn, table)
    if len(parts) == 1 and parts[0].name == FUTURE:
        return
    names = ", ".join(quote_ident(p.name) for p in parts)
    _run(
        conn,
        [
            f"ALTER TABLE {quote_ident(table)} REORGANIZE PARTITION {names} INTO "
            f"(PARTITION {FUTURE} VALUES LESS THAN MAXVALUE)"
        ],
    )
