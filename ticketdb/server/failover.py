"""Multi-host DSNs (``mysql://u:p@h1:p1,h2:p2,h3:p3/db``): use the first node that can serve.

A Galera node can accept connections and still refuse every statement (ERROR 1047: not in the
Primary component, not Synced, or wsrep not ready), so "connected" is not enough: each
candidate is asked ``SHOW STATUS LIKE 'wsrep%'`` and skipped unless it is ready, Primary and
Synced. A plain server (no wsrep) is usable as soon as it answers. The order of the DSN is the
order of preference. :class:`ticketdb.app.workflow.Workflow` reconnects through here when its node
is lost mid-call and runs the call again.
"""

from __future__ import annotations

from typing import Any

import pymysql

from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.errors import ConnectionFailed, TicketdbError
from ticketdb.server import galera

#: the node went away or cannot serve: connect to another one and run the transaction again
NODE_LOST = frozenset({1047, 1053, 1927, 2003, 2006, 2013, 2055})


def is_multi_host(dsn: DSN) -> bool:
    return len(dsn.hosts) > 1


def candidates(dsn: DSN) -> list[DSN]:
    return [dsn.with_host(h, p) for h, p in dsn.hosts]


def _usable(conn: Any) -> str | None:
    """Why this node cannot serve (None when it can)."""
    try:
        if not galera.is_galera(conn):
            return None
        h = galera.health(conn)
    except pymysql.err.MySQLError as exc:
        return str(exc)
    if h.usable:
        return None
    return (
        f"wsrep_ready={'ON' if h.ready else 'OFF'}, "
        f"{'Primary' if h.primary else 'non-Primary'}, {h.state or 'unknown state'}"
    )


def connect_ready(dsn: DSN, *, skip: tuple[tuple[str, int], ...] = (), **kwargs: Any) -> Any:
    """Connect to the first host of ``dsn`` that is ready, Primary and Synced.

    ``skip`` lists hosts to try last (the one that just failed). Raises ConnectionFailed naming
    every host and why it was passed over.
    """
    order = candidates(dsn)
    order = [d for d in order if (d.host, d.port) not in skip] + [
        d for d in order if (d.host, d.port) in skip
    ]
    why = []
    for cand in order:
        try:
            conn = connect(cand, **kwargs)
        except TicketdbError as exc:
            why.append(f"{cand.host}:{cand.port}: {exc}")
            continue
        reason = _usable(conn)
        if reason is None:
            return conn
        conn.close()
        why.append(f"{cand.host}:{cand.port}: {reason}")
    raise ConnectionFailed("no usable node: " + "; ".join(why))


def pick(dsn: DSN) -> DSN:
    """The single-host DSN of the first usable node (for tools that need one URL, e.g. yoyo)."""
    if not is_multi_host(dsn):
        return dsn
    conn = connect_ready(dsn, database=False)
    try:
        host, port = conn.host, conn.port
    finally:
        conn.close()
    return dsn.with_host(host, port)
