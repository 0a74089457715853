"""A seed's clean-up after a failure: what it can put back, on which connection, and what it
says when it cannot (ticketdb.seed.runner runs the steps).

After a failure the seed's connection is never trusted, a new one is opened with a short
connect timeout (a silent server fails it in seconds, and the message names what stays taken
apart, which the ledger lists for the next run); a load cut off after one of the two tables
committed leaves that table emptied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ticketdb.db import (
    CLEANUP_TIMEOUT,
    abort,
    connect,
    quote_ident,
    scalar,
    sql_error,
)
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.locks import JobLock
from ticketdb.migrate import ledger

Say = Callable[[str], None]


def clear_ledger(conn: Any, problems: list[str]) -> None:
    try:
        ledger.clear_present(conn)
    except Exception as exc:  # noqa: BLE001 - the rows stay: the next run retries
        problems.append(f"ledger: {error_text(exc)}")


def failure_text(failure: BaseException | None) -> str:
    if failure is None or isinstance(failure, KeyboardInterrupt):
        return ""  # the CLI names the signal itself
    return f"{error_text(failure)}; "


def error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, TicketdbError) else str(sql_error(exc))


def empty_half_load(
    conn: Any, say: Say, pair: tuple[str, str], derived: Callable[[], list[str]]
) -> list[str]:
    """A load cut off after one table committed: empty that table (and what was derived from
    it), so the database holds no tickets without logs nor logs without tickets."""
    try:
        have = [bool(scalar(conn, f"SELECT EXISTS (SELECT 1 FROM {t})")) for t in pair]
        if have[0] == have[1]:
            return []
        half = pair[0] if have[0] else pair[1]
        with conn.cursor() as cur:
            for table in (half, *derived()):
                cur.execute(f"TRUNCATE TABLE {quote_ident(table)}")
    except Exception as exc:  # noqa: BLE001 - doctor reports the mismatch
        return [f"emptying the half-loaded table: {error_text(exc)} (`ticketdb doctor` "
                "reports tickets without logs)"]  # fmt: skip
    say(f"emptied {half}: the other table's load did not commit, so the seeded set is empty")
    return []


def usable(dsn: DSN, conn: Any, job: JobLock, *, trusted: bool) -> Any:
    """``conn`` if it still works and nothing cut it off (``trusted``), else a new one; None
    when the seed lock was lost meanwhile (another seed may be running: its start restores
    what the ledger lists).

    After a failure the old connection is never reused: a signal that lands while PyMySQL
    writes a packet leaves the connection open but out of step (part of a query sent), so a
    ping may pass and the next query read another one's reply (seen: a SIGTERM during the
    load, then "not enough values to unpack" from the trigger list in the clean-up)."""
    if trusted:
        try:
            if conn.open:
                conn.ping(reconnect=False)
                return conn
        except Exception:  # noqa: BLE001 - any failure means "reconnect"
            pass
    else:
        abort(conn)  # out of step or gone: only its socket matters
    if job.lost:
        return None
    return connect(dsn, local_infile=True, connect_timeout=CLEANUP_TIMEOUT)
