"""Galera: prove that every node holds the triggers an online copy depends on, and mend a node
that silently lost one.

Why: a CREATE TRIGGER runs under TOI on every node, but a node that fails to apply it keeps
going without it — MariaDB's ``wsrep_ignore_apply_errors`` (default 7 in 10.11) ignores DDL
errors on appliers. Measured (tests/migrate/test_online_ddl.py's Galera test, writers on node 2,
pt-osc on node 1): in about 1 run in 5, node 2's applier failed pt-osc's CREATE TRIGGER with
"Trigger 'ticket_logs_before_insert' has an error in its body: … syntax error" (a spurious parse
error loading the table's existing triggers, while that node's writers used the table) and logged
"WSREP: Ignoring error". Node 2 then had no copy INSERT (or UPDATE) trigger, so its writes never
reached the copy: the checksum caught it every time, but the copy was wasted. The same can hit
the table's own triggers when the swap re-creates them on the copy: a node without the state
machine would take writes unchecked, which nothing downstream catches.

So after each such step, every node is asked — after it has applied every certified write set
(``wsrep_sync_wait``) and reopened the table (``FLUSH LOCAL TABLES``: a node once served a trigger
list it had failed to load until then, shared/NOTES.md) — whether it lists the triggers, in
order. A node that does not gets them re-created locally (``wsrep_on = OFF``: the statement is
the one the other nodes applied, so the node only catches up), and is asked again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pymysql

from ticketdb import catalog
from ticketdb.db import connect, error_code, quote_ident
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.server import galera

Say = Callable[[str], None]
#: a node gets this many rounds (catch up, reopen, look, mend) …
ROUNDS = 5
#: … and this long in all
TIMEOUT = 30.0
#: a node's check ends within TIMEOUT plus one statement's read timeout; waited for this much more
JOIN_SLACK = 60.0
#: errors of a statement the applier killed or that met a certification conflict: try again
_TRANSIENT = (1317, 1213)


def sync_wait(conn: Any, table: str) -> None:
    """Return once this node has applied every write set the cluster certified so far."""
    with conn.cursor() as cur:
        cur.execute("SET SESSION wsrep_sync_wait = 1")
        try:
            cur.execute(f"SELECT COUNT(*) FROM {quote_ident(table)} WHERE 1 = 0")
            cur.fetchall()
        finally:
            cur.execute("SET SESSION wsrep_sync_wait = 0")


def listed(conn: Any, table: str) -> list[str]:
    """The triggers this node lists on ``table``, in firing order, after catching up and
    reopening the table."""
    sync_wait(conn, table)
    with conn.cursor() as cur:
        cur.execute(f"FLUSH LOCAL TABLES {quote_ident(table)}")
    return [n for n, _ in catalog.trigger_tables(conn, (table,), firing_order=True)]


def ensure(
    dsn: DSN,
    conn: Any,
    table: str,
    creates: dict[str, str],
    say: Say,
    *,
    in_order: bool = False,
) -> list[str]:
    """Make every node list the triggers ``creates`` (name → its CREATE statement) on ``table``.

    ``in_order``: they are a group whose firing order matters (the table's own triggers): a
    node missing any gets all of them dropped and re-created in order; otherwise only the
    missing ones are created (pt-osc's copy triggers: one per event, fired last).
    Returns one line per node mended; raises TicketdbError naming a node that still lacks one
    after ROUNDS tries. A node that cannot be reached is reported through ``say`` and skipped
    (the checksum, and ``drift`` per node, still judge it)."""
    names = list(creates)
    peers = galera.peer_dsns(dsn, conn)  # every member, this one included

    def one(node: DSN) -> str | None:
        try:
            c = connect(node)
        except (TicketdbError, pymysql.err.MySQLError) as exc:
            say(f"could not check the triggers of {table} on {node.address} ({exc})")
            return None
        try:
            what = _ensure_on(c, table, creates, names, in_order)
        finally:
            c.close()
        if not what:
            return None
        line = f"{node.address} had not applied {', '.join(what)} on {table}: re-created there"
        say(line)
        return line

    # all nodes at once: inside the swap's fence every millisecond here is a writer's wait
    with ThreadPoolExecutor(max_workers=max(len(peers), 1)) as pool:
        futures = [pool.submit(one, node) for node in peers]
        done = [f.result(timeout=TIMEOUT + JOIN_SLACK) for f in futures]
    return [line for line in done if line]


def _ensure_on(
    conn: Any, table: str, creates: dict[str, str], names: list[str], in_order: bool
) -> list[str]:
    """One node: look, mend, look again; returns what was mended (empty: nothing lacked)."""
    deadline = time.monotonic() + TIMEOUT
    mended: list[str] = []
    for _ in range(ROUNDS):
        try:
            have = listed(conn, table)
            group = [n for n in have if n in creates]
            missing = [n for n in names if n not in have]
            if not missing and (not in_order or group == names):
                return mended
            todo = names if in_order else missing
            drops = [f"DROP TRIGGER IF EXISTS {quote_ident(n)}" for n in todo if n in have]
            galera.run_locally(conn, drops + [creates[n] for n in todo])  # this node only
            mended = sorted(set(mended) | set(missing or todo))
        except pymysql.err.MySQLError as exc:
            if error_code(exc) not in _TRANSIENT:
                raise TicketdbError(
                    f"could not check or re-create the triggers {', '.join(names)} of {table} "
                    f"on {conn.host}:{conn.port}: {exc}"
                ) from exc
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    raise TicketdbError(
        f"{conn.host}:{conn.port} still does not list the triggers {', '.join(names)} on "
        f"{table} in order after {ROUNDS} tries to re-create them there"
    )
