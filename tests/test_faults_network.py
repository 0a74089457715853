"""A silent network: a proxy that stops forwarding without a reset (a firewall or NAT dropping
packets, as the client sees it). `migrate up`, `seed` and the Workflow must fail within a
bounded time with one line (and the journal/ledger message), SIGTERM must end a command stuck
on it, and the Workflow must fail over to another node of a multi-host DSN.

The times are the defaults of ticketdb.db (60 s read/write timeout, 10 s to connect); each
test asserts its bound and prints what it measured (``pytest -s``).
"""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from faultkit import FreezingProxy, clean, run, schema_shape, start, wait_for

from ticketdb.app.workflow import Workflow
from ticketdb.db import DEFAULT_READ_TIMEOUT, KEEPALIVE, Watchdog, abort, connect, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.ledger import RESTORE_TABLE

#: without a long load running, a dead peer must end a command within this
BOUND = 120

SLOW_STEP = '''
"""A step that tells the test it runs, then waits on the server."""
import os
from pathlib import Path

from yoyo import step

__depends__ = {"0001_fa"}


def mark_then_wait(conn):
    Path(os.environ["FAULT_MARK"]).write_text("running")
    with conn.cursor() as cur:
        cur.execute("SELECT SLEEP(3)")


steps = [
    step("CREATE TABLE fb1 (id INT PRIMARY KEY)", "DROP TABLE fb1"),
    step(mark_then_wait, "SELECT 1"),
]
'''


@pytest.fixture
def proxy(server_dsn: DSN) -> Iterator[FreezingProxy]:
    p = FreezingProxy((server_dsn.host, server_dsn.port))
    yield p
    p.close()


@pytest.fixture
def slow_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_fa.sql").write_text("CREATE TABLE fa (id INT PRIMARY KEY);\n")
    (root / "migrations" / "0001_fa.rollback.sql").write_text("DROP TABLE fa;\n")
    (root / "migrations" / "0002_fb.py").write_text(SLOW_STEP)
    return root


def _frozen_run(proc: subprocess.Popen[str], proxy: FreezingProxy, timeout: float) -> tuple:
    """Freeze, then wait for the command to end; returns (rc, output, seconds since freeze)."""
    proxy.freeze()
    t0 = time.monotonic()
    out, err = _ended(proc, timeout)
    return proc.returncode, out + err, time.monotonic() - t0


def _ended(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The command's (stdout, stderr) once it ends; killed (and the wait raised) past timeout."""
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_connections_have_timeouts_and_keepalive(server_dsn: DSN) -> None:
    conn = connect(server_dsn, database=False)
    try:
        sock = conn._sock
        scalar(conn, "SELECT 1")  # PyMySQL applies the read timeout before each read
        assert sock.gettimeout() == DEFAULT_READ_TIMEOUT
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        got = tuple(
            sock.getsockopt(socket.IPPROTO_TCP, o)
            for o in (socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT)
        )
        assert got == KEEPALIVE
        # server-side waits end before the client's read timeout would
        assert int(scalar(conn, "SELECT @@lock_wait_timeout")) < DEFAULT_READ_TIMEOUT
        assert int(scalar(conn, "SELECT @@innodb_lock_wait_timeout")) < DEFAULT_READ_TIMEOUT
    finally:
        conn.close()


def test_connections_share_one_default_tls_context(server_dsn: DSN) -> None:
    """PyMySQL 1.2 prefers TLS when given no TLS option and built a new default context (the
    system's CA store read again, ~30 ms) for every connection; connect() builds it once."""
    first, second = connect(server_dsn, database=False), connect(server_dsn, database=False)
    try:
        ctx = getattr(first, "ctx", None)
        if ctx is None:
            pytest.skip(f"PyMySQL {pymysql.__version__} builds no default TLS context")
        assert isinstance(ctx, ssl.SSLContext) and second.ctx is ctx
        assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname  # as PyMySQL's own
    finally:
        first.close()
        second.close()


def test_a_listener_that_never_answers_fails_the_connect_in_time() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        t0 = time.monotonic()
        with pytest.raises(TicketdbError, match="cannot connect"):
            connect(DSN(port=silent.getsockname()[1]), connect_timeout=2)
        assert time.monotonic() - t0 < 5


def test_migrate_up_fails_in_bounded_time_and_the_journal_says_where(
    db_dsn: DSN, slow_project: Path, proxy: FreezingProxy, tmp_path: Path
) -> None:
    mark = tmp_path / "mark"
    via = proxy.dsn(db_dsn)
    proc = start("migrate", "up", "--dsn", via.url(), "--project", str(slow_project),
                 env={"FAULT_MARK": str(mark)})  # fmt: skip
    wait_for(mark.exists, 60, "the slow step to run", proc)
    rc, text, took = _frozen_run(proc, proxy, BOUND + 30)
    print(f"migrate up, dead peer during a step: failed after {took:.1f}s")
    assert "Traceback" not in text, text
    assert rc == 1, text
    assert took < BOUND, text
    assert "0002_fb (step 2 of 2)" in text and "migrate repair" in text, text
    proxy.close()
    # on the direct route: the journal names the run, and repair finishes it
    res = run("migrate", "up", "--dsn", db_dsn.url(), "--project", str(slow_project))
    assert res.returncode == 1 and "interrupted after 1 of 2 step(s)" in clean(res)
    res = run("migrate", "repair", "--dsn", db_dsn.url(), "--project", str(slow_project),
              env={"FAULT_MARK": str(mark)})  # fmt: skip
    assert res.returncode == 0, clean(res)


def test_sigterm_ends_migrate_stuck_on_a_silent_server(
    db_dsn: DSN, slow_project: Path, proxy: FreezingProxy, tmp_path: Path
) -> None:
    mark = tmp_path / "mark"
    proc = start("migrate", "up", "--dsn", proxy.dsn(db_dsn).url(), "--project",
                 str(slow_project), env={"FAULT_MARK": str(mark)})  # fmt: skip
    wait_for(mark.exists, 60, "the slow step to run", proc)
    proxy.freeze()
    time.sleep(1)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = _ended(proc, 60)
    took = time.monotonic() - t0
    print(f"migrate up, SIGTERM while stuck on a dead peer: ended after {took:.1f}s")
    text = out + err
    assert "Traceback" not in text, text
    assert proc.returncode == 143, text
    assert took < 60, text
    assert len([ln for ln in err.splitlines() if ln.strip()]) <= 3, text


def _seed_shape(dsn: DSN) -> dict[str, object]:
    conn = connect(dsn)
    try:
        return schema_shape(conn)
    finally:
        conn.close()


def test_seed_fails_in_bounded_time_and_says_what_stays_taken_apart(
    migrated_dsn: DSN, proxy: FreezingProxy
) -> None:
    reference = _seed_shape(migrated_dsn)
    root = connect(migrated_dsn)
    try:
        proc = start("seed", "--dsn", proxy.dsn(migrated_dsn).url(), "--months", "2",
                     "--tickets", "150000")  # fmt: skip

        def triggers_dropped() -> bool:
            try:
                return int(scalar(root, f"SELECT COUNT(*) FROM {RESTORE_TABLE}")) > 0
            except pymysql.err.ProgrammingError:
                return False

        wait_for(triggers_dropped, 60, "the seed to take the schema apart", proc)
        rc, text, took = _frozen_run(proc, proxy, BOUND + 30)
        print(f"seed, dead peer while taking the schema apart: failed after {took:.1f}s")
        assert "Traceback" not in text, text
        assert rc == 1, text
        assert took < BOUND, text
        assert "could not put back" in text and "the next seed or `migrate up`" in text, text
        proxy.close()
        assert int(scalar(root, f"SELECT COUNT(*) FROM {RESTORE_TABLE}")) > 0
        res = run("migrate", "up", "--dsn", migrated_dsn.url())
        assert res.returncode == 0, clean(res)
        assert _seed_shape(migrated_dsn) == reference
    finally:
        root.close()


def test_sigterm_ends_a_seed_stuck_on_a_silent_server(
    migrated_dsn: DSN, proxy: FreezingProxy
) -> None:
    root = connect(migrated_dsn)
    try:
        proc = start("seed", "--dsn", proxy.dsn(migrated_dsn).url(), "--months", "2",
                     "--tickets", "150000")  # fmt: skip
        loading = (
            "SELECT COUNT(*) FROM information_schema.processlist WHERE db = %s AND "
            "info LIKE 'LOAD DATA%%'"
        )
        wait_for(lambda: bool(scalar(root, loading, (migrated_dsn.database,))), 120,
                 "LOAD DATA", proc)  # fmt: skip
        proxy.freeze()
        time.sleep(1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = _ended(proc, 120)
        took = time.monotonic() - t0
        print(f"seed, SIGTERM while loading through a dead peer: ended after {took:.1f}s")
        text = out + err
        assert "Traceback" not in text, text
        assert proc.returncode == 143, text
        assert took < 90, text
        assert "could not put back" in text, text
        proxy.close()
        res = run("migrate", "up", "--dsn", migrated_dsn.url())
        assert res.returncode == 0, clean(res)
    finally:
        root.close()


def test_workflow_fails_over_when_its_node_goes_silent(
    migrated_dsn: DSN, proxy: FreezingProxy
) -> None:
    """Two "nodes" (the proxy first, the server direct second): the node that stops answering
    mid-call is treated as lost; the call lands once, on the other one."""
    conn = connect(migrated_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 't', 'low')"
            )
            ticket = cur.lastrowid
        with Workflow.open(proxy.first_node(migrated_dsn), read_timeout=3) as wf:
            assert wf.conn.port == proxy.port
            wf.assign(ticket, 7)
            proxy.freeze()
            t0 = time.monotonic()
            wf.reply(ticket, 7, "after the freeze")
            took = time.monotonic() - t0
            assert wf.conn.port == migrated_dsn.port
        print(f"workflow reply, node gone silent: failed over after {took:.1f}s")
        assert took < 3 + 15
        assert (
            scalar(
                conn,
                "SELECT COUNT(*) FROM ticket_logs WHERE ticket_id = %s AND action_type = 'reply'",
                (ticket,),
            )  # fmt: skip
            == 1
        )
    finally:
        conn.close()


def test_workflow_on_one_silent_node_fails_in_bounded_time(
    migrated_dsn: DSN, proxy: FreezingProxy
) -> None:
    conn = connect(migrated_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 't', 'low')"
            )
            ticket = cur.lastrowid
    finally:
        conn.close()
    with Workflow.open(proxy.dsn(migrated_dsn), read_timeout=3) as wf:
        proxy.freeze()
        t0 = time.monotonic()
        with pytest.raises(TicketdbError):
            wf.assign(ticket, 7)
        took = time.monotonic() - t0
    print(f"workflow assign, only node gone silent: failed after {took:.1f}s")
    assert took < 3 + Workflow.RECONNECT_TIMEOUT + 15


def test_the_watchdog_tells_a_silent_server_from_a_busy_one(
    server_dsn: DSN, proxy: FreezingProxy
) -> None:
    """A server that answers the side connection with an error (here 1226, the account's
    connection limit reached, as 1040 would be on a full server) is alive: the long statement
    goes on. One that does not answer at all is lost."""
    if server_dsn.host not in ("127.0.0.1", "localhost"):
        pytest.skip("the test account is for 127.0.0.1")
    user, pw = "tdb_dog_test", "Tdb-dog-9a!x"
    root = connect(server_dsn, database=False)
    try:
        with root.cursor() as cur:
            cur.execute("DROP USER IF EXISTS %s@'127.0.0.1'", (user,))
            cur.execute("CREATE USER %s@'127.0.0.1' IDENTIFIED BY %s WITH "
                        "MAX_USER_CONNECTIONS 1", (user, pw))  # fmt: skip
        limited = DSN.parse(f"mysql://{user}:{pw}@127.0.0.1:{server_dsn.port}/")
        watched = connect(limited, database=False)
        dog = Watchdog(limited, watched, every=3600)
        try:
            assert dog.check() is None  # refused with 1226: it answered
        finally:
            dog.stop()
            watched.close()
        frozen = connect(proxy.dsn(server_dsn), database=False)
        dog = Watchdog(proxy.dsn(server_dsn), frozen, every=3600)
        try:
            assert dog.check() is None  # answering: the session is there
            proxy.freeze()
            t0 = time.monotonic()
            why = dog.check()
            assert why is not None and "did not answer a second connection" in why, why
            assert time.monotonic() - t0 < 15
        finally:
            dog.stop()
            abort(frozen)  # its peer is frozen: no goodbye
    finally:
        with root.cursor() as cur:
            cur.execute("DROP USER IF EXISTS %s@'127.0.0.1'", (user,))
        root.close()
