"""Polling for something a server does on its own time (an event firing, a node syncing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from ticketdb.db import connect
from ticketdb.dsn import DSN


def eventually(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Whether ``check()`` turns true within ``timeout`` seconds (polled every ``interval``).

    Returns the outcome instead of raising, so that the test can clean up (disable an event)
    before it asserts, with its own message. ``faultkit.wait_for`` is the raising variant that
    also watches a CLI process.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def join_all(threads: Iterable[threading.Thread], timeout: float) -> list[str]:
    """Join every thread within one shared ``timeout``; returns the names of those still
    running. A join that times out returns silently, so a test asserts the result is empty:
    a worker left running means a hang, and it may still be using the test's connections."""
    deadline = time.monotonic() + timeout
    threads = list(threads)
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


def node_synced(dsn: DSN) -> None:
    """Return once a Galera node has applied every write set the cluster committed before the
    call (the server's own causality wait, ``wsrep_sync_wait``). Connected without the
    database: it may be among what the node has not applied yet (a TOI statement such as
    CREATE DATABASE returns on the node that ran it; CI saw 1049 on the next node)."""
    conn = connect(dsn, database=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION wsrep_sync_wait = 15")
            cur.execute("SELECT COUNT(*) FROM information_schema.schemata")
    finally:
        conn.close()
