"""Bench scenario ``vip_open_tickets_cached``: the VIP open-ticket cache with its follower
(``ticketdb vip follow``) against the database path, and what the follower costs the writers.

One ``measure`` run, in this order:

1. **Reads** (follower running, no other load): a Zipf sequence over VIP customers (rank r
   drawn with weight 1/r^s, the busiest first), after as many independent warm-up draws, with
   1 % writes that resolve / reopen a ticket of the customer just read → ``hit_rate``,
   ``cached_p50_ms``/``p95``; the same sequence through the database → ``db_p50_ms``;
   ``db_queries_per_hit`` from the reader session's server-side ``Questions`` counter (minus
   the one query each miss makes); server CPU per read (/proc of a local server, the
   follower's polls included on the cached side). The same again per customer size: a few,
   tens, hundreds of open tickets (VIP customers are given synthetic open tickets when the
   data set has none of that size; removed afterwards).
2. **Writes**: ticket lives at 4 clients (lives.py, through the procedures) without the
   follower and with it (A-B, then B-A, same lives) → ``write_ops_ratio`` (ops/s with ÷
   without); with it while a probe commits changes to VIP customers' open sets and polls the
   cache (every 1 ms) until it shows each one → ``staleness_p99_ms``/``max`` (the probe's own
   polling is not charged to the follower). Four rounds (A-B, B-A, A-B, B-A) when the duration
   allows: at 1M tickets adjacent 10 s windows differed by up to 20 %, four times the 5 %
   the ratio is judged by (per-round ratios in ``write_ops_round_ratios``).

Everything the scenario wrote is undone at the end (tickets, logs, flipped statuses).
"""

from __future__ import annotations

import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import redis

from ticketdb.app.cache import CacheStats, VipCache, follower_keys, redis_url_from_env
from ticketdb.app.queries import app_query
from ticketdb.bench.context import BenchContext
from ticketdb.bench.lives import remove_lives, writer_state
from ticketdb.bench.load import run_level
from ticketdb.bench.metrics import percentile
from ticketdb.bench.registry import Scenario, register
from ticketdb.bench.serverio import process_cpu_seconds, server_pid
from ticketdb.errors import TicketdbError

NAME = "vip_open_tickets_cached"
CLIENTS = 4
#: (bucket, fewest open tickets, most, synthetic open tickets when the data set has none)
BUCKETS = (("few", 1, 9, 4), ("tens", 10, 99, 40), ("hundreds", 100, 10**9, 300))
PER_BUCKET = 3  # customers per bucket


#: A-B / B-A rounds of the write path (each side once per round) when a window is >= 5 s
WRITE_ROUNDS = 4


def _opt(ctx: BenchContext, name: str, default: Any) -> Any:
    value = ctx.options.get(name)
    return default if value is None else value


def _ping(redis_url: str) -> None:
    probe = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        probe.ping()
    except (redis.RedisError, OSError) as exc:
        raise TicketdbError(f"{NAME}: redis at {redis_url} unreachable ({exc})") from None
    finally:
        probe.close()


def _rows(ctx: BenchContext, query: str, **values: Any) -> list[tuple]:
    with ctx.conn.cursor() as cur:
        cur.execute(*app_query(query).bind(**values))
        return list(cur.fetchall())


def _prepare(ctx: BenchContext) -> None:
    url = ctx.redis_url or redis_url_from_env()
    _ping(url)
    vips = _rows(ctx, "vip_bench_customers", limit=2000)
    if not vips:
        raise TicketdbError(f"{NAME}: no VIP customers (run `ticketdb vip refresh`)")
    st: dict[str, Any] = {"url": url, "vips": [int(c) for c, _ in vips], "added": [],
                          "flipped": {}, **writer_state(ctx)}  # fmt: skip
    ctx.state[NAME] = st
    used: set[int] = set()
    spare = [int(c) for c, n in sorted(vips, key=lambda r: r[1]) if n >= 1]
    st["buckets"] = {}
    create = app_query("ticket_create")
    for name, lo, hi, synthetic in BUCKETS:
        have = [int(c) for c, n in vips if lo <= n <= hi and int(c) not in used][:PER_BUCKET]
        while len(have) < PER_BUCKET and spare:  # give VIPs open tickets up to this size
            cust = spare.pop(0)
            if cust in used or cust in have:
                continue
            with ctx.conn.cursor() as cur:
                cur.executemany(create.pyformat, [
                    {"customer_id": cust, "title": "vip bench", "priority": "low"}
                ] * synthetic)  # fmt: skip
            have.append(cust)
        used.update(have)
        st["buckets"][name] = have
    st["probe"] = [int(c) for c, n in vips if n and int(c) not in used][:4] or st["buckets"]["few"]
    st["flip_max_id"] = writer_state(ctx)["max_ticket_id"]  # the synthetic tickets, not the lives'


def _set_status(cur: Any, tid: int, status: str) -> None:
    cur.execute(*app_query("vip_bench_set_status").bind(id=tid, status=status))


def _cleanup(ctx: BenchContext) -> None:
    st = ctx.state.pop(NAME, {})
    proc = st.get("follower")
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(10)
    with ctx.conn.cursor() as cur:
        for tid, status in st.get("flipped", {}).items():
            _set_status(cur, tid, status)
    remove_lives(ctx, st)


def _start_follower(ctx: BenchContext, st: dict[str, Any]) -> subprocess.Popen[str]:
    assert ctx.dsn is not None
    proc = subprocess.Popen(
        [sys.executable, "-m", "ticketdb", "vip", "follow", "--dsn", ctx.dsn.url(),
         "--redis", st["url"]],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    st["follower"], st["follower_started"] = proc, time.monotonic()
    hb = follower_keys(ctx.dsn.database)[0]
    r = redis.Redis.from_url(st["url"], socket_timeout=1)
    deadline = time.monotonic() + 60
    while not r.exists(hb):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise TicketdbError(f"{NAME}: the follower did not start: {proc.communicate()[1]}")
        time.sleep(0.05)
    r.close()
    return proc


def _stop_follower(st: dict[str, Any]) -> str:
    proc = st.pop("follower")
    cpu = process_cpu_seconds(proc.pid)
    if cpu is not None:  # the follower's own CPU, per second it ran
        ran = time.monotonic() - st.pop("follower_started")
        st.setdefault("follower_cpu_ms_per_s", []).append(round(cpu * 1000 / ran, 1))
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate(timeout=10)
    return (err or "").strip().splitlines()[-1] if err and err.strip() else ""


def _flip(conn: Any, st: dict[str, Any], cust: int,
          rng: random.Random) -> tuple[int, bool] | None:  # fmt: skip
    """Resolve one open ticket of ``cust`` or reopen one this bench resolved: (id, now open),
    None when it has neither."""
    with conn.cursor() as cur:
        cur.execute(*app_query("vip_bench_flip_candidates").bind(
            customer_id=cust, max_id=st["flip_max_id"]))  # fmt: skip
        rows = cur.fetchall()
    if not rows:
        return None
    tid, status = rng.choice(rows)
    st["flipped"].setdefault(int(tid), status)
    new = "processing" if status == "resolved" else "resolved"
    with conn.cursor() as cur:
        _set_status(cur, tid, new)
    return int(tid), new != "resolved"


def _timed(fn: Any, customers: list[int]) -> list[float]:
    out = []
    for cust in customers:
        t0 = time.perf_counter()
        fn(cust)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _questions(vc: VipCache) -> int:
    with vc.conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Questions'")
        return int(cur.fetchone()[1])


def _reads(ctx: BenchContext, st: dict[str, Any], vc: VipCache, pid: int | None) -> dict:
    rng = random.Random(42)
    reads = int(_opt(ctx, "vip_reads", 5000))
    vips = st["vips"]
    weights = [1.0 / (r**1.1) for r in range(1, len(vips) + 1)]
    seq = rng.choices(vips, weights=weights, k=reads)
    # warm like a cache that has served for a while: as many reads again, drawn independently
    # from the same distribution (a customer never drawn there still costs a cold miss below)
    for cust in random.Random(7).choices(vips, weights=weights, k=reads):
        vc.open_tickets(cust)
    vc.stats = CacheStats()
    cpu0, q0 = process_cpu_seconds(pid) if pid else None, _questions(vc)
    cached: list[float] = []
    for cust in seq:
        t0 = time.perf_counter()
        vc.open_tickets(cust)
        cached.append((time.perf_counter() - t0) * 1000)
        if rng.random() < 0.01:
            _flip(ctx.conn, st, cust, rng)
    cpu1, q1 = process_cpu_seconds(pid) if pid else None, _questions(vc)
    stats = vc.stats
    db = _timed(vc.open_tickets_db, seq)
    cpu2 = process_cpu_seconds(pid) if pid else None
    # every miss makes exactly one query (the load); the SHOW itself is one more
    per_hit = (q1 - q0 - 1 - stats.misses) / stats.hits if stats.hits else None

    def us(a: float | None, b: float | None) -> float | None:
        return round((b - a) * 1e6 / reads, 1) if a is not None and b is not None else None

    return {"hit_rate": round(stats.hit_rate, 4), "cached": cached, "db": db,
            "db_queries_per_hit": None if per_hit is None else round(per_hit, 4),
            "checked_hits": stats.checked_hits, "redis_errors": stats.redis_errors,
            "cpu_cached": us(cpu0, cpu1), "cpu_db": us(cpu1, cpu2)}  # fmt: skip


def _bucket(ctx: BenchContext, st: dict, vc: VipCache, name: str, pid: int | None) -> dict:
    custs = st["buckets"][name]
    if not custs:
        return {"bucket": name, "customers": 0}
    seq = custs * max(1, int(_opt(ctx, "vip_bucket_reads", 300)) // len(custs))
    for cust in seq[: len(custs) * 10]:  # both paths warm (scripts loaded, pages cached)
        vc.open_tickets(cust)
        vc.open_tickets_db(cust)
    # paired: each cached read is followed by the same customer's database read, so a burst of
    # load on the machine lands on both sides instead of skewing whichever block it hit
    cached: list[float] = []
    db: list[float] = []
    for cust in seq:
        cached += _timed(vc.open_tickets, [cust])
        db += _timed(vc.open_tickets_db, [cust])
    # server CPU per read, each path on its own (a paired loop cannot split it)
    cpu0 = process_cpu_seconds(pid) if pid else None
    _timed(vc.open_tickets, seq)
    cpu1 = process_cpu_seconds(pid) if pid else None
    _timed(vc.open_tickets_db, seq)
    cpu2 = process_cpu_seconds(pid) if pid else None
    sizes = [len(vc.open_tickets_db(c)) for c in custs]
    c50, d50 = statistics.median(cached), statistics.median(db)

    def us(a: float | None, b: float | None) -> float | None:
        return round((b - a) * 1e6 / len(seq), 1) if a is not None and b is not None else None

    return {"bucket": name, "customers": len(custs), "open_tickets": sizes,
            "cached_p50_ms": round(c50, 4), "cached_p95_ms": round(percentile(cached, 95), 4),
            "db_p50_ms": round(d50, 4), "db_p95_ms": round(percentile(db, 95), 4),
            "p50_ratio": round(c50 / d50, 3) if d50 else None,
            "server_cpu_us_per_read": {"cached": us(cpu0, cpu1), "db": us(cpu1, cpu2)}}  # fmt: skip


def _probe(ctx: BenchContext, st: dict, stop: threading.Event, out: list[float]) -> None:
    """Commit a change to a VIP's open set, poll the cache until it shows it; repeat."""
    rng = random.Random(7)
    assert ctx.dsn is not None
    with VipCache(ctx.dsn, st["url"]) as vc:
        for cust in st["probe"]:
            vc.open_tickets(cust)
        i = 0
        while not stop.is_set():
            cust = st["probe"][i % len(st["probe"])]
            i += 1
            flipped = _flip(vc.conn, st, cust, rng)
            if flipped is None:
                continue
            tid, now_open = flipped
            committed = time.perf_counter()
            deadline = committed + 5
            while (tid in vc.open_tickets(cust).ticket_ids) != now_open:
                if time.perf_counter() > deadline:
                    break
                time.sleep(0.001)
            out.append((time.perf_counter() - committed) * 1000)
            stop.wait(rng.uniform(0.02, 0.08))


def _writes(ctx: BenchContext, st: dict, probing: bool, seed: int, duration: float) -> float:
    assert ctx.dsn is not None
    stop = threading.Event()
    probe: threading.Thread | None = None
    if probing:
        probe = threading.Thread(target=_probe, args=(ctx, st, stop, st["staleness"]),
                                 daemon=True)  # fmt: skip
        probe.start()
    try:
        level = run_level(ctx.dsn, ctx.project.root, "procedures", CLIENTS, duration, seed=seed,
                          customers=st["customers"], agents=st["agents"])  # fmt: skip
    finally:
        stop.set()
        if probe is not None:
            probe.join(30)
            assert not probe.is_alive(), "the staleness probe did not stop"
    return level.ops_per_s


def _measure(ctx: BenchContext) -> dict[str, Any]:
    assert ctx.dsn is not None, f"{NAME} needs the bench DSN"
    st = ctx.state[NAME]
    pid = server_pid(ctx.conn)
    duration = float(_opt(ctx, "duration", 10.0))
    rounds = int(_opt(ctx, "vip_write_rounds", WRITE_ROUNDS if duration >= 5 else 1))
    _start_follower(ctx, st)
    with VipCache(ctx.dsn, st["url"]) as vc:
        buckets = [_bucket(ctx, st, vc, name, pid) for name, *_ in BUCKETS]  # before any flip
        reads = _reads(ctx, st, vc, pid)
    _stop_follower(st)
    st["staleness"], st["probed_ops"] = [], []
    without: list[float] = []
    with_f: list[float] = []
    last = ""
    for r in range(rounds):
        # A-B then B-A: a drift over the run (purge, growing tables, a neighbour) does not
        # land on one side only; both sides write the same lives (same seed)
        order = (False, True) if r % 2 == 0 else (True, False)
        ctx.log(f"{NAME}: write path at {CLIENTS} clients, {duration:g} s: "
                + ", then ".join("with the follower (and the staleness probe)" if on
                                 else "without the follower" for on in order))  # fmt: skip
        for on in order:
            if not on:
                without.append(_writes(ctx, st, False, 100 + r, duration))
                continue
            _start_follower(ctx, st)
            try:
                with_f.append(_writes(ctx, st, False, 100 + r, duration))
                st["probed_ops"].append(_writes(ctx, st, True, 300 + r, duration))
            finally:
                last = _stop_follower(st)
    stale = st["staleness"]
    probed = st["probed_ops"]
    c, d = reads["cached"], reads["db"]
    c50, d50 = statistics.median(c), statistics.median(d)
    ratios = [b["p50_ratio"] for b in buckets if b.get("p50_ratio") is not None]
    wo, wf = statistics.fmean(without), statistics.fmean(with_f)
    summary = {
        "hit_rate": reads["hit_rate"],
        "cached_p50_ms": round(c50, 4),
        "cached_p95_ms": round(percentile(c, 95), 4),
        "db_p50_ms": round(d50, 4),
        "db_queries_per_hit": reads["db_queries_per_hit"],
        "staleness_p99_ms": round(percentile(stale, 99), 2) if stale else None,
        "staleness_max_ms": round(max(stale), 2) if stale else None,
        "worst_bucket_p50_ratio": max(ratios) if ratios else None,
        "write_ops_ratio": round(wf / wo, 4) if wo else None,
        "write_ops_round_ratios": [
            round(a / b, 4) for a, b in zip(with_f, without, strict=True) if b
        ],
    }
    return {
        "p50_ms": summary["cached_p50_ms"],
        "p95_ms": summary["cached_p95_ms"],
        "runs": len(c),
        "baseline": "database path (same customers, ids only)",
        "baseline_p50_ms": summary["db_p50_ms"],
        "baseline_p95_ms": round(percentile(d, 95), 4),
        "baseline_runs": len(d),
        "speedup": round(d50 / c50, 3) if c50 else None,
        **summary,
        "db_p95_ms": round(percentile(d, 95), 4),
        "staleness_p50_ms": round(statistics.median(stale), 2) if stale else None,
        "staleness_samples": len(stale),
        "server_cpu_us_per_read": {"cached": reads["cpu_cached"], "db": reads["cpu_db"]},
        "buckets": buckets,
        "write_ops_per_s": {"without_follower": [round(x, 1) for x in without],
                            "with_follower": [round(x, 1) for x in with_f],
                            "with_follower_and_probe": [round(x, 1) for x in probed],
                            "clients": CLIENTS, "seconds_each": duration},  # fmt: skip
        "checked_hits": reads["checked_hits"],
        "redis_errors": reads["redis_errors"],
        "follower": last,
        "follower_cpu_ms_per_s": st.get("follower_cpu_ms_per_s"),
        "metrics": summary,
    }


register(Scenario(
    NAME,
    "VIP open tickets via Redis with the follower (hits touch only Redis), Zipf over VIPs, "
    "vs the database path; staleness probed under the 4-client write path",
    measure=_measure,
    prepare=_prepare,
    cleanup=_cleanup,
))  # fmt: skip
