"""`alerts run` stops (exit 1) on what retrying cannot fix, keeps retrying what it can."""

from __future__ import annotations

import signal
import time
from dataclasses import replace

import pytest
from faultkit import clean, kill, run, start

from ticketdb.dsn import DSN


@pytest.mark.parametrize("fault", ["password", "database"])
def test_permanent_errors_stop_the_worker(migrated_dsn: DSN, fault: str) -> None:
    bad = (
        replace(migrated_dsn, password="definitely-Wrong-9")
        if fault == "password"
        else migrated_dsn.with_database("no_such_database_here")
    )
    t0 = time.monotonic()
    res = run("alerts", "run", "--poll", "0.2", "--dsn", bad.url(), timeout=60)
    text = clean(res)
    assert res.returncode == 1, text
    assert time.monotonic() - t0 < 30
    assert ("Access denied" if fault == "password" else "does not exist") in text
    assert "definitely-Wrong-9" not in text


def test_a_server_that_is_down_is_retried(migrated_dsn: DSN) -> None:
    down = DSN.parse(f"mysql://root@127.0.0.1:1/{migrated_dsn.database}")
    proc = start("alerts", "run", "--poll", "0.2", "--dsn", down.url())
    time.sleep(3)
    assert proc.poll() is None, proc.communicate()
    rc, out, err = kill(proc, signal.SIGTERM, timeout=30)
    assert "retrying" in err
    clean((rc, out, err))
