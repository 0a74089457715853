"""The VIP cache follower (`ticketdb vip follow`): hits served by Redis alone while it is fresh,
staleness bounded through every write path and every failure, one active follower.

"Bounded" is checked the strict way: every read that *started* more than the bound after a
change committed must return the committed set; reads in between may still be stale.
"""

from __future__ import annotations

import logging
import math
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import faultkit
import pytest
import redis

from ticketdb import PROJECT_ROOT
from ticketdb.app import cache
from ticketdb.app.cache import VipCache, follower_keys
from ticketdb.app.follower import Follower, check_bound
from ticketdb.db import connect
from ticketdb.errors import UsageError
from ticketdb.project import read_sql_file
from ticketdb.server.sandbox import free_port

BOUND_MS = 250.0


def add_tickets(conn, customer: int, n: int, status: str = "pending") -> list[int]:
    ids = []
    with conn.cursor() as cur:
        for i in range(n):
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority, current_status) "
                "VALUES (%s, %s, 'medium', %s)",
                (customer, f"c{customer} #{i}", status),
            )
            ids.append(cur.lastrowid)
    return ids


def db_open(conn, customer: int) -> list[int]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id FROM service_tickets WHERE customer_id = %s "
            "AND current_status IN ('pending', 'processing') ORDER BY id",
            (customer,),
        )
        return [r[0] for r in cur.fetchall()]


@contextmanager
def running(dsn, redis_url: str, **kw) -> Iterator[Follower]:
    """An in-process follower in a thread, stopped (and checked stopped) on the way out."""
    f = Follower(dsn, redis_url, bound_ms=kw.pop("bound_ms", BOUND_MS), say=lambda m: None, **kw)
    stop = threading.Event()
    t = threading.Thread(target=f.run, args=(stop,), daemon=True)
    t.start()
    try:
        yield f
    finally:
        stop.set()
        t.join(15)
        assert not t.is_alive(), "the follower thread did not stop"


def fresh(redis_url: str, db: str) -> bool:
    return bool(redis.Redis.from_url(redis_url, socket_timeout=1).exists(follower_keys(db)[0]))


def wait_fresh(redis_url: str, db: str, timeout: float = 15) -> None:
    faultkit.wait_for(lambda: fresh(redis_url, db), timeout, "a fresh follower heartbeat")


def until_fresh_answer(c: VipCache, conn, customer: int, committed_at: float,
                       timeout: float = 5) -> float:  # fmt: skip
    """Read until the answer equals the database; fail if a read that started more than the
    bound after the commit was stale. Returns how long the change took to show (ms)."""
    want = db_open(conn, customer)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        got = c.open_tickets(customer)
        if got.ticket_ids == want:
            return (started - committed_at) * 1000
        late = (started - committed_at) * 1000
        assert late <= BOUND_MS, f"stale answer {late:.0f} ms after the commit: {got}"
        time.sleep(0.002)
    raise AssertionError(f"customer {customer} never showed {want}")


def hit_by_follower(c: VipCache, customer: int, timeout: float = 5) -> None:
    faultkit.wait_for(lambda: c.open_tickets(customer).follower, timeout, "a follower-vouched hit")


@pytest.fixture
def rurl(redis_url) -> str:
    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


def test_hits_make_no_database_query(conn, migrated_dsn, rurl):
    ids = add_tickets(conn, 7, 3)
    cache.refresh_vip(migrated_dsn, 2)
    with running(migrated_dsn, rurl), VipCache(migrated_dsn, rurl) as c:
        wait_fresh(rurl, migrated_dsn.database)
        hit_by_follower(c, 7)

        def questions() -> int:
            with c.conn.cursor() as cur:
                cur.execute("SHOW SESSION STATUS LIKE 'Questions'")
                return int(cur.fetchone()[1])

        before = questions()
        answers = [c.open_tickets(7) for _ in range(50)]
        assert questions() - before == 1  # the second SHOW itself: the 50 hits asked nothing
        assert all(a.follower and a.source == "cache" and a.ticket_ids == ids for a in answers)


def _raw_update(conn, cust: int, ids: list[int]) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s", (ids[0],))


def _procedures(conn, cust: int, ids: list[int]) -> None:
    with conn.cursor() as cur:
        cur.execute("CALL ticket_assign(%s, 1)", (ids[1],))
        cur.execute("CALL ticket_resolve(%s, 1, 'done')", (ids[1],))


def _insert(conn, cust: int, ids: list[int]) -> None:
    add_tickets(conn, cust, 1)


def _move(conn, cust: int, ids: list[int]) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE service_tickets SET customer_id = 99 WHERE id = %s", (ids[2],))


def _bulk_load_then_invalidate_all(conn, cust: int, ids: list[int]) -> None:
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
        try:
            cur.execute("UPDATE service_tickets SET current_status = 'closed' "
                        "WHERE customer_id = %s", (cust,))  # fmt: skip
        finally:
            cur.execute("SET @ticketdb_bulk_load = NULL")
        cur.execute("CALL cache_invalidate_all()")


def _trigger_swap(conn, cust: int, ids: list[int]) -> None:
    """What `migrate up` does when a trigger file changes (DROP + CREATE), with a write
    landing in between that no trigger saw."""
    body = read_sql_file(PROJECT_ROOT / "triggers" / "cache_tickets_after_update.sql")
    with conn.cursor() as cur:
        cur.execute("DROP TRIGGER cache_tickets_after_update")
        cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s",
                    (ids[0],))  # fmt: skip
        time.sleep(0.05)
        cur.execute(body)


def _escalation(conn, cust: int, ids: list[int]) -> None:
    """The hourly event's procedure (priorities move, the open set must not), then a close."""
    with conn.cursor() as cur:
        cur.execute("UPDATE service_tickets SET created_at = NOW() - INTERVAL 30 DAY, "
                    "sla_started_at = NOW() - INTERVAL 30 DAY WHERE customer_id = %s",
                    (cust,))  # fmt: skip
        cur.execute("CALL escalate_stale_tickets(@n)")
        cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s",
                    (ids[0],))  # fmt: skip


PATHS: dict[str, Callable] = {
    "raw_update": _raw_update,
    "procedures": _procedures,
    "insert": _insert,
    "customer_move": _move,
    "bulk_load_then_cache_invalidate_all": _bulk_load_then_invalidate_all,
    "trigger_swap": _trigger_swap,
    "escalation": _escalation,
}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_write_path_shows_within_the_bound(conn, migrated_dsn, rurl, path):
    ids = add_tickets(conn, 5, 4)
    cache.refresh_vip(migrated_dsn, 2)
    with running(migrated_dsn, rurl) as f, VipCache(migrated_dsn, rurl) as c:
        wait_fresh(rurl, migrated_dsn.database)
        hit_by_follower(c, 5)
        flushes = f.stats.flushes
        PATHS[path](conn, 5, ids)
        committed = time.monotonic()
        assert db_open(conn, 5) != ids, "the path changed nothing"
        until_fresh_answer(c, conn, 5, committed)
        hit_by_follower(c, 5)  # and the cache is used again afterwards
        assert c.open_tickets(5).ticket_ids == db_open(conn, 5)
        if path == "trigger_swap":
            assert f.stats.flushes == flushes + 1


def test_seed_is_covered(conn, migrated_dsn, rurl, project):
    """A seed replaces the data with the triggers dropped, then bumps the epoch."""
    from ticketdb.seed.generate import SeedSpec
    from ticketdb.seed.runner import seed

    add_tickets(conn, 3, 4)
    cache.refresh_vip(migrated_dsn, 2)
    with running(migrated_dsn, rurl), VipCache(migrated_dsn, rurl) as c:
        wait_fresh(rurl, migrated_dsn.database)
        hit_by_follower(c, 3)
        seed(migrated_dsn, project, SeedSpec(tickets=300, customers=5, seed=3), replace=True,
             vip_threshold=2)  # fmt: skip
        until_fresh_answer(c, conn, 3, time.monotonic())
        for cust in range(1, 6):
            assert c.open_tickets(cust).ticket_ids == db_open(conn, cust)


def _start_follower(dsn, url: str):
    proc = faultkit.start("vip", "follow", "--dsn", dsn.url(), "--redis", url)
    faultkit.wait_for(lambda: fresh(url, dsn.database), 30, "the follower's heartbeat", proc)
    return proc


def test_kill_9_falls_back_within_the_bound_never_stale(conn, migrated_dsn, rurl):
    """Fails if the reader trusted cached sets without a live heartbeat: the killed follower
    never publishes the change, so only the fallback check can see it."""
    ids = add_tickets(conn, 9, 3)
    cache.refresh_vip(migrated_dsn, 2)
    proc = _start_follower(migrated_dsn, rurl)
    try:
        with VipCache(migrated_dsn, rurl) as c:
            hit_by_follower(c, 9)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            _raw_update(conn, 9, ids)
            until_fresh_answer(c, conn, 9, time.monotonic())
            time.sleep(BOUND_MS / 1000)
            after = [c.open_tickets(9) for _ in range(20)]
            assert all(a.ticket_ids == ids[1:] and not a.follower for a in after)
            assert any(a.source == "cache" for a in after)  # checked hits still use Redis
    finally:
        if proc.poll() is None:
            faultkit.kill(proc)


def test_stopped_follower_lets_reads_fall_back_then_resumes(conn, migrated_dsn, rurl):
    ids = add_tickets(conn, 9, 3)
    cache.refresh_vip(migrated_dsn, 2)
    proc = _start_follower(migrated_dsn, rurl)
    try:
        with VipCache(migrated_dsn, rurl) as c:
            hit_by_follower(c, 9)
            proc.send_signal(signal.SIGSTOP)  # stuck, not dead
            _raw_update(conn, 9, ids)
            until_fresh_answer(c, conn, 9, time.monotonic())
            proc.send_signal(signal.SIGCONT)
            hit_by_follower(c, 9)  # it resumes and vouches again
            assert c.open_tickets(9).ticket_ids == ids[1:]
    finally:
        proc.send_signal(signal.SIGCONT)
        rc, _out, err = faultkit.kill(proc, signal.SIGTERM)
        assert rc == 0, err
    assert "follower stopped" in err
    assert not fresh(rurl, migrated_dsn.database)  # a clean stop withdraws the heartbeat


@pytest.fixture
def own_redis(tmp_path) -> Iterator[Callable[[], str]]:
    """A redis-server of the test's own, which it may restart or shrink (``.stop()``)."""
    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server not installed")
    port = free_port()
    procs: list[subprocess.Popen] = []

    def start() -> str:
        procs.append(subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        faultkit.wait_for(lambda: _pings(url), 10, "redis-server")
        return url

    def stop() -> None:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)

    start.stop = stop  # type: ignore[attr-defined]
    yield start
    stop()


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def test_redis_flushed_restarted_or_full_gives_misses_never_wrong_answers(
    conn, migrated_dsn, own_redis
):
    url = own_redis()
    customers = list(range(20, 40))
    for cust in customers:
        add_tickets(conn, cust, 30)
    cache.refresh_vip(migrated_dsn, 2)
    with running(migrated_dsn, url) as f, VipCache(migrated_dsn, url, retry_after=0.2) as c:
        wait_fresh(url, migrated_dsn.database)
        hit_by_follower(c, customers[0])

        def check_all() -> None:
            for cust in customers:
                assert c.open_tickets(cust).ticket_ids == db_open(conn, cust)

        def change(cust: int) -> None:
            with conn.cursor() as cur:
                cur.execute("UPDATE service_tickets SET current_status = IF(current_status = "
                            "'closed', 'pending', 'closed') WHERE customer_id = %s ORDER BY id "
                            "LIMIT 1", (cust,))  # fmt: skip

        check_all()
        redis.Redis.from_url(url).flushall()  # flushed
        change(customers[0])
        check_all()
        wait_fresh(url, migrated_dsn.database)  # the follower republished everything
        hit_by_follower(c, customers[0])
        own_redis.stop()  # restarted
        change(customers[1])
        time.sleep(0.3)
        assert own_redis() == url
        time.sleep(0.3)
        check_all()
        wait_fresh(url, migrated_dsn.database)
        hit_by_follower(c, customers[1])
        r = redis.Redis.from_url(url)  # full: evicts any key, the follower's too
        r.config_set("maxmemory-policy", "allkeys-lru")
        r.config_set("maxmemory", int(r.info("memory")["used_memory"]) + 20_000)
        for round_ in range(6):
            change(customers[round_])
            time.sleep(BOUND_MS / 1000)
            check_all()
        assert r.info("stats")["evicted_keys"] > 0
        assert f.stats.flushes >= 2


def test_two_followers_one_active_then_takeover(conn, migrated_dsn, rurl):
    add_tickets(conn, 4, 2)
    cache.refresh_vip(migrated_dsn, 1)
    with running(migrated_dsn, rurl) as a:
        wait_fresh(rurl, migrated_dsn.database)
        with running(migrated_dsn, rurl) as b:
            time.sleep(1.0)
            assert a.stats.polls > 0 and b.stats.polls == 0
            assert b.stats.active_since is None
        polls = a.stats.polls
        time.sleep(0.3)
        assert a.stats.polls > polls  # b's exit changed nothing
    with running(migrated_dsn, rurl) as a, running(migrated_dsn, rurl) as b:
        wait_fresh(rurl, migrated_dsn.database)
        time.sleep(0.5)
        active = [x for x in (a, b) if x.stats.active_since is not None]
        assert len(active) == 1
    proc1 = _start_follower(migrated_dsn, rurl)
    proc2 = faultkit.start("vip", "follow", "--dsn", migrated_dsn.url(), "--redis", rurl)
    try:
        time.sleep(1.5)
        faultkit.kill(proc1)
        t0 = time.monotonic()
        hash_key = follower_keys(migrated_dsn.database)[1]

        def owner() -> str:
            return (redis.Redis.from_url(rurl).hget(hash_key, "owner") or b"").decode()

        faultkit.wait_for(lambda: f":{proc2.pid}:" in owner(), 10, "the standby taking over",
                          proc2)  # fmt: skip
        assert time.monotonic() - t0 < 5
    finally:
        for p in (proc1, proc2):
            if p.poll() is None:
                faultkit.kill(p)


@pytest.mark.parametrize("bound", ["0", "nan", "-5", "inf"])
def test_bad_bound_is_exit_2(bound):
    res = faultkit.run("vip", "follow", "--bound-ms", bound, "--dsn", "mysql://x@127.0.0.1:1/z")
    assert res.returncode == 2, res.stderr
    assert "bound" in res.stderr and "Traceback" not in res.stderr
    with pytest.raises(UsageError):
        check_bound(float(bound))
    assert check_bound(250.0) == 25.0 and math.isclose(check_bound(50.0), 10.0)


def test_follower_without_privileges_names_them(migrated_dsn, server_dsn, rurl):
    admin = connect(server_dsn, database=False)
    user = f"vipf_{free_port()}"
    try:
        with admin.cursor() as cur:
            for host in ("127.0.0.1", "localhost"):
                cur.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY 'pw'")
                cur.execute(f"GRANT SELECT ON `{migrated_dsn.database}`.customers "
                            f"TO '{user}'@'{host}'")  # fmt: skip
        weak = replace(migrated_dsn, user=user, password="pw")
        res = faultkit.run("vip", "follow", "--dsn", weak.url(), "--redis", rurl, timeout=60)
        assert res.returncode == 1, res.stderr
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
        for need in ("SELECT on cache_customer_version", "TRIGGER on service_tickets",
                     "lease_acquire"):  # fmt: skip
            assert need in lines[0], lines[0]
        assert "SELECT on customers" not in lines[0]
    finally:
        with admin.cursor() as cur:
            for host in ("127.0.0.1", "localhost"):
                cur.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
        admin.close()


def test_redis_hanging_falls_back_with_one_warning(conn, migrated_dsn, caplog):
    """A listener that accepts and never answers: every read bounded by the socket timeout."""
    ids = add_tickets(conn, 61, 2)
    cache.refresh_vip(migrated_dsn, 1)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    url = f"redis://127.0.0.1:{srv.getsockname()[1]}/0"
    try:
        with caplog.at_level(logging.WARNING, logger="ticketdb.app.cache"), \
                VipCache(migrated_dsn, url) as c:  # fmt: skip
            t0 = time.monotonic()
            answers = [c.open_tickets(61) for _ in range(5)]
            took = time.monotonic() - t0
        assert all(a.ticket_ids == ids and a.source == "database" for a in answers)
        assert took < 2.0 and c.stats.redis_errors == 1
        assert caplog.text.count("unavailable") == 1
    finally:
        srv.close()


def test_missing_version_trigger_makes_the_cache_blind(conn, migrated_dsn, rurl):
    """While a version trigger is missing the follower marks the cache blind: reads bypass it
    (a write then bumps no version, so a cached set could not be proven)."""
    ids = add_tickets(conn, 8, 2)
    cache.refresh_vip(migrated_dsn, 1)
    with running(migrated_dsn, rurl), VipCache(migrated_dsn, rurl) as c:
        wait_fresh(rurl, migrated_dsn.database)
        hit_by_follower(c, 8)
        with conn.cursor() as cur:
            cur.execute("DROP TRIGGER cache_tickets_after_insert")
        blind = follower_keys(migrated_dsn.database)[2]
        faultkit.wait_for(lambda: redis.Redis.from_url(rurl).exists(blind), 5, "blind flag")
        new = add_tickets(conn, 8, 1)
        got = c.open_tickets(8)
        assert got.ticket_ids == [*ids, *new] and got.source == "database"
        assert c.stats.bypassed >= 1
        assert not fresh(rurl, migrated_dsn.database)


def test_transaction_committing_after_the_overlap_is_caught_by_the_sweep(
    conn, migrated_dsn, rurl
):
    """The version is bumped (changed_at stamped) 1.5 s before the commit, later than the
    overlap the polls re-read: the periodic full sweep must still publish it."""
    ids = add_tickets(conn, 6, 3)
    cache.refresh_vip(migrated_dsn, 2)
    slow = connect(migrated_dsn)
    try:
        with running(migrated_dsn, rurl) as f, VipCache(migrated_dsn, rurl) as c:
            wait_fresh(rurl, migrated_dsn.database)
            hit_by_follower(c, 6)
            with slow.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s",
                            (ids[0],))  # fmt: skip
                time.sleep(1.5)
                cur.execute("COMMIT")
            committed = time.monotonic()
            want = db_open(conn, 6)
            assert want == ids[1:]
            faultkit.wait_for(lambda: c.open_tickets(6).ticket_ids == want,
                              (f.sweep_ms + BOUND_MS) / 1000 + 0.5, "the sweep")  # fmt: skip
            took = (time.monotonic() - committed) * 1000
            assert took <= f.sweep_ms + BOUND_MS + 200, took
    finally:
        slow.close()
