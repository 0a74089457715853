"""ticketdb.locks on one server: a JobLock is a GET_LOCK plus a cluster-wide lease renewed by a
heartbeat. A killed holder's lease is taken over at once (its connection is gone from this
server), a live holder — here, or on "another node" (a lease row owned elsewhere) — blocks
with a message naming it, and the heartbeat keeps a run longer than the TTL from being taken
over. Holders are real processes and real connections; the lease rows are read back."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pymysql
import pytest
from accounts import code_of
from faultkit import clean, kill, run, wait_for

from ticketdb import doctor, leases, locks
from ticketdb import migrate as mig
from ticketdb import partitions as parts
from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.ledger import record
from ticketdb.migrate.locksalt import OLD_NAME_JOBS
from ticketdb.project import Project

ELSEWHERE = "other-node.example:3307:77:4242"  # a lease_owner() of "another Galera node"


@pytest.fixture
def root(migrated_dsn: DSN) -> Iterator[pymysql.connections.Connection]:
    c = connect(migrated_dsn)
    yield c
    c.close()


def _lease(conn: pymysql.connections.Connection, name: str) -> leases.Lease:
    lease = leases.read_lease(conn, name)
    assert lease is not None, name
    return lease


def _foreign_lease(conn: pymysql.connections.Connection, name: str, seconds: int = 60) -> None:
    """A live lease held by a node that is not this server (what a Galera peer writes)."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ticketdb_leases (name, owner, acquired_at, expires_at) VALUES "
            "(%s, %s, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL %s SECOND) "
            "ON DUPLICATE KEY UPDATE owner = VALUES(owner), acquired_at = VALUES(acquired_at), "
            "expires_at = VALUES(expires_at)",
            (name, ELSEWHERE, seconds),
        )


_HOLDER = """
import sys, time
from ticketdb.dsn import DSN
from ticketdb.locks import JobLock
lock = JobLock.open(DSN.parse(sys.argv[1]), "seed", ttl=60)
lock.acquire(0)
print("held", lock.conn.thread_id(), flush=True)
time.sleep(600)
"""


def test_a_killed_holders_lease_is_taken_over_at_once(
    migrated_dsn: DSN, root: pymysql.connections.Connection
) -> None:
    """kill -9 of the holding process: its GET_LOCK goes with its socket and its lease (TTL
    60 s) belongs to a connection of this server that is gone, so it is taken over at once."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, migrated_dsn.url()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("held"), proc.stderr.read() if proc.stderr else line
        holder_id = int(line.split()[1])
        name = leases.lease_name("seed", migrated_dsn.database)
        held = _lease(root, name)
        assert held.live and held.connection_id == holder_id
        assert held.node == leases.this_node(root)
        # while it lives, it blocks, named
        res = run("seed", "--dsn", migrated_dsn.url(), "--tickets", "100", "--replace")
        text = clean(res)
        assert res.returncode == 1 and f"connection {holder_id} " in text, text
    finally:
        kill(proc)
    said: list[str] = []
    lock = locks.JobLock.open(migrated_dsn, "seed", ttl=60, say=said.append)
    try:
        t0 = time.monotonic()
        lock.acquire(20)  # the server notices the closed socket within moments, not 60 s
        waited = time.monotonic() - t0
        assert waited < 15, waited
        assert lock.has_local and lock.has_lease
        assert lock.took_over is not None and lock.took_over.connection_id == holder_id
        mine = _lease(root, name)
        assert mine.connection_id == lock.conn.thread_id() and mine.live
        assert any(f"lease of {lock.took_over.owner}: its connection is gone" in s
                   for s in said), said  # fmt: skip
    finally:
        lock.close()
    released = _lease(root, name)
    assert released.owner is None and not released.live


def test_a_live_holder_on_this_server_blocks_seed_and_migrate_naming_it(
    migrated_dsn: DSN, project: Project, root: pymysql.connections.Connection
) -> None:
    with locks.hold_job_lock(migrated_dsn, "seed") as held:
        me = held.conn.thread_id()
        res = run("seed", "--dsn", migrated_dsn.url(), "--tickets", "100", "--replace")
        text = clean(res)
        assert res.returncode == 1, text
        assert "another seed" in text and f"connection {me} " in text and "--wait" in text
        t0 = time.monotonic()
        with pytest.raises(TicketdbError, match=rf"a seed is still running .*connection {me} "):
            mig.up(migrated_dsn, project, lock_timeout=2)
        assert 1.5 < time.monotonic() - t0 < 15  # it waited its timeout, not more


def test_a_live_lease_of_another_node_blocks_naming_owner_and_expiry(
    migrated_dsn: DSN, project: Project, root: pymysql.connections.Connection
) -> None:
    """No GET_LOCK here (the holder is on another node): the lease alone blocks, and the
    message names its owner, when it was renewed and when it expires."""
    name = leases.lease_name("seed", migrated_dsn.database)
    _foreign_lease(root, name)
    res = run("seed", "--dsn", migrated_dsn.url(), "--tickets", "100", "--replace")
    text = clean(res)
    assert res.returncode == 1, text
    assert f"another seed (or a migrate up) is running on {migrated_dsn.database}" in text
    assert ELSEWHERE in text and "last renewed" in text and "expires" in text
    with pytest.raises(TicketdbError, match=rf"a seed is still running .*{ELSEWHERE}"):
        mig.up(migrated_dsn, project, lock_timeout=1)
    assert _lease(root, name).owner == ELSEWHERE  # not taken over: it is alive elsewhere
    # doctor: the interrupted-seed ledger is not reported as abandoned while a seed runs
    record(root, "TRIGGER", "service_tickets", "some_trigger")
    seed_checks = [c for c in doctor.run_checks(migrated_dsn) if c.name == "seed"]
    assert [(c.status, ELSEWHERE in c.detail) for c in seed_checks] == [("ok", True)]
    # once that lease has expired (its node died), the lock is free and doctor says so
    with root.cursor() as cur:
        cur.execute(
            "UPDATE ticketdb_leases SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE name = %s",
            (name,),
        )
    seed_checks = [c for c in doctor.run_checks(migrated_dsn) if c.name == "seed"]
    assert [c.status for c in seed_checks] == ["fail"]
    with locks.hold_job_lock(migrated_dsn, "seed") as lock:
        assert lock.took_over is not None and lock.took_over.owner == ELSEWHERE


def test_the_heartbeat_keeps_a_run_longer_than_the_ttl(
    migrated_dsn: DSN, root: pymysql.connections.Connection
) -> None:
    """TTL 2 s, held 5 s: a contender's lease_acquire still loses (renewed every 2/3 s). The
    same lease without a heartbeat is taken over once its TTL has passed (the control)."""
    name = leases.lease_name("seed", migrated_dsn.database)

    def contender_wins() -> bool:
        with root.cursor() as cur:
            cur.execute("CALL lease_acquire(%s, 2, 0, @won)", (name,))
        return scalar(root, "SELECT @won") == 1

    with locks.hold_job_lock(migrated_dsn, "seed", ttl=2) as lock:
        first = _lease(root, name).renewed_at
        time.sleep(5)
        assert not contender_wins()
        now = _lease(root, name)
        assert now.owner is not None and now.connection_id == lock.conn.thread_id()
        assert now.renewed_at is not None and first is not None and now.renewed_at > first
        lock.check()  # not lost
    quiet = locks.JobLock.open(migrated_dsn, "seed", ttl=2)
    quiet.heartbeat = False
    try:
        quiet.acquire(0)
        time.sleep(3)
        assert contender_wins()  # without renewals the TTL ends it
    finally:
        quiet.close()


def test_a_lease_taken_from_under_the_heartbeat_is_reported_lost(
    migrated_dsn: DSN, root: pymysql.connections.Connection
) -> None:
    name = leases.lease_name("migrate", migrated_dsn.database)
    with locks.hold_job_lock(migrated_dsn, "migrate", ttl=3) as lock:
        _foreign_lease(root, name)  # e.g. this node was cut off longer than the TTL
        wait_for(lambda: lock.lost is not None, 10, "the heartbeat to notice")
        with pytest.raises(TicketdbError, match=rf"taken over by {ELSEWHERE}"):
            lock.check()
    assert _lease(root, name).owner == ELSEWHERE  # release gave back nothing it did not hold


def test_partition_maintenance_takes_over_a_dead_holder_and_names_a_live_one(
    migrated_dsn: DSN, root: pymysql.connections.Connection
) -> None:
    """The shared code under `maintenance_lock`: a lease of this server whose connection is
    gone is dead at once (not after the procedure's 600 s); one held elsewhere times out
    with its owner named."""
    name = f"partitions.{migrated_dsn.database}.ticket_logs"
    dead = f"{leases.this_node(root)}:{2**31 - 7}"  # a connection id that does not exist
    with root.cursor() as cur:
        cur.execute(
            "INSERT INTO ticketdb_leases (name, owner, acquired_at, expires_at) VALUES "
            "(%s, %s, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 600 SECOND)",
            (name, dead),
        )
    t0 = time.monotonic()
    with parts.maintenance_lock(root, "ticket_logs", timeout=5):
        assert _lease(root, name).connection_id == root.thread_id()
    assert time.monotonic() - t0 < 4
    _foreign_lease(root, name, 600)
    with pytest.raises(
        TicketdbError, match=rf"elsewhere \(lease timeout\): {re.escape(ELSEWHERE)}"
    ):
        with parts.maintenance_lock(root, "ticket_logs", timeout=1):
            pass


def test_release_without_the_release_procedure_leaves_no_live_lease(migrated_dsn, root):
    """`migrate down` drops every repeatable object, lease_release included, while migrate
    still holds its lease: the release must still end the lease, or the next `migrate up`
    says it "took over the migrate lease … its connection is gone" after a clean run."""
    name = leases.lease_name("seed", migrated_dsn.database)
    lock = locks.JobLock.open(migrated_dsn, "seed", ttl=60)
    try:
        lock.acquire(5)
        with root.cursor() as cur:
            cur.execute("SHOW CREATE PROCEDURE lease_release")
            create = cur.fetchone()[2]
            cur.execute("DROP PROCEDURE lease_release")
        lock.release()
        released = _lease(root, name)
        assert released.owner is None and not released.live
    finally:
        lock.close()
        with root.cursor() as cur:
            cur.execute("DROP PROCEDURE IF EXISTS lease_release")
            cur.execute(create)
    said: list[str] = []
    with locks.hold_job_lock(migrated_dsn, "seed", wait=5, say=said.append) as again:
        assert again.took_over is None and not said, said


def test_the_names_a_reporter_can_compute_block_neither_seed_nor_migrate(
    migrated_dsn: DSN, root: pymysql.connections.Connection, accounts: dict[str, DSN]
) -> None:
    """GET_LOCK needs no privilege: the reporter may take any name, and here takes every name it
    can compute for this database — the old ``ticketdb.<job>.<db>`` and the new scheme under
    every salt it could guess. The real names are an HMAC under ticketdb_lock_salt, which it
    cannot read, so a seed and a migrate up (other processes) run at once."""
    db = migrated_dsn.database
    jobs = (*OLD_NAME_JOBS, "partitions")
    guesses = {leases.lock_name(job, db, salt) for job in jobs for salt in (None, "", db, "x" * 64)}
    rep = connect(accounts["ticketdb_reporter"])
    try:
        assert code_of(rep, f"SELECT salt FROM {leases.SALT_TABLE}") == 1142
        with pytest.raises(TicketdbError, match="cannot read .*ticketdb_lock_salt"):
            locks.JobLock.open(accounts["ticketdb_reporter"], "seed")
        for name in guesses:
            assert scalar(rep, "SELECT GET_LOCK(%s, 0)", (name,)) == 1, name
        real = {job: leases.job_lock_name(root, job, db) for job in jobs}
        assert not guesses & set(real.values())
        assert all(re.fullmatch(rf"ticketdb\.{j}\.[0-9a-f]{{40}}", n) for j, n in real.items())
        t0 = time.monotonic()
        res = run("seed", "--dsn", migrated_dsn.url(), "--tickets", "200", "--months", "2")
        assert res.returncode == 0, clean(res)
        res = run("migrate", "up", "--dsn", migrated_dsn.url(), "--lock-timeout", "5")
        assert res.returncode == 0, clean(res)
        assert time.monotonic() - t0 < 120
        with locks.hold_job_lock(migrated_dsn, "seed") as held:  # what a seed really holds
            assert held.local_name == real["seed"]
            assert scalar(root, "SELECT IS_USED_LOCK(%s)", (real["seed"],)) == held.conn.thread_id()
    finally:
        rep.close()


def test_an_account_reads_the_salt_to_hold_a_lock_and_the_follower_says_so(
    migrated_dsn: DSN, root: pymysql.connections.Connection, accounts: dict[str, DSN]
) -> None:
    """The VIP follower's lock (``vip-follow``) is taken by its own account: without SELECT on
    the salt its preflight names the grant (and JobLock refuses), with it the account computes
    the same name as the migrator (here the app account stands in for it)."""
    from ticketdb.app.follower import missing_privileges

    db, app = migrated_dsn.database, accounts["ticketdb_app"]
    with connect(app) as conn:
        assert f"SELECT on {leases.SALT_TABLE}" in missing_privileges(conn)
    with pytest.raises(TicketdbError, match="cannot read"):
        locks.JobLock.open(app, "vip-follow")
    with root.cursor() as cur:
        cur.execute(f"GRANT SELECT ON `{db}`.{leases.SALT_TABLE} TO 'ticketdb_app'@'127.0.0.1'")
    lock = locks.JobLock.open(app, "vip-follow")
    try:
        assert lock.local_name == leases.job_lock_name(root, "vip-follow", db)
    finally:
        lock.close()
    with connect(app) as conn:
        assert f"SELECT on {leases.SALT_TABLE}" not in missing_privileges(conn)


def test_a_holder_cut_off_by_a_silent_network_gives_up_before_its_lease_expires(
    migrated_dsn: DSN, root: pymysql.connections.Connection
) -> None:
    """The holder's path freezes (no reset, no reply): the heartbeat's renewal may wait only
    until shortly before the lease runs out, so the job hears "lost" while the server still
    counts the lease as live — nobody else can have taken it yet. (It used to wait its 45 s
    read timeout after a TTL/3 sleep: 65 s against a 60 s lease.)"""
    from faultkit import FreezingProxy

    ttl = 3
    name = leases.lease_name("seed", migrated_dsn.database)
    proxy = FreezingProxy((migrated_dsn.host, migrated_dsn.port))
    lock = locks.JobLock.open(proxy.dsn(migrated_dsn), "seed", ttl=ttl)
    try:
        lock.acquire(0)
        time.sleep(1.2)  # at least one renewal won through the proxy
        proxy.freeze()
        frozen = time.monotonic()
        wait_for(lambda: lock.lost is not None, 3 * ttl, "the heartbeat to give up")
        noticed = time.monotonic() - frozen
        live = _lease(root, name)
        assert live.owner is not None and live.live, "lost was reported only after expiry"
        assert noticed < ttl, noticed
        with pytest.raises(TicketdbError, match="lease"):
            lock.check()
    finally:
        started = time.monotonic()
        lock.close()
        assert time.monotonic() - started < 15, "release on a frozen path is bounded"
        proxy.close()
