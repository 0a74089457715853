"""What the alert tests share (tests/app/test_alerts.py, the Galera alert test in
tests/server/test_galera.py): a recording webhook receiver on 127.0.0.1, due tickets, the
outbox and the worker's command line."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ticketdb.app import alerts as al
from ticketdb.dsn import DSN


class QuietHandler(BaseHTTPRequestHandler):
    """A receiver's request handler that logs nothing (pytest shows stderr of failed tests)."""

    def log_message(self, *args: object) -> None:
        pass


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """``handler`` served on 127.0.0.1 (a free port) by a daemon thread; the server, and the
    URL the alert workers post to."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/alerts"


class Hook:
    """Records every POST; can fail, delay, or hang a chosen request."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.fail_first: set[int] = set()  # alert ids answered 500 on their first attempt
        self.always_fail = False
        self.delay = 0.0
        self.hang_on: int | None = None  # 1-based request number that never gets an answer
        self.hanging = threading.Event()
        self.release = threading.Event()
        hook = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                with hook.lock:
                    hook.received.append((key, body))
                    n = len(hook.received)
                    seen = sum(1 for _, b in hook.received if b["alert_id"] == body["alert_id"])
                if n == hook.hang_on:
                    hook.hanging.set()
                    hook.release.wait(30)
                    return
                if hook.delay:
                    time.sleep(hook.delay)
                fail = hook.always_fail or (body["alert_id"] in hook.fail_first and seen == 1)
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server, self.url = serve(Handler)

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(k for k, _ in self.received)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()



def make_due_tickets(conn, n: int, customer: int = 1) -> list[int]:
    """n urgent tickets whose deadline is ~20 minutes away (inside the 60-minute window)."""
    with conn.cursor() as cur:
        for i in range(n):
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
                "VALUES (%s, %s, 'urgent', NOW() - INTERVAL 100 MINUTE)",
                (customer, f"due {i}"),
            )
        cur.execute("SELECT id FROM service_tickets ORDER BY id DESC LIMIT %s", (n,))
        return sorted(r[0] for r in cur.fetchall())


def outbox(conn) -> dict[int, tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, ticket_id, deadline, status, attempts, lease_owner FROM alert_outbox"
        )
        return {r[0]: r[1:] for r in cur.fetchall()}


def expected_keys(conn) -> set[str]:
    return {al.idempotency_key(i, row[1]) for i, row in outbox(conn).items() if row[2] != "cleared"}


def worker_cmd(dsn: DSN, *args: str) -> list[str]:
    return [sys.executable, "-m", "ticketdb", "alerts", "run", "--once", "--dsn", dsn.url(), *args]
