"""Retry a whole transaction after a deadlock, lock wait timeout or Galera certification failure.

On Galera a conflicting write from another node arrives as ERROR 1213 at COMMIT (or at any
statement of a transaction that was brute-force aborted), and a procedure's own handler does
not always see it: every caller that runs a job (partitions, VIP cache, alerts worker, reports)
retries the unit of work here. ERROR 1047 (node not ready/Primary) is not retried on the same
connection: it means "use another node" (ticketdb.server.failover).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import pymysql

from ticketdb.db import error_code

T = TypeVar("T")

#: deadlock / certification failure, lock wait timeout
CONFLICT_CODES = frozenset({1213, 1205})


def retry_conflicts(
    fn: Callable[[], T],
    *,
    attempts: int = 6,
    base_delay: float = 0.02,
    max_delay: float = 1.0,
    rollback: Callable[[], object] | None = None,
) -> T:
    """Call ``fn`` (one whole transaction, safe to repeat) again after 1213/1205.

    ``rollback`` (e.g. ``conn.rollback``) runs before each retry; the last error propagates.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except pymysql.err.MySQLError as exc:
            if error_code(exc) not in CONFLICT_CODES or attempt == attempts - 1:
                raise
            if rollback is not None:
                try:
                    rollback()
                except pymysql.err.MySQLError:
                    pass
            time.sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover
