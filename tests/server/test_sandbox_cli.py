"""`ticketdb sandbox start|stop|status|dsn|destroy` as a user runs them: the real console entry
point in a subprocess, a temp --dir, a free port, a real mariadbd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.server.sandbox import Sandbox, free_port


def sandbox(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    return subprocess.run(
        [sys.executable, "-m", "ticketdb", "sandbox", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**base, **(env or {})},
        timeout=120,
    )


@pytest.fixture
def box_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "sb"
    yield d
    Sandbox(d).stop()  # whatever the test left running


def test_start_is_idempotent_and_status_dsn_stop_follow(box_dir: Path) -> None:
    port = free_port()
    first = sandbox("start", "--dir", str(box_dir), "--port", str(port))
    assert first.returncode == 0, first.stderr
    dsn = DSN.parse(first.stdout.strip())
    assert dsn.port == port and dsn.host == "127.0.0.1" and "started" in first.stderr

    again = sandbox("start", "--dir", str(box_dir))  # port remembered, same server
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "already running" in again.stderr
    pid = json.loads(sandbox("status", "--dir", str(box_dir), "--json").stdout)["pid"]
    assert sandbox("start", "--dir", str(box_dir)).stdout == first.stdout
    assert json.loads(sandbox("status", "--dir", str(box_dir), "--json").stdout)["pid"] == pid

    conn = connect(dsn, database=False)  # the DSN printed really reaches it
    conn.close()

    st = sandbox("status", "--dir", str(box_dir), "--json")
    assert st.returncode == 0
    info = json.loads(st.stdout)
    assert info["running"] is True and info["port"] == port and info["dsn"] == dsn.url()
    assert info["durable"] is False  # started without --durable
    assert info["dir"] == str(box_dir.absolute())
    text = sandbox("status", "--dir", str(box_dir))
    assert text.returncode == 0 and text.stdout.startswith(f"running (pid {pid})")
    # the environment variable names the same folder as --dir
    by_env = sandbox("dsn", env={"TICKETDB_SANDBOX_DIR": str(box_dir)})
    assert by_env.returncode == 0 and by_env.stdout == first.stdout

    stop = sandbox("stop", "--dir", str(box_dir))
    assert stop.returncode == 0 and "sandbox stopped" in stop.stderr
    st = sandbox("status", "--dir", str(box_dir), "--json")
    assert st.returncode == 1
    assert json.loads(st.stdout) == {
        "running": False, "dir": str(box_dir.absolute()), "port": port, "pid": None, "dsn": None,
        "durable": None,
    }  # fmt: skip
    text = sandbox("status", "--dir", str(box_dir))
    assert text.returncode == 1 and text.stdout.startswith("not running")
    dsn_cmd = sandbox("dsn", "--dir", str(box_dir))
    assert dsn_cmd.returncode == 1 and "sandbox is not running" in dsn_cmd.stderr
    assert "Traceback" not in dsn_cmd.stderr
    again = sandbox("stop", "--dir", str(box_dir))
    assert again.returncode == 0 and "was not running" in again.stderr


def test_status_of_a_folder_that_was_never_started(tmp_path: Path) -> None:
    res = sandbox("status", "--dir", str(tmp_path / "never"), "--json")
    assert res.returncode == 1
    assert json.loads(res.stdout)["running"] is False and json.loads(res.stdout)["port"] is None
    assert not (tmp_path / "never").exists()  # asking does not create anything


def test_destroy_removes_the_data_and_asks_first(box_dir: Path) -> None:
    started = sandbox("start", "--dir", str(box_dir), "--port", str(free_port()))
    assert started.returncode == 0, started.stderr
    conn = connect(DSN.parse(started.stdout.strip()), database=False)
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE precious")
    conn.close()

    no = sandbox("destroy", "--dir", str(box_dir), stdin="n\n")
    assert no.returncode == 1 and "Aborted" in no.stderr
    assert (box_dir / "data" / "precious").is_dir()
    assert sandbox("status", "--dir", str(box_dir)).returncode == 0  # still running

    yes = sandbox("destroy", "--dir", str(box_dir), "--yes")
    assert yes.returncode == 0 and "removed" in yes.stderr
    assert not box_dir.exists()
    assert sandbox("status", "--dir", str(box_dir)).returncode == 1

    # a fresh start after destroy initialises an empty server
    restarted = sandbox("start", "--dir", str(box_dir), "--port", str(free_port()))
    assert restarted.returncode == 0, restarted.stderr
    conn = connect(DSN.parse(restarted.stdout.strip()), database=False)
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE 'precious'")
        assert cur.fetchone() is None
    conn.close()


def test_start_on_a_taken_port_is_a_usage_error(box_dir: Path, tmp_path: Path) -> None:
    started = sandbox("start", "--dir", str(box_dir), "--port", str(free_port()))
    port = DSN.parse(started.stdout.strip()).port
    other = sandbox("start", "--dir", str(tmp_path / "other"), "--port", str(port))
    assert other.returncode == 2 and f"port {port} is already in use" in other.stderr
    assert "Traceback" not in other.stderr
    bad = sandbox("start", "--dir", str(tmp_path / "x"), "--port", "0")
    assert bad.returncode == 2
