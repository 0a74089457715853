"""Faults in `seed`: a second seed at once, SIGTERM/SIGKILL at several points, a LOAD DATA that
would skip rows, an absurd --tickets. Each run is the real CLI in a subprocess; the points are
observed on the server (the restore ledger filling, LOAD DATA or ALTER … ADD in the process
list), not guessed with sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from faultkit import (
    clean,
    fifo_folders,
    kill,
    replay_problems,
    run,
    schema_shape,
    signal_if_running,
    start,
    wait_for,
)

from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.ledger import RESTORE_TABLE
from ticketdb.seed.leftovers import lock_name
from ticketdb.seed.load import bulk_connection, load_data_sql, refuse_warnings

BIG = "150000"  # long enough (several seconds here) to be caught in each phase


@pytest.fixture(scope="module")
def reference_shape(module_migrated_dsn: DSN) -> dict[str, object]:
    conn = connect(module_migrated_dsn)
    try:
        return schema_shape(conn)
    finally:
        conn.close()


@pytest.fixture
def root(migrated_dsn: DSN) -> Iterator[pymysql.connections.Connection]:
    conn = connect(migrated_dsn)
    yield conn
    conn.close()


def _seed(dsn: DSN, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return start("seed", "--dsn", dsn.url(), "--months", "2", *args, env=env)


def _in_processlist(conn: pymysql.connections.Connection, prefix: str, db: str) -> bool:
    return bool(
        scalar(
            conn,
            "SELECT COUNT(*) FROM information_schema.processlist WHERE db = %s AND info LIKE %s",
            (db, prefix + "%"),
        )
    )


def _ledger(conn: pymysql.connections.Connection) -> int:
    try:
        return int(scalar(conn, f"SELECT COUNT(*) FROM {RESTORE_TABLE}"))
    except pymysql.err.ProgrammingError:
        return 0


def _wait_lock_freed(conn: pymysql.connections.Connection, dsn: DSN) -> None:
    """The server frees a killed client's lock once it notices the closed socket."""
    name = lock_name(conn, dsn.database)
    wait_for(lambda: scalar(conn, "SELECT IS_USED_LOCK(%s)", (name,)) is None, 60,
             "the server to drop the killed seed's connection")  # fmt: skip


def _assert_whole(
    conn: pymysql.connections.Connection, reference: dict[str, object], output: str = ""
) -> None:
    """The schema is whole again and the ledger empty; ``output`` (the CLI's) shown on failure."""
    assert schema_shape(conn) == reference, output
    assert _ledger(conn) == 0, output


def test_second_seed_fails_at_once_and_wait_queues(
    migrated_dsn: DSN, root: pymysql.connections.Connection, reference_shape: dict[str, object]
) -> None:
    first = _seed(migrated_dsn, "--tickets", "60000", "--seed", "1")
    name = lock_name(root, migrated_dsn.database)
    wait_for(lambda: scalar(root, "SELECT IS_USED_LOCK(%s)", (name,)) is not None, 60,
             "the first seed to hold the lock", first)  # fmt: skip
    t0 = time.monotonic()
    loser = run("seed", "--dsn", migrated_dsn.url(), "--tickets", "500", "--replace")
    text = clean(loser)
    assert loser.returncode == 1, text
    assert "another seed" in text and "--wait" in text
    assert time.monotonic() - t0 < 15
    queued = _seed(migrated_dsn, "--tickets", "3000", "--seed", "9", "--replace", "--wait")
    out, err = first.communicate(timeout=240)
    assert first.returncode == 0, err[-2000:]
    out, err = queued.communicate(timeout=240)
    assert queued.returncode == 0, err[-2000:]
    # the queued seed ran after the first one, alone: its data only, consistent with its logs
    assert scalar(root, "SELECT COUNT(*) FROM service_tickets") == 3000
    assert replay_problems(root) == []
    _assert_whole(root, reference_shape)


@pytest.mark.parametrize(
    "point",
    ["ledger", "load", "indexes"],
)
def test_sigterm_at_each_point_puts_everything_back(
    migrated_dsn: DSN,
    root: pymysql.connections.Connection,
    reference_shape: dict[str, object],
    point: str,
) -> None:
    proc = _seed(migrated_dsn, "--tickets", BIG)
    db = migrated_dsn.database
    cond = {
        "ledger": lambda: _ledger(root) > 0,
        "load": lambda: _in_processlist(root, "LOAD DATA", db),
        "indexes": lambda: _in_processlist(root, "ALTER TABLE%ADD", db),
    }[point]
    wait_for(cond, 120, f"the seed to reach {point}", proc)
    sent = signal_if_running(proc, signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    text = clean((proc.returncode, out, err))
    if not sent:  # provably ended before the signal: it had exited when we looked
        assert proc.returncode == 0, text
        pytest.skip(f"seed finished before SIGTERM could be sent at {point}")
    # the signal reached a running seed: it must stop and put everything back (a seed that
    # ignored SIGTERM and ran to the end would exit 0 here, and fail)
    assert proc.returncode == 143, text
    assert "terminated" in text
    _assert_whole(root, reference_shape, text)
    assert fifo_folders(proc.pid) == []


def test_sigkill_leaves_a_ledger_that_migrate_up_and_the_next_seed_use(
    migrated_dsn: DSN,
    root: pymysql.connections.Connection,
    reference_shape: dict[str, object],
    tmp_path: Path,
) -> None:
    # the seeds' FIFO folders in a temp dir of their own: any seed removes the folders of dead
    # runs in its temp dir, so one running at the same time elsewhere (another test worker)
    # removed the killed run's folder before this test looked for it
    tmp = {"TMPDIR": str(tmp_path)}
    proc = _seed(migrated_dsn, "--tickets", BIG, env=tmp)
    wait_for(lambda: _in_processlist(root, "LOAD DATA", migrated_dsn.database), 120,
             "LOAD DATA", proc)  # fmt: skip
    kill(proc, signal.SIGKILL)
    _wait_lock_freed(root, migrated_dsn)
    stripped = schema_shape(root)
    assert stripped != reference_shape  # the kill did take things apart...
    assert _ledger(root) > 0  # ...and the database says what
    assert fifo_folders(proc.pid, tmp_path)  # the folder of the killed run is still there
    res = run("doctor", "--json", "--dsn", migrated_dsn.url())
    assert res.returncode == 1 and "run `ticketdb migrate up`" in clean(res)
    res = run("migrate", "up", "--dsn", migrated_dsn.url())
    assert res.returncode == 0, clean(res)
    assert "taken apart by an interrupted seed" in res.stderr
    _assert_whole(root, reference_shape)

    proc = _seed(migrated_dsn, "--tickets", BIG, "--replace", env=tmp)
    wait_for(lambda: _in_processlist(root, "LOAD DATA", migrated_dsn.database), 120,
             "LOAD DATA", proc)  # fmt: skip
    kill(proc, signal.SIGKILL)
    _wait_lock_freed(root, migrated_dsn)
    assert _ledger(root) > 0
    assert fifo_folders(proc.pid, tmp_path)
    res = run("seed", "--dsn", migrated_dsn.url(), "--tickets", "2000", "--replace",
              "--months", "2", env=tmp)  # fmt: skip
    text = clean(res)
    assert res.returncode == 0, text
    assert "taken apart by an interrupted seed" in text
    assert f"ticketdb-seed-{proc.pid}-" in text  # removed the killed run's FIFO folder
    assert fifo_folders(proc.pid, tmp_path) == []
    _assert_whole(root, reference_shape)
    assert scalar(root, "SELECT COUNT(*) FROM service_tickets") == 2000
    assert replay_problems(root) == []


def test_duplicate_key_warnings_fail_the_load(
    migrated_dsn: DSN, root: pymysql.connections.Connection, tmp_path: Path
) -> None:
    """LOAD DATA LOCAL turns a duplicate key into a warning and a skipped row: refused."""
    rows = "1\t1\tt\tlow\t2026-01-01 00:00:00\t2026-01-01 00:00:00\t2026-01-01 00:00:00\n"
    path = tmp_path / "dup.tsv"
    path.write_text(rows * 2)
    cols = ["id", "customer_id", "title", "priority", "created_at", "updated_at", "sla_started_at"]
    conn = bulk_connection(migrated_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(load_data_sql("service_tickets", cols), (str(path),))
            with pytest.raises(TicketdbError, match=r"1 warning\(s\).*Duplicate entry.*1062"):
                refuse_warnings(cur, conn, "service_tickets")
    finally:
        conn.close()
    assert scalar(root, "SELECT COUNT(*) FROM service_tickets") == 0


def test_tickets_upper_bound_needs_an_explicit_override(migrated_dsn: DSN) -> None:
    res = run("seed", "--dsn", migrated_dsn.url(), "--tickets", "7000000")
    text = clean(res)
    assert res.returncode == 2 and "--allow-large" in text


def test_no_fifo_folder_of_a_live_process_is_touched(tmp_path: Path) -> None:
    from ticketdb.seed.leftovers import remove_stale_fifo_folders

    mine = tmp_path / f"ticketdb-seed-{os.getpid()}-abc"
    mine.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = tmp_path / f"ticketdb-seed-{dead.pid}-xyz"
    gone.mkdir()
    (gone / "service_tickets.fifo").write_text("")
    assert remove_stale_fifo_folders(tmp_path) == [gone]
    assert mine.exists() and not gone.exists()
