"""``doctor`` on a Galera node: fail when the node cannot serve, warn on what breaks later.

Fail: ``wsrep_ready`` OFF, not in the Primary component, not Synced (every statement would get
ERROR 1047 or stale data); a node whose triggers, routines, columns or indexes differ from the
other nodes' (Galera skips a DDL a node fails to apply: :func:`schema_divergence`, which
``migrate up`` also asks). Warn: fewer than 3 nodes (no quorum after one loss), duplicate
``server_id`` (a state transfer copies ENABLED events and jobs run twice), an event enabled on
no node (never runs), on several nodes without the job lease guard (runs twice), or not on
every node (no failover), ``binlog_format`` ≠ ROW. (``innodb_autoinc_lock_mode`` ≠ 2 is
checked on every server: ``ticketdb.doctor``.)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ticketdb import catalog
from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.server import galera
from ticketdb.server.checks import Check

#: the call an event body makes first to be safe when enabled on every node
JOB_GUARD = "job_lease_acquire"
#: differences named per node in the schema check
SHOWN = 5


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
            out.extend(_schema_checks(nodes, database))
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


def _schema_problems(nodes: dict[str, Any], database: str) -> tuple[int, list[str]]:
    """(objects compared, one line per node that differs from the majority of the nodes)."""
    prints = {addr: catalog.schema_fingerprint(c, database) for addr, c in nodes.items()}
    keys = sorted(set().union(*prints.values()))
    want = {k: Counter(p.get(k) for p in prints.values()).most_common(1)[0][0] for k in keys}
    problems: list[str] = []
    for addr, mine in prints.items():
        wrong = [
            f"{k} " + ("missing" if k not in mine else "extra" if want[k] is None else "differs")
            for k in keys
            if mine.get(k) != want[k]
        ]
        if wrong:
            more = f" and {len(wrong) - SHOWN} more" if len(wrong) > SHOWN else ""
            problems.append(f"{addr}: {', '.join(wrong[:SHOWN])}{more}")
    return len(keys), problems


#: what a schema difference between nodes means and how to mend it
DIVERGED = (
    "Galera skipped a DDL statement that node failed to apply (wsrep_ignore_apply_errors, see "
    "its error log): re-create the object there with SET SESSION wsrep_on = OFF, or rebuild "
    "the node by SST"
)


def _schema_checks(nodes: dict[str, Any], database: str) -> list[Check]:
    """Every node holds the same triggers, routines, columns and indexes: Galera skips a DDL a
    node fails to apply (``wsrep_ignore_apply_errors``) and that node then runs writes with a
    trigger fewer, which nothing else reports. The majority of the nodes is taken as right."""
    if len(nodes) < 2:
        return []
    compared, problems = _schema_problems(nodes, database)
    if not problems:
        return [Check("schema (cluster)", "ok",
                      f"{compared} triggers, routines, columns and indexes alike on "
                      f"{len(nodes)} nodes")]  # fmt: skip
    return [Check("schema (cluster)", "fail", "; ".join(problems) + f" — {DIVERGED}")]


def schema_divergence(dsn: DSN) -> list[str]:
    """On Galera, one line per node whose schema of ``dsn``'s database differs from the
    majority's (empty: alike, or not a cluster); nodes that cannot be reached are left out."""
    conn = connect(dsn)
    try:
        if not galera.is_galera(conn):
            return []
        peers = galera.peer_dsns(dsn, conn)
    finally:
        conn.close()
    nodes: dict[str, Any] = {}
    try:
        for p in peers:
            try:
                nodes[f"{p.host}:{p.port}"] = connect(p, database=False, connect_timeout=5)
            except TicketdbError:
                continue
        return _schema_problems(nodes, dsn.database)[1] if len(nodes) > 1 else []
    finally:
        for c in nodes.values():
            c.close()
