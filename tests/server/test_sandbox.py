"""The embedded sandbox: idempotent start, stable port, clean stop, status exit codes; the
sweep that kills the sandboxes of a killed test session (tests/orphans.py)."""

from __future__ import annotations

import subprocess

import orphans
import pytest

from ticketdb.db import connect
from ticketdb.errors import UsageError
from ticketdb.server.sandbox import Sandbox, free_port


@pytest.fixture
def box(tmp_path):
    b = Sandbox(tmp_path / "sb")
    yield b
    b.stop()


def test_start_is_idempotent_and_configured(box: Sandbox) -> None:
    dsn = box.start()
    assert box.start() == dsn  # second start: same server, same DSN
    assert box.is_running()
    conn = connect(dsn, database=False)
    with conn.cursor() as cur:
        cur.execute("SELECT @@event_scheduler, @@local_infile, @@GLOBAL.sql_mode, @@port")
        scheduler, infile, mode, port = cur.fetchone()
    conn.close()
    assert scheduler == "ON" and infile == 1 and "STRICT_TRANS_TABLES" in mode
    assert port == dsn.port


def test_stop_then_start_keeps_port_and_data(box: Sandbox) -> None:
    dsn = box.start()
    conn = connect(dsn, database=False)
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE keepme")
    conn.close()
    assert box.stop() is True
    assert not box.is_running()
    assert box.stop() is False  # already stopped
    again = Sandbox(box.root).start()
    assert again.port == dsn.port
    conn = connect(again, database=False)
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE 'keepme'")
        assert cur.fetchone() is not None
    conn.close()


def test_the_initialiser_keeps_its_temp_tables_in_the_servers_own_folder(box: Sandbox) -> None:
    """Bootstraps sharing /tmp removed each other's temp-table files (two test workers starting
    their sandboxes at once: "Unknown table 'mysql.tmp_user_sys'")."""
    assert f"--tmpdir={box.tmpdir}" in box.install_db_cmd("mariadb-install-db")
    box.start()
    assert box.tmpdir.is_dir()


def test_port_conflict_is_a_usage_error(tmp_path, box: Sandbox) -> None:
    dsn = box.start()
    other = Sandbox(tmp_path / "other", port=dsn.port)
    with pytest.raises(UsageError, match="already in use"):
        other.start()


def test_explicit_port(tmp_path) -> None:
    port = free_port()
    b = Sandbox(tmp_path / "p", port=port)
    try:
        assert b.start().port == port
    finally:
        b.stop()


def test_the_sweep_kills_the_servers_of_a_dead_session_and_only_those(tmp_path) -> None:
    """A test session killed from outside leaves its sandbox running; the next session's sweep
    kills it, and nothing else: a live session's sandbox keeps running, and a folder without
    an owner record (a session from before the records) is left alone."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    # three sessions' temp roots, each with a worker's folder (short: a socket path has 107
    # bytes at most)
    dead, live, unknown = (tmp_path / n for n in ("dead", "live", "old"))
    for d in (dead, live, unknown):
        (d / "gw").mkdir(parents=True)
    (dead / "gw" / orphans.OWNER).write_text(f"{ended.pid} 1\n")
    orphans.claim(live / "gw")
    boxes = [Sandbox(d / "gw" / "sb") for d in (dead, live, unknown)]
    try:
        for b in boxes:
            b.start()
        pid = boxes[0].pid()
        done = orphans.sweep([dead, live, unknown], remove=[dead])
        assert [ln for ln in done if ln.startswith("killed")] == [
            f"killed mariadbd pid {pid} ({boxes[0].cnf}) left by the dead pytest session "
            f"{ended.pid}"
        ]
        assert not boxes[0].is_running()
        assert boxes[1].is_running() and boxes[2].is_running()
        assert f"removed {dead}" in done[-1] and not dead.exists()  # no server left in it
        assert orphans.sweep([dead, live, unknown], remove=[live, unknown]) == []
    finally:
        for b in boxes:
            b.stop()
