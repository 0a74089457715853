"""`alerts run` stops (exit 1) on what retrying cannot fix, keeps retrying what it can."""

from __future__ import annotations

import select
import signal
import threading
import time
from dataclasses import replace

import pytest
from alertkit import QuietHandler, serve
from faultkit import clean, kill, run, start
from rows import open_tickets

from ticketdb.app import alerts as al
from ticketdb.db import connect
from ticketdb.dsn import DSN


@pytest.mark.parametrize("fault", ["password", "database"])
def test_permanent_errors_stop_the_worker(migrated_dsn: DSN, fault: str) -> None:
    bad = (
        replace(migrated_dsn, password="definitely-Wrong-9")
        if fault == "password"
        else migrated_dsn.with_database("no_such_database_here")
    )
    t0 = time.monotonic()
    res = run("alerts", "run", "--poll", "0.2", "--dsn", bad.url(), timeout=60)
    text = clean(res)
    assert res.returncode == 1, text
    assert time.monotonic() - t0 < 30
    assert ("Access denied" if fault == "password" else "does not exist") in text
    assert "definitely-Wrong-9" not in text


def test_a_server_that_is_down_is_retried(migrated_dsn: DSN) -> None:
    down = DSN.parse(f"mysql://root@127.0.0.1:1/{migrated_dsn.database}")
    proc = start("alerts", "run", "--poll", "0.2", "--dsn", down.url())
    time.sleep(3)
    assert proc.poll() is None, proc.communicate()
    rc, out, err = kill(proc, signal.SIGTERM, timeout=30)
    assert "retrying" in err
    clean((rc, out, err))


class Trickle:
    """A receiver that answers 200 with its headers at once, then one body byte every
    ``every`` s (``hang``: never answers at all). Records each request's key and how long the
    worker stayed connected."""

    def __init__(self, every: float = 1.5, size: int = 20, hang: bool = False) -> None:
        self.seen: list[tuple[str, float, float]] = []  # key, start, end (monotonic)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        box = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                start = time.monotonic()
                self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                try:
                    if hang:
                        box.stop.wait(60)
                        return
                    self.send_response(200)
                    self.send_header("Content-Length", str(size))
                    self.end_headers()
                    self.wfile.flush()
                    for _ in range(size):
                        # wait for the next byte's turn, watching for the worker hanging up
                        ready, _, _ = select.select([self.connection], [], [], every)
                        if box.stop.is_set() or (ready and not self.connection.recv(1)):
                            return
                        self.wfile.write(b"x")
                        self.wfile.flush()
                except OSError:
                    pass  # the worker gave up: its connection is gone
                finally:
                    with box.lock:
                        box.seen.append((key, start, time.monotonic()))

        self.server, self.url = serve(Handler)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def _due_alerts(dsn: DSN, n: int) -> None:
    open_tickets(dsn, n, "due", priority="urgent", age_minutes=100)
    assert al.enqueue(dsn) == n


def test_a_trickling_receiver_cannot_make_two_workers_send_one_alert(migrated_dsn: DSN) -> None:
    """Lease 4 s, delivery deadline 2 s, a body that would take 30 s: before the deadline was
    enforced, the lease ran out mid-delivery and the idle second worker sent the same alert."""
    _due_alerts(migrated_dsn, 1)
    hook = Trickle()
    try:
        args = ("alerts", "run", "--dsn", migrated_dsn.url(), "--webhook", hook.url,
                "--timeout", "2", "--lease", "4", "--backoff", "600", "--batch", "1",
                "--poll", "0.3")  # fmt: skip
        procs = [start(*args) for _ in range(2)]
        time.sleep(10)  # the lease (4 s) expires twice over meanwhile
        for p in procs:
            p.send_signal(signal.SIGTERM)
        outs = [p.communicate(timeout=30) for p in procs]
    finally:
        for p in locals().get("procs", []):
            if p.poll() is None:
                p.kill()
                p.wait(10)
        hook.close()
    for (out, err), p in zip(outs, procs, strict=True):
        assert p.returncode == 0, err
        clean((p.returncode, out, err))
    keys = [k for k, _, _ in hook.seen]
    assert len(keys) == 1, hook.seen  # sent once: by the time its lease ended, it had failed
    longest = max(end - begin for _, begin, end in hook.seen)
    print(f"trickling receiver: longest delivery {longest:.1f}s (deadline 2s)")
    assert longest < 2 + 0.5  # cut at the deadline
    conn = connect(migrated_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT status, attempts, last_error FROM alert_outbox")
            rows = cur.fetchall()
    finally:
        conn.close()
    assert all(r[0] == "pending" and r[1] == 1 and "within 2s" in r[2] for r in rows), rows


def test_once_against_a_hanging_receiver_ends_within_its_bound(migrated_dsn: DSN) -> None:
    _due_alerts(migrated_dsn, 2)
    hook = Trickle(hang=True)
    try:
        t0 = time.monotonic()
        res = run("alerts", "run", "--once", "--dsn", migrated_dsn.url(), "--webhook", hook.url,
                  "--timeout", "2", "--lease", "10", "--backoff", "600", timeout=60)  # fmt: skip
        took = time.monotonic() - t0
    finally:
        hook.close()
    print(f"alerts run --once, hanging receiver, 2 alerts: ended after {took:.1f}s")
    assert res.returncode == 0, clean(res)
    assert "0 sent, 2 to retry" in clean(res)
    assert took < 2 * 2 + 10
