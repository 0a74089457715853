"""Bench scenario ``vip_open_tickets_cached``: the VIP open-ticket cache vs the database path.

Registered on import like every module here; the runner skips it when Redis does not answer.

Access pattern: Zipf-like over VIP customers (rank r drawn with weight 1/r^s, the busiest
customers first), cold cache at the start, and a small share of writes that change the open
set of the customer just read (resolve / reopen one ticket, through the triggers like any
write), so the hit rate includes real invalidations. The same access sequence is then replayed
against the database path. Writes are undone at the end, so the dataset is left as found
(apart from cache versions, which only ever grow).

Two entry points: :func:`vip_open_tickets_cached` (standalone: DSN + Redis URL in, one dict with
hit rate, p50/p95 and the DB path's out) and :func:`registry_scenario` (the same access pattern as
a ``ticketdb.bench`` Scenario: one timed read per call, the DB path as its baseline).
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import redis

from ticketdb.app.cache import (
    CacheStats,
    VipCache,
    redis_url_from_env,
    refresh_vip,
    set_key,
    version_key,
)
from ticketdb.bench.registry import Scenario, register
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError

NAME = "vip_open_tickets_cached"


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _zipf_sequence(n_items: int, count: int, s: float, rng: random.Random) -> list[int]:
    weights = [1.0 / (r**s) for r in range(1, n_items + 1)]
    return rng.choices(range(n_items), weights=weights, k=count)


def vip_open_tickets_cached(
    dsn: DSN,
    redis_url: str,
    *,
    queries: int = 5000,
    zipf_s: float = 1.1,
    write_ratio: float = 0.01,
    max_customers: int = 2000,
    threshold: int | None = None,
    seed: int = 42,
) -> dict[str, Any]:
    """Run the scenario; returns latencies in ms (cached path and DB path), hit rate, speedup."""
    _ping(redis_url)
    if threshold is not None:
        refresh_vip(dsn, threshold)
    conn = connect(dsn)
    rng = random.Random(seed)
    changed: dict[int, str] = {}  # ticket id -> original status, restored at the end
    try:
        vips = _vip_ids(conn, max_customers)
        if not vips:
            raise TicketdbError(
                "no VIP customers: run `ticketdb vip refresh --threshold N` (or pass threshold)"
            )
        r = redis.Redis.from_url(redis_url)
        keys = [k for c in vips for k in (set_key(c, dsn.database), version_key(c, dsn.database))]
        for i in range(0, len(keys), 1000):
            r.delete(*keys[i : i + 1000])  # cold start
        r.close()
        sequence = [vips[i] for i in _zipf_sequence(len(vips), queries, zipf_s, rng)]

        cached_ms: list[float] = []
        hit_ms: list[float] = []
        miss_ms: list[float] = []
        writes = 0
        with VipCache(dsn, redis_url) as vc:
            vc.open_tickets(vips[0])  # connections warm, not counted
            vc.stats.hits = vc.stats.misses = 0
            r2 = redis.Redis.from_url(redis_url)
            r2.delete(vc.set_key(vips[0]), vc.version_key(vips[0]))
            r2.close()
            for cust in sequence:
                t0 = time.perf_counter()
                res = vc.open_tickets(cust)
                ms = (time.perf_counter() - t0) * 1000
                cached_ms.append(ms)
                (hit_ms if res.source == "cache" else miss_ms).append(ms)
                if write_ratio and rng.random() < write_ratio:
                    writes += _flip_one(conn, cust, changed, rng)
            stats = vc.stats
            redis_errors = stats.redis_errors
            hit_rate = stats.hit_rate

            db_ms: list[float] = []
            for cust in sequence:
                t0 = time.perf_counter()
                vc.open_tickets_db(cust)
                db_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        _restore(conn, changed)
        conn.close()

    p50 = statistics.median(cached_ms)
    db_p50 = statistics.median(db_ms)
    return {
        "scenario": NAME,
        "queries": queries,
        "vip_customers": len(vips),
        "zipf_s": zipf_s,
        "write_ratio": write_ratio,
        "writes": writes,
        "hit_rate": round(hit_rate, 4),
        "p50_ms": round(p50, 4),
        "p95_ms": round(_pct(cached_ms, 95), 4),
        "hit_p50_ms": round(_pct(hit_ms, 50), 4),
        "miss_p50_ms": round(_pct(miss_ms, 50), 4),
        "db_p50_ms": round(db_p50, 4),
        "db_p95_ms": round(_pct(db_ms, 95), 4),
        "speedup": round(db_p50 / p50, 3) if p50 else None,
        # the mean is where the few customers with thousands of open tickets show up
        "mean_ms": round(statistics.fmean(cached_ms), 4),
        "db_mean_ms": round(statistics.fmean(db_ms), 4),
        "speedup_mean": round(statistics.fmean(db_ms) / statistics.fmean(cached_ms), 3),
        "redis_errors": redis_errors,
    }


def _ping(redis_url: str) -> None:
    probe = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        probe.ping()
    except (redis.RedisError, OSError) as exc:
        raise TicketdbError(f"{NAME}: redis at {redis_url} unreachable ({exc})") from None
    finally:
        probe.close()


def _vip_ids(conn: Any, limit: int) -> list[int]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id FROM customers WHERE vip_tier = 'vip' "
            "ORDER BY ticket_count DESC, id LIMIT %s",
            (limit,),
        )
        return [int(r[0]) for r in cur.fetchall()]


def registry_scenario(
    redis_url: str | None = None,
    *,
    zipf_s: float = 1.1,
    warm_reads: int = 1000,
    max_customers: int = 2000,
    seed: int = 42,
) -> Scenario:
    """This scenario as a ``ticketdb.bench.registry.Scenario`` (read-only: no writes).

    ``run`` = one cached read, ``baseline`` = the same customer through the DB path (ids only,
    same shape), both walking one Zipf sequence over VIP customers. ``prepare`` pings Redis
    (TicketdbError → the runner skips the scenario) and warms the cache with ``warm_reads``
    untimed reads, so the timed reads see the steady-state hit rate, which ``cleanup`` leaves in
    ``ctx.state["vip_open_tickets_cached.hit_rate"]``. The Redis URL is ``redis_url``, else the
    bench's (``ctx.redis_url``), else $TICKETDB_REDIS_URL — resolved per run, not at import.
    """

    def prepare(ctx: Any) -> None:
        url = redis_url or ctx.redis_url or redis_url_from_env()
        _ping(url)
        vips = _vip_ids(ctx.conn, max_customers)
        if not vips:
            raise TicketdbError(f"{NAME}: no VIP customers (run `ticketdb vip refresh`)")
        rng = random.Random(seed)
        seq = [vips[i] for i in _zipf_sequence(len(vips), warm_reads + 10_000, zipf_s, rng)]
        vc = VipCache(redis_url=url, connection=ctx.conn)
        for cust in seq[:warm_reads]:
            vc.open_tickets(cust)
        vc.stats = CacheStats()
        ctx.state[NAME] = {"cache": vc, "seq": seq[warm_reads:], "run": 0, "base": 0}

    def step(ctx: Any, which: str) -> int:
        st = ctx.state[NAME]
        cust = st["seq"][st[which] % len(st["seq"])]
        st[which] += 1
        return cust

    def cleanup(ctx: Any) -> None:
        st = ctx.state.pop(NAME, None)
        if st:
            ctx.state[f"{NAME}.hit_rate"] = round(st["cache"].stats.hit_rate, 4)
            st["cache"].close()

    return Scenario(
        NAME,
        "VIP open tickets via the Redis cache (version checked per read), Zipf over VIPs",
        run=lambda ctx: ctx.state[NAME]["cache"].open_tickets(step(ctx, "run")),
        baseline=lambda ctx: ctx.state[NAME]["cache"].open_tickets_db(step(ctx, "base")),
        baseline_label="database path (same customers, ids only)",
        prepare=prepare,
        cleanup=cleanup,
    )


def _flip_one(conn: Any, customer: int, changed: dict[int, str], rng: random.Random) -> int:
    """Resolve one open ticket of the customer, or reopen one resolved by this bench."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, current_status FROM service_tickets WHERE customer_id = %s "
            "AND current_status IN ('pending', 'processing', 'resolved') LIMIT 20",
            (customer,),
        )
        rows = cur.fetchall()
        if not rows:
            return 0
        tid, status = rng.choice(rows)
        changed.setdefault(int(tid), status)
        new = "processing" if status == "resolved" else "resolved"
        cur.execute("UPDATE service_tickets SET current_status = %s WHERE id = %s", (new, tid))
    return 1


def _restore(conn: Any, changed: dict[int, str]) -> None:
    if not conn.open:
        return
    with conn.cursor() as cur:
        for tid, status in changed.items():
            cur.execute(
                "UPDATE service_tickets SET current_status = %s WHERE id = %s", (status, tid)
            )


register(registry_scenario())
