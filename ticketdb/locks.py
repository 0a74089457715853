"""Named server locks held by a connection: who runs a migrate or a seed on a database.

``GET_LOCK`` belongs to the session that took it and the server frees it the moment that
connection dies, so a killed run never leaves a lock that blocks the next one (yoyo's lock row
does: it has to be broken by hand or waited out). On Galera these locks are node-local; the
cluster-wide lease for that case is ``ticketdb.cluster``'s business, not this module's.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ticketdb.db import scalar


def lock_name(job: str, database: str) -> str:
    """``ticketdb.<job>.<database>``; names are at most 64 characters, so long ones are hashed."""
    name = f"ticketdb.{job}.{database}"
    if len(name) > 64:
        name = f"ticketdb.{job}.{hashlib.sha1(database.encode()).hexdigest()}"
    return name


def lock_holder(conn: Any, name: str) -> str:
    """Who holds a lock, for messages: connection id, user@host and for how long."""
    owner = scalar(conn, "SELECT IS_USED_LOCK(%s)", (name,))
    if owner is None:
        return "nobody (just released)"
    with conn.cursor() as cur:
        cur.execute(
            "SELECT user, host, time FROM information_schema.processlist WHERE id = %s", (owner,)
        )
        row = cur.fetchone()
    if not row:
        return f"connection {owner}"
    user, host, secs = (row["user"], row["host"], row["time"]) if isinstance(row, dict) else row
    return f"connection {owner} ({user}@{host}, for {secs}s)"
