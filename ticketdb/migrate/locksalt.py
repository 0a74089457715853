"""The lock salt (``ticketdb_lock_salt``), created by ``migrate up`` before it takes its lock.

GET_LOCK needs no privilege, so a name any account can compute is a name any account can squat
(issue 20: the reporter holding ``ticketdb.migrate.<db>`` stopped every migrate). ticketdb.locks
derives the names from this table's one random row; an account without SELECT on it (the
reporter) cannot compute them.

Why a tool table and not a migration: every lock of a database must use the same name from the
first moment the salt exists, and ``migrate up`` takes its lock before any migration runs. So
the salt comes into being whole, before any lock: the row is written into a table of a private
name that is then renamed into place (RENAME is atomic, and on Galera it is a TOI event ordered
after the row's write set), so no process ever sees the table without its row. Two first runs
at once: one RENAME wins, the other drops its copy and reads the winner's salt.

The one moment names change is that creation: a run of an older ticketdb (or a squatter) holding
an old name would not exclude a run using the new one, so the salt is only created once no old
name of the database is held, waiting up to the lock timeout for them to be let go.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pymysql

from ticketdb.catalog import table_exists
from ticketdb.db import error_code, quote_ident, scalar
from ticketdb.errors import TicketdbError
from ticketdb.leases import SALT_TABLE, lock_name, lock_salt
from ticketdb.locks import lock_holder

#: every job that took a GET_LOCK before the salt existed (vip-follow: ticketdb.app.follower)
OLD_NAME_JOBS = ("migrate", "seed", "vip-follow")
_TABLE_EXISTS = 1050


def _old_names_held(conn: Any, database: str) -> list[str]:
    names = [lock_name(job, database, None) for job in OLD_NAME_JOBS]
    return [
        f"{name} by {lock_holder(conn, name)}"
        for name in names
        if scalar(conn, "SELECT IS_USED_LOCK(%s)", (name,)) is not None
    ]


def _wait_old_names_free(conn: Any, database: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while held := _old_names_held(conn, database):
        if time.monotonic() >= deadline:
            raise TicketdbError(
                f"cannot create {SALT_TABLE} yet: an older ticketdb run (or another session) "
                f"holds {'; '.join(held)}; let it finish (or KILL that connection), then re-run"
            )
        time.sleep(0.5)


def ensure(conn: Any, database: str, *, wait: float) -> str:
    """The salt of ``database`` (the connection's current database), created when missing."""
    if table_exists(conn, SALT_TABLE):
        if scalar(conn, f"SELECT COUNT(*) FROM {SALT_TABLE}") == 0:  # row deleted by hand
            with conn.cursor() as cur:
                cur.execute(
                    f"INSERT IGNORE INTO {SALT_TABLE} (id, salt) VALUES (1, %s)",
                    (secrets.token_hex(32),),
                )
            conn.commit()
        return str(lock_salt(conn, database))
    _wait_old_names_free(conn, database, wait)
    private = quote_ident(f"{SALT_TABLE}_{secrets.token_hex(4)}")
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {private} ("
            " id TINYINT UNSIGNED NOT NULL,"
            " salt CHAR(64) NOT NULL,"
            " created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
            " PRIMARY KEY (id)"
            ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin"
        )
        try:
            cur.execute(
                f"INSERT INTO {private} (id, salt) VALUES (1, %s)", (secrets.token_hex(32),)
            )
            conn.commit()
            cur.execute(f"RENAME TABLE {private} TO {SALT_TABLE}")
        except pymysql.err.MySQLError as exc:
            cur.execute(f"DROP TABLE IF EXISTS {private}")
            if error_code(exc) != _TABLE_EXISTS:  # else another first run was faster
                raise
    return str(lock_salt(conn, database))
