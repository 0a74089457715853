"""Deadline alerts: enqueue (procedure + trigger), delivery worker, kill-safety, parallel workers.

The receiver is a real HTTP server on 127.0.0.1 (http.server in a thread); workers are real
`ticketdb alerts run` processes where killing or racing them is the point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from alertkit import Hook, expected_keys, make_due_tickets, outbox, worker_cmd
from click.testing import CliRunner
from faultkit import finish_all

from ticketdb.app import alerts as al
from ticketdb.cli import cli


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def test_enqueue_is_idempotent_and_cleared_when_handled(conn):
    a, b, c = make_due_tickets(conn, 3)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (2, 'far', 'low')"
        )
        cur.execute("CALL alert_enqueue(60)")
        cur.execute("CALL alert_enqueue(60)")  # a second run adds nothing
    rows = outbox(conn)
    assert sorted(r[0] for r in rows.values()) == [a, b, c]
    assert {r[2] for r in rows.values()} == {"pending"}
    with conn.cursor() as cur:
        # handled: resolved -> cleared by the trigger, in the same statement's transaction
        cur.execute("UPDATE service_tickets SET current_status = 'resolved' WHERE id = %s", (a,))
        # deadline moved (SLA restarted): the old alert is cleared, the new deadline is alerted
        cur.execute(
            "UPDATE service_tickets SET sla_started_at = NOW() - INTERVAL 90 MINUTE WHERE id = %s",
            (b,),
        )
        cur.execute("CALL alert_enqueue(60)")
        cur.execute(
            "SELECT ticket_id, status, COUNT(*) FROM alert_outbox GROUP BY ticket_id, status"
        )
        got = {(t, s): n for t, s, n in cur.fetchall()}
    assert got == {(a, "cleared"): 1, (b, "cleared"): 1, (b, "pending"): 1, (c, "pending"): 1}
    # reopened with the same deadline: the cleared alert comes back (still one row)
    with conn.cursor() as cur:
        cur.execute("UPDATE service_tickets SET current_status = 'processing' WHERE id = %s", (a,))
        cur.execute("CALL alert_enqueue(60)")
        cur.execute("SELECT status FROM alert_outbox WHERE ticket_id = %s", (a,))
        assert [r[0] for r in cur.fetchall()] == ["pending"]


def test_worker_delivers_once_with_idempotency_key_and_stdout(conn, migrated_dsn, hook):
    make_due_tickets(conn, 4)
    al.enqueue(migrated_dsn)
    want = expected_keys(conn)
    stats = al.Worker(migrated_dsn, al.WebhookSink(hook.url, timeout=2), batch=3).run(once=True)
    assert stats.sent == 4 and stats.claimed == 4
    assert hook.keys() == Counter({k: 1 for k in want})
    key, body = hook.received[0]
    assert body["idempotency_key"] == key and body["type"] == "ticket_deadline_warning"
    assert {r[2] for r in outbox(conn).values()} == {"sent"}
    # nothing left: a second run sends nothing
    assert al.Worker(migrated_dsn, al.WebhookSink(hook.url, timeout=2)).run(once=True).sent == 0
    # stdout sink: JSON lines, one per alert
    make_due_tickets(conn, 2, customer=9)
    al.enqueue(migrated_dsn)
    res = CliRunner().invoke(cli, ["alerts", "run", "--once", "--dsn", migrated_dsn.url()])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert [x["customer_id"] for x in lines] == [9, 9]


def test_failed_delivery_is_retried_with_backoff_then_marked_failed(conn, migrated_dsn, hook):
    make_due_tickets(conn, 2)
    al.enqueue(migrated_dsn)
    ids = sorted(outbox(conn))
    hook.fail_first = {ids[0]}

    def worker(**kw) -> al.Worker:
        return al.Worker(migrated_dsn, al.WebhookSink(hook.url, timeout=2), backoff_base=0.5, **kw)

    stats = worker().run(once=True)
    assert (stats.sent, stats.retried) == (1, 1)
    row = outbox(conn)[ids[0]]
    assert row[2:4] == ("pending", 1) and row[4] is None
    # not due yet: back-off holds it
    assert worker().run(once=True).claimed == 0
    time.sleep(0.8)
    assert worker().run(once=True).sent == 1
    assert outbox(conn)[ids[0]][2:4] == ("sent", 2)
    assert hook.keys()[al.idempotency_key(ids[0], row[1])] == 2  # same key on the retry

    hook.always_fail = True
    make_due_tickets(conn, 1, customer=5)
    al.enqueue(migrated_dsn)
    new = max(outbox(conn))
    for _ in range(2):
        worker(max_attempts=2, backoff_max=0.05).run(once=True)
        time.sleep(0.1)
    assert outbox(conn)[new][2:4] == ("failed", 2)


def test_killed_worker_alert_is_redelivered_later_with_same_key(conn, migrated_dsn, hook):
    make_due_tickets(conn, 5)
    al.enqueue(migrated_dsn)
    want = expected_keys(conn)
    hook.hang_on = 3  # the third delivery never gets an answer: the worker is killed meanwhile
    proc = subprocess.Popen(
        worker_cmd(migrated_dsn, "--webhook", hook.url, "--batch", "10", "--lease", "4",
                   "--timeout", "2"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert hook.hanging.wait(30), proc.stderr.read().decode() if proc.poll() else "no hang"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    in_flight = hook.received[2][0]
    states = Counter(r[2] for r in outbox(conn).values())
    assert states == {"sent": 2, "pending": 3}  # acked ones stay sent; nothing lost
    # still leased by the dead worker: nobody may take them yet
    w = al.Worker(migrated_dsn, al.WebhookSink(hook.url, timeout=2), lease_seconds=10)
    assert w.run(once=True).claimed == 0
    time.sleep(4.2)
    w = al.Worker(migrated_dsn, al.WebhookSink(hook.url, timeout=2), lease_seconds=10)
    assert w.run(once=True).sent == 3
    got = hook.keys()
    assert set(got) == want
    assert got[in_flight] == 2  # delivered again, same idempotency key
    assert all(n == 1 for k, n in got.items() if k != in_flight)
    assert {r[2] for r in outbox(conn).values()} == {"sent"}


def test_two_parallel_workers_deliver_each_alert_once(conn, migrated_dsn, hook):
    make_due_tickets(conn, 40)
    al.enqueue(migrated_dsn)
    want = expected_keys(conn)
    hook.delay = 0.02
    cmd = worker_cmd(migrated_dsn, "--webhook", hook.url, "--batch", "3", "--timeout", "2")
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(2)]  # fmt: skip
    errs = finish_all(procs, 60)
    assert [p.returncode for p in procs] == [0, 0], errs
    got = hook.keys()
    assert set(got) == want and len(want) == 40
    assert max(got.values()) == 1, [k for k, n in got.items() if n > 1]
    assert {r[2] for r in outbox(conn).values()} == {"sent"}
    sent_by = [int(e.split(" sent")[0].rsplit(" ", 1)[-1]) for e in errs]
    assert sum(sent_by) == 40


def test_lease_must_outlast_delivery_timeout(migrated_dsn):
    with pytest.raises(ValueError, match="lease"):
        al.Worker(migrated_dsn, al.WebhookSink("http://127.0.0.1:1/", timeout=10), lease_seconds=5)


def test_sigterm_finishes_the_current_alert_and_releases_the_rest(conn, migrated_dsn, hook):
    make_due_tickets(conn, 6)
    al.enqueue(migrated_dsn)
    hook.delay = 0.3
    proc = subprocess.Popen(
        [sys.executable, "-m", "ticketdb", "alerts", "run", "--dsn", migrated_dsn.url(),
         "--webhook", hook.url, "--batch", "10", "--lease", "30", "--timeout", "2",
         "--poll", "0.2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not hook.received and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err.decode()
    rows = outbox(conn).values()
    sent = [r for r in rows if r[2] == "sent"]
    assert 1 <= len(sent) < 6 and len(hook.received) == len(sent)  # in-flight one was acked
    assert all(r[4] is None for r in rows)  # the rest released at once, not after 30 s
    assert al.Worker(migrated_dsn, al.WebhookSink(hook.url, timeout=2)).run(once=True).sent == (
        6 - len(sent)
    )
