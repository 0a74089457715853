"""The VIP cache follower (`ticketdb vip follow`): hits served by Redis alone while it is fresh,
staleness bounded through every write path and every failure, one active follower.

"Bounded" is checked the strict way: every read that *started* more than the bound after a
change committed must return the committed set; reads in between may still be stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import faultkit
import pytest
import redis
from test_cache import add_tickets, db_open  # the same two helpers, one copy

from ticketdb import PROJECT_ROOT
from ticketdb.app import cache
from ticketdb.app.cache import VipCache, follower_keys
from ticketdb.app.follower import Follower
from ticketdb.db import connect
from ticketdb.project import read_sql_file

BOUND_MS = 250.0


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


def test_changes_list_cut_short_makes_the_follower_read_every_vip(
    conn, migrated_dsn, rurl, monkeypatch
):
    """A poll's changes come as one GROUP_CONCAT: cut at group_concat_max_len (here 4 bytes,
    shorter than any item), the follower must notice and read every VIP's version instead of
    publishing a cut version or nothing."""
    connect_ = Follower._connect

    def short_lists(self: Follower):
        c = connect_(self)
        with c.cursor() as cur:
            cur.execute("SET SESSION group_concat_max_len = 4")
        return c

    monkeypatch.setattr(Follower, "_connect", short_lists)
    ids = add_tickets(conn, 8, 3)
    cache.refresh_vip(migrated_dsn, 2)
    with running(migrated_dsn, rurl) as f, VipCache(migrated_dsn, rurl) as c:
        wait_fresh(rurl, migrated_dsn.database)
        hit_by_follower(c, 8)
        everything: list[bool] = []
        sweep = f._sweep

        def spy(conn_, published):
            everything.append(not published)
            return sweep(conn_, published)

        f._sweep = spy  # type: ignore[method-assign]
        _move(conn, 8, ids)  # two customers bumped: "8:<v>;99:<v>;" is longer than 4 bytes
        until_fresh_answer(c, conn, 8, time.monotonic())
        hit_by_follower(c, 8)
        assert any(everything), "no poll fell back to reading every VIP"


def test_idle_follower_keeps_the_heartbeat_while_publishing_less(conn, migrated_dsn, rurl):
    """With nothing changing, polls skip the Redis publish, yet the heartbeat never lapses:
    it is renewed at half the bound."""
    add_tickets(conn, 10, 2)
    cache.refresh_vip(migrated_dsn, 2)
    with running(migrated_dsn, rurl) as f:
        wait_fresh(rurl, migrated_dsn.database)
        time.sleep(0.3)  # past the first polls (the claim, the first sweep's findings)
        calls = [0]
        publish = f._publish

        def counting(*a, **kw):
            calls[0] += 1
            return publish(*a, **kw)

        f._publish = counting  # type: ignore[method-assign]
        polls = f.stats.polls
        r = redis.Redis.from_url(rurl, socket_timeout=1)
        hb = follower_keys(migrated_dsn.database)[0]
        samples = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            samples.append(bool(r.exists(hb)))
            time.sleep(0.005)
        polls = f.stats.polls - polls
        assert all(samples), f"the heartbeat lapsed in {samples.count(False)} of {len(samples)}"
        assert polls >= 20 and calls[0] <= polls / 2, (polls, calls[0])
