"""The VIP cache follower on Galera: one active follower cluster-wide (the lease), a standby on
another node takes over when the active one is killed, and reads stay correct throughout."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import faultkit
import pytest
import redis
from test_vip_follower import add_tickets, db_open, fresh, hit_by_follower, until_fresh_answer
from waiting import node_synced

from ticketdb import migrate as mig
from ticketdb.app import cache
from ticketdb.app.cache import VipCache, follower_keys
from ticketdb.db import connect
from ticketdb.dsn import DSN

pytestmark = [pytest.mark.galera, pytest.mark.timeout(600)]


@pytest.fixture
def gdb(galera_database: Any, project: Any) -> Iterator[list[DSN]]:
    with galera_database("v") as dsns:
        mig.up(dsns[0], project)
        for d in dsns[1:]:  # what node 1 ran is there before a test reads another node
            node_synced(d)
        yield dsns


def test_follower_on_node_1_killed_another_node_takes_over(gdb, redis_url):
    r = redis.Redis.from_url(redis_url)
    db = gdb[0].database
    hash_key = follower_keys(db)[1]
    w = connect(gdb[2])
    ids = add_tickets(w, 5, 4)
    cache.refresh_vip(gdb[0], 2)

    def owner() -> str:
        return (r.hget(hash_key, "owner") or b"").decode()

    args = ("vip", "follow", "--redis", redis_url, "--lease-ttl", "3")
    first = faultkit.start(*args, "--dsn", gdb[0].url())
    second = None
    try:
        faultkit.wait_for(lambda: fresh(redis_url, db), 60, "the node-1 follower", first)
        second = faultkit.start(*args, "--dsn", gdb[1].url())
        time.sleep(3)
        assert f":{first.pid}:" in owner() and second.poll() is None  # a standby
        with VipCache(gdb[1], redis_url) as c:
            hit_by_follower(c, 5, timeout=10)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed = time.monotonic()
            with w.cursor() as cur:
                cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s",
                            (ids[0],))  # fmt: skip
            until_fresh_answer(c, w, 5, time.monotonic())  # the fallback check, no follower
            faultkit.wait_for(lambda: f":{second.pid}:" in owner(), 15, "the takeover", second)
            took = time.monotonic() - killed
            hit_by_follower(c, 5, timeout=10)
            with w.cursor() as cur:
                cur.execute("UPDATE service_tickets SET current_status = 'closed' WHERE id = %s",
                            (ids[1],))  # fmt: skip
            until_fresh_answer(c, w, 5, time.monotonic())
            assert c.open_tickets(5).ticket_ids == db_open(w, 5) == ids[2:]
        assert took < 3 + 5, took  # the lease TTL plus a poll or two
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                faultkit.kill(p)
        w.close()
