"""``doctor`` on a Galera node: fail when the node cannot serve, warn on what breaks later.

Fail: ``wsrep_ready`` OFF, not in the Primary component, not Synced (every statement would get
ERROR 1047 or stale data). Warn: fewer than 3 nodes (no quorum after one loss), duplicate
``server_id`` (a state transfer copies ENABLED events and jobs run twice), an event enabled on
no node (never runs), on several nodes without the job lease guard (runs twice), or not on
every node (no failover), ``binlog_format`` ≠ ROW. (``innodb_autoinc_lock_mode`` ≠ 2 is
checked on every server: ``ticketdb.doctor``.)
"""

from __future__ import annotations

from typing import Any

from ticketdb import catalog
from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.server import galera
from ticketdb.server.checks import Check

#: the call an event body makes first to be safe when enabled on every node
JOB_GUARD = "job_lease_acquire"


def node_checks(conn: Any) -> list[Check]:
    """Checks on this node only; the caller stops when any of them fails."""
    h = galera.health(conn)
    return [
        Check("wsrep_ready", "ok" if h.ready else "fail",
              "ON" if h.ready else "OFF: the node refuses queries (ERROR 1047)"),
        Check("wsrep_cluster_status", "ok" if h.primary else "fail",
              "Primary" if h.primary else "non-Primary: this node lost quorum; use another node "
              "or bootstrap (SET GLOBAL wsrep_provider_options='pc.bootstrap=YES')"),
        Check("wsrep_local_state", "ok" if h.synced else "fail",
              h.state if h.synced else f"{h.state}: not Synced (joining, donor or desynced)"),
    ]  # fmt: skip


def cluster_checks(conn: Any, dsn: DSN, database: str | None) -> list[Check]:
    h = galera.health(conn)
    out = [
        Check("cluster size", "ok" if h.cluster_size >= 3 else "warn",
              f"{h.cluster_size} node(s)" + ("" if h.cluster_size >= 3 else
              ": losing one node leaves no quorum; run at least 3")),
    ]  # fmt: skip
    fmt = str(scalar(conn, "SELECT @@GLOBAL.binlog_format"))
    row = fmt.upper() == "ROW"
    out.append(
        Check("binlog_format", "ok" if row else "warn",
              fmt if row else f"{fmt}: Galera replicates ROW only")
    )  # fmt: skip
    peers = galera.peer_dsns(dsn, conn)
    nodes: dict[str, Any] = {}
    unreachable = []
    try:
        for p in peers:
            try:
                nodes[f"{p.host}:{p.port}"] = connect(p, database=False, connect_timeout=5)
            except TicketdbError:
                unreachable.append(f"{p.host}:{p.port}")
        ids: dict[int, list[str]] = {}
        for addr, c in nodes.items():
            ids.setdefault(int(scalar(c, "SELECT @@server_id")), []).append(addr)
        dup = {k: v for k, v in ids.items() if len(v) > 1}
        out.append(Check("server_id", "warn" if dup else "ok",
                         "; ".join(f"server_id {k} on {', '.join(v)}" for k, v in dup.items())
                         + ": give every node its own (a state transfer then copies ENABLED "
                           "events and jobs run twice)" if dup else
                         f"unique on {len(nodes)} node(s)"))  # fmt: skip
        if unreachable:
            out.append(Check("peers", "warn", f"cannot connect to {', '.join(unreachable)}"))
        if database:
            out.extend(_event_checks(nodes, database))
    finally:
        for c in nodes.values():
            c.close()
    return out


def _event_checks(nodes: dict[str, Any], database: str) -> list[Check]:
    enabled: dict[str, list[str]] = {}
    bodies: dict[str, str] = {}
    for addr, c in nodes.items():
        for name, status, body in catalog.events(c, database):
            enabled.setdefault(name, [])
            bodies[name] = body or ""
            if status == "ENABLED":
                enabled[name].append(addr)
    problems = []
    for name, where in sorted(enabled.items()):
        guarded = JOB_GUARD in bodies[name]
        if not where:
            problems.append(f"{name} is enabled on no node (never runs)")
        elif len(where) > 1 and not guarded:
            problems.append(f"{name} runs on {len(where)} nodes without {JOB_GUARD} (twice)")
        elif guarded and len(where) < len(nodes):
            problems.append(
                f"{name} enabled on {len(where)} of {len(nodes)} nodes (no failover; "
                "`ticketdb migrate up` re-enables it)"
            )
    if not enabled:
        return []
    return [Check("events (cluster)", "warn" if problems else "ok",
                  "; ".join(problems) if problems else
                  f"{len(enabled)} event(s) enabled on all {len(nodes)} nodes, one runner each "
                  "period (job lease)")]  # fmt: skip
