"""Python face of the ticket workflow: calls the ``ticket_*`` procedures, never writes tables.

Each procedure is one transaction (ticket locked first, then the log; the log's triggers move
the ticket), so a failed call leaves nothing behind and can simply be called again. That is
what this module does for deadlocks (1213, also Galera certification failures) and lock wait
timeouts (1205): bounded, jittered exponential back-off. Opened on a DSN (``Workflow.open``), it
also survives losing its node (or its connection): it reconnects — with a multi-host DSN to the
next ready, Primary and Synced node (ticketdb.server.failover) — and runs the call again only after
making sure it did not commit before the acknowledgement was lost (:meth:`Workflow._settle`).
Rejections raised by the triggers
(``SIGNAL SQLSTATE '45000'``, message ``ticket <id>: <action> rejected: <reason>``) become
:class:`TransitionRejected` (or :class:`TicketNotFound`). See docs/workflow.md for the state
machine.
"""

from __future__ import annotations

import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pymysql

from ticketdb.app.queries import app_query
from ticketdb.db import DEFAULT_READ_TIMEOUT, connect, error_code, sql_error
from ticketdb.dsn import DSN
from ticketdb.errors import ConnectionFailed, SqlError
from ticketdb.server.failover import NODE_LOST, connect_ready, is_multi_host

T = TypeVar("T")

#: Errors after which the whole transaction was (or must be) rolled back and may be retried.
RETRYABLE = {1213: "deadlock", 1205: "lock wait timeout"}
#: ER_NO_SUCH_TABLE on one of the workflow's own tables or an online copy of one: an online
#: schema change on Galera renames the table away for the milliseconds of its swap, and on one
#: server a statement that opened the table's copy trigger before the swap's lock can find the
#: copy renamed when it gets the lock (docs/online-ddl.md). The statement failed before doing
#: anything and the procedure's handler rolled back: the call is run again, for up to this long.
SWAP_WAIT_SECONDS = 5.0
_OWN_TABLES = re.compile(r"\b_?(service_tickets|ticket_logs)(_new|_old)?' doesn't exist")
#: the guard triggers of a swap on one server (only left behind by a killed migrate)
_SWAP_GUARD = "is being swapped by an online schema change"
#: ER_SIGNAL_EXCEPTION: what an unhandled SIGNAL SQLSTATE '45000' arrives as.
SIGNAL_ERRNO = 1644
#: Set to 1 in a session to load historical logs without validating or moving tickets.
BULK_LOAD_VARIABLE = "@ticketdb_bulk_load"
#: Where queries/escalate_stale.sql leaves the count of escalated tickets.
ESCALATED_VARIABLE = "@ticketdb_escalated"
PRIORITIES = ("urgent", "high", "medium", "low")

_REJECTION = re.compile(r"^ticket (\d+): (\w+) rejected: (.*)$", re.S)


class WorkflowError(SqlError):
    """A workflow call failed on the server (after any retries)."""


class TransitionRejected(WorkflowError):
    """The state machine (or an integrity rule) refused the action; retrying will not help."""

    def __init__(self, message: str, ticket_id: int, action: str, reason: str):
        super().__init__(message, SIGNAL_ERRNO)
        self.ticket_id = ticket_id
        self.action = action
        self.reason = reason


class TicketNotFound(TransitionRejected):
    """The ticket does not exist (the check the missing FOREIGN KEY would have made)."""


class RetriesExhausted(WorkflowError):
    """Still deadlocking / timing out after the last attempt."""


def _in_swap(exc: SqlError) -> bool:
    """1146 on the workflow's own tables, or a swap's guard trigger: a swap in progress."""
    text = str(exc)
    return (exc.code == 1146 and bool(_OWN_TABLES.search(text))) or _SWAP_GUARD in text


def map_error(exc: BaseException) -> SqlError:
    """Turn a PyMySQL error into the typed exception callers can branch on."""
    err = sql_error(exc)
    args = getattr(exc, "args", ())
    msg = str(args[1]) if len(args) > 1 else str(exc)
    if err.code == SIGNAL_ERRNO and (m := _REJECTION.match(msg)):
        ticket_id, action, reason = int(m.group(1)), m.group(2), m.group(3)
        cls = TicketNotFound if reason == "ticket does not exist" else TransitionRejected
        return cls(msg, ticket_id, action, reason)
    return WorkflowError(msg, err.code)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to back off: attempt n sleeps up to base * 2**n (capped), jittered."""

    attempts: int = 6
    base_delay: float = 0.01
    max_delay: float = 0.5

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass
class RetryStats:
    """Counts per retryable error code, shared by threads (for tests and metrics).

    After a lost connection, ``found_committed`` counts the calls found already committed (not
    run again) and ``rerun`` those found not committed and run again.
    """

    retries: dict[int, int] = field(default_factory=dict)
    found_committed: int = 0
    rerun: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, code: int) -> None:
        with self._lock:
            self.retries[code] = self.retries.get(code, 0) + 1

    def settled(self, committed: bool) -> None:
        with self._lock:
            if committed:
                self.found_committed += 1
            else:
                self.rerun += 1

    @property
    def total(self) -> int:
        return sum(self.retries.values())


def _connect(
    dsn: DSN, skip: tuple[Any, ...] = (), read_timeout: float = DEFAULT_READ_TIMEOUT
) -> pymysql.connections.Connection:
    """A read that times out (a node gone silent: 2013) counts as a lost node (NODE_LOST)."""
    if is_multi_host(dsn):
        return connect_ready(dsn, skip=skip, autocommit=True, read_timeout=read_timeout)
    return connect(dsn, autocommit=True, read_timeout=read_timeout)


class Workflow:
    """Workflow actions on one connection (autocommit; each procedure is its own transaction).

    Not thread-safe, like the connection under it: use one ``Workflow`` per thread.

    **Node loss and replay.** With a DSN (``Workflow.open``), a call whose connection is lost
    (2013/2006, InterfaceError) or whose node refuses (1047) is retried on a new connection (to
    the next usable node, waiting up to ``RECONNECT_TIMEOUT`` for one: a cluster that lost a
    member may have no Primary node for a few seconds). Such
    a call may have committed before the acknowledgement was lost, so it is not simply run
    again. Each connection gets a random 63-bit session key (``SET @ticketdb_request_key``, once
    per connection: no cost per call) that ``ticket_log_action`` stores in every log it writes
    (``ticket_logs.request_key``, migration 0042), and the Workflow counts its acknowledged
    calls per ticket on that connection. After the loss it counts, on the new connection, the
    ticket's logs carrying the old key: one more than acknowledged means the lost call
    committed (it returns as done); as many means it did not (it runs again). That is exact
    for every action — a second ``reply`` is not told apart from a first one by its content,
    and a replayed ``close`` would be rejected although it succeeded — and reads only one
    ticket's logs, on the failure path only. Two details make the count final:

    * it is taken after a shared lock on the ticket row: a transaction of the old session
      that is still running on the same server holds that row exclusively (ticket_log_action
      locks it first), so the count waits until it committed or rolled back;
    * on Galera it runs with ``wsrep_sync_wait = 1``: the write set of a call that committed
      on the lost node was delivered to the survivors before that commit, and the causal read
      waits until this node has applied it.

    Not covered: an old session that is alive but had not yet reached the ticket's lock when
    the count was taken (only a client-side timeout can cause that, not a dead node or a
    killed connection), and calls made on ``wf.conn`` outside this class (they carry the key
    without being counted). The key is renewed every ``KEY_MAX_TICKETS`` tickets or
    ``KEY_MAX_AGE`` seconds, so the counts stay small and no log it counts can have been
    removed by partition retention meanwhile. Ticket creation is no Workflow call: the app
    INSERTs the ticket itself (docs/workflow.md says how to retry that); ``escalate_stale``
    is safe to run again (escalated tickets leave the rule) and is simply rerun.
    """

    #: renew the session key after this many distinct tickets / seconds (bounds the counts)
    KEY_MAX_TICKETS = 10_000
    KEY_MAX_AGE = 3600.0
    #: after losing its node, look this long for a usable one: a cluster that lost a member can
    #: be without any Primary node for a few seconds while it installs the new view
    RECONNECT_TIMEOUT = 20.0

    def __init__(
        self,
        conn: pymysql.connections.Connection,
        retry: RetryPolicy | None = None,
        stats: RetryStats | None = None,
        dsn: DSN | None = None,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ):
        self.conn = conn
        self.retry = retry or RetryPolicy()
        self.stats = stats or RetryStats()
        #: where to reconnect when the node is lost (multi-host: the next usable node)
        self.dsn = dsn
        #: a node that leaves a call unanswered this long is treated as lost
        self.read_timeout = read_timeout
        #: this connection's @ticketdb_request_key (None: not set yet, or no DSN to replay on)
        self._key: int | None = None
        self._key_since = 0.0
        #: acknowledged log-writing calls per ticket under ``_key``
        self._acked: dict[int, int] = {}

    @classmethod
    @contextmanager
    def open(cls, dsn: DSN, **kwargs: Any) -> Iterator[Workflow]:
        """One connection; with a multi-host DSN, to the first ready+Primary+Synced node, and
        again to another one whenever that node is lost."""
        wf = cls(_connect(dsn, read_timeout=kwargs.get("read_timeout", DEFAULT_READ_TIMEOUT)),
                 dsn=dsn, **kwargs)  # fmt: skip
        try:
            yield wf
        finally:
            if wf.conn.open:  # a lost node left it closed already
                wf.conn.close()

    def _reconnect(self) -> None:
        """The node is gone or refuses (1047): connect to another one (this one tried last),
        waiting up to ``RECONNECT_TIMEOUT`` for one to be usable."""
        lost = (getattr(self.conn, "host", None), getattr(self.conn, "port", None))
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - already dead
            pass
        assert self.dsn is not None
        self._key = None
        self._acked = {}
        deadline = time.monotonic() + self.RECONNECT_TIMEOUT
        delay = 0.05
        while True:
            try:
                self.conn = _connect(self.dsn, skip=(lost,), read_timeout=self.read_timeout)
                return
            except ConnectionFailed:
                # no node usable right now (all non-Primary, or refusing connections): the
                # call's outcome stays unknown only if none comes back in time
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _ensure_key(self) -> None:
        """Give this connection a fresh session key (on its first call, then when it is old)."""
        if self._key is not None and (
            len(self._acked) < self.KEY_MAX_TICKETS
            and time.monotonic() - self._key_since < self.KEY_MAX_AGE
        ):
            return
        key = secrets.randbits(63) or 1
        with self.conn.cursor() as cur:
            cur.execute("SET @ticketdb_request_key = %s", (key,))
        self._key, self._key_since, self._acked = key, time.monotonic(), {}

    def _settle(self, ticket_id: int, lost: list[tuple[int, int]]) -> bool:
        """Did a lost call on ``ticket_id`` commit? ``lost``: (session key, calls acknowledged
        on it for this ticket) of every connection lost during this call."""
        with self.conn.cursor() as cur:
            try:
                cur.execute("SELECT @@session.wsrep_sync_wait")
                sync_wait = cur.fetchone()[0]
            except pymysql.err.MySQLError as exc:
                if error_code(exc) != 1193:  # unknown variable: not MariaDB, no Galera
                    raise
                sync_wait = None
            if sync_wait is not None:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
            try:
                # waits for an old transaction still holding the ticket (ticket_log_action
                # locks it FOR UPDATE first); autocommit: released at once
                cur.execute(*app_query("workflow_lock_ticket").bind(ticket_id=ticket_id))
                cur.fetchall()
                keys = tuple(k for k, _ in lost)
                cur.execute(*app_query("workflow_logs_by_key").bind(ticket_id=ticket_id, keys=keys))
                found = {int(k): int(n) for k, n in cur.fetchall()}
            finally:
                if sync_wait is not None:
                    cur.execute("SET SESSION wsrep_sync_wait = %s", (sync_wait,))
        committed = any(found.get(k, 0) > acked for k, acked in lost)
        self.stats.settled(committed)
        return committed

    def retrying(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one whole transaction) again after a deadlock or lock wait timeout, and
        on another node (reconnecting) when this one is lost. ``fn`` must be safe to run twice:
        after a loss its outcome is unknown and it is simply run again (the ticket calls are
        checked first, see the class docstring)."""
        return self._retrying(fn, None)

    def _retrying(self, fn: Callable[[], T], ticket_id: int | None) -> T | None:
        swap_deadline: float | None = None
        while True:
            try:
                return self._retrying_once(fn, ticket_id)
            except WorkflowError as exc:
                if not _in_swap(exc):
                    raise
                now = time.monotonic()
                swap_deadline = swap_deadline or now + SWAP_WAIT_SECONDS
                if now >= swap_deadline:
                    raise
                self.stats.add(exc.code or 0)
                self._rollback_quietly()
                time.sleep(0.02)

    def _retrying_once(self, fn: Callable[[], T], ticket_id: int | None) -> T | None:
        lost_sessions: list[tuple[int, int]] = []
        for attempt in range(self.retry.attempts):
            try:
                if ticket_id is not None and self.dsn is not None:
                    if lost_sessions and self._settle(ticket_id, lost_sessions):
                        return None  # committed before the acknowledgement was lost
                    self._ensure_key()
                result = fn()
                if ticket_id is not None and self._key is not None:
                    self._acked[ticket_id] = self._acked.get(ticket_id, 0) + 1
                return result
            except pymysql.err.MySQLError as exc:
                code = error_code(exc)
                lost = self.dsn is not None and (
                    code in NODE_LOST or isinstance(exc, pymysql.err.InterfaceError)
                )
                if code not in RETRYABLE and not lost:
                    raise map_error(exc) from None
                self.stats.add(code)
                if lost:
                    # cut off before the acknowledgement: it may have committed under this
                    # session's key; the next attempt counts that key's logs first
                    if ticket_id is not None and self._key is not None:
                        lost_sessions.append((self._key, self._acked.get(ticket_id, 0)))
                    if attempt == self.retry.attempts - 1:
                        raise map_error(exc) from None
                    self._reconnect()
                    continue
                self._rollback_quietly()
                if attempt == self.retry.attempts - 1:
                    raise RetriesExhausted(
                        f"{RETRYABLE[code]} persisted after {self.retry.attempts} attempts: "
                        f"{exc.args[1] if len(exc.args) > 1 else exc}",
                        code,
                    ) from None
                time.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _rollback_quietly(self) -> None:
        try:
            self.conn.rollback()
        except pymysql.err.MySQLError:
            pass

    def _call(self, query: str, ticket_id: int, **args: Any) -> None:
        sql, values = app_query(query).bind(ticket_id=ticket_id, **args)

        def run() -> None:
            with self.conn.cursor() as cur:
                cur.execute(sql, values)
                while cur.nextset():
                    pass

        self._retrying(run, int(ticket_id))

    def assign(self, ticket_id: int, agent_id: int) -> None:
        """pending/processing -> processing; the agent becomes the assignee."""
        self._call("workflow_assign", ticket_id, agent_id=agent_id)

    def reply(self, ticket_id: int, agent_id: int, note: str | None = None) -> None:
        """Logged while pending/processing; the ticket itself does not change."""
        self._call("workflow_reply", ticket_id, agent_id=agent_id, note=note)

    def transfer(
        self, ticket_id: int, from_agent_id: int, to_agent_id: int, new_priority: str | None = None
    ) -> None:
        """processing -> processing with a new assignee (and priority, restarting the SLA)."""
        if new_priority is not None and new_priority not in PRIORITIES:
            raise ValueError(f"unknown priority {new_priority!r}")
        self._call("workflow_transfer", ticket_id, from_agent_id=from_agent_id,
                   to_agent_id=to_agent_id, new_priority=new_priority)  # fmt: skip

    def resolve(self, ticket_id: int, agent_id: int, note: str | None = None) -> None:
        """processing -> resolved."""
        self._call("workflow_resolve", ticket_id, agent_id=agent_id, note=note)

    def reopen(self, ticket_id: int, agent_id: int, note: str | None = None) -> None:
        """resolved -> processing."""
        self._call("workflow_reopen", ticket_id, agent_id=agent_id, note=note)

    def close(self, ticket_id: int, agent_id: int) -> None:
        """pending/processing/resolved -> closed (final)."""
        self._call("workflow_close", ticket_id, agent_id=agent_id)

    def escalate_stale(self) -> int:
        """Run the escalation rules now; returns how many tickets were escalated."""

        def run() -> int:
            with self.conn.cursor() as cur:
                cur.execute(*app_query("escalate_stale").bind())
                cur.execute(f"SELECT {ESCALATED_VARIABLE}")
                return int(cur.fetchone()[0])

        return self.retrying(run)


@contextmanager
def bulk_load(conn: pymysql.connections.Connection) -> Iterator[None]:
    """Switch the log triggers to integrity-only for this session, and always switch back.

    Inside, inserted ticket_logs rows are checked for an existing ticket but neither validate
    transitions nor change service_tickets: the loader writes final ticket states itself.
    """
    with conn.cursor() as cur:
        cur.execute(f"SET {BULK_LOAD_VARIABLE} = 1")
    try:
        yield
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET {BULK_LOAD_VARIABLE} = NULL")
        except pymysql.err.MySQLError:
            # could not switch it off: end the session, and the variable with it
            conn.close()
            raise
