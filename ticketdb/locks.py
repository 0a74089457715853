"""Who runs a seed, a migrate or a partition split on a database — on one server and on Galera.

Two locks, because each covers what the other cannot:

* ``GET_LOCK`` belongs to the session that took it and the server frees it the moment that
  connection dies, so on one server a killed run never blocks the next one. On Galera it is
  node-local: a seed on node 1 and a seed on node 2 would both get it.
* the lease row ``ticketdb_leases`` (ticketdb.leases reads it; migration 0040,
  procedures/lease_acquire.sql): won by one
  UPDATE certified by every node, so it excludes across the cluster. It has no connection to die
  with, so a :class:`JobLock` renews it every TTL/3 from a heartbeat thread on the lock's own
  connection; a killed run's lease expires within the TTL. One that belongs to *this* node
  (same host:port:server_id part of ``lease_owner()``) and whose connection id is gone from the
  process list is dead at once and is taken over, so a single server never waits a TTL after a
  ``kill -9``. For seed and migrate the free GET_LOCK already proves it (every holder on this
  node holds it); for the partition lease, which the SQL procedure holds without one, the
  process list decides, and only with the PROCESS privilege (else the TTL).

A :class:`JobLock` takes the GET_LOCK first, then the lease when the table and its procedures
exist (before migration 0040 only the GET_LOCK), on a dedicated connection: the job's own
connections may be killed by a signal, run minutes-long statements or be yoyo's transactional
one, and none of that may stop the heartbeat.

Users: the seed (``seed.<db>``, also held by ``migrate up`` so it never re-creates triggers
under a running load), ``migrate`` (``migrate.<db>``), partition maintenance
(``partitions.<db>.<table>``, shared with the SQL procedure, which holds it 600 s without a
heartbeat — so that lock keeps TTL 600 and lives on the caller's connection).

GET_LOCK needs no privilege (MariaDB, MySQL): any account that can log in may take any name and
hold it for as long as its session lives. So the names are not guessable: ``ticketdb.<job>.``
and an HMAC of the database under the random salt in ``ticketdb_lock_salt`` (one row, created
by ``migrate up`` before it takes its own lock: ticketdb.migrate.locksalt), which only the
migrator and the accounts given SELECT on it (the VIP follower's) can read. A database that
has no salt table yet (no ``migrate up`` of this version) keeps the old names
``ticketdb.<job>.<db>``, the same for every process (ticketdb.leases computes both names). The
lease names stay readable: only accounts with EXECUTE on the lease procedures can take a lease.

The migrate lock: yoyo's lock row is already cluster-wide (its INSERT is certified), so the
lease adds no exclusion there. What it adds is knowing when that row is stale: every ticketdb
migrate holds ``migrate.<db>`` for as long as its yoyo row exists, so a row found by a run that
took the lease over from a dead or expired holder was left by that holder and is removed
(before, on Galera, only ``migrate break-lock`` by hand could). A lease that was released
cleanly or never held proves nothing (the row may belong to the run that created the lease
table, or to a plain yoyo/older ticketdb), and then yoyo's lock wait decides as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import abort, connect, read_timeout, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.leases import (
    LEASE_TABLE,
    Lease,
    is_dead_here,
    job_lock_name,
    lease_name,
    leases_available,
    read_lease,
    this_node,
)
from ticketdb.retry import retry_conflicts

#: Seconds a job lease lives without a heartbeat (renewed every TTL/3).
DEFAULT_TTL = 60
#: A lock's statements are all short (GET_LOCK(…, 0), the lease procedures): its connection
#: gives up on a silent server sooner than the lease (DEFAULT_TTL) runs out; giving the lock
#: back gives up faster still (the GET_LOCK goes with the connection, the lease expires).
LOCK_READ_TIMEOUT = 45.0
RELEASE_TIMEOUT = 5.0
_NO_SUCH_TABLE, _NO_SUCH_PROCEDURE = 1146, 1305
Say = Callable[[str], None]


class LockBusy(TicketdbError):
    """Someone else holds the lock; ``holder`` says who (for the caller's own message)."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


def lock_holder(conn: Any, name: str) -> str:
    """Who holds a GET_LOCK, for messages: connection id, user@host and for how long."""
    owner = scalar(conn, "SELECT IS_USED_LOCK(%s)", (name,))
    if owner is None:
        return "nobody (just released)"
    found = catalog.session(conn, owner)
    if found is None:
        return f"connection {owner}"
    user, host, secs = found
    return f"connection {owner} ({user}@{host}, for {secs}s)"


def live_holder(conn: Any, job: str, database: str) -> str | None:
    """Who runs ``job`` on ``database`` anywhere in the cluster right now, or None: the
    GET_LOCK on this server, else a live lease whose owner is not known dead."""
    name = job_lock_name(conn, job, database)
    if scalar(conn, "SELECT IS_USED_LOCK(%s)", (name,)) is not None:
        return lock_holder(conn, name)
    if not leases_available(conn):
        return None
    lease = read_lease(conn, lease_name(job, database))
    if lease is None or not lease.live or is_dead_here(conn, lease, local_free=True):
        return None
    return lease.describe()


def _call_out(conn: Any, sql: str, args: Any, out: str | None) -> Any:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        cur.fetchall()
    if not conn.get_autocommit():
        conn.commit()
    return scalar(conn, f"SELECT {out}") if out else None


# -- the lock -----------------------------------------------------------------------------------
class JobLock:
    """A GET_LOCK plus, where the lease table exists, a cluster-wide lease, held on ``conn``.

    With ``heartbeat`` a thread renews the lease every TTL/3 on ``conn`` (so nothing else may
    use ``conn`` meanwhile: :meth:`open` gives the lock a connection of its own). ``took_over``
    is the lease of the dead or expired holder we took it from, if any; ``lost`` says why the
    heartbeat could not renew (the job should stop: another run may now hold the lease).
    """

    def __init__(
        self,
        conn: Any,
        what: str,
        *,
        lease: str,
        local: str | None,
        ttl: int = DEFAULT_TTL,
        heartbeat: bool = True,
        say: Say | None = None,
    ) -> None:
        self.conn = conn
        self.what = what
        self.lease_name = lease
        self.local_name = local
        self.ttl = max(int(ttl), 1)
        self.heartbeat = heartbeat
        self.say = say or (lambda _msg: None)
        self.has_local = False
        self.has_lease = False
        self.took_over: Lease | None = None
        self.lost: str | None = None
        self.owner: str | None = None  # our lease_owner(), once a lease was won
        self._owns_conn = False
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._node: str | None = None
        #: monotonic time before which the lease is surely still ours: the start of the last
        #: won acquire/renew plus the TTL (the server counts the TTL from later than that)
        self._valid_until = 0.0

    @property
    def margin(self) -> float:
        """How long before ``_valid_until`` the holder gives up: never act on a lease that may
        have expired on the server a moment ago."""
        return min(1.0, self.ttl / 10)

    @classmethod
    def open(
        cls,
        dsn: DSN,
        job: str,
        database: str | None = None,
        *,
        ttl: int = DEFAULT_TTL,
        say: Say | None = None,
    ) -> JobLock:
        """A lock for ``job`` on ``database`` (default: the DSN's) on a new connection of its
        own; :meth:`close` releases it and closes that connection."""
        database = database or dsn.database
        conn = connect(dsn, read_timeout=LOCK_READ_TIMEOUT)
        try:
            local = job_lock_name(conn, job, database)
        except BaseException:
            conn.close()
            raise
        lock = cls(
            conn,
            f"{job} on {database}",
            lease=lease_name(job, database),
            local=local,
            ttl=ttl,
            say=say,
        )
        lock._owns_conn = True
        return lock

    # -- taking it ------------------------------------------------------------------------------
    def try_acquire(self) -> str | None:
        """Take both parts now; None when held, else who holds it (and we hold nothing)."""
        with self._mutex:
            if self.local_name and not self.has_local:
                if scalar(self.conn, "SELECT GET_LOCK(%s, 0)", (self.local_name,)) != 1:
                    return f"{lock_holder(self.conn, self.local_name)} on this server"
                self.has_local = True
            if not self.has_lease and leases_available(self.conn):
                busy = self._take_lease()
                if busy is not None:
                    self._release_local()
                    return busy
        return None

    def _take_lease(self) -> str | None:
        prev = read_lease(self.conn, self.lease_name)
        if prev is not None and prev.live and self._is_dead(prev):
            # committed on its own, and only if that dead owner still has it
            retry_conflicts(
                lambda: _call_out(
                    self.conn,
                    f"UPDATE {LEASE_TABLE} SET expires_at = '1970-01-02 00:00:00' "
                    "WHERE name = %s AND owner = %s",
                    (self.lease_name, prev.owner),
                    None,
                )
            )
            self.say(f"took over the {self.what} lease of {prev.owner}: its connection is gone")
        started = time.monotonic()
        won = retry_conflicts(lambda: self._lease_acquire(renew=False))
        if won != 1:
            now = read_lease(self.conn, self.lease_name)
            return now.describe() if now is not None else "someone (lease just released)"
        self.has_lease = True
        self._valid_until = started + self.ttl
        me = self.owner = scalar(self.conn, "SELECT lease_owner()")
        if prev is not None and prev.owner is not None and prev.owner != me:
            self.took_over = prev  # expired, dead, or held past its TTL: its holder is gone
        return None

    def _is_dead(self, lease: Lease) -> bool:
        if self._node is None:
            self._node = this_node(self.conn)
        return is_dead_here(self.conn, lease, self._node, local_free=self.has_local)

    def acquire(self, wait: float | None = 0) -> None:
        """Hold the lock, waiting up to ``wait`` seconds (None: for ever, saying so every
        minute); raises :class:`LockBusy` naming the holder."""
        deadline = None if wait is None else time.monotonic() + wait
        holder = self.try_acquire()
        next_say = 0.0
        while holder is not None:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise LockBusy(f"{self.what} is held by {holder}", holder)
            if now >= next_say:
                left = "" if deadline is None else f" (up to {deadline - now:.0f}s)"
                prefix = "waiting" if next_say == 0 else "still waiting"
                self.say(f"{prefix} for the {self.what} lock held by {holder}{left}")
                next_say = now + 60
            time.sleep(0.5 if deadline is None else max(min(0.5, deadline - now), 0))
            holder = self.try_acquire()
        self._start_heartbeat()

    def ensure_lease(self) -> bool:
        """Take the lease too if its table appeared since (``migrate up`` just created it);
        best effort, never waits. True when the lease is held."""
        if not self.has_lease:
            with self._mutex:
                if leases_available(self.conn) and self._take_lease() is None:
                    self._start_heartbeat()
        return self.has_lease

    # -- keeping it -----------------------------------------------------------------------------
    def _start_heartbeat(self) -> None:
        if self.heartbeat and self.has_lease and self._thread is None:
            self._thread = threading.Thread(
                target=self._beat, name=f"lease-{self.lease_name}", daemon=True
            )
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            with self._mutex:
                if self._stop.is_set():
                    return
                try:
                    self.renew()
                except pymysql.err.Error as exc:
                    code = exc.args[0] if exc.args else None
                    if code == _NO_SUCH_TABLE:  # `migrate down` dropped it: no lease any more
                        self.has_lease = False
                        return
                    if code == _NO_SUCH_PROCEDURE:  # re-created by `migrate up` right now
                        continue
                    self.lost = f"the {self.what} lease could not be renewed: {exc}"
                except Exception as exc:  # noqa: BLE001 - a dead heartbeat must say why
                    self.lost = f"the {self.what} lease could not be renewed: {exc!r}"
                if self.lost:
                    self.say(self.lost)
                    return

    def _lease_acquire(self, *, renew: bool) -> Any:
        """procedures/lease_acquire.sql for this lease: 1 when this connection holds it now."""
        return _call_out(
            self.conn,
            "CALL lease_acquire(%s, %s, %s, @ticketdb_won)",
            (self.lease_name, self.ttl, int(renew)),
            "@ticketdb_won",
        )

    def renew(self) -> None:
        """One renewal (the heartbeat's; call it only with the mutex held or no heartbeat).

        Its reply is awaited only until shortly before the lease would expire: a heartbeat
        stuck on a silent server used to learn of the loss (read timeout 45 s after a 20 s
        wait) only after the 60 s lease had expired and another run could hold it."""
        started = time.monotonic()
        left = self._valid_until - started - self.margin
        if self.has_lease and left <= 0:
            self.lost = self._expired()
            return
        with read_timeout(self.conn, left if self.has_lease else self.conn._read_timeout):
            won = self._lease_acquire(renew=True)
        if won == 1:
            self._valid_until = started + self.ttl
        else:
            now = read_lease(self.conn, self.lease_name)
            holder = now.describe() if now is not None else "nobody"
            self.lost = f"the {self.what} lease was taken over by {holder}"

    def _expired(self) -> str:
        return (f"the {self.what} lease was not renewed within its {self.ttl}s TTL: another run "
                "may hold it now")  # fmt: skip

    def check(self) -> None:
        """Raise when the heartbeat lost the lease (another run may be going now), or when no
        renewal has been won for so long that the lease may have expired on the server."""
        if (not self.lost and self.has_lease and self._thread is not None
                and time.monotonic() > self._valid_until - self.margin):  # fmt: skip
            self.lost = self._expired()
        if self.lost:
            raise TicketdbError(self.lost)

    # -- giving it back -------------------------------------------------------------------------
    def _release_local(self) -> None:
        if self.has_local:
            self.has_local = False
            scalar(self.conn, "SELECT RELEASE_LOCK(%s)", (self.local_name,))

    def release(self) -> None:
        """Stop the heartbeat, give back the lease and the GET_LOCK. A dead connection is fine:
        its GET_LOCK is gone with it and its lease expires."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=RELEASE_TIMEOUT)
            if self._thread.is_alive():  # stuck renewing on a silent server: wake it up
                abort(self.conn)
                self._thread.join(timeout=RELEASE_TIMEOUT)
                assert not self._thread.is_alive(), "lease heartbeat still running"
            self._thread = None
        with self._mutex:
            try:
                with read_timeout(self.conn, RELEASE_TIMEOUT):
                    if self.has_lease:
                        self.has_lease = False
                        self._release_lease()
                    self._release_local()
            except pymysql.err.Error:
                pass
        self._stop = threading.Event()

    def _release_lease(self) -> None:
        """``lease_release``; when a ``migrate down`` dropped that procedure (rollbacks drop
        every repeatable object) the same UPDATE by the owner we won with, so that the next
        run does not find a live lease and "take it over" from a run that ended cleanly."""
        try:
            retry_conflicts(
                lambda: _call_out(self.conn, "CALL lease_release(%s)", (self.lease_name,), None)
            )
        except pymysql.err.MySQLError as exc:
            if exc.args[0] != _NO_SUCH_PROCEDURE or self.owner is None:
                raise
            retry_conflicts(
                lambda: _call_out(
                    self.conn,
                    f"UPDATE {LEASE_TABLE} SET owner = NULL, expires_at = '1970-01-02 00:00:00' "
                    "WHERE name = %s AND owner = %s",
                    (self.lease_name, self.owner),
                    None,
                )
            )

    def close(self) -> None:
        self.release()
        if self._owns_conn:
            try:
                self.conn.close()
            except pymysql.err.Error:
                pass


@contextmanager
def hold_job_lock(
    dsn: DSN,
    job: str,
    database: str | None = None,
    *,
    wait: float | None = 0,
    ttl: int = DEFAULT_TTL,
    say: Say | None = None,
) -> Iterator[JobLock]:
    """``with hold_job_lock(dsn, "seed"):`` — :meth:`JobLock.open` + :meth:`JobLock.acquire`,
    closed on the way out."""
    lock = JobLock.open(dsn, job, database, ttl=ttl, say=say)
    try:
        lock.acquire(wait)
        yield lock
    finally:
        lock.close()
