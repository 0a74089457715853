"""The names of a job's two locks — the cluster-wide lease row (``ticketdb_leases``, migration
0040, procedures/lease_acquire.sql) and the GET_LOCK beside it, salted so that accounts that
cannot read the salt cannot compute it — and the lease row: reading it with the server's clock
and deciding whether its holder is dead.

ticketdb.locks takes and renews leases (with the GET_LOCK beside them); this module only names
and reads.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import error_code, quote_ident, scalar
from ticketdb.errors import TicketdbError

LEASE_TABLE = "ticketdb_leases"
LEASE_ROUTINES = ("lease_acquire", "lease_release", "lease_owner")


def lease_name(job: str, database: str) -> str:
    """``<job>.<database>`` (the lease column is VARCHAR(190): a database name always fits)."""
    return f"{job}.{database}"


#: One random salt per database (ticketdb.migrate.locksalt creates it): see ticketdb.locks.
SALT_TABLE = "ticketdb_lock_salt"
_DENIED = (1142, 1143)  # no SELECT on the salt table


def lock_name(job: str, database: str, salt: str | None) -> str:
    """``ticketdb.<job>.<40 hex>`` (at most 64 characters), the hex an HMAC-SHA256 of
    ``<job>.<database>`` under ``salt``; without a salt the old ``ticketdb.<job>.<database>``."""
    if salt:
        digest = hmac.new(salt.encode(), f"{job}.{database}".encode(), hashlib.sha256)
        return f"ticketdb.{job}.{digest.hexdigest()[:40]}"
    name = f"ticketdb.{job}.{database}"
    if len(name) > 64:
        name = f"ticketdb.{job}.{hashlib.sha1(database.encode()).hexdigest()}"
    return name


def lock_salt(conn: Any, database: str) -> str | None:
    """``database``'s lock salt; None when it has no salt table yet (old names for everyone).
    An account that may not read it gets an error saying so: guessing a name is not an option."""
    try:
        salt = scalar(conn, f"SELECT salt FROM {quote_ident(database)}.{SALT_TABLE} WHERE id = 1")
    except pymysql.err.MySQLError as exc:
        if error_code(exc) == 1146:
            return None
        if error_code(exc) in _DENIED:
            raise TicketdbError(
                f"cannot read {database}.{SALT_TABLE}, which the lock names are derived from: "
                "this account needs SELECT on it"
            ) from None
        raise
    if not salt:
        raise TicketdbError(
            f"{database}.{SALT_TABLE} has no salt row: run `ticketdb migrate up` (it puts one back)"
        )
    return str(salt)


def job_lock_name(conn: Any, job: str, database: str) -> str:
    """The GET_LOCK name of ``job`` on ``database``, salted as that database says."""
    return lock_name(job, database, lock_salt(conn, database))


@dataclass(frozen=True)
class Lease:
    """One ``ticketdb_leases`` row as read, with the server's UTC clock at that moment."""

    name: str
    owner: str | None
    renewed_at: datetime | None  # acquired_at: set by every win and every renewal
    expires_at: datetime
    now: datetime

    @property
    def live(self) -> bool:
        return self.owner is not None and self.expires_at > self.now

    @property
    def node(self) -> str:
        """``host:port:server_id`` of the owner."""
        return (self.owner or "").rpartition(":")[0]

    @property
    def connection_id(self) -> int | None:
        tail = (self.owner or "").rpartition(":")[2]
        return int(tail) if tail.isdigit() else None

    def describe(self) -> str:
        if not self.live:
            return f"nobody (lease {self.name} expired {self.expires_at:%Y-%m-%d %H:%M:%S} UTC)"
        left = (self.expires_at - self.now).total_seconds()
        renewed = f"{self.renewed_at:%Y-%m-%d %H:%M:%S}" if self.renewed_at else "?"
        # the row keeps no first-acquired time (lease_acquire rewrites acquired_at on every
        # renewal, and must: it also takes over a lease not renewed within the TTL)
        return (
            f"{self.owner} (cluster lease {self.name}: held and last renewed {renewed} UTC, "
            f"expires {self.expires_at:%H:%M:%S} UTC, in {left:.0f}s without a renewal)"
        )


def leases_available(conn: Any) -> bool:
    """The lease table and its procedures exist in the connection's database."""
    wanted = 1 + len(LEASE_ROUTINES)
    return catalog.objects_present(conn, tables=(LEASE_TABLE,), routines=LEASE_ROUTINES) == wanted


def read_lease(conn: Any, name: str) -> Lease | None:
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT owner, acquired_at, expires_at, UTC_TIMESTAMP(6) FROM {LEASE_TABLE} "
            "WHERE name = %s",
            (name,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    owner, renewed, expires, now = tuple(row.values()) if isinstance(row, dict) else row
    return Lease(name, owner, renewed, expires, now)


def this_node(conn: Any) -> str:
    """``host:port:server_id`` as ``lease_owner()`` writes it (everything but the connection)."""
    return str(scalar(conn, "SELECT CONCAT_WS(':', @@hostname, @@port, @@server_id)"))


def sees_every_connection(conn: Any) -> bool:
    """PROCESS (or SUPER) privilege: without it the process list hides other users' sessions,
    and a connection missing from it proves nothing."""
    current = str(scalar(conn, "SELECT CURRENT_USER()"))
    user, _, host = current.rpartition("@")
    return catalog.holds_global_privilege(conn, f"'{user}'@'{host}'", ("PROCESS", "SUPER"))


def is_dead_here(
    conn: Any, lease: Lease, node: str | None = None, *, local_free: bool = False
) -> bool:
    """The live lease belongs to a connection of this server that no longer exists.

    ``local_free``: the job's GET_LOCK is free (or ours), and every holder of the lease on this
    server holds that GET_LOCK too, so a lease of this server is dead whatever the process list
    shows (a killed connection's lock goes slightly before its process list entry)."""
    if not lease.live or lease.connection_id is None:
        return False
    if lease.node != (node or this_node(conn)):
        return False
    if local_free:
        return True
    return not catalog.session_exists(conn, lease.connection_id) and sees_every_connection(conn)
