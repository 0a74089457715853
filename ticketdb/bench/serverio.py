"""What a piece of work cost the server in I/O terms: status-counter deltas and client round trips.

The counters are global (``SHOW GLOBAL STATUS``): commits and fsyncs happen in the server, not in
the session, and the event scheduler or another client running at the same time is counted too,
so measure on a server nobody else writes to. Round trips are counted by the client itself:
every command PyMySQL sends on the connection (statements, COMMIT, ROLLBACK, ping).

* ``commits`` — ``Handler_commit``: storage-engine commits, one per autocommit statement (reads
  included) and one per explicit transaction; with the binary log on, the binlog takes part in
  every commit as a second participant and counts too, so its ``Binlog_commits`` are taken off
  (one transaction = one commit on both profiles).
* ``fsyncs`` — ``Innodb_data_fsyncs`` (on MariaDB 10.11 it includes the redo-log fsyncs;
  ``Innodb_os_log_fsyncs`` no longer exists) plus, with a binary log and ``sync_binlog=1``, one
  binlog fsync per group commit (``Binlog_group_commits``).
* ``log_writes`` / ``log_bytes`` — ``Innodb_log_writes`` / ``Innodb_os_log_written``.
* ``rows_written`` — ``Handler_write + Handler_update + Handler_delete``, triggers included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COUNTERS = (
    "Handler_commit",
    "Innodb_data_fsyncs",
    "Innodb_log_writes",
    "Innodb_os_log_written",
    "Handler_write",
    "Handler_update",
    "Handler_delete",
    "Binlog_group_commits",
    "Binlog_commits",
)


def status_values(conn: Any, names: tuple[str, ...]) -> dict[str, int]:
    """The ``SHOW GLOBAL STATUS`` values of ``names`` (matched case-insensitively, keyed as
    given) that this server has: MySQL lacks some MariaDB ones (Innodb_checkpoint_age)."""
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS")
        rows = cur.fetchall()
    wanted = {name.lower(): name for name in names}
    out: dict[str, int] = {}
    for name, value in rows:
        key = wanted.get(str(name).lower())
        if key is not None:
            out[key] = int(value or 0)
    return out


def global_status(conn: Any) -> dict[str, int]:
    out = dict.fromkeys(COUNTERS, 0)
    out.update(status_values(conn, COUNTERS))
    return out


def binlog_state(conn: Any) -> tuple[bool, bool]:
    """``(binary log on, every binlog group commit is an fsync: sync_binlog = 1)``."""
    with conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.log_bin, @@GLOBAL.sync_binlog")
        log_bin, sync = cur.fetchone()
    return bool(int(log_bin)), bool(int(log_bin)) and int(sync) == 1


class RoundTrips:
    """Counts the commands a connection sends: each is one client round trip.

    PyMySQL sends every statement, ``commit()``, ``rollback()`` and ``begin()`` through
    ``Connection._execute_command``; wrapping that one method on the instance catches them all.
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.count = 0
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> RoundTrips:
        original = self._original = self.conn._execute_command

        def counted(command: int, sql: Any) -> Any:
            self.count += 1
            return original(command, sql)

        self.conn._execute_command = counted
        return self

    def __exit__(self, *exc: object) -> None:
        del self.conn._execute_command  # back to the class's method


@dataclass(frozen=True)
class IoCost:
    commits: int
    fsyncs: int
    log_writes: int
    log_bytes: int
    rows_written: int
    round_trips: int

    @property
    def operations(self) -> int:
        """The I/O the seed's claim is about: fsyncs (durability waits) + client round trips."""
        return self.fsyncs + self.round_trips

    def as_dict(self) -> dict[str, int]:
        return {"commits": self.commits, "fsyncs": self.fsyncs, "round_trips": self.round_trips,
                "rows_written": self.rows_written, "log_writes": self.log_writes,
                "log_bytes": self.log_bytes}  # fmt: skip


def delta(before: dict[str, int], after: dict[str, int], round_trips: int,
          binlog_fsyncs: bool, log_bin: bool = False) -> IoCost:  # fmt: skip
    d = {k: after[k] - before[k] for k in COUNTERS}
    return IoCost(
        commits=d["Handler_commit"] - (d["Binlog_commits"] if log_bin else 0),
        fsyncs=d["Innodb_data_fsyncs"] + (d["Binlog_group_commits"] if binlog_fsyncs else 0),
        log_writes=d["Innodb_log_writes"],
        log_bytes=d["Innodb_os_log_written"],
        rows_written=d["Handler_write"] + d["Handler_update"] + d["Handler_delete"],
        round_trips=round_trips,
    )


@contextmanager
def measure(conn: Any, status_conn: Any | None = None) -> Iterator[list[IoCost]]:
    """``with measure(conn) as box: work(conn)`` → ``box[0]`` is the work's :class:`IoCost`.

    The status queries go through ``status_conn`` (default: ``conn``) outside the counted window.
    """
    sc = status_conn or conn
    log_bin, synced = binlog_state(sc)
    box: list[IoCost] = []
    before = global_status(sc)
    with RoundTrips(conn) as rt:
        yield box
    box.append(delta(before, global_status(sc), rt.count, synced, log_bin))


def reduction_pct(run: IoCost, baseline: IoCost) -> float | None:
    """How many fewer (fsyncs + round trips) ``run`` needed than ``baseline``, in percent."""
    if baseline.operations <= 0:
        return None
    return round(100.0 * (1 - run.operations / baseline.operations), 2)


def server_pid(conn: Any) -> int | None:
    """The server's process id when it runs on this machine and /proc shows it (the sandbox);
    None for a remote server or one whose pid file cannot be read."""
    with conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.pid_file")
        (pid_file,) = cur.fetchone()
    try:
        pid = int(Path(str(pid_file)).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if process_cpu_seconds(pid) is not None else None


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15 of stat)


def row_lock_waits(dsn: Any) -> tuple[int, int]:
    """``(Innodb_row_lock_waits, Innodb_row_lock_time ms)`` so far, server-wide: the delta over
    a load level is how often (and how long) its transactions queued behind each other's row
    locks, whether or not that ended in a retry."""
    from ticketdb.db import connection

    with connection(dsn, database=False) as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN "
                    "('Innodb_row_lock_waits', 'Innodb_row_lock_time')")  # fmt: skip
        values = {str(k).lower(): int(v or 0) for k, v in cur.fetchall()}
    return values.get("innodb_row_lock_waits", 0), values.get("innodb_row_lock_time", 0)
