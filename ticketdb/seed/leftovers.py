"""What a seed leaves behind besides the schema: its lock and its FIFO folders.

One seed at a time per database, cluster-wide: a :class:`ticketdb.locks.JobLock` (GET_LOCK,
released by the server the moment the lock's connection dies, plus the lease ``seed.<db>``
renewed by a heartbeat, which another Galera node sees) held for the whole run. ``migrate up``
takes it too, so it never re-creates triggers under a running load on any node. The triggers
and indexes a seed takes apart are recorded in :mod:`ticketdb.migrate.ledger`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ticketdb import leases, locks
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError

FIFO_PREFIX = "ticketdb-seed-"
Say = Callable[[str], None]


# -- the one-seed-at-a-time lock ----------------------------------------------------------------
def lock_name(conn: Any, database: str) -> str:
    """The seed's GET_LOCK (node-local, salted); its cluster-wide lease is ``seed.<database>``."""
    return leases.job_lock_name(conn, "seed", database)


def take_lock(
    dsn: DSN, *, wait: bool, say: Say, ttl: int = locks.DEFAULT_TTL, database: str | None = None
) -> locks.JobLock:
    """Hold the seed lock (GET_LOCK + cluster lease, on a connection of its own with a
    heartbeat) or fail at once naming the holder; ``close()`` the result when done."""
    database = database or dsn.database
    lock = locks.JobLock.open(dsn, "seed", database, ttl=ttl, say=say)
    try:
        lock.acquire(None if wait else 0)
    except locks.LockBusy as exc:
        lock.close()
        raise TicketdbError(
            f"another seed (or a migrate up) is running on {database}: {exc.holder}; "
            "wait for it to finish, or pass --wait to queue behind it"
        ) from None
    except BaseException:
        lock.close()
        raise
    return lock


# -- FIFO folders -------------------------------------------------------------------------------
def fifo_folder() -> Path:
    """A private folder for the FIFOs, named after this process so a later run can tell a
    killed run's leftovers from a live one's."""
    return Path(tempfile.mkdtemp(prefix=f"{FIFO_PREFIX}{os.getpid()}-"))


def remove_stale_fifo_folders(base: Path | None = None) -> list[Path]:
    """FIFO folders whose process is gone (killed with -9, or a crash)."""
    base = base or Path(tempfile.gettempdir())
    removed = []
    for path in base.glob(f"{FIFO_PREFIX}*"):
        m = re.fullmatch(rf"{re.escape(FIFO_PREFIX)}(\d+)-.*", path.name)
        if not m or not path.is_dir():
            continue
        pid = int(m.group(1))
        try:
            os.kill(pid, 0)
            continue  # alive (or not ours to judge)
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
