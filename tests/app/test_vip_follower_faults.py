"""The VIP cache follower under failures: killed, stopped, two of them, Redis flushed,
restarted, full or hanging, missing privileges or triggers, bad options. Reads must never be
stale beyond the bound, and a dead follower must never make them stale at all."""

from __future__ import annotations

import logging
import math
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import faultkit
import pytest
import redis
from test_vip_follower import (
    BOUND_MS,
    _raw_update,
    add_tickets,
    db_open,
    fresh,
    hit_by_follower,
    running,
    until_fresh_answer,
    wait_fresh,
)

from ticketdb.app import cache
from ticketdb.app.cache import VipCache, follower_keys
from ticketdb.app.follower import check_bound
from ticketdb.db import connect
from ticketdb.errors import UsageError
from ticketdb.server.sandbox import free_port


@pytest.fixture
def rurl(redis_url) -> str:
    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


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
    assert check_bound(250.0) == 50.0 and math.isclose(check_bound(50.0), 10.0)


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
