"""Redis cache of VIP customers' open tickets: read-through, never stale, race-safe, degrades.

Each test session starts its own redis-server on a free port (no persistence, the `redis_url`
fixture in conftest.py); without the binary the Redis-backed tests skip with the reason.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator

import pymysql
import pytest
import redis
from click.testing import CliRunner
from waiting import join_all

from ticketdb.app import cache
from ticketdb.app.cache import VipCache
from ticketdb.cli import cli
from ticketdb.server.sandbox import free_port


@pytest.fixture
def rcache(migrated_dsn, redis_url) -> Iterator[VipCache]:
    redis.Redis.from_url(redis_url).flushdb()
    c = VipCache(migrated_dsn, redis_url)
    yield c
    c.close()


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


def test_vip_refresh_threshold(conn, migrated_dsn):
    add_tickets(conn, 1, 3)
    add_tickets(conn, 2, 1)
    add_tickets(conn, 3, 2, status="closed")
    assert cache.refresh_vip(migrated_dsn, 2) == 2
    with conn.cursor() as cur:
        cur.execute("SELECT id, vip_tier, ticket_count FROM customers ORDER BY id")
        assert cur.fetchall() == ((1, "vip", 3), (2, "standard", 1), (3, "vip", 2))
    res = CliRunner().invoke(cli, ["vip", "refresh", "--threshold", "3", "--json",
                                   "--dsn", migrated_dsn.url()])  # fmt: skip
    assert res.exit_code == 0 and '"vip_customers": 1' in res.stdout
    res = CliRunner().invoke(cli, ["vip", "refresh", "--threshold", "0", "--dsn", "mysql://x@y/z"])
    assert res.exit_code == 2
    with pytest.raises(pymysql.err.OperationalError) as err, conn.cursor() as cur:
        cur.execute("CALL vip_refresh(0)")
    assert err.value.args[0] == 1644  # SIGNAL from the procedure


def test_read_through_then_any_committed_write_invalidates(conn, migrated_dsn, rcache):
    ids = add_tickets(conn, 7, 3)
    add_tickets(conn, 8, 1)
    cache.refresh_vip(migrated_dsn, 2)  # 7 is VIP, 8 is not
    first = rcache.open_tickets(7)
    assert (first.source, first.ticket_ids) == ("database", ids)
    assert rcache.open_tickets(7).source == "cache"
    r = redis.Redis.from_url(rcache.redis_url)
    assert sorted(int(x) for x in r.smembers(rcache.set_key(7))) == ids
    # non-VIP customers are never cached
    assert rcache.open_tickets(8).source == "database" and not r.exists(rcache.set_key(8))
    # a raw UPDATE (no Python, no procedure) is seen on the very next read
    with conn.cursor() as cur:
        cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s", (ids[0],))
    after = rcache.open_tickets(7)
    assert (after.source, after.ticket_ids) == ("database", ids[1:])
    # pending -> processing does not change the set: still a hit
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE service_tickets SET current_status = 'processing' WHERE id = %s", (ids[1],)
        )
    assert rcache.open_tickets(7).source == "cache"
    # CLI: ids on stdout, the source on stderr
    res = CliRunner().invoke(
        cli, ["vip", "open", "7", "--redis", rcache.redis_url, "--dsn", migrated_dsn.url()]
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.split() == [str(i) for i in ids[1:]] and "source: cache" in res.stderr


def test_random_operations_cache_never_stale(conn, migrated_dsn, rcache):
    """Random writes through every path (procedures, raw SQL, rolled-back transactions); after
    each one the cache answer equals the database, and the cache is actually used."""
    rng = random.Random(5)
    customers = [11, 12, 13, 14, 15]
    for c in customers:
        add_tickets(conn, c, 3)
    cache.refresh_vip(migrated_dsn, 1)

    def tickets() -> list[tuple[int, int, str]]:
        with conn.cursor() as cur:
            cur.execute("SELECT id, customer_id, current_status FROM service_tickets")
            return list(cur.fetchall())

    done: Counter[int] = Counter()
    for step in range(150):
        tid, cust, status = rng.choice(tickets())
        op = rng.randrange(6)
        try:
            with conn.cursor() as cur:
                if op == 0:
                    add_tickets(conn, rng.choice(customers), 1)
                elif op == 1:
                    action = {
                        "pending": "CALL ticket_assign(%s, 1)",
                        "processing": "CALL ticket_resolve(%s, 1, 'fixed')",
                        "resolved": rng.choice(
                            ["CALL ticket_reopen(%s, 1, 'again')", "CALL ticket_close(%s, 1)"]
                        ),
                    }.get(status)
                    if action:
                        cur.execute(action, (tid,))
                elif op == 2:  # the ticket moves to another customer
                    cur.execute(
                        "UPDATE service_tickets SET customer_id = %s WHERE id = %s",
                        (rng.choice(customers), tid),
                    )
                elif op == 3:  # raw status change, any direction
                    new = rng.choice(["pending", "processing", "resolved", "closed"])
                    cur.execute(
                        "UPDATE service_tickets SET current_status = %s WHERE id = %s", (new, tid)
                    )
                elif op == 4:  # changes that are rolled back must not disturb anything
                    conn.begin()
                    cur.execute(
                        "UPDATE service_tickets SET current_status = 'closed' "
                        "WHERE customer_id = %s",
                        (cust,),
                    )
                    add_tickets(conn, cust, 1)
                    conn.rollback()
                else:  # delete (refused by the workflow trigger when the ticket has logs)
                    cur.execute("DELETE FROM service_tickets WHERE id = %s", (tid,))
            done[op] += 1
        except pymysql.err.MySQLError as exc:
            assert exc.args[0] == 1644, exc  # a transition / delete refused by a trigger
            done[-1] += 1
        c = rng.choice(customers)
        got = rcache.open_tickets(c)
        assert got.ticket_ids == db_open(conn, c), (step, op, got)
    for c in customers:
        assert rcache.open_tickets(c).ticket_ids == db_open(conn, c)
    assert rcache.stats.hits > 20 and rcache.stats.misses > 20, rcache.stats
    assert min(done[op] for op in range(6)) > 5, done  # every path really ran


def test_reader_racing_a_writer_cannot_put_a_stale_set_back(conn, migrated_dsn, rcache):
    ids = add_tickets(conn, 21, 2)
    cache.refresh_vip(migrated_dsn, 1)
    # a reader loads the set from the database ...
    _vip, version, old_ids = rcache._load(21)
    # ... a writer commits a change in between ...
    new_id = add_tickets(conn, 21, 1)[0]
    # ... and the slow reader stores what it loaded, after the writer's commit
    token = f"|{version[0]}.{version[1]}.{len(old_ids)}"
    assert rcache._store(keys=[rcache.set_key(21), rcache.version_key(21)],
                         args=[token, 60, *old_ids]) == 1  # fmt: skip
    got = rcache.open_tickets(21)
    assert (got.source, got.ticket_ids) == ("database", [*ids, new_id])
    # and once the newer set is cached, the old one can no longer overwrite it
    assert rcache._store(keys=[rcache.set_key(21), rcache.version_key(21)],
                         args=[token, 60, *old_ids]) == 0  # fmt: skip
    assert rcache.open_tickets(21) == cache.OpenTickets(
        21, [*ids, new_id], "cache", True, got.version
    )


def test_concurrent_readers_and_writer_end_consistent(conn, migrated_dsn, rcache, redis_url):
    add_tickets(conn, 31, 5)
    cache.refresh_vip(migrated_dsn, 1)
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        with VipCache(migrated_dsn, redis_url) as c:
            while not stop.is_set():
                try:
                    c.open_tickets(31)
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                    return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    rng = random.Random(1)
    with conn.cursor() as cur:
        for _ in range(60):
            cur.execute(
                "UPDATE service_tickets SET current_status = %s WHERE customer_id = 31 "
                "ORDER BY RAND() LIMIT 1",
                (rng.choice(["pending", "closed"]),),
            )
    stop.set()
    assert join_all(threads, 10) == []
    assert not errors
    assert rcache.open_tickets(31).ticket_ids == db_open(conn, 31)


def test_evicted_set_is_a_miss_not_an_empty_answer(conn, migrated_dsn, rcache):
    ids = add_tickets(conn, 41, 2)
    cache.refresh_vip(migrated_dsn, 1)
    rcache.open_tickets(41)
    redis.Redis.from_url(rcache.redis_url).delete(rcache.set_key(41))  # evicted, version kept
    got = rcache.open_tickets(41)
    assert (got.source, got.ticket_ids) == ("database", ids)


def test_a_dropped_redis_connection_is_reconnected_without_a_warning(conn, migrated_dsn, rcache):
    """The hit path holds a Redis connection of its own: one the server closed (a restart, an
    idle timeout, CLIENT KILL) is replaced on the next read, not reported as Redis down."""
    ids = add_tickets(conn, 43, 2)
    cache.refresh_vip(migrated_dsn, 1)
    rcache.open_tickets(43)  # a miss: stored
    assert rcache.open_tickets(43).source == "cache"
    host, port = rcache._held._sock.getsockname()[:2]
    assert redis.Redis.from_url(rcache.redis_url).client_kill(f"{host}:{port}")
    got = rcache.open_tickets(43)
    assert (got.source, got.ticket_ids, got.warning) == ("cache", ids, None)
    assert rcache.stats.redis_errors == 0
    assert rcache.open_tickets(43).source == "cache" and rcache._held is not None


def test_bulk_load_switch_cannot_skip_the_version_bump(conn, migrated_dsn, rcache):
    add_tickets(conn, 51, 1)
    cache.refresh_vip(migrated_dsn, 1)
    rcache.open_tickets(51)
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")  # any client can set it: it is no opt-out
        add_tickets(conn, 51, 1)
        cur.execute("SET @ticketdb_bulk_load = NULL")
    got = rcache.open_tickets(51)
    assert got.source == "database" and got.ticket_ids == db_open(conn, 51)
    # invalidate-all (what a loader that dropped the triggers runs) still works
    res = CliRunner().invoke(cli, ["vip", "invalidate-all", "--dsn", migrated_dsn.url()])
    assert res.exit_code == 0, res.output
    got = rcache.open_tickets(51)
    assert got.source == "database" and got.ticket_ids == db_open(conn, 51)


def test_redis_down_falls_back_to_database_with_warning(conn, migrated_dsn, caplog):
    ids = add_tickets(conn, 61, 2)
    cache.refresh_vip(migrated_dsn, 1)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with (
        caplog.at_level(logging.WARNING, logger="ticketdb.app.cache"),
        VipCache(migrated_dsn, dead) as c,
    ):
        first = c.open_tickets(61)
        second = c.open_tickets(61)  # within retry_after: redis is not even tried
    assert (first.source, first.ticket_ids) == ("database", ids)
    assert first.warning and "unavailable" in first.warning
    assert second.ticket_ids == ids and c.stats.redis_errors == 1
    assert "unavailable" in caplog.text
    res = CliRunner().invoke(
        cli, ["vip", "open", "61", "--redis", dead, "--dsn", migrated_dsn.url()]
    )
    assert res.exit_code == 0
    assert res.stdout.split() == [str(i) for i in ids] and "warning" in res.stderr


def test_the_staleness_probe_never_flips_a_ticket_a_life_writes(conn, migrated_dsn, project):
    """The probe's candidates are the tickets that existed before the write phase: a ticket a
    life created (and moves on by itself) flipped by the probe made it wait 5 s for a state
    the cache was right not to show (CI: staleness_max_ms 5001.81)."""
    from ticketdb.bench.scenarios import vip_cache

    before = add_tickets(conn, 7, 2)
    st = {"flip_max_id": max(before), "flipped": {}}
    lives = add_tickets(conn, 7, 3)  # what the lives write during the phase
    chosen = set()
    rng = random.Random(1)
    for _ in range(30):
        tid, _open = vip_cache._flip(conn, st, 7, rng)
        chosen.add(tid)
    assert chosen and chosen <= set(before) and not chosen & set(lives)


def test_bench_scenario_measures_hits_staleness_and_write_cost(conn, migrated_dsn, rcache,
                                                                project):  # fmt: skip
    """The bench's cache scenario end to end on a small data set: every recorded metric is
    there, hits made no database query, and the data set is left as found."""
    from ticketdb.bench.runner import run_bench

    for c in range(1, 21):
        add_tickets(conn, c, 2 + c)
    cache.refresh_vip(migrated_dsn, 5)
    before = {c: db_open(conn, c) for c in range(1, 21)}
    doc = run_bench(migrated_dsn, project, reuse=True, only=["vip_open_tickets_cached"],
                    duration=1, redis_url=rcache.redis_url)  # fmt: skip
    res = doc["scenarios"][0]
    assert "error" not in res, res
    assert res["hit_rate"] > 0.8 and res["db_queries_per_hit"] == 0, res
    assert res["staleness_samples"] > 0 and 0 < res["staleness_max_ms"] < 5000
    assert [b["bucket"] for b in res["buckets"]] == ["few", "tens", "hundreds"]
    assert all(b["cached_p50_ms"] > 0 and b["db_p50_ms"] > 0 for b in res["buckets"])
    assert len(res["write_ops_per_s"]["with_follower"]) == 1 and res["write_ops_ratio"] > 0
    assert res["write_ops_round_ratios"] == [res["write_ops_ratio"]]  # one round at 1 s
    assert {"cached", "db"} <= set(res["server_cpu_us_per_read"])
    assert {c: db_open(conn, c) for c in range(1, 21)} == before  # everything undone
    targets = {t["metric"] for t in doc["targets"] if t["scenario"] == res["name"]}
    assert {"hit_rate", "db_queries_per_hit", "staleness_p99_ms", "write_ops_ratio"} <= targets


def test_two_databases_sharing_one_redis_never_see_each_others_sets(
    conn, migrated_dsn, rcache, redis_url, server_dsn, project
):
    """Same customer id, same versions, same count in two databases: without a per-database
    namespace the second would be served the first one's ids."""
    from ticketdb import migrate as mig
    from ticketdb.db import connect, quote_ident

    other_dsn = server_dsn.with_database(migrated_dsn.database + "_b")
    mig.up(other_dsn, project)
    other = connect(other_dsn)
    try:
        with other.cursor() as cur:  # shift the ids so the two sets differ
            cur.execute("ALTER TABLE service_tickets AUTO_INCREMENT = 1000")
        ids_a = add_tickets(conn, 7, 2)
        ids_b = add_tickets(other, 7, 2)
        assert ids_a != ids_b
        cache.refresh_vip(migrated_dsn, 2)
        cache.refresh_vip(other_dsn, 2)
        with VipCache(other_dsn, redis_url) as rb:
            for _ in range(2):  # second round: both served from Redis
                a, b = rcache.open_tickets(7), rb.open_tickets(7)
                assert (a.ticket_ids, b.ticket_ids) == (ids_a, ids_b)
            assert (a.source, b.source) == ("cache", "cache")
            assert rcache.set_key(7) != rb.set_key(7)
    finally:
        with other.cursor() as cur:
            cur.execute(f"DROP DATABASE {quote_ident(other_dsn.database)}")
        other.close()
