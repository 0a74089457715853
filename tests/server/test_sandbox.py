"""The embedded sandbox: idempotent start, stable port, clean stop, status exit codes."""

from __future__ import annotations

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
