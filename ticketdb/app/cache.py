"""Read-through Redis cache of VIP customers' open ticket ids (``vip_tickets:<db>:<customer_id>``).

Why versioned and checked on every read: the set can change through any code path that writes
``service_tickets`` (the workflow procedures, the escalation event, a DBA's UPDATE), and the
requirement is that no committed change is ever followed by a stale read. So invalidation lives
in the database, not in Python:

* triggers ``cache_tickets_after_insert/update/delete`` bump ``cache_customer_version`` for the
  customer(s) whose open set changed, in the writer's own transaction (cannot be bypassed except
  by the explicit ``@ticketdb_bulk_load`` opt-out, which must end with
  ``CALL cache_invalidate_all()``, the global epoch in row 0);
* Redis holds the set plus ``vip_tickets:<id>:version`` = ``epoch.version.count`` it was built
  from; a read first fetches the committed version (one primary-key lookup that also returns the
  VIP tier) and serves Redis only when the tokens match and the set still has ``count`` members
  (an evicted set is a miss, not an empty answer);
* a miss loads version and ids in ONE statement (one read view) and stores them with a Lua
  compare-and-set that never replaces a newer version by an older one. A reader that loaded just
  before a writer committed can still put its set back, but tagged with the old version, so the
  next read sees the mismatch and reloads: the race costs a miss, never a stale answer.

Redis down or slow: the read falls back to the database, logs a warning and skips Redis for
``retry_after`` seconds; it never raises. See docs/operations.md.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import pymysql
import redis

from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.retry import retry_conflicts

log = logging.getLogger("ticketdb.app.cache")

ENV_REDIS_URL = "TICKETDB_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
KEY_PREFIX = "vip_tickets"

# Committed state for one customer: its tier and the version token of its open set.
_STATE_SQL = (
    "SELECT (SELECT vip_tier FROM customers WHERE id = %s), "
    "COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = 0), 0), "
    "COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = %s), 0)"
)
# Versions and ids from one statement, so they come from one read view.
_LOAD_SQL = (
    "SELECT 0, COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = 0), 0) "
    "UNION ALL "
    "SELECT 1, COALESCE((SELECT version FROM cache_customer_version WHERE customer_id = %s), 0) "
    "UNION ALL "
    "SELECT 2, id FROM service_tickets "
    "WHERE customer_id = %s AND current_status IN ('pending', 'processing')"
)
_OPEN_SQL = (
    "SELECT id FROM service_tickets "
    "WHERE customer_id = %s AND current_status IN ('pending', 'processing') ORDER BY id"
)

# KEYS[1] = set, KEYS[2] = version key; ARGV[1] = 'epoch.version.count', ARGV[2] = ttl, ids...
# Stores only when no newer (epoch, version) is already there.
_STORE_LUA = """
local cur = redis.call('GET', KEYS[2])
local ne, nv = string.match(ARGV[1], '^(%d+)%.(%d+)%.')
ne = tonumber(ne); nv = tonumber(nv)
if cur then
  local ce, cv = string.match(cur, '^(%d+)%.(%d+)%.')
  ce = tonumber(ce); cv = tonumber(cv)
  if ce and (ce > ne or (ce == ne and cv >= nv)) then
    return 0
  end
end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if #ARGV >= 3 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
"""


def set_key(customer_id: int, namespace: str = "") -> str:
    """``vip_tickets:<namespace>:<id>``: the namespace (the database name by default) keeps two
    databases sharing one Redis (a bench database next to the demo one) from ever reading, or
    refusing to store over, each other's sets."""
    return f"{KEY_PREFIX}:{namespace}:{customer_id}" if namespace else f"{KEY_PREFIX}:{customer_id}"


def version_key(customer_id: int, namespace: str = "") -> str:
    return f"{set_key(customer_id, namespace)}:version"


def redis_url_from_env() -> str:
    return os.environ.get(ENV_REDIS_URL) or DEFAULT_REDIS_URL


@dataclass
class OpenTickets:
    """One answer: ids sorted ascending, where they came from, and why if Redis was skipped."""

    customer_id: int
    ticket_ids: list[int]
    source: str  # "cache" | "database"
    vip: bool
    version: str | None = None
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    not_vip: int = 0
    redis_errors: int = 0
    stores_rejected: int = 0  # CAS refused: a newer version was already cached

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


@dataclass
class VipCache:
    """Read-through cache bound to one database and one Redis; one instance per thread.

    Give ``dsn`` (the cache opens and closes its own autocommit connection) or ``connection``
    (an open autocommit connection the caller owns, e.g. the bench's).
    """

    dsn: DSN | None = None
    redis_url: str = field(default_factory=redis_url_from_env)
    ttl_seconds: int = 3600
    socket_timeout: float = 0.25
    retry_after: float = 5.0
    stats: CacheStats = field(default_factory=CacheStats)
    connection: Any = None
    #: Key namespace; None = the connected database's name (see :func:`set_key`).
    namespace: str | None = None

    def __post_init__(self) -> None:
        if (self.dsn is None) == (self.connection is None):
            raise ValueError("VipCache needs exactly one of dsn or connection")
        self._conn: pymysql.connections.Connection | None = self.connection
        self._redis = redis.Redis.from_url(
            self.redis_url,
            socket_timeout=self.socket_timeout,
            socket_connect_timeout=self.socket_timeout,
            retry_on_timeout=False,
        )
        self._store = self._redis.register_script(_STORE_LUA)
        self._redis_down_until = 0.0
        self._last_warning: str | None = None

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def conn(self) -> pymysql.connections.Connection:
        if self.connection is not None:
            return self.connection
        if self._conn is None or not self._conn.open:
            assert self.dsn is not None
            self._conn = connect(self.dsn)
        return self._conn

    @property
    def ns(self) -> str:
        if self.namespace is None:
            with self.conn.cursor() as cur:
                cur.execute("SELECT DATABASE()")
                self.namespace = cur.fetchone()[0] or ""
        return self.namespace

    def set_key(self, customer_id: int) -> str:
        return set_key(customer_id, self.ns)

    def version_key(self, customer_id: int) -> str:
        return version_key(customer_id, self.ns)

    def close(self) -> None:
        if self.connection is None and self._conn is not None and self._conn.open:
            self._conn.close()
        self._redis.close()

    def __enter__(self) -> VipCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _redis_usable(self) -> bool:
        return time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: Exception) -> str:
        self.stats.redis_errors += 1
        self._redis_down_until = time.monotonic() + self.retry_after
        msg = (
            f"redis at {self._redis_url_redacted()} unavailable ({type(exc).__name__}: {exc}); "
            f"reading from the database, retrying redis in {self.retry_after:g}s"
        )
        log.warning(msg)
        self._last_warning = msg
        return msg

    def _redis_url_redacted(self) -> str:
        kw = self._redis.connection_pool.connection_kwargs
        return f"{kw.get('host', '?')}:{kw.get('port', '?')}"

    # -- database ------------------------------------------------------------------------------
    def _state(self, customer_id: int) -> tuple[bool, tuple[int, int]]:
        with self.conn.cursor() as cur:
            cur.execute(_STATE_SQL, (customer_id, customer_id))
            tier, epoch, version = cur.fetchone()
        return tier == "vip", (int(epoch), int(version))

    def _load(self, customer_id: int) -> tuple[tuple[int, int], list[int]]:
        with self.conn.cursor() as cur:
            cur.execute(_LOAD_SQL, (customer_id, customer_id))
            rows = cur.fetchall()
        epoch = version = 0
        ids: list[int] = []
        for kind, value in rows:
            if kind == 0:
                epoch = int(value)
            elif kind == 1:
                version = int(value)
            else:
                ids.append(int(value))
        ids.sort()
        return (epoch, version), ids

    def open_tickets_db(self, customer_id: int) -> list[int]:
        """The uncached path (also what non-VIP customers get)."""
        with self.conn.cursor() as cur:
            cur.execute(_OPEN_SQL, (customer_id,))
            return [int(r[0]) for r in cur.fetchall()]

    # -- the read ------------------------------------------------------------------------------
    def open_tickets(self, customer_id: int) -> OpenTickets:
        """Open ticket ids of a customer: Redis when its copy is current, else the database."""
        vip, (epoch, version) = self._state(customer_id)
        if not vip:
            self.stats.not_vip += 1
            return OpenTickets(customer_id, self.open_tickets_db(customer_id), "database", False)
        token_prefix = f"{epoch}.{version}."
        warning: str | None = None
        if self._redis_usable():
            try:
                pipe = self._redis.pipeline(transaction=False)
                pipe.get(self.version_key(customer_id))
                pipe.smembers(self.set_key(customer_id))
                raw_token, members = pipe.execute()
                if raw_token is not None:
                    token = raw_token.decode()
                    count = int(token.rsplit(".", 1)[1])
                    if token.startswith(token_prefix) and len(members) == count:
                        self.stats.hits += 1
                        ids = sorted(map(int, members))
                        return OpenTickets(customer_id, ids, "cache", True, token)
            except (redis.RedisError, OSError) as exc:
                warning = self._redis_failed(exc)
        else:
            warning = self._last_warning
        self.stats.misses += 1
        (epoch, version), ids = self._load(customer_id)
        token = f"{epoch}.{version}.{len(ids)}"
        if warning is None and self._redis_usable():
            try:
                stored = self._store(
                    keys=[self.set_key(customer_id), self.version_key(customer_id)],
                    args=[token, self.ttl_seconds, *ids],
                )
                if not stored:
                    self.stats.stores_rejected += 1
            except (redis.RedisError, OSError) as exc:
                warning = self._redis_failed(exc)
        return OpenTickets(customer_id, ids, "database", True, token, warning)

    def invalidate(self, *customer_ids: int) -> None:
        """Drop cached sets eagerly (frees memory sooner); never needed for correctness, since
        the version check already refuses a set whose customer changed."""
        if not customer_ids or not self._redis_usable():
            return
        keys = [k for c in customer_ids for k in (self.set_key(c), self.version_key(c))]
        try:
            self._redis.delete(*keys)
        except (redis.RedisError, OSError) as exc:
            self._redis_failed(exc)


def open_tickets(dsn: DSN, customer_id: int, redis_url: str | None = None) -> OpenTickets:
    """One-shot helper for the CLI and scripts."""
    with VipCache(dsn, redis_url or redis_url_from_env()) as cache:
        return cache.open_tickets(customer_id)


def refresh_vip(dsn: DSN, threshold: int) -> int:
    """Recompute VIP tiers (procedure vip_refresh); returns how many customers are VIP."""
    conn = connect(dsn)

    def run() -> Any:
        with conn.cursor() as cur:
            cur.execute("CALL vip_refresh(%s)", (threshold,))
            row = cur.fetchone()
            while cur.nextset():
                pass
        return row

    try:
        row = retry_conflicts(run)  # idempotent: a re-run finishes what a failed run began
        return int(row[0]) if row else 0
    finally:
        conn.close()


def invalidate_all(dsn: DSN) -> None:
    """Bump the global epoch: every cached set is rebuilt on its next read."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            retry_conflicts(lambda: cur.execute("CALL cache_invalidate_all()"))
    finally:
        conn.close()
