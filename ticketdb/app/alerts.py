"""Deadline alerts: the delivery worker behind ``ticketdb alerts run``.

Rows come from ``alert_outbox`` (filled by procedure ``alert_enqueue``, run every minute by
``alert_enqueue_event``; see migrations/0015_alert_outbox.sql). Delivery is at-least-once:

1. **claim** (short transaction, READ COMMITTED): ``SELECT … FOR UPDATE SKIP LOCKED`` the due
   rows, stamp ``lease_owner``/``lease_until`` and commit. SKIP LOCKED keeps two workers off the
   same rows while they claim; the lease keeps them off afterwards, without holding a row lock
   (and so without blocking the trigger that clears alerts of resolved tickets) during HTTP calls;
2. **deliver** each alert outside any transaction, with ``Idempotency-Key: <id>-<deadline>``;
3. **ack** each one as soon as it is delivered (``status='sent'`` where we still own the lease),
   or on failure schedule a retry with exponential back-off, up to ``max_attempts`` (→ 'failed').

A worker killed between 2 and 3 leaves its rows leased; when the lease expires another worker
re-delivers them with the same idempotency key, so the receiver can drop the duplicate. A worker
never starts a delivery that might outlive its lease, which is what keeps two live workers from
sending the same alert twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TextIO

import httpx
import pymysql

from ticketdb.app.queries import app_query
from ticketdb.db import PERMANENT_ERRORS, connect, error_code
from ticketdb.dsn import DSN
from ticketdb.errors import ConnectionFailed
from ticketdb.retry import retry_conflicts


def idempotency_key(alert_id: int, deadline: datetime) -> str:
    """Stable per (alert, deadline): the same key on every re-delivery of the same alert."""
    return f"{alert_id}-{deadline:%Y%m%dT%H%M%S}"


@dataclass(frozen=True)
class Alert:
    id: int
    ticket_id: int
    deadline: datetime
    customer_id: int
    priority: str
    attempts: int
    ticket_status: str | None
    assigned_agent_id: int | None
    title: str | None

    @property
    def key(self) -> str:
        return idempotency_key(self.id, self.deadline)

    def payload(self) -> dict[str, Any]:
        return {
            "type": "ticket_deadline_warning",
            "alert_id": self.id,
            "idempotency_key": self.key,
            "ticket_id": self.ticket_id,
            "customer_id": self.customer_id,
            "priority": self.priority,
            "deadline": self.deadline.isoformat(),
            "ticket_status": self.ticket_status,
            "assigned_agent_id": self.assigned_agent_id,
            "title": self.title,
            "attempt": self.attempts + 1,
        }


class DeliveryError(Exception):
    """The receiver did not acknowledge; the alert is retried later."""


class Sink(Protocol):
    timeout: float

    def send(self, alert: Alert) -> None: ...


@dataclass
class WebhookSink:
    """POST JSON to a URL; any 2xx is an acknowledgement.

    ``timeout`` is the whole delivery's deadline (connect, send, headers, body), enforced: httpx's
    own ``timeout=`` bounds each read, so a receiver trickling one byte at a time would keep a
    request alive for ever and outlive the lease (another worker would then send the alert
    again). Each delivery runs under ``asyncio.wait_for``, which cancels it at the deadline."""

    url: str
    timeout: float = 10.0

    def send(self, alert: Alert) -> None:
        try:
            status, text = asyncio.run(asyncio.wait_for(self._post(alert), self.timeout))
        except asyncio.TimeoutError:
            raise DeliveryError(f"no complete answer within {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status}: {text[:200]}")

    async def _post(self, alert: Alert) -> tuple[int, str]:
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            resp = await client.post(
                self.url, json=alert.payload(), headers={"Idempotency-Key": alert.key}
            )
            return resp.status_code, resp.text

    def close(self) -> None:
        pass


@dataclass
class StdoutSink:
    """JSON lines on a stream (default stdout), flushed per alert before the ack."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    timeout: float = 1.0

    def send(self, alert: Alert) -> None:
        self.stream.write(json.dumps(alert.payload(), default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


@dataclass
class RunStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lease_lost: int = 0
    released: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:64]


_MAYBE_TRANSIENT = (pymysql.err.OperationalError, pymysql.err.InterfaceError, ConnectionFailed)


@dataclass
class Worker:
    dsn: DSN
    sink: Sink
    batch: int = 50
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_base: float = 5.0
    backoff_max: float = 900.0
    worker_id: str = field(default_factory=default_worker_id)
    stats: RunStats = field(default_factory=RunStats)
    on_event: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.lease_seconds <= self.sink.timeout + 1:
            raise ValueError(
                f"lease ({self.lease_seconds:g}s) must exceed the delivery timeout "
                f"({self.sink.timeout:g}s) + 1s, or a slow delivery could be sent twice"
            )
        self._conn: pymysql.connections.Connection | None = None

    @property
    def conn(self) -> pymysql.connections.Connection:
        if self._conn is None or not self._conn.open:
            self._conn = connect(self.dsn, autocommit=True)
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._conn.open:
            self._conn.close()

    def _say(self, msg: str) -> None:
        if self.on_event:
            self.on_event(msg)

    # -- steps ---------------------------------------------------------------------------------
    def claim(self) -> list[Alert]:
        """Lease up to ``batch`` due alerts in one short transaction.

        SKIP LOCKED is node-local on Galera: a worker on another node may pick the same rows,
        and one of the two commits fails certification (1213); it is retried and re-reads.
        """
        return retry_conflicts(self._claim)

    def _claim(self) -> list[Alert]:
        conn = self.conn
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cur.execute("START TRANSACTION")
            try:
                cur.execute(*app_query("alerts_claim").bind(batch=self.batch))
                ids = tuple(int(r[0]) for r in cur.fetchall())
                if not ids:
                    conn.commit()
                    return []
                lease = app_query("alerts_lease")
                lease_us = int(self.lease_seconds * 1_000_000)
                cur.execute(*lease.bind(owner=self.worker_id, lease_us=lease_us, ids=ids))
                cur.execute(*app_query("alerts_claimed_rows").bind(ids=ids))
                rows = cur.fetchall()
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        alerts = [Alert(*r) for r in rows]
        self.stats.claimed += len(alerts)
        return alerts

    def _write(self, query: str, **values: Any) -> int:
        """One autocommit UPDATE, again after a deadlock or certification failure."""
        sql, args = app_query(query).bind(**values)

        def run() -> int:
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.rowcount

        return retry_conflicts(run)

    def ack(self, alert: Alert) -> bool:
        ok = self._write("alerts_ack", id=alert.id, owner=self.worker_id) == 1
        if ok:
            self.stats.sent += 1
        else:
            self.stats.lease_lost += 1
            self._say(f"alert {alert.id}: delivered, but its lease was lost before the ack")
        return ok

    def backoff(self, attempts: int) -> float:
        """Exponential with ±20% jitter, capped: attempt 1 → base, 2 → 2·base, …"""
        delay = min(self.backoff_max, self.backoff_base * (2 ** max(0, attempts - 1)))
        return delay * random.uniform(0.8, 1.2)

    def nack(self, alert: Alert, error: str) -> None:
        attempts = alert.attempts + 1
        delay = self.backoff(attempts)
        self._write(
            "alerts_nack",
            max_attempts=self.max_attempts,
            error=error[:500],
            delay_us=int(delay * 1_000_000),
            id=alert.id,
            owner=self.worker_id,
        )
        if attempts >= self.max_attempts:
            self.stats.failed += 1
            self._say(f"alert {alert.id}: failed for good after {attempts} attempts: {error}")
        else:
            self.stats.retried += 1
            self._say(
                f"alert {alert.id}: attempt {attempts} failed ({error}); retry in {delay:.1f}s"
            )

    def release(self, alerts: list[Alert]) -> None:
        """Give back leased alerts we will not deliver now (lease nearly spent, or stopping)."""
        if not alerts:
            return
        self._write("alerts_release", owner=self.worker_id, ids=tuple(a.id for a in alerts))
        self.stats.released += len(alerts)

    def run_batch(self, stop: threading.Event | None = None) -> int:
        """Claim one batch and deliver it; returns how many alerts were claimed."""
        started = time.monotonic()
        alerts = self.claim()
        # never begin a delivery that could still be running when the lease expires
        safe_until = started + self.lease_seconds - self.sink.timeout - 1.0
        for i, alert in enumerate(alerts):
            if (stop is not None and stop.is_set()) or time.monotonic() > safe_until:
                self.release(alerts[i:])
                break
            try:
                self.sink.send(alert)
            except DeliveryError as exc:
                self.nack(alert, str(exc))
                continue
            self.ack(alert)
        return len(alerts)

    def run(
        self, *, once: bool = False, poll: float = 5.0, stop: threading.Event | None = None
    ) -> RunStats:
        """Deliver until nothing is due (``once``) or until ``stop`` is set."""
        stop = stop or threading.Event()
        try:
            while not stop.is_set():
                try:
                    claimed = self.run_batch(stop)
                except (pymysql.err.MySQLError, ConnectionFailed) as exc:
                    # the server went away: anything claimed stays leased and is re-sent later.
                    # A wrong password, a missing database/table/privilege is not transient:
                    # stop (exit 1) instead of retrying for ever.
                    if once or error_code(exc) in PERMANENT_ERRORS:
                        raise
                    if not isinstance(
                        exc,
                        (
                            pymysql.err.OperationalError,
                            pymysql.err.InterfaceError,
                            ConnectionFailed,
                        ),
                    ):
                        raise
                    self._say(f"database error, retrying in {poll:g}s: {exc}")
                    self.close()
                    stop.wait(poll)
                    continue
                if claimed:
                    continue
                if once:
                    break
                stop.wait(poll)
        finally:
            self.close()
        return self.stats


def enqueue(dsn: DSN, window_minutes: int = 60) -> int:
    """Run the enqueue step now (what the event does each minute); returns pending alerts."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:

            def run() -> None:
                cur.execute(*app_query("alerts_enqueue").bind(window_minutes=window_minutes))

            retry_conflicts(run)
            cur.execute(*app_query("alerts_pending").bind())
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def status_counts(dsn: DSN) -> dict[str, int]:
    """Alerts per status (pending/sent/cleared/failed) and how many are leased right now."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(*app_query("alerts_by_status").bind())
            counts = {s: 0 for s in ("pending", "sent", "cleared", "failed")}
            counts.update({str(s): int(n) for s, n in cur.fetchall()})
            cur.execute(*app_query("alerts_leased").bind())
            counts["leased"] = int(cur.fetchone()[0])
            return counts
    finally:
        conn.close()
