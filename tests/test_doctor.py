"""`ticketdb doctor` fails (exit 1) on each setting that silently breaks ticketdb, and on missing
privileges. Server settings are changed with SET GLOBAL, so this module runs a sandbox of its
own (the session server stays as every other test expects it) and restores each setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ticketdb.db import connect
from ticketdb.doctor import REQUIRED_PRIVILEGES
from ticketdb.dsn import DSN
from ticketdb.project import Project
from ticketdb.server.sandbox import Sandbox


def doctor(dsn: DSN, *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    return subprocess.run(
        [sys.executable, "-m", "ticketdb", "doctor", "--dsn", dsn.url(), *args],
        capture_output=True,
        text=True,
        env={**base, "TICKETDB_SANDBOX_DIR": "/nonexistent/ticketdb-sandbox"},
        timeout=60,
    )


def checks(dsn: DSN) -> tuple[int, dict[str, dict[str, str]]]:
    res = doctor(dsn, "--json")
    assert "Traceback" not in res.stderr, res.stderr
    return res.returncode, {c["name"]: c for c in json.loads(res.stdout)}


def execute(dsn: DSN, *sqls: str) -> None:
    conn = connect(dsn, database=False)
    try:
        with conn.cursor() as cur:
            for sql in sqls:
                cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DSN]:
    """root on this module's own sandbox, with the ticketdb database created."""
    box = Sandbox(tmp_path_factory.mktemp("doctor-sandbox"))
    dsn = box.start()
    try:
        execute(dsn, "CREATE DATABASE ticketdb")
        yield dsn
    finally:
        box.stop()


def test_a_fit_server_passes(root: DSN) -> None:
    code, got = checks(root)
    assert code == 0
    assert {name: c["status"] for name, c in got.items()} == {
        "connection": "ok", "server": "ok", "event_scheduler": "ok",
        "sql_mode (ticketdb sessions)": "ok", "sql_mode (server default)": "ok",
        "local_infile": "ok", "privileges": "ok", "database": "ok",
        "innodb_autoinc_lock_mode": "ok",  # the sandbox runs 2: online copies need it
    }  # fmt: skip


@pytest.mark.parametrize(
    "variable,bad,check,hint",
    [
        ("event_scheduler", "OFF", "event_scheduler", "will never run"),
        ("sql_mode", "", "sql_mode (server default)", "invalid ENUM values"),
        ("sql_mode", "NO_ENGINE_SUBSTITUTION", "sql_mode (server default)", "STRICT_TRANS_TABLES"),
        ("local_infile", 0, "local_infile", "LOAD DATA LOCAL INFILE"),
    ],
)
def test_each_unfit_setting_fails(
    root: DSN, variable: str, bad: str | int, check: str, hint: str
) -> None:
    conn = connect(root, database=False)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT @@GLOBAL.{variable}")
            (before,) = cur.fetchone()
            cur.execute(f"SET GLOBAL {variable} = %s", (bad,))
            try:
                code, got = checks(root)
                assert code == 1
                assert got[check]["status"] == "fail" and hint in got[check]["detail"]
                failed = {name for name, c in got.items() if c["status"] != "ok"}
                assert failed == {check}  # nothing else blamed
                # the tool's own sessions stay strict whatever the server default says
                assert got["sql_mode (ticketdb sessions)"]["status"] == "ok"
                text = doctor(root)
                assert text.returncode == 1 and "FAIL" in text.stdout
            finally:
                cur.execute(f"SET GLOBAL {variable} = %s", (before,))
    finally:
        conn.close()
    code, got = checks(root)
    assert code == 0 and got[check]["status"] == "ok"


@pytest.fixture(scope="module")
def users(root: DSN) -> Iterator[dict[str, DSN]]:
    """limited: SELECT, INSERT on ticketdb.*; full: ALL on ticketdb.*; elsewhere: ALL on
    another schema only."""
    grants = {
        "limited": "SELECT, INSERT ON ticketdb.*",
        "full": "ALL PRIVILEGES ON ticketdb.*",
        "elsewhere": "ALL PRIVILEGES ON otherdb.*",
    }
    for user, grant in grants.items():
        execute(root, f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-{user}'",
                f"GRANT {grant} TO '{user}'@'%'")  # fmt: skip
    try:
        yield {
            u: DSN(host=root.host, port=root.port, user=u, password=f"pw-{u}", database="ticketdb")
            for u in grants
        }
    finally:
        for user in grants:
            execute(root, f"DROP USER IF EXISTS '{user}'@'%'")


def test_missing_privileges_fail_and_are_named(users: dict[str, DSN]) -> None:
    code, got = checks(users["limited"])
    assert code == 1 and got["privileges"]["status"] == "fail"
    detail = got["privileges"]["detail"]
    missing = detail.split(" lacks ", 1)[1].split(" on ticketdb", 1)[0].split(", ")
    assert missing == [p for p in REQUIRED_PRIVILEGES if p not in ("SELECT", "INSERT")]
    assert "pw-limited" not in detail


def test_all_privileges_on_the_schema_pass(users: dict[str, DSN]) -> None:
    code, got = checks(users["full"])
    assert got["privileges"]["status"] == "ok" and code == 0, got


def test_privileges_on_another_schema_do_not_count(users: dict[str, DSN]) -> None:
    code, got = checks(users["elsewhere"])
    assert code == 1 and got["privileges"]["status"] == "fail"
    assert "lacks SELECT, INSERT" in got["privileges"]["detail"]


def test_tickets_without_logs_fail(migrated_dsn: DSN, project: Project) -> None:
    """What a seed cut off between its two loads leaves (issue 20): doctor names it."""
    from datetime import datetime

    from ticketdb.seed import SeedSpec, seed

    seed(migrated_dsn, project, SeedSpec(tickets=200, months=1, now=datetime(2026, 11, 20)))
    code, got = checks(migrated_dsn)
    assert got["tickets and logs"]["status"] == "ok", got
    conn = connect(migrated_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("TRUNCATE TABLE ticket_logs")  # no trigger sees it
    finally:
        conn.close()
    code, got = checks(migrated_dsn)
    assert code == 1
    assert got["tickets and logs"]["status"] == "fail"
    assert "without any log" in got["tickets and logs"]["detail"], got
