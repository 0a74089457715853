"""A Workflow call whose connection is lost: run again only when it did not commit.

The Workflow connects through a TCP proxy that, once armed, cuts the connection at a chosen
moment of the next ``CALL``: after the server's reply was sent (committed, acknowledgement
lost), before the ``CALL`` reaches the server (not committed), or while the call waits for a
ticket lock that another session holds (it commits after the client has gone). Each case must
leave exactly one log row — the old behaviour (always run again) logs the first case twice.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator

import pymysql
import pytest

from ticketdb.app.workflow import RetryStats, TransitionRejected, Workflow
from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN


class CuttingProxy:
    """127.0.0.1:port -> the server. ``arm(mode)`` cuts the next connection that sends a
    ``CALL``: ``"reply"`` drops the server's answer to it, ``"request"`` drops the CALL itself,
    ``"delay"`` forwards the CALL and cuts the connection ``delay`` s later, unanswered."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.mode: str | None = None
        #: what in a client packet triggers the cut (a ticket CALL unless changed)
        self.trigger = b"CALL ticket_"
        self.delay = 0.3
        #: after a cut, close new connections at once for this long (no usable server)
        self.refuse_for = 0.0
        self._refuse_until = 0.0
        self.refused = 0
        self.cuts = 0
        self.cut_done = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, mode: str) -> None:
        self.mode = mode
        self.cut_done.clear()

    def close(self) -> None:
        self._closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self._refuse_until:
                self.refused += 1
                client.close()
                continue
            server = socket.create_connection(self.target)
            state = {"cut": False, "drop_reply": False}
            threading.Thread(target=self._up, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, state), daemon=True).start()

    def _cut(self, *socks: socket.socket) -> None:
        # refuse first: the client sees the close at once and may reconnect before the line
        # after the closes runs (it did on a loaded host, and the outage never happened)
        self._refuse_until = time.monotonic() + self.refuse_for
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        with self._lock:
            self.cuts += 1
        self.mode = None
        self.cut_done.set()

    def _up(self, client: socket.socket, server: socket.socket, state: dict) -> None:
        """client -> server; a COM_QUERY packet carrying ``CALL ticket_`` triggers the cut."""
        try:
            while data := client.recv(65536):
                mode = self.mode
                if mode and self.trigger in data and not state["cut"]:
                    state["cut"] = True
                    if mode == "request":
                        self._cut(client, server)
                        return
                    # before the CALL goes out: a quick server answered it before the flag was
                    # set, and the answer got through (the cut then never happened)
                    state["drop_reply"] = mode == "reply"
                    server.sendall(data)
                    if mode != "reply":  # delay: the server runs the CALL, the client is gone
                        time.sleep(self.delay)
                        self._cut(client)
                    continue
                server.sendall(data)
        except OSError:
            pass

    def _down(self, server: socket.socket, client: socket.socket, state: dict) -> None:
        """server -> client; in ``reply`` mode the answer to the CALL never arrives."""
        try:
            while data := server.recv(65536):
                if state["drop_reply"]:
                    self._cut(client, server)
                    return
                client.sendall(data)
        except OSError:
            pass
        try:
            client.close()
        except OSError:
            pass


@pytest.fixture
def proxy(migrated_dsn: DSN) -> Iterator[CuttingProxy]:
    p = CuttingProxy((migrated_dsn.host, migrated_dsn.port))
    yield p
    p.close()


def through(dsn: DSN, proxy: CuttingProxy) -> DSN:
    """``dsn`` over TCP through the proxy (no unix socket)."""
    params = tuple((k, v) for k, v in dsn.params if k != "unix_socket")
    return dataclasses.replace(
        dsn, host="127.0.0.1", port=proxy.port, hosts=(("127.0.0.1", proxy.port),), params=params
    )


def new_ticket(conn: pymysql.connections.Connection) -> int:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 't', 'low')"
        )
        return int(cur.lastrowid)


def log_rows(conn: pymysql.connections.Connection, tid: int) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT action_type, agent_id, note FROM ticket_logs WHERE ticket_id = %s "
            "ORDER BY ticket_seq",
            (tid,),
        )
        return list(cur.fetchall())


def test_committed_call_whose_acknowledgement_is_lost_is_not_run_again(conn, migrated_dsn, proxy):
    tid = new_ticket(conn)
    stats = RetryStats()
    with Workflow.open(through(migrated_dsn, proxy), stats=stats) as wf:
        wf.assign(tid, 7)
        wf.reply(tid, 7, "first")  # the same reply twice is legitimate: counted, not compared
        first = wf.conn.thread_id()
        proxy.arm("reply")
        wf.reply(tid, 7, "first")  # committed on the server, its OK packet dropped
        assert proxy.cuts == 1 and wf.conn.thread_id() != first  # it did reconnect
        assert (stats.found_committed, stats.rerun) == (1, 0)
        assert 2013 in stats.retries
        wf.close(tid, 7)  # the new connection keeps working
    assert log_rows(conn, tid) == [
        ("assign", 7, None),
        ("reply", 7, "first"),
        ("reply", 7, "first"),
        ("close", 7, None),
    ]


def test_a_lost_close_is_not_reported_as_rejected(conn, migrated_dsn, proxy):
    """Running a committed close again would fail ('ticket is closed') although it succeeded."""
    tid = new_ticket(conn)
    stats = RetryStats()
    with Workflow.open(through(migrated_dsn, proxy), stats=stats) as wf:
        proxy.arm("reply")
        wf.close(tid, 3)
        assert stats.found_committed == 1
        with pytest.raises(TransitionRejected, match="ticket is closed"):
            wf.close(tid, 3)  # a real second close is still refused
    assert log_rows(conn, tid) == [("close", 3, None)]


def test_no_usable_server_for_a_moment_is_waited_for_then_settled(conn, migrated_dsn, proxy):
    """After the loss nothing accepts connections for 1.5 s (a cluster installing a new view
    has no Primary node for a few seconds): the Workflow keeps looking instead of reporting an
    unknown outcome, then settles the call (committed: not run again)."""
    tid = new_ticket(conn)
    stats = RetryStats()
    proxy.refuse_for = 1.5
    with Workflow.open(through(migrated_dsn, proxy), stats=stats) as wf:
        proxy.arm("reply")
        started = time.monotonic()
        wf.reply(tid, 9, "waited")
        assert time.monotonic() - started >= 1.4 and proxy.refused >= 1
        assert (stats.found_committed, stats.rerun) == (1, 0)
    assert log_rows(conn, tid) == [("reply", 9, "waited")]


def test_call_lost_before_it_reached_the_server_is_run_again(conn, migrated_dsn, proxy):
    tid = new_ticket(conn)
    stats = RetryStats()
    with Workflow.open(through(migrated_dsn, proxy), stats=stats) as wf:
        wf.reply(tid, 4, "a")
        proxy.arm("request")
        wf.reply(tid, 4, "b")
        assert proxy.cuts == 1 and (stats.found_committed, stats.rerun) == (0, 1)
    assert log_rows(conn, tid) == [("reply", 4, "a"), ("reply", 4, "b")]


def test_call_still_running_on_the_server_is_waited_for_not_doubled(conn, migrated_dsn, proxy):
    """The client gives up while its CALL waits for the ticket lock: the server session goes on
    and commits after the client reconnected. The check waits for it on the ticket row."""
    tid = new_ticket(conn)
    blocker = connect(migrated_dsn)
    stats = RetryStats()
    try:
        with Workflow.open(through(migrated_dsn, proxy), stats=stats) as wf:
            wf.reply(tid, 5, "before")
            with blocker.cursor() as cur:
                cur.execute("START TRANSACTION")
                cur.execute("SELECT id FROM service_tickets WHERE id = %s FOR UPDATE", (tid,))
            release = threading.Timer(1.5, blocker.commit)
            release.start()
            proxy.arm("delay")
            started = time.monotonic()
            wf.reply(tid, 5, "blocked")
            elapsed = time.monotonic() - started
            release.join(30)
            assert not release.is_alive()
            assert proxy.cuts == 1 and stats.found_committed == 1 and stats.rerun == 0
            assert elapsed >= 1.0  # the check waited for the old session's transaction
    finally:
        blocker.close()
    assert log_rows(conn, tid) == [("reply", 5, "before"), ("reply", 5, "blocked")]


@pytest.mark.parametrize("mode", ["request", "reply"])
def test_connection_lost_while_setting_the_session_key_runs_the_call_once(
    conn, migrated_dsn, proxy, mode
):
    """The key is set before the call: losing the connection there (the SET dropped, or run and
    its answer dropped) leaves nothing to settle — the call runs once, under the new key."""
    tid = new_ticket(conn)
    stats = RetryStats()
    proxy.trigger = b"SET @ticketdb_request_key"
    with Workflow.open(through(migrated_dsn, proxy), stats=stats) as wf:
        proxy.arm(mode)
        wf.reply(tid, 6, "once")
        assert proxy.cuts == 1 and (stats.found_committed, stats.rerun) == (0, 0)
        key = scalar(wf.conn, "SELECT @ticketdb_request_key")
    rows = _rows(conn, "SELECT note, request_key FROM ticket_logs WHERE ticket_id = %s", (tid,))
    assert rows == [("once", key)]


def test_lost_call_right_after_a_key_renewal_is_settled_under_the_new_key(
    conn, migrated_dsn, proxy, monkeypatch
):
    """A renewal empties the acknowledged counts; a call lost under the new key is counted
    against that key only (the old key's logs of the ticket must not make it look committed,
    nor the new one look missing)."""
    monkeypatch.setattr(Workflow, "KEY_MAX_TICKETS", 2)
    tid, other = new_ticket(conn), new_ticket(conn)
    stats = RetryStats()
    with Workflow.open(through(migrated_dsn, proxy), stats=stats) as wf:
        wf.reply(tid, 8, "old key 1")
        wf.reply(tid, 8, "old key 2")  # the old key has 2 logs of tid, acknowledged
        wf.reply(other, 8, "second ticket")  # two tickets: the next call renews the key first
        proxy.arm("request")  # lost before it reached the server: must run again
        wf.reply(tid, 8, "new key, not committed")
        assert (stats.found_committed, stats.rerun) == (0, 1)
        wf.reply(other, 8, "second ticket again")
        proxy.arm("reply")  # committed, answer lost: must not run again
        wf.reply(tid, 8, "new key, committed")
        assert (stats.found_committed, stats.rerun) == (1, 1)
    assert [r[2] for r in log_rows(conn, tid)] == [
        "old key 1",
        "old key 2",
        "new key, not committed",
        "new key, committed",
    ]


def test_session_key_costs_nothing_per_call_and_only_the_workflow_sets_it(conn, migrated_dsn):
    """One SET per connection (not per call); rows written without a Workflow DSN stay NULL."""
    tid = new_ticket(conn)
    Workflow(conn).reply(tid, 1, "plain")  # no DSN: nothing to reconnect to, no key
    with Workflow.open(migrated_dsn) as wf:
        for _ in range(3):
            wf.reply(tid, 2, "keyed")
        key = scalar(wf.conn, "SELECT @ticketdb_request_key")
        assert key is not None and len(wf._acked) == 1 and wf._acked[tid] == 3
    keys = [
        r[0]
        for r in _rows(
            conn,
            "SELECT request_key FROM ticket_logs WHERE ticket_id = %s ORDER BY ticket_seq",
            (tid,),
        )
    ]
    assert keys == [None, key, key, key]


def test_key_is_renewed_after_many_tickets(conn, migrated_dsn, monkeypatch):
    monkeypatch.setattr(Workflow, "KEY_MAX_TICKETS", 2)
    tids = [new_ticket(conn) for _ in range(3)]
    with Workflow.open(migrated_dsn) as wf:
        for t in tids:
            wf.reply(t, 1, None)
    keys = [
        scalar(conn, "SELECT request_key FROM ticket_logs WHERE ticket_id = %s", (t,)) for t in tids
    ]
    assert keys[0] == keys[1] != keys[2] and None not in keys


def _rows(conn: pymysql.connections.Connection, sql: str, args: tuple) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())
