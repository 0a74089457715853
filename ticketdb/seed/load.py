"""Stream generated rows into ``LOAD DATA LOCAL INFILE`` through named pipes.

The generator runs in a forked child process (its own core, no GIL contention with the client
threads) and writes one FIFO per table; one client thread per table runs ``LOAD DATA LOCAL
INFILE '<fifo>'``, so both tables load at once while rows are still being generated and nothing
touches the disk.

The hang trap (docs/seed.md): opening a FIFO blocks until the other end opens it. If the child
dies before opening its write end, the LOAD DATA reader blocks forever; if the server refuses
the LOAD DATA before the client opens the read end, the child blocks forever. The supervisor
loop below watches both sides; on the first failure it kills the generator and opens the missing
ends itself (non-blocking) so every survivor sees EOF, then re-raises the real error.
"""

from __future__ import annotations

import errno
import fcntl
import multiprocessing
import os
import shutil
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketdb.db import (
    abort,
    connect,
    connection_lost,
    quote_ident,
    size_timeout,
    sql_error,
    watched,
)
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.seed.generate import GenStats, SeedSpec, generate
from ticketdb.seed.leftovers import fifo_folder

_F_SETPIPE_SZ = 1031  # Linux: grow the pipe buffer so the writer blocks less often
_PIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class Target:
    table: str
    columns: Sequence[str]


def load_data_sql(table: str, columns: Sequence[str]) -> str:
    cols = ", ".join(quote_ident(c) for c in columns)
    return (
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote_ident(table)} CHARACTER SET utf8mb4 "
        f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({cols})"
    )


def spec_rows(spec: SeedSpec) -> int:
    """About how many rows ``spec`` generates (tickets and their logs): sizes read timeouts."""
    return int(spec.tickets * (1 + spec.logs_per_ticket))


def bulk_connection(dsn: DSN, rows: int = 2_000_000) -> Any:
    """A LOAD DATA session: the workflow triggers' bulk switch (should one still be present) and
    no per-row unique/foreign-key checks (the generator guarantees both). Its reads wait as
    long as loading ``rows`` rows may take at the slowest (:func:`ticketdb.db.size_timeout`)."""
    conn = connect(dsn, local_infile=True, autocommit=False, read_timeout=size_timeout(rows))
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
        cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
    return conn


#: generated text a pipe may hold back while its loader is slower (the other one keeps going)
_BUFFER_CAP = 256 << 20


class _Out:
    """A FIFO write end that never blocks the generator while the other table's loader could
    use its rows: what the pipe cannot take now is queued (up to ``_BUFFER_CAP``). The tickets
    stream then ends as soon as it is generated, and the tickets' indexes build while the logs
    are still loading."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending: deque[memoryview] = deque()
        self.size = 0
        os.set_blocking(fd, False)

    def pump(self) -> None:
        while self.pending:
            try:
                n = os.write(self.fd, self.pending[0])
            except BlockingIOError:
                return
            self.size -= n
            rest = self.pending[0][n:]
            if rest:
                self.pending[0] = rest
            else:
                self.pending.popleft()

    def flush(self) -> None:
        os.set_blocking(self.fd, True)
        self.pump()
        os.set_blocking(self.fd, False)


def _writers(outs: list[_Out]) -> list[Callable[[bytes], None]]:
    def writer(out: _Out) -> Callable[[bytes], None]:
        def write(data: bytes) -> None:
            out.pending.append(memoryview(data))
            out.size += len(data)
            for o in outs:
                o.pump()
            if out.size > _BUFFER_CAP:
                out.flush()

        return write

    return [writer(o) for o in outs]


def _child(
    spec: SeedSpec, fifos: tuple[str, str], counters: Any, result: Any
) -> None:  # pragma: no cover - runs in the forked child
    try:
        outs = []
        for path in fifos:
            fd = os.open(path, os.O_WRONLY)
            try:
                fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
            except OSError:
                pass
            outs.append(_Out(fd))

        def progress(t: int, n: int) -> None:
            counters[0], counters[1] = t, n

        tickets, logs = _writers(outs)
        stats = generate(spec, tickets, logs, progress=progress)
        for out in outs:
            out.flush()
            os.close(out.fd)
        result.send(("ok", stats))
    except BaseException:  # noqa: BLE001 - everything must reach the parent
        result.send(("error", traceback.format_exc()))
    finally:
        result.close()


def _recv(pipe: Any) -> tuple[str, Any]:
    try:
        return pipe.recv()
    except EOFError:  # the child was killed or died without reporting
        return ("error", "generator exited without a result")


def _unblock(path: str) -> None:
    """Open the other end of a FIFO without blocking so a side stuck in open() is released."""
    for flags in (os.O_WRONLY | os.O_NONBLOCK, os.O_RDONLY | os.O_NONBLOCK):
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno in (errno.ENXIO, errno.ENOENT):
                continue
            raise
        os.close(fd)


def stream_load(
    dsn: DSN,
    spec: SeedSpec,
    targets: tuple[Target, Target],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    after: dict[str, Callable[[int], None]] | None = None,
    timeout: float = 3600,
) -> tuple[GenStats, dict[str, float]]:
    """Generate ``spec`` straight into both tables; returns the generator's stats and the
    seconds each table's LOAD DATA took. ``after[table](rows)`` runs in that table's loader thread
    as soon as its LOAD DATA committed, while the other table may still be loading."""
    ctx = multiprocessing.get_context("fork")
    conns = [bulk_connection(dsn, spec_rows(spec)) for _ in targets]
    tmp = fifo_folder()
    fifos = tuple(str(tmp / f"{t.table}.fifo") for t in targets)
    for path in fifos:
        os.mkfifo(path, 0o600)
    counters = ctx.Array("q", 2, lock=False)
    parent_end, child_end = ctx.Pipe(duplex=False)
    errors: dict[str, BaseException] = {}  # where → what
    seconds: dict[str, float] = {}
    seconds_by_index: dict[int, float] = {}  # loaders whose LOAD DATA committed
    aborted = threading.Event()
    # Each loader says itself when it has ended: a Thread.join() that a signal interrupted can
    # leave the thread marked stopped while it still runs (seen: SIGTERM during the join, then
    # the clean-up's ALTER raced the loader's own index build and failed with 1061).
    ended = [threading.Event() for _ in targets]

    def run_load(i: int) -> None:
        target, conn = targets[i], conns[i]
        t0 = time.perf_counter()
        where = f"LOAD DATA into {target.table}"
        try:
            with watched(dsn, conn, size_timeout(spec_rows(spec))), conn.cursor() as cur:
                rows = cur.execute(load_data_sql(target.table, target.columns), (fifos[i],))
                refuse_warnings(cur, conn, target.table)
            if aborted.is_set():  # the FIFO ended because the run is being torn down
                conn.rollback()
                return
            conn.commit()
            seconds[target.table] = seconds_by_index[i] = time.perf_counter() - t0
            if after and target.table in after and not aborted.is_set():
                where = f"after loading {target.table}"
                after[target.table](rows)
        except BaseException as exc:  # noqa: BLE001 - reported by the supervisor
            errors[where] = exc
        finally:
            ended[i].set()

    child = ctx.Process(target=_child, args=(spec, fifos, counters, child_end), daemon=True)
    child.start()
    child_end.close()
    threads = [threading.Thread(target=run_load, args=(i,), daemon=True) for i in range(2)]
    for th in threads:
        th.start()
    outcome: tuple[str, Any] | None = None
    finished = False
    deadline = time.monotonic() + timeout
    try:
        while not all(e.is_set() for e in ended):
            if on_progress:
                on_progress(counters[0], counters[1])
            if outcome is None and parent_end.poll(0.05):
                outcome = _recv(parent_end)
            if outcome is None and not child.is_alive() and not parent_end.poll():
                outcome = ("error", f"generator exited with code {child.exitcode}")
            if (outcome and outcome[0] == "error") or errors:
                # one side failed: stop the generator (its write ends close, so a reader sees
                # EOF) and release whichever side is still stuck in open(); that EOF is not
                # the end of the data, so neither loader may commit
                aborted.set()
                if child.is_alive():
                    child.kill()
                for path in fifos:
                    _unblock(path)
                if any(connection_lost(e) for e in errors.values()):
                    # the server went silent: a loader still waiting for LOAD DATA's reply
                    # would wait out its long read timeout; the server rolls back on its own
                    for i, c in enumerate(conns):
                        if i not in seconds_by_index:
                            abort(c)
            if time.monotonic() > deadline:
                raise TicketdbError(f"bulk load did not finish in {timeout:.0f}s")
            time.sleep(0.05)
        if outcome is None:
            outcome = _recv(parent_end) if parent_end.poll(30) else ("error", "no result")
        if on_progress:
            on_progress(counters[0], counters[1])
        finished = True
    finally:
        if not finished:  # an exception (SIGTERM, Ctrl-C): no partial load may commit
            aborted.set()
            if child.is_alive():
                child.kill()
            for path in fifos:
                _unblock(path)
        child.join(5)
        if child.is_alive():
            child.kill()
        for c in conns:  # torn down: also wake a loader stuck on a silent server
            if finished:
                c.close()
            else:
                abort(c)
        shutil.rmtree(tmp, ignore_errors=True)
        if not finished:
            # a loader may be re-adding its indexes: let it end before the caller's clean-up
            # touches the same table (else both ALTERs add the same key: 1061)
            for e in ended:
                e.wait(600)
    if errors:
        where, exc = next(iter(errors.items()))
        if isinstance(exc, TicketdbError):
            raise exc
        raise sql_error(exc, where=where) from None
    if outcome[0] != "ok":
        raise TicketdbError(f"row generator failed: {outcome[1]}")
    return outcome[1], seconds


def refuse_warnings(cur: Any, conn: Any, table: str) -> None:
    """LOAD DATA LOCAL skips a duplicate key (or truncates a value) with only a warning: that
    is lost or altered data, so it is a failure and the load is rolled back."""
    cur.execute("SHOW COUNT(*) WARNINGS")
    count = int(cur.fetchone()[0])
    if not count:
        return
    cur.execute("SHOW WARNINGS LIMIT 3")
    shown = "; ".join(f"{msg} ({code})" for _level, code, msg in cur.fetchall())
    conn.rollback()
    raise TicketdbError(
        f"LOAD DATA into {table} gave {count} warning(s), e.g. {shown}: rolled back, "
        "nothing of it kept"
    )


def generate_files(spec: SeedSpec, folder: Path) -> tuple[GenStats, tuple[Path, Path]]:
    """The same rows written to two files (for the raw LOAD DATA baseline)."""
    paths = (folder / "tickets.tsv", folder / "logs.tsv")
    with open(paths[0], "wb") as ft, open(paths[1], "wb") as fl:
        stats = generate(spec, ft.write, fl.write)
    return stats, paths


def load_file(conn: Any, target: Target, path: Path) -> int:
    with conn.cursor() as cur:
        rows = cur.execute(load_data_sql(target.table, target.columns), (str(path),))
    conn.commit()
    return rows
