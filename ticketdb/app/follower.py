"""``ticketdb vip follow``: push the database's committed cache versions to Redis, so that VIP
cache hits need no database query while staleness stays under a bound (default 250 ms).

Each poll (every ``interval`` ms) reads, in one statement returning one row, the server's clock
(the *position*) and every version bumped since a point before the previous position
(queries/vip_follower_changes.sql); it checks one version trigger (``SHOW CREATE TRIGGER``, in
turn) and every second fingerprints every VIP's version (the *full sweep*). When a published
version, the epoch, the generation or the trigger state changed, or the heartbeat is half its
bound old, it publishes in ONE atomic Lua call:

* the changed versions into the hash ``vip_tickets:<db>:_follower`` (field ``v:<id>``), the
  epoch, the generation ``gen`` (a new one = every cached set is flushed) and its position;
* the heartbeat ``vip_tickets:<db>:_heartbeat`` with a TTL of ``bound - (now - snapshot)``: it
  exists only while the snapshot it vouches for is younger than the bound. Readers
  (app/cache.py) serve Redis alone only while it exists.

A poll that finds nothing to change publishes nothing: the live heartbeat already vouches for
an older snapshot, and nothing committed since changed a published version, so it stays true;
it is renewed once it is half the bound old, so a follower that dies still lets it lapse within
the bound of the last snapshot it published.

Why a window and a sweep rather than "changes since a position": the triggers bump versions in
the writers' transactions, which commit in an order no column records (``changed_at`` is taken
when the bump runs, and Galera nodes stamp their own clocks), so a position could skip a
transaction that committed late. Hence three nets, each cheaper and slower than the one before:

1. every poll re-reads from the previous position minus ``short_overlap_ms`` (50): a
   transaction committing within that of its bump is published by the next poll;
2. every ``recheck_ms`` (0.4 × bound: 100 ms) a poll re-reads from the previous *recheck*'s
   position minus ``overlap_ms`` (500): one committing within 500 ms of its bump is published
   within ``recheck_ms`` + one poll of its commit, inside the bound;
3. the full sweep (every ``sweep_ms``) compares a fingerprint of every VIP's version with what
   is published: one committing later still is published within a second.

Re-reading 525 ms of bumps on every poll (the previous design) made the follower read each bump
21 times, with a join to customers: at the 1M bench's write rate most of its server CPU. Now
each bump is read about 9 times, from the covering index alone (the VIP tiers come from the
sweep). See docs/operations.md.

One active follower per database: a :class:`~ticketdb.locks.JobLock` (``vip-follow.<db>``, a
cluster-wide lease on Galera, taken over from a dead holder). Others wait as standbys. Redis is
fenced too: a publish is refused unless the hash's ``owner`` is this follower, so a follower
that lost its lease while paused cannot publish an old snapshot over its successor's.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pymysql
import redis

from ticketdb import PROJECT_ROOT
from ticketdb.app.cache import follower_keys, redis_client, version_field
from ticketdb.app.follower_redis import PUBLISH_LUA, RESIGN_LUA, previous_state
from ticketdb.app.follower_setup import check_bound, missing_privileges
from ticketdb.app.queries import load_query
from ticketdb.catalog import create_text, show_create_row
from ticketdb.db import connect, error_code
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.locks import JobLock, LockBusy
from ticketdb.project import Project
from ticketdb.server.galera import is_galera

log = logging.getLogger("ticketdb.app.follower")

JOB = "vip-follow"
DEFAULT_BOUND_MS = 250.0
DEFAULT_LEASE_TTL = 5
_BUCKETS = 64  # of the full sweep's fingerprint
_NEVER = datetime(9999, 1, 1)

class LostLeadership(TicketdbError):
    """Another follower holds the lease or the Redis hash now: back to standby."""


@dataclass
class FollowerStats:
    polls: int = 0
    publishes: int = 0  # polls that changed at least one version, the epoch or the generation
    flushes: int = 0  # new generations (start without proof, trigger swap, Redis lost)
    redis_errors: int = 0
    db_errors: int = 0
    max_lag_ms: float = 0.0
    active_since: float | None = None


@dataclass
class Follower:
    """One follower process's loop; :meth:`run` until ``stop`` is set."""

    dsn: DSN
    redis_url: str
    bound_ms: float = DEFAULT_BOUND_MS
    interval_ms: float | None = None
    lease_ttl: int = DEFAULT_LEASE_TTL
    #: how late after its bump a transaction may commit and still be seen by the next recheck
    overlap_ms: float = 500.0
    #: ... and still be seen by the next poll
    short_overlap_ms: float = 50.0
    #: how often a poll re-reads the long overlap (net 2 of the module docstring); default
    #: 0.4 × bound (100 ms): a late commit shows within it + one poll + the lag, inside the bound
    recheck_ms: float | None = None
    #: how often every VIP's version is fingerprinted (catches later commits)
    sweep_ms: float = 1000.0
    say: Callable[[str], None] = log.info
    project: Project | None = None
    stats: FollowerStats = field(default_factory=FollowerStats)

    def __post_init__(self) -> None:
        self.interval_ms = check_bound(self.bound_ms, self.interval_ms)
        self.recheck_ms = self.bound_ms * 0.4 if self.recheck_ms is None else self.recheck_ms
        project = self.project or Project(PROJECT_ROOT)
        self._sql = {n: load_query(project, n).pyformat for n in
                     ("vip_follower_changes", "vip_follower_fingerprint", "vip_follower_versions")}
        self._trigger_names = sorted(p.stem for p in (project.root / "triggers").glob(
            "cache_tickets_after_*.sql"))  # fmt: skip
        self.namespace = self.dsn.database or ""
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{time.time_ns()}"
        self._redis = redis_client(self.redis_url, min(1.0, max(self.bound_ms / 1000, 0.05)))
        self._publish = self._redis.register_script(PUBLISH_LUA)
        self._resign = self._redis.register_script(RESIGN_LUA)
        self._reset_state()
        self._redis_warned = False

    def _reset_state(self) -> None:
        self.gen = ""
        self.published: dict[int, int] = {}
        self._keys: set[str] = set()  # the published customers, as the changes list spells them
        self.epoch: int | None = None
        self.triggers: str | None = None
        self.claimed = False
        self.reset = False  # the next publish replaces the hash (a new generation)
        self.cycle = 0
        self.read_at: datetime | None = None  # the position: server time of the last read
        self.recheck_at: datetime | None = None  # ... of the last long re-read
        self.last_recheck = 0.0
        self.beat_at = 0.0  # monotonic start of the poll whose snapshot the heartbeat vouches for
        self.swept_at: datetime | None = None  # ... of the last full sweep
        self.last_sweep = 0.0
        self._trigger_sig: dict[str, str] = {}
        self._trigger_state: str | None = None
        self._later: dict[int, int | None] = {}  # the last sweep's findings, for the next poll
        self._later_epoch: int | None = None

    # -- running -------------------------------------------------------------------------------
    def preflight(self) -> None:
        """One line naming every missing privilege (TicketdbError → exit 1)."""
        conn = connect(self.dsn, read_timeout=10)
        try:
            missing = missing_privileges(conn)
        finally:
            conn.close()
        if missing:
            raise TicketdbError(f"the follower's account lacks: {'; '.join(missing)}")

    def run(self, stop: threading.Event) -> None:
        """Standby until the lease is ours, follow until stopped or superseded, repeat."""
        self.preflight()
        waiting_said = False
        while not stop.is_set():
            lock = JobLock.open(self.dsn, JOB, ttl=self.lease_ttl, say=self.say)
            try:
                try:
                    lock.acquire(wait=0.5)
                except LockBusy as busy:
                    if not waiting_said:
                        self.say(f"standby: the follower of {self.namespace} is {busy.holder}")
                        waiting_said = True
                    continue
                waiting_said = False
                self.say(f"active: following {self.namespace} (bound {self.bound_ms:g} ms, "
                         f"poll every {self.interval_ms:g} ms)")  # fmt: skip
                self.stats.active_since = time.time()
                try:
                    self._follow(lock, stop)
                except LostLeadership as exc:
                    self.say(f"standby again: {exc}")
            finally:
                lock.close()
            stop.wait(0.2)

    def _connect(self) -> Any:
        conn = connect(self.dsn, read_timeout=max(5.0, self.bound_ms / 1000))
        with conn.cursor() as cur:  # the changes come as one GROUP_CONCAT (MySQL's default: 1 KB)
            cur.execute("SET SESSION group_concat_max_len = 16777216")
        if is_galera(conn):  # read only after every write set certified before the read
            with conn.cursor() as cur:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
        return conn

    def _follow(self, lock: JobLock, stop: threading.Event) -> None:
        self._reset_state()
        conn = None
        try:
            while not stop.is_set():
                started = time.monotonic()
                if lock.lost:
                    raise LostLeadership(lock.lost)
                try:
                    if conn is None or not conn.open:
                        conn = self._connect()
                    self.poll(conn)
                except pymysql.err.MySQLError as exc:
                    self.stats.db_errors += 1
                    self.say(f"database error, retrying: {exc}")
                    conn = None
                except (redis.RedisError, OSError) as exc:
                    self.stats.redis_errors += 1
                    if not self._redis_warned:
                        self.say(f"redis unavailable, retrying every poll: {exc}")
                        self._redis_warned = True
                interval = float(self.interval_ms or DEFAULT_BOUND_MS / 10) / 1000
                stop.wait(max(interval - (time.monotonic() - started), 0.001))
        finally:
            if conn is not None:
                conn.close()
            try:
                heartbeat, hash_key, _blind = follower_keys(self.namespace)
                self._resign(keys=[hash_key, heartbeat], args=[self.owner])
            except (redis.RedisError, OSError):
                pass

    # -- one poll ------------------------------------------------------------------------------
    def _changes(self, conn: Any, t0: float) -> tuple[datetime, bool, dict[int, int] | None]:
        """Versions bumped in this poll's window: (position, whether it was a recheck,
        {customer: version} of the bumped customers that are published or about to be, the
        epoch as customer 0; None when the list was cut short). The first poll reads only the
        clock: the full sweep before the first heartbeat reads every VIP."""
        recheck = self.read_at is None or (t0 - self.last_recheck) * 1000 >= float(
            self.recheck_ms or 0)
        if self.read_at is None or self.recheck_at is None:
            since = _NEVER
        elif recheck:
            since = self.recheck_at - timedelta(milliseconds=self.overlap_ms)
        else:
            since = self.read_at - timedelta(milliseconds=self.short_overlap_ms)
        with conn.cursor() as cur:
            cur.execute(self._sql["vip_follower_changes"], {"since": since})
            read_at, count, listed = cur.fetchone()
        if not count:
            return read_at, recheck, {}
        if isinstance(listed, bytes):
            listed = listed.decode()
        items = listed.split(";") if listed else []
        if len(items) != int(count) + 1 or items.pop():  # cut at group_concat_max_len
            return read_at, recheck, None  # (every item ends in ';': a cut one has none)
        # most bumps are other customers': compared as text, never converted (a third of the
        # client's time per item)
        keys, published = self._keys, self.published
        extra = {str(c) for c, v in self._later.items() if v is not None and c not in published}
        seen: dict[int, int] = {}
        for item in items:
            cid, _, version = item.partition(":")
            if cid in keys or cid in extra or cid == "0":
                seen[int(cid)] = int(version)
        return read_at, recheck, seen

    def _sweep(self, conn: Any, published: dict[int, int]) -> tuple[int, dict[int, int | None]]:
        """Every VIP's version, fingerprinted per bucket on the server and compared with what
        is published; only differing buckets are read. Catches what the overlap missed."""
        expected: dict[int, list[int]] = {}
        for cid, version in published.items():
            fp = expected.setdefault(cid % _BUCKETS, [0, 0, 0])
            fp[0] += 1
            fp[1] += version
            fp[2] ^= zlib.crc32(f"{cid}:{version}".encode())
        with conn.cursor() as cur:
            cur.execute(self._sql["vip_follower_fingerprint"], {"buckets": _BUCKETS})
            got = {int(b): [int(n), int(s), int(x)] for b, n, s, x in cur.fetchall()}
        epoch = got.pop(-1)[1]
        differ = sorted(b for b in set(got) | set(expected) if got.get(b) != expected.get(b))
        updates: dict[int, int | None] = {c: None for c in published if c % _BUCKETS in differ}
        if differ:
            with conn.cursor() as cur:
                cur.execute(self._sql["vip_follower_versions"],
                            {"buckets": _BUCKETS, "changed": tuple(differ)})  # fmt: skip
                updates.update({int(c): int(v) for c, v in cur.fetchall()})
        return epoch, updates

    def _triggers(self, conn: Any) -> str | None:
        """Signature of the version triggers (name, creation time, text); None if one is gone.

        One ``SHOW CREATE TRIGGER`` per poll, in turn (0.1 ms each on the server, where
        information_schema.triggers costs 6-14 ms), plus any seen missing: a swap is seen
        within as many polls as there are version triggers, well inside the bound."""
        names = self._trigger_names
        missing = [n for n in names if n not in self._trigger_sig]
        for name in dict.fromkeys([*missing, names[self.cycle % len(names)]]):
            try:
                row = show_create_row(conn, "TRIGGER", name)
            except pymysql.err.MySQLError as exc:
                if error_code(exc) != 1360:  # no such trigger
                    raise
                self._trigger_sig.pop(name, None)
                continue
            text = create_text(row, "TRIGGER") or ""
            self._trigger_sig[name] = (f"{name}@{(row or {}).get('Created')}"
                                       f"#{zlib.crc32(text.encode())}")  # fmt: skip
        if any(n not in self._trigger_sig for n in names):
            return None
        return ";".join(self._trigger_sig[n] for n in names)

    def _merge(self, later: dict[int, int | None],
               seen: dict[int, int]) -> dict[int, int | None]:  # fmt: skip
        """What differs from the published versions: the last sweep's findings (an older
        snapshot), overridden by this poll's read for every customer published or just found
        by the sweep (None = no longer VIP)."""
        changes = dict(later)
        published = self.published
        for cid, version in seen.items():
            if cid in changes:
                if changes[cid] is not None:
                    changes[cid] = version
            elif cid in published and published[cid] != version:
                changes[cid] = version
        return {c: v for c, v in changes.items() if published.get(c) != v}

    def poll(self, conn: Any) -> None:
        """Read what changed and publish it, plus a heartbeat that expires ``bound`` after
        this poll began, unless nothing changed and the heartbeat is younger than half the
        bound; then (off the publish path, applied by the next poll) check one version trigger
        and, every sweep interval, fingerprint everything. Raises LostLeadership when Redis
        says another follower owns the cache."""
        t0 = time.monotonic()
        snapshot_ms = int(time.time() * 1000)
        read_at, recheck, seen = self._changes(conn, t0)
        first = not self.claimed
        if first:  # everything known before the first heartbeat
            self._after(conn, t0, read_at, self.published)
        later, self._later = self._later, {}
        if seen is None:  # the window did not fit in one string: read every VIP's version now
            self._later_epoch, found = self._sweep(conn, {})
            later = {c: None for c in self.published}
            later.update(found)
            seen = {}
        epoch = seen.pop(0, None)
        changes = self._merge(later, seen)
        epoch = max(x for x in (epoch, self._later_epoch, self.epoch, 0) if x is not None)
        triggers = self._trigger_state
        self.stats.polls += 1
        self.cycle += 1
        renew = (t0 - self.beat_at) * 1000 >= self.bound_ms / 2 - float(self.interval_ms or 0)
        if not (first or changes or epoch != self.epoch or renew or triggers is None
                or triggers != self.triggers):  # fmt: skip
            # nothing to publish: the live heartbeat's snapshot is still the truth
            self._advance(t0, read_at, recheck)
            self._after(conn, t0, read_at, self.published)
            return
        published = dict(self.published)
        for cid, version in changes.items():
            if version is None:
                published.pop(cid, None)
            else:
                published[cid] = version
        heartbeat, hash_key, blind = follower_keys(self.namespace)
        if first:
            self._claim(triggers or "")
            changes = {c: v for c, v in published.items()}
            changes.update({c: None for c in self.published if c not in published})
        if triggers is not None and triggers != self.triggers:
            self.gen = f"{snapshot_ms}-{self.cycle}"  # flush: writes during a swap bumped nothing
            self.stats.flushes += 1
            self.triggers = triggers
        sets = {c: v for c, v in changes.items() if v is not None}
        dels = [c for c, v in changes.items() if v is None]
        if sets or dels or epoch != self.epoch:
            self.stats.publishes += 1
        lag_ms = (time.monotonic() - t0) * 1000
        self.stats.max_lag_ms = max(self.stats.max_lag_ms, lag_ms)
        position = json.dumps({
            "owner": self.owner, "cycle": self.cycle, "epoch": epoch, "bound_ms": self.bound_ms,
            "position": read_at.isoformat(), "snapshot_unix_ms": snapshot_ms,
            "lag_ms": round(lag_ms, 2), "vips": len(published),
        })  # fmt: skip
        hb_ms = int(self.bound_ms - (time.monotonic() - t0) * 1000)
        blind_ms = 0 if triggers is not None else int(max(4 * self.bound_ms, 1000))
        args: list[Any] = [self.owner, int(first), int(self.reset), self.gen, epoch,
                           self.triggers or "", position, max(hb_ms, 0), blind_ms,
                           len(sets)]  # fmt: skip
        for c, v in sets.items():
            args += [version_field(c), v]
        args += [version_field(c) for c in dels]
        got = self._publish(keys=[hash_key, heartbeat, blind], args=args)
        self._redis_warned = False
        if got == 0:
            raise LostLeadership("another follower owns the published versions in Redis")
        if got == -1:  # Redis restarted, flushed or evicted the hash: start a new generation
            self.say("the published versions are gone from Redis: republishing everything")
            self._reset_state()
            return
        self.claimed, self.reset = True, False
        if first or dels or any(c not in self.published for c in sets):
            self._keys = {str(c) for c in published}
        self.published, self.epoch, self.beat_at = published, epoch, t0
        self._advance(t0, read_at, recheck)
        if not first:
            self._after(conn, t0, read_at, published)

    def _advance(self, t0: float, read_at: datetime, recheck: bool) -> None:
        """The position moves only once what was read before it is published (or was already):
        a poll that failed leaves the next one to read its window again."""
        self.read_at = read_at
        if recheck:
            self.recheck_at, self.last_recheck = read_at, t0

    def _after(self, conn: Any, t0: float, read_at: datetime, published: dict[int, int]) -> None:
        """The checks that need not delay a publish: one version trigger, and the full sweep
        when due. Their findings go out with the next poll (or this one, before a claim)."""
        self._trigger_state = self._triggers(conn)
        if self.swept_at is None or (t0 - self.last_sweep) * 1000 >= self.sweep_ms:
            self._later_epoch, self._later = self._sweep(conn, published)
            self.swept_at, self.last_sweep = read_at, t0

    def _claim(self, triggers: str) -> None:
        """Resume the previous follower's generation when Redis still holds it and the version
        triggers are the ones it saw; otherwise start a new one (every cached set flushed)."""
        prev_gen, prev_triggers, prev_published = previous_state(self._redis, self.namespace)
        if prev_gen and prev_triggers == triggers:
            self.gen, self.triggers, self.published = prev_gen, triggers, prev_published
            self.say(f"resuming generation {prev_gen} ({len(self.published)} published versions)")
        else:
            self.gen, self.triggers = f"{int(time.time() * 1000)}-0", triggers
            self.stats.flushes += 1
            self.published, self.reset = {}, True
            self.say("starting a new generation: every cached set is flushed")
