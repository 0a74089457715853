"""TCP keepalive against a peer whose packets really vanish (tests/netns.py: a veth pair into a
namespace of its own, cut by taking the far end down: no RST, no ICMP, no send error).

``FreezingProxy`` (test_faults_network.py) proves the read timeouts, but its kernel still ACKs,
so keepalive never fires there. Here nothing answers, and these tests show:

* an idle connection (the Workflow's pooled one, waiting for the app's next call) is found
  dead within idle + interval * probes, so the next call fails over at once instead of waiting
  out its read timeout;
* a statement waiting for its reply (an index build under a read timeout sized for 10M rows)
  fails within the same bound: keepalive, not the read timeout, ends it;
* a statement *sent* after the cut is the one case keepalive cannot cover (the unacknowledged
  request is retransmitted instead of probed): its read timeout ends it.

The keepalive is made short here (ticketdb.db.KEEPALIVE is read for every new connection);
the default (30, 10, 3) is asserted in test_faults_network.py. Each test prints what it
measured (``pytest -s``). They need root and ``ip netns``, and skip without them.
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pymysql
import pytest
from netns import STEP_TIMEOUT, SilentLink, error_at, unavailable

from ticketdb import db
from ticketdb.app.workflow import Workflow
from ticketdb.db import connect, connection_lost, long_statement, scalar, size_timeout
from ticketdb.dsn import DSN

#: (idle, interval, probes) in the tests: dead after 2 + 1 * 3 = 5 s without an answer
FAST = (2, 1, 3)
BOUND = FAST[0] + FAST[1] * FAST[2]
#: kernel timers are exact to a few ms; this covers a loaded, niced test run
SLACK = 3.0


@pytest.fixture
def link(server_dsn: DSN, monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentLink]:
    reason = unavailable()
    if reason:
        pytest.skip(f"no silent link here: {reason}")
    monkeypatch.setattr(db, "KEEPALIVE", FAST)
    silent = SilentLink((server_dsn.host, server_dsn.port))
    try:
        yield silent
    finally:
        silent.close()


def _new_ticket(dsn: DSN) -> int:
    with db.connection(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 't', 'low')"
        )
        return int(cur.lastrowid)


def _so_error(sock: socket.socket) -> str:
    """The socket's pending error by name (reading it clears it)."""
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return errno.errorcode.get(code, str(code))


def test_an_idle_workflow_connection_is_found_dead_and_the_next_call_fails_over_at_once(
    migrated_dsn: DSN, link: SilentLink
) -> None:
    """The pooled Workflow connection between two calls: no read is pending, so no read
    timeout can notice anything. Keepalive does, and the next call goes to the other node
    of the multi-host DSN without waiting its 60 s read timeout."""
    ticket = _new_ticket(migrated_dsn)
    with Workflow.open(link.first_node(migrated_dsn), read_timeout=60) as wf:
        assert wf.conn.port == link.port
        wf.assign(ticket, 7)
        last_reply = time.monotonic()
        sock = wf.conn._sock
        cut = link.cut()
        dead = error_at(sock, BOUND + SLACK + 5)
        assert dead is not None, f"the idle connection had no error {BOUND + SLACK + 5}s on"
        why = _so_error(sock)  # read once: reading it clears it
        print(
            f"idle Workflow connection, keepalive {FAST}: dead {dead - cut:.2f}s after the cut "
            f"({dead - last_reply:.2f}s after its last reply), {why}"
        )
        # ETIMEDOUT: the probes went unanswered (an RST would say ECONNRESET, an ICMP
        # unreachable EHOSTUNREACH)
        assert why == "ETIMEDOUT"
        assert dead - cut <= BOUND + SLACK
        t0 = time.monotonic()
        wf.reply(ticket, 7, "after the cut")
        took = time.monotonic() - t0
        print(f"  the next call failed over in {took:.2f}s")
        assert took < 5, "the next call waited instead of failing over at once"
        assert wf.conn.port == migrated_dsn.port
    with db.connection(migrated_dsn) as conn:
        replies = scalar(
            conn,
            "SELECT COUNT(*) FROM ticket_logs WHERE ticket_id = %s AND action_type = 'reply'",
            (ticket,),
        )
    assert replies == 1


def _unacked(sock: socket.socket) -> int:
    """tcpi_unacked of Linux's struct tcp_info: 8 bytes of u8 fields, then u32 rto, ato,
    snd_mss, rcv_mss, unacked."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int.from_bytes(info[24:28], "little" if sys.byteorder == "little" else "big")


def _wait_acked(sock: socket.socket, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _unacked(sock):
        assert time.monotonic() < deadline, "the request was never acknowledged"
        time.sleep(0.01)


def test_a_long_statement_waiting_for_its_reply_fails_within_the_keepalive_bound(
    server_dsn: DSN, link: SilentLink
) -> None:
    """A statement with the read timeout an index build of 10M rows gets (size_timeout: over
    17 minutes): the request was delivered, the socket is silent while the server works, and
    only keepalive can tell that the peer is gone."""
    conn = connect(link.dsn(server_dsn), database=False)
    session = conn.thread_id()
    done = threading.Event()

    def cut_once_running_then_guard() -> None:
        """Cut once the server runs the statement (so the request was delivered and ACKed);
        then, as keepalive off would leave it waiting for its read timeout, end the wait
        BOUND + SLACK + 5 s after the cut (the test then fails on what it measured)."""
        with db.connection(server_dsn, database=False) as side:
            deadline = time.monotonic() + 30
            while not done.is_set() and not scalar(
                side, "SELECT COUNT(*) FROM information_schema.processlist "
                "WHERE id = %s AND info LIKE 'SELECT SLEEP%%'", (session,)
            ):  # fmt: skip
                assert time.monotonic() < deadline, "the statement never ran"
                time.sleep(0.05)
        if not done.is_set():
            # the request must be ACKed before the cut: a segment still in flight is
            # retransmitted (for ~15 min), not probed, and keepalive never starts (seen once
            # on a loaded machine, where the relay's ACK came after the statement showed up)
            _wait_acked(conn._sock, 5.0)
            cut = link.cut()
            done.wait(max(0.0, cut + BOUND + SLACK + 5 - time.monotonic()))
        db.abort(conn)

    helper = threading.Thread(target=cut_once_running_then_guard, daemon=True)
    helper.start()
    try:
        with (
            pytest.raises(pymysql.err.OperationalError) as err,
            long_statement(conn, size_timeout(10_000_000)),
        ):
            scalar(conn, "SELECT SLEEP(120)")
        failed = time.monotonic()
    finally:
        done.set()
        helper.join(STEP_TIMEOUT)
        assert not helper.is_alive(), "the cutting thread did not end"
        db.abort(conn)
        with db.connection(server_dsn, database=False) as side, side.cursor() as cur:
            try:  # the server's SLEEP would outlive the test
                cur.execute("KILL %s", (session,))
            except pymysql.err.MySQLError as exc:
                if db.error_code(exc) != 1094:  # unknown thread: already gone
                    raise
    assert link.cut_at is not None, "the link was never cut"
    took = failed - link.cut_at
    print(
        f"long statement (read timeout {size_timeout(10_000_000):.0f}s), keepalive {FAST}: "
        f"failed {took:.2f}s after the cut: {err.value}"
    )
    assert connection_lost(err.value)
    assert "Connection timed out" in str(err.value)  # ETIMEDOUT from the probes
    assert took <= BOUND + SLACK


def test_a_statement_sent_after_the_cut_is_ended_by_its_read_timeout(
    server_dsn: DSN, link: SilentLink
) -> None:
    """The limit of keepalive: a request sent into the dead path stays unacknowledged, TCP
    retransmits it (for about 15 minutes, tcp_retries2) and sends no probes. Here the read
    timeout is what ends the wait, so both are needed."""
    conn = connect(link.dsn(server_dsn), database=False, read_timeout=BOUND + 4)
    try:
        scalar(conn, "SELECT 1")
        cut = link.cut()
        t0 = time.monotonic()
        with pytest.raises(pymysql.err.OperationalError) as err:
            scalar(conn, "SELECT 1")
        took = time.monotonic() - t0
    finally:
        db.abort(conn)
    print(
        f"statement sent {t0 - cut:.2f}s after the cut, read timeout {BOUND + 4}s, keepalive "
        f"{FAST}: failed after {took:.2f}s: {err.value}"
    )
    assert connection_lost(err.value)
    # the read timeout's "timed out", not the probes' "Connection timed out": keepalive (5 s)
    # would have ended it first if it applied
    assert "Connection timed out" not in str(err.value)
    assert BOUND + 4 - 1 <= took <= BOUND + 4 + SLACK
