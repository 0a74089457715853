"""Faults of the server itself, on a dedicated sandbox that also listens on [::1]: `mariadbd`
SIGKILLed under a seed and under a migration, then restarted; and the whole tool driven
through an IPv6 (and a multi-host) DSN end to end.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import STEP_PY, clean, replay_problems, run, schema_shape, start, wait_for

from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN
from ticketdb.server.sandbox import Sandbox


class _DualStackSandbox(Sandbox):
    """The project's sandbox, listening on [::1] as well as 127.0.0.1."""

    def _write_cnf(self, port: int, *, mariadb: bool = True) -> None:
        super()._write_cnf(port, mariadb=mariadb)
        text = self.cnf.read_text().replace("bind-address=127.0.0.1", "bind-address=127.0.0.1,::1")
        self.cnf.write_text(
            text.replace("innodb_buffer_pool_size=1G", "innodb_buffer_pool_size=128M")
        )


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_DualStackSandbox]:
    b = _DualStackSandbox(tmp_path_factory.mktemp("crashbox"))
    try:
        b.start()
    except Exception as exc:  # noqa: BLE001 - no second server here: say why
        pytest.skip(f"cannot start a dedicated sandbox: {exc}")
    yield b
    b.stop()


def _v6(box: Sandbox, database: str) -> DSN:
    return DSN.parse(f"mysql://root@[::1]:{box.resolved_port()}/{database}")


def _crash(box: Sandbox) -> None:
    """SIGKILL mariadbd (no shutdown, no flush: a power cut as far as InnoDB knows)."""
    pid = box.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)  # our child (the fixture started it): reap it
    except ChildProcessError:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def test_ipv6_and_multi_host_dsn_end_to_end(box: _DualStackSandbox) -> None:
    dsn = _v6(box, "v6_e2e")
    res = run("migrate", "up", "--dsn", dsn.url())
    assert res.returncode == 0, clean(res)
    res = run("seed", "--dsn", dsn.url(), "--tickets", "500", "--months", "1")
    assert res.returncode == 0, clean(res)
    res = run("doctor", "--dsn", dsn.url())
    assert res.returncode == 0, clean(res)
    assert "[::1]" in res.stdout + res.stderr
    # the first host of a multi-host DSN is where a single connection goes
    port = box.resolved_port()
    multi = f"mysql://root@[::1]:{port},127.0.0.1:{port}/v6_e2e"
    res = run("migrate", "status", "--json", "--dsn", multi)
    assert res.returncode == 0, clean(res)
    assert json.loads(res.stdout)["pending"] == []
    conn = connect(dsn)
    try:
        assert scalar(conn, "SELECT COUNT(*) FROM service_tickets") == 500
        assert scalar(conn, "SELECT SUBSTRING_INDEX(USER(), '@', -1)") == "::1"
    finally:
        conn.close()


def test_server_killed_under_a_seed_then_restarted(box: _DualStackSandbox) -> None:
    dsn = _v6(box, "crash_seed")
    assert run("migrate", "up", "--dsn", dsn.url()).returncode == 0
    ref = _v6(box, "crash_ref")
    assert run("migrate", "up", "--dsn", ref.url()).returncode == 0
    with connect(ref) as c:
        reference = schema_shape(c)
    watcher = connect(dsn.with_database("mysql"))
    proc = start("seed", "--dsn", dsn.url(), "--tickets", "150000", "--months", "2")
    wait_for(
        lambda: bool(scalar(watcher, "SELECT COUNT(*) FROM information_schema.processlist "
                                     "WHERE info LIKE 'LOAD DATA%%'")),
        120, "LOAD DATA", proc,
    )  # fmt: skip
    watcher.close()
    _crash(box)
    out, err = proc.communicate(timeout=90)  # the seed must notice, not hang
    assert proc.returncode not in (0, None)
    assert "Traceback" not in out + err, err[-3000:]
    assert "error:" in err
    box.start()
    res = run("seed", "--dsn", dsn.url(), "--tickets", "2000", "--months", "2", "--replace")
    text = clean(res)
    assert res.returncode == 0, text
    conn = connect(dsn)
    try:
        assert schema_shape(conn) == reference
        assert scalar(conn, "SELECT COUNT(*) FROM service_tickets") == 2000
        assert replay_problems(conn) == []
    finally:
        conn.close()


def test_server_killed_between_a_migration_step_and_its_record(
    box: _DualStackSandbox, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_fa.sql").write_text("CREATE TABLE fa (id INT PRIMARY KEY);\n")
    (root / "migrations" / "0001_fa.rollback.sql").write_text("DROP TABLE fa;\n")
    (root / "migrations" / "0002_fb.py").write_text(STEP_PY)
    dsn = _v6(box, "crash_migrate")
    park = tmp_path / "parked"
    proc = start("migrate", "up", "--dsn", dsn.url(), "--project", str(root),
                 env={"FAULT_PARK": str(park)})  # fmt: skip
    wait_for(park.exists, 60, "the step's DDL", proc)
    _crash(box)
    box.start()
    proc.kill()
    proc.communicate(timeout=30)
    res = run("migrate", "up", "--dsn", dsn.url(), "--project", str(root))
    assert res.returncode == 1 and "ticketdb migrate repair" in clean(res)
    res = run("migrate", "repair", "--dsn", dsn.url(), "--project", str(root))
    assert res.returncode == 0, clean(res)
    st = run("migrate", "status", "--json", "--dsn", dsn.url(), "--project", str(root))
    info = json.loads(st.stdout)
    assert info["pending"] == [] and info["interrupted"] == []
