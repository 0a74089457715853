"""Faults in `migrate`: killed between a step and its record, dead lock owners, empty --to.

A throwaway project (3 steps in one migration, the middle one a Python step that does its DDL
and then parks) lets the test SIGKILL the process exactly after a DDL committed and before the
run recorded it — the window that left issue 10's database stuck for good.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from faultkit import STEP_PY, clean, kill, run, start, wait_for

from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN


@pytest.fixture
def tiny_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "0001_fa.sql").write_text("CREATE TABLE fa (id INT PRIMARY KEY);\n")
    (root / "migrations" / "0001_fa.rollback.sql").write_text("DROP TABLE fa;\n")
    (root / "migrations" / "0002_fb.py").write_text(STEP_PY)
    return root


def _tables(dsn: DSN) -> set[str]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                " AND table_name LIKE 'f%%'"
            )
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def _kill_in_step(dsn: DSN, project: Path, tmp_path: Path, *args: str, env_key: str) -> str:
    park = tmp_path / f"{env_key}.parked"
    proc = start(
        "migrate", *args, "--dsn", dsn.url(), "--project", str(project), env={env_key: str(park)}
    )
    wait_for(park.exists, 60, "the step to commit its DDL", proc)
    rc, out, err = kill(proc, signal.SIGKILL)
    assert rc == -signal.SIGKILL
    return out + err


def test_kill_between_ddl_and_record_then_repair_finishes(
    db_dsn: DSN, tiny_project: Path, tmp_path: Path
) -> None:
    _kill_in_step(db_dsn, tiny_project, tmp_path, "up", env_key="FAULT_PARK")
    assert _tables(db_dsn) == {"fa", "fb1", "fb2"}  # fb2's DDL committed, its record did not

    started = time.monotonic()
    res = run("migrate", "up", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    text = clean(res)
    assert res.returncode == 1, text
    assert time.monotonic() - started < 20  # the dead run's lock did not make us wait
    assert "0002_fb was interrupted after 1 of 3 step(s)" in text
    assert "ticketdb migrate repair" in text and "--undo" in text

    st = run("migrate", "status", "--json", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    info = json.loads(st.stdout)
    assert [i["migration_id"] for i in info["interrupted"]] == ["0002_fb"]
    assert info["pending"] == ["0002_fb"]
    res = run("migrate", "down", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    assert res.returncode == 1 and "migrate repair" in clean(res)
    res = run("doctor", "--json", "--dsn", db_dsn.url())
    assert res.returncode == 1 and "run `ticketdb migrate repair`" in clean(res)

    res = run("migrate", "repair", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    text = clean(res)
    assert res.returncode == 0, text
    assert "step 2 had already taken effect" in text
    assert _tables(db_dsn) == {"fa", "fb1", "fb2", "fb3"}
    st = run("migrate", "status", "--json", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    info = json.loads(st.stdout)
    assert info["pending"] == [] and info["interrupted"] == []
    # repair is idempotent; up is clean; and the whole thing still rolls back
    res = run("migrate", "repair", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    assert res.returncode == 0 and "no interrupted migration" in res.stderr
    res = run("migrate", "down", "--all", "--yes", "--dsn", db_dsn.url(),
              "--project", str(tiny_project))  # fmt: skip
    assert res.returncode == 0, clean(res)
    assert _tables(db_dsn) == set()


def test_kill_between_ddl_and_record_then_repair_undo(
    db_dsn: DSN, tiny_project: Path, tmp_path: Path
) -> None:
    _kill_in_step(db_dsn, tiny_project, tmp_path, "up", env_key="FAULT_PARK")
    res = run("migrate", "repair", "--undo", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    text = clean(res)
    assert res.returncode == 0, text
    assert "undid the interrupted apply of 0002_fb (1 step(s) reverted)" in text
    assert _tables(db_dsn) == {"fa"}
    res = run("migrate", "up", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    assert res.returncode == 0, clean(res)
    assert _tables(db_dsn) == {"fa", "fb1", "fb2", "fb3"}


def test_kill_during_rollback_then_repair_finishes_it(
    db_dsn: DSN, tiny_project: Path, tmp_path: Path
) -> None:
    assert (
        run("migrate", "up", "--dsn", db_dsn.url(), "--project", str(tiny_project)).returncode == 0
    )
    # rollback order: fb3, then fb2 (parks after its DROP), then fb1
    _kill_in_step(db_dsn, tiny_project, tmp_path, "down", "--yes", env_key="FAULT_PARK_ROLLBACK")
    assert _tables(db_dsn) == {"fa", "fb1"}
    res = run("migrate", "repair", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    assert res.returncode == 0, clean(res)
    assert _tables(db_dsn) == {"fa"}
    st = run("migrate", "status", "--json", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    assert json.loads(st.stdout)["pending"] == ["0002_fb"]


def test_failing_step_undoes_the_steps_before_it(db_dsn: DSN, tiny_project: Path) -> None:
    (tiny_project / "migrations" / "0003_bad.sql").write_text(
        "-- depends: 0002_fb\nCREATE TABLE fc1 (id INT PRIMARY KEY);\n"
        "ALTER TABLE no_such_table ADD COLUMN x INT;\n"
    )
    (tiny_project / "migrations" / "0003_bad.rollback.sql").write_text(
        "ALTER TABLE no_such_table DROP COLUMN x;\nDROP TABLE fc1;\n"
    )
    res = run("migrate", "up", "--dsn", db_dsn.url(), "--project", str(tiny_project))
    text = clean(res)
    assert res.returncode == 1
    assert "0003_bad (step 2 of 2)" in text and "1146" in text
    assert "fc1" not in _tables(db_dsn)
    conn = connect(db_dsn)
    assert scalar(conn, "SELECT COUNT(*) FROM ticketdb_migration_progress") == 0
    conn.close()


@pytest.mark.parametrize(
    "args",
    [
        ["migrate", "up", "--to", ""],
        ["migrate", "down", "--to", ""],
        ["migrate", "down", "--to", "  "],
        ["migrate", "plan", "--to", ""],
        ["migrate", "up", "--lock-timeout", "nan"],
        ["migrate", "up", "--lock-timeout", "-1"],
        ["migrate", "status", "--dsn", ""],
        ["--dsn", "", "migrate", "status"],
        ["migrate", "status", "--project", ""],
    ],
)
def test_empty_or_malformed_values_are_usage_errors(
    module_migrated_dsn: DSN, args: list[str]
) -> None:
    migrated_dsn = module_migrated_dsn
    dsn_args = [] if "--dsn" in args else ["--dsn", migrated_dsn.url()]
    res = run(*args, *dsn_args)
    assert res.returncode == 2, clean(res)
    clean(res)
    conn = connect(migrated_dsn)  # nothing was rolled back or dropped
    assert (
        scalar(
            conn,
            "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()",
        )
        > 0
    )
    conn.close()


@pytest.mark.parametrize(
    "args",
    [
        ["alerts", "run", "--once", "--webhook", ""],
        ["bench", "--database", " "],
        ["grants", "plan", "--host", ""],
    ],
)
def test_other_empty_values_are_usage_errors(args: list[str]) -> None:
    res = run(*args, "--dsn", "mysql://root@127.0.0.1:1/x")
    assert res.returncode == 2, clean(res)
