"""Redis cache of VIP customers' open ticket ids (``vip_tickets:<db>:<customer_id>``).

Two ways a cached set is proven current, chosen per read:

* **follower fresh** (the fast path): ``ticketdb vip follow`` (app/follower.py) re-reads the
  committed versions of every VIP customer each poll and publishes them to Redis with a
  heartbeat that expires ``bound`` ms after the snapshot it published. While the heartbeat lives,
  a set tagged with a version >= the published one (same epoch, same follower generation) is
  served by ONE Redis call (Lua, atomic) and no database query: staleness <= the bound.
* **follower gone** (heartbeat expired, Redis flushed, follower killed or lagging): the read falls
  back to the strict check: one primary-key round trip for the committed tier + version, served
  from Redis only when the tokens match. Never stale, one query per read.

Versions live in the database: triggers ``cache_tickets_after_insert/update/delete`` bump
``cache_customer_version`` in the writer's own transaction; row 0 is the global epoch
(``CALL cache_invalidate_all()``). A miss loads tier, versions and ids in ONE statement and stores
them with a Lua compare-and-set that never replaces a newer version of the same generation by an
older one, so a reader racing a writer costs a miss, never a stale answer. The follower marks the
cache *blind* while a version trigger is missing (a trigger swap): reads go to the database.

Redis down or slow: the read falls back to the database, logs one warning and skips Redis for
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

from ticketdb import PROJECT_ROOT
from ticketdb.app.queries import load_query
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.project import Project
from ticketdb.retry import retry_conflicts

log = logging.getLogger("ticketdb.app.cache")

ENV_REDIS_URL = "TICKETDB_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
KEY_PREFIX = "vip_tickets"
#: read modes returned by _READ_LUA
HIT, MISS, CHECK, BYPASS = 1, 2, 0, 3

# KEYS: heartbeat, follower hash, token, set, blind; ARGV[1] = the customer's hash field.
# Token = "<gen>|<epoch>.<version>.<count>". HIT: follower fresh and the token proves the set;
# MISS: follower fresh, no proof (load + store); CHECK: no fresh follower (token + members for
# the strict database check); BYPASS: the follower says the triggers are incomplete.
_READ_LUA = """
if redis.call('EXISTS', KEYS[5]) == 1 then return {3} end
local tok = redis.call('GET', KEYS[3])
local st = redis.call('HMGET', KEYS[2], 'gen', 'epoch', ARGV[1])
if st[1] and redis.call('EXISTS', KEYS[1]) == 1 then
  if tok and st[3] then
    local tg, te, tv, tc = string.match(tok, '^([^|]*)|(%d+)%.(%d+)%.(%d+)$')
    if tg == st[1] and te == st[2] and tonumber(tv) >= tonumber(st[3]) then
      local m = redis.call('SMEMBERS', KEYS[4])
      if #m == tonumber(tc) then return {1, tok, m} end
    end
  end
  return {2, st[1]}
end
if tok then return {0, st[1] or '', tok, redis.call('SMEMBERS', KEYS[4])} end
return {0, st[1] or '', '', {}}
"""

# KEYS[1] = set, KEYS[2] = token key; ARGV[1] = token, ARGV[2] = ttl, ids...
# Stores unless a token of the same generation with a newer-or-equal (epoch, version) is there.
_STORE_LUA = """
local cur = redis.call('GET', KEYS[2])
local ng, ne, nv = string.match(ARGV[1], '^([^|]*)|(%d+)%.(%d+)%.')
ne = tonumber(ne); nv = tonumber(nv)
if cur then
  local cg, ce, cv = string.match(cur, '^([^|]*)|(%d+)%.(%d+)%.')
  ce = tonumber(ce); cv = tonumber(cv)
  if cg == ng and ce and (ce > ne or (ce == ne and cv >= nv)) then
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


def follower_keys(namespace: str) -> tuple[str, str, str]:
    """(heartbeat, follower hash, blind flag) of one namespace: what the follower publishes."""
    base = f"{KEY_PREFIX}:{namespace}:" if namespace else f"{KEY_PREFIX}:"
    return f"{base}_heartbeat", f"{base}_follower", f"{base}_blind"


def version_field(customer_id: int) -> str:
    """The follower hash's field holding a customer's published version."""
    return f"v:{customer_id}"


def redis_url_from_env() -> str:
    return os.environ.get(ENV_REDIS_URL) or DEFAULT_REDIS_URL


def redis_client(url: str, timeout: float) -> redis.Redis:
    """Every Redis connection of the cache and the follower: bounded connect and reads."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
    )


def parse_token(token: str) -> tuple[str, int, int, int] | None:
    """``gen|epoch.version.count`` → its parts, or None for anything else (an older format)."""
    gen, sep, rest = token.partition("|")
    parts = rest.split(".")
    if not sep or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return gen, int(parts[0]), int(parts[1]), int(parts[2])


@dataclass
class OpenTickets:
    """One answer: ids sorted ascending, where they came from, and why if Redis was skipped.

    ``follower``: a cache answer proven current by the follower's heartbeat alone (no database
    query); False for one the database vouched for."""

    customer_id: int
    ticket_ids: list[int]
    source: str  # "cache" | "database"
    vip: bool
    version: str | None = None
    warning: str | None = None
    follower: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CacheStats:
    hits: int = 0
    checked_hits: int = 0  # hits the database vouched for (no fresh follower): one query each
    misses: int = 0
    not_vip: int = 0
    bypassed: int = 0  # the follower said blind (a version trigger missing)
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
    project: Project | None = None

    def __post_init__(self) -> None:
        if (self.dsn is None) == (self.connection is None):
            raise ValueError("VipCache needs exactly one of dsn or connection")
        if self.namespace is None and self.dsn is not None:
            self.namespace = self.dsn.database or ""
        self._conn: pymysql.connections.Connection | None = self.connection
        self._redis = redis_client(self.redis_url, self.socket_timeout)
        self._read = self._redis.register_script(_READ_LUA)
        #: per customer: the read script's keys and field, and that EVALSHA packed
        self._args: dict[int, tuple[tuple[str, ...], Any]] = {}
        self._held: Any = None  # the hit path's own connection (see _read_cached)
        self._store = self._redis.register_script(_STORE_LUA)
        self._redis_down_until = 0.0
        self._last_warning: str | None = None
        project = self.project or Project(PROJECT_ROOT)
        names = ("vip_cache_state", "vip_cache_load", "vip_open_ticket_ids")
        self._q = {n: load_query(project, n).pyformat for n in names}

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def conn(self) -> pymysql.connections.Connection:
        if self.connection is not None:
            return self.connection
        if self._conn is None or not self._conn.open:
            assert self.dsn is not None
            self._conn = connect(self.dsn, read_timeout=30)
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
        self._drop_held()
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
    def _query(self, name: str, customer_id: int) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(self._q[name], {"customer_id": customer_id})
            return list(cur.fetchall())

    def _state(self, customer_id: int) -> tuple[bool, tuple[int, int]]:
        tier, epoch, version = self._query("vip_cache_state", customer_id)[0]
        return tier == "vip", (int(epoch), int(version))

    def _load(self, customer_id: int) -> tuple[bool, tuple[int, int], list[int]]:
        vip, epoch, version = False, 0, 0
        ids: list[int] = []
        for kind, value in self._query("vip_cache_load", customer_id):
            if kind == 2:
                ids.append(int(value))
            elif kind == 0:
                epoch = int(value)
            elif kind == 1:
                version = int(value)
            else:
                vip = bool(value)
        ids.sort()
        return vip, (epoch, version), ids

    def open_tickets_db(self, customer_id: int) -> list[int]:
        """The uncached path (also what non-VIP customers get)."""
        return [int(r[0]) for r in self._query("vip_open_ticket_ids", customer_id)]

    # -- the read ------------------------------------------------------------------------------
    def _read_cached(self, customer_id: int) -> list[Any]:
        """One EVALSHA of _READ_LUA: the hit path's only round trip. Packed once per customer
        and sent on a connection this cache holds, past redis-py's pool and command packing:
        ~25 µs of ~100 µs per hit here (the loopback round trip itself is ~65 µs). A lost
        connection is retried once through redis-py (which reconnects), a script Redis no
        longer has is loaded by redis-py's Script, a timeout is the caller's to report."""
        found = self._args.get(customer_id)
        if found is None:
            heartbeat, follower, blind = follower_keys(self.ns)
            args = (heartbeat, follower, self.version_key(customer_id),
                    self.set_key(customer_id), blind, version_field(customer_id))  # fmt: skip
            if len(self._args) > 100_000:
                self._args.clear()
            found = self._args[customer_id] = (args, None)
        args, packed = found
        try:
            if self._held is None:
                self._held = self._redis.connection_pool.get_connection()
            if packed is None:
                packed = self._held.pack_command("EVALSHA", self._read.sha, 5, *args)
                self._args[customer_id] = (args, packed)
            self._held.send_packed_command(packed, check_health=False)
            return self._held.read_response()  # type: ignore[no-any-return]
        except redis.exceptions.NoScriptError:
            return self._read(keys=list(args[:5]), args=[args[5]])  # type: ignore[no-any-return]
        except redis.exceptions.ConnectionError:
            self._drop_held()
            return self._redis.evalsha(self._read.sha, 5, *args)  # type: ignore[no-any-return]
        except BaseException:
            self._drop_held()  # a reply may be left unread on it
            raise

    def _drop_held(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            held.disconnect()
            self._redis.connection_pool.release(held)

    def open_tickets(self, customer_id: int) -> OpenTickets:
        """Open ticket ids of a customer: Redis alone while the follower vouches for the cached
        set, Redis + a version check when it does not, else the database."""
        warning: str | None = None
        reply: list[Any] = []
        if self._redis_usable():
            try:
                reply = self._read_cached(customer_id)
            except (redis.RedisError, OSError) as exc:
                warning = self._redis_failed(exc)
        else:
            warning = self._last_warning
        mode = int(reply[0]) if reply else None
        if mode == HIT:
            self.stats.hits += 1
            ids = sorted(map(int, reply[2]))
            return OpenTickets(customer_id, ids, "cache", True, reply[1].decode(), None, True)
        if mode == BYPASS:
            self.stats.bypassed += 1
            vip, (epoch, version), ids = self._load(customer_id)
            return OpenTickets(customer_id, ids, "database", vip, f"{epoch}.{version}")
        gen = reply[1].decode() if mode in (MISS, CHECK) else ""
        if mode == CHECK:
            vip, (epoch, version) = self._state(customer_id)
            if not vip:
                self.stats.not_vip += 1
                return OpenTickets(customer_id, self.open_tickets_db(customer_id), "database",
                                   False)  # fmt: skip
            tok = parse_token(reply[2].decode()) if reply[2] else None
            if tok and tok[1:3] == (epoch, version) and len(reply[3]) == tok[3]:
                self.stats.hits += 1
                self.stats.checked_hits += 1
                ids = sorted(map(int, reply[3]))
                return OpenTickets(customer_id, ids, "cache", True, reply[2].decode())
        vip, (epoch, version), ids = self._load(customer_id)
        if not vip:
            self.stats.not_vip += 1
            return OpenTickets(customer_id, ids, "database", False)
        self.stats.misses += 1
        token = f"{gen}|{epoch}.{version}.{len(ids)}"
        if mode is not None and self._redis_usable():
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
        """Drop cached sets eagerly (frees memory sooner); never needed for correctness."""
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
