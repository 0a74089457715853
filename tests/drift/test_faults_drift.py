"""A drift run killed while its scratch reference database exists: SIGTERM drops it on the way
out; after SIGKILL the next drift run drops it (its owner's lock is gone) and says so."""

from __future__ import annotations

import signal

import pymysql
import pytest
from faultkit import clean, kill, run, start, wait_for

from ticketdb.db import connect
from ticketdb.dsn import DSN


def _scratch(conn: pymysql.connections.Connection, db: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT schema_name FROM information_schema.schemata")
        return sorted(r[0] for r in cur.fetchall() if r[0].startswith(f"{db}__drift_"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_drift_leaves_no_scratch_database_for_long(migrated_dsn: DSN, sig: int) -> None:
    conn = connect(migrated_dsn)
    try:
        proc = start("drift", "--dsn", migrated_dsn.url())
        wait_for(lambda: bool(_scratch(conn, migrated_dsn.database)), 60,
                 "the scratch reference database", proc)  # fmt: skip
        left = _scratch(conn, migrated_dsn.database)
        rc, out, err = kill(proc, sig, timeout=60)
        if sig == signal.SIGTERM:
            assert rc == 143, clean((rc, out, err))
            assert "terminated" in err
            assert _scratch(conn, migrated_dsn.database) == []
            return
        assert _scratch(conn, migrated_dsn.database) == left  # SIGKILL: nothing ran
        res = run("drift", "--json", "--dsn", migrated_dsn.url())
        text = clean(res)
        assert res.returncode == 0, text
        assert left[0] in text and "killed" in text
        assert _scratch(conn, migrated_dsn.database) == []
    finally:
        conn.close()
