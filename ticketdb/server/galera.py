"""What ticketdb needs to know about a Galera node: is it one, is it usable, who are its peers.

Scheduled jobs run on every node (each event body first takes a job lease, see
procedures/job_lease_acquire.sql), but Galera replicates CREATE/ALTER EVENT to the other nodes
as ``SLAVESIDE_DISABLED``. :func:`enable_events_everywhere` re-enables them node by node with
``wsrep_on=OFF`` for the session, so the ALTER stays local and does not disable them again
elsewhere. ``migrate up`` calls it after (re)creating events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ticketdb import catalog
from ticketdb.db import connect, quote_ident, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError


def _kv(conn: Any, sql: str) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    out = {}
    for row in rows:
        k, v = tuple(row.values()) if isinstance(row, dict) else row
        out[str(k).lower()] = "" if v is None else str(v)
    return out


def wsrep_status(conn: Any) -> dict[str, str]:
    return _kv(conn, "SHOW GLOBAL STATUS LIKE 'wsrep%'")


def is_galera(conn: Any) -> bool:
    """A node with wsrep on and a provider loaded (MySQL and plain MariaDB: False)."""
    on = _kv(conn, "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'").get("wsrep_on", "OFF")
    return on.upper() in ("ON", "1") and bool(wsrep_status(conn).get("wsrep_cluster_size"))


@dataclass(frozen=True)
class NodeHealth:
    ready: bool
    primary: bool
    synced: bool
    cluster_size: int
    state: str

    @property
    def usable(self) -> bool:
        return self.ready and self.primary and self.synced


def health(conn: Any) -> NodeHealth:
    st = wsrep_status(conn)
    return NodeHealth(
        ready=st.get("wsrep_ready") == "ON",
        primary=st.get("wsrep_cluster_status") == "Primary",
        synced=st.get("wsrep_local_state_comment") == "Synced",
        cluster_size=int(st.get("wsrep_cluster_size") or 0),
        state=st.get("wsrep_local_state_comment", ""),
    )


def peer_addresses(conn: Any) -> list[tuple[str, int]]:
    """Client addresses of every member (``wsrep_incoming_addresses``), this node included."""
    text = wsrep_status(conn).get("wsrep_incoming_addresses", "")
    out = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        if host and port.isdigit() and host not in ("AUTO",):
            out.append((host.strip("[]"), int(port)))
    return out


def peer_dsns(dsn: DSN, conn: Any) -> list[DSN]:
    """The DSN for every member, with this DSN's credentials and database."""
    return [replace(dsn.with_host(h, p), params=()) for h, p in peer_addresses(conn)]


def events_status(conn: Any, database: str) -> dict[str, str]:
    """Event name → its status on this node (ENABLED, DISABLED, SLAVESIDE_DISABLED)."""
    return {e.name: e.status for e in catalog.events(conn, database)}


def enable_events_on_node(conn: Any, database: str) -> list[str]:
    """ENABLE (locally, not replicated) the events Galera left SLAVESIDE_DISABLED here."""
    todo = [n for n, s in events_status(conn, database).items() if s == "SLAVESIDE_DISABLED"]
    if not todo:
        return []
    run_locally(
        conn, [f"ALTER EVENT {quote_ident(database)}.{quote_ident(name)} ENABLE" for name in todo]
    )
    return todo


def run_locally(conn: Any, statements: list[str]) -> None:
    """Run statements on this node only (``wsrep_on = OFF``: not replicated), e.g. to enable an
    event here or re-create a trigger this node failed to apply."""
    with conn.cursor() as cur:
        cur.execute("SET SESSION wsrep_on = OFF")
        try:
            for sql in statements:
                cur.execute(sql)
        finally:
            cur.execute("SET SESSION wsrep_on = ON")


def enable_events_everywhere(dsn: DSN) -> dict[str, list[str]]:
    """Per node address, the events it enabled; nodes that do not answer are reported."""
    conn = connect(dsn, database=False)
    try:
        if not is_galera(conn):
            return {}
        peers = peer_dsns(dsn, conn)
    finally:
        conn.close()
    done: dict[str, list[str]] = {}
    errors = []
    for peer in peers:
        try:
            c = connect(peer, database=False, connect_timeout=5)
        except TicketdbError as exc:
            errors.append(f"{peer.host}:{peer.port}: {exc}")
            continue
        try:
            done[f"{peer.host}:{peer.port}"] = enable_events_on_node(c, dsn.database)
        finally:
            c.close()
    if errors:
        raise TicketdbError("could not enable events on " + "; ".join(errors))
    return done


def server_ids(dsns: list[DSN]) -> dict[str, int]:
    out = {}
    for d in dsns:
        c = connect(d, database=False, connect_timeout=5)
        try:
            out[f"{d.host}:{d.port}"] = int(scalar(c, "SELECT @@server_id"))
        finally:
            c.close()
    return out
