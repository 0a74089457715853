"""ticketdb.migrate.locksalt: the salt the GET_LOCK names derive from comes into being whole,
once, before any lock; a run of an older ticketdb holding an old name delays it."""

from __future__ import annotations

import re
import threading

import pytest

from ticketdb import leases
from ticketdb import migrate as mig
from ticketdb.db import connect, connection, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate import locksalt
from ticketdb.project import Project
from ticketdb.server.databases import ensure_database


def _salt_tables(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SHOW TABLES LIKE 'ticketdb\\\\_lock\\\\_salt%%'")
        return [r[0] for r in cur.fetchall()]


def test_migrate_up_creates_one_salt_and_keeps_it(db_dsn: DSN, project: Project) -> None:
    mig.up(db_dsn, project)
    with connection(db_dsn) as conn:
        salt = leases.lock_salt(conn, db_dsn.database)
        assert salt and re.fullmatch(r"[0-9a-f]{64}", salt)
        assert leases.job_lock_name(conn, "migrate", db_dsn.database) != leases.lock_name(
            "migrate", db_dsn.database, None
        )
    mig.up(db_dsn, project)
    with connection(db_dsn) as conn:
        assert leases.lock_salt(conn, db_dsn.database) == salt
        assert _salt_tables(conn) == [leases.SALT_TABLE]


def test_first_runs_at_once_agree_on_one_salt(db_dsn: DSN) -> None:
    """Four first creations race: one RENAME wins, the others read its salt and leave no copy."""
    ensure_database(db_dsn)
    got: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def first_run() -> None:
        try:
            with connection(db_dsn) as conn:
                start.wait(10)
                got.append(locksalt.ensure(conn, db_dsn.database, wait=5))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(got) == 4 and len(set(got)) == 1, (errors, got)
    with connection(db_dsn) as conn:
        assert _salt_tables(conn) == [leases.SALT_TABLE]


def test_an_old_name_held_delays_the_salt_and_a_lost_row_comes_back(
    migrated_dsn: DSN, project: Project
) -> None:
    """A database migrated before the salt existed: a run of an older ticketdb holds the old
    name ``ticketdb.seed.<db>``; new names now would not exclude it, so `up` waits for it."""
    db = migrated_dsn.database
    with connection(migrated_dsn) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE {leases.SALT_TABLE}")
    old = connect(migrated_dsn)
    try:
        assert scalar(old, "SELECT GET_LOCK(%s, 0)", (leases.lock_name("seed", db, None),)) == 1
        with pytest.raises(TicketdbError, match=rf"older ticketdb .*ticketdb\.seed\.{db} by "):
            mig.up(migrated_dsn, project, lock_timeout=1)
        with connection(migrated_dsn) as conn:
            assert leases.lock_salt(conn, db) is None  # not created: everyone keeps old names
    finally:
        old.close()
    mig.up(migrated_dsn, project, lock_timeout=5)
    with connection(migrated_dsn) as conn, conn.cursor() as cur:
        salt = leases.lock_salt(conn, db)
        cur.execute(f"DELETE FROM {leases.SALT_TABLE}")
        with pytest.raises(TicketdbError, match="no salt row: run `ticketdb migrate up`"):
            leases.lock_salt(conn, db)
    mig.up(migrated_dsn, project)
    with connection(migrated_dsn) as conn:
        again = leases.lock_salt(conn, db)
    assert again and again != salt
