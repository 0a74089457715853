"""Rollbacks that say what they do: `plan --down` shows the SQL, `down` lists what it drops with
row counts, asks on a terminal (or needs --yes), refuses to drop rows without --allow-data-loss,
and puts back at once the repeatable objects that still compile (doctor fails on the others)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pymysql
import pytest

from ticketdb import migrate as mig
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate import reportsql
from ticketdb.project import Project

ENV = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}


def cli(*args: str, project: Project | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--project", str(project.root)] if project else []
    res = subprocess.run(
        [sys.executable, "-m", "ticketdb", *args, *extra],
        capture_output=True, text=True, env=ENV, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "Traceback" not in res.stderr, res.stderr
    return res


def applied(dsn: DSN) -> list[str]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id")
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture
def tiny(tmp_path: Path) -> Project:
    m = tmp_path / "proj" / "migrations"
    m.mkdir(parents=True)
    (m / "0001_fa.sql").write_text("CREATE TABLE fa (id INT PRIMARY KEY);\n")
    (m / "0001_fa.rollback.sql").write_text("DROP TABLE fa;\n")
    (m / "0002_note.sql").write_text(
        "-- depends: 0001_fa\nALTER TABLE fa ADD COLUMN note VARCHAR(20) NULL;\n"
    )
    (m / "0002_note.rollback.sql").write_text("ALTER TABLE fa DROP COLUMN note;\n")
    return Project(m.parent)


def test_plan_down_prints_the_rollback_sql_and_runs_nothing(migrated_dsn: DSN, project: Project):
    before = applied(migrated_dsn)
    res = cli("migrate", "plan", "--down", "--dsn", migrated_dsn.url())
    assert res.returncode == 0, res.stderr
    assert f"-- rollback of {before[-1]}" in res.stdout
    i42 = next(i for i, m in enumerate(before) if m.startswith("0042"))
    res = cli("migrate", "plan", "--down", "--to", before[i42 - 1], "--dsn", migrated_dsn.url())
    assert res.returncode == 0, res.stderr
    assert "-- rollback of 0042" in res.stdout
    assert "DROP COLUMN request_key" in res.stdout
    assert "-- drop column ticket_logs.request_key (0 row(s))" in res.stdout
    res = cli("migrate", "plan", "--down", "--all", "--json", "--dsn", migrated_dsn.url())
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    assert [m["id"] for m in plan["migrations"]] == list(reversed(before))
    lost = {d["table"] for d in plan["data_loss"]}
    assert {"escalation_rules", "ticketdb_settings"} <= lost  # rows seeded by the migrations
    py = next(m for m in plan["migrations"] if m["id"].startswith("0003"))
    assert py["python"] or py["sql"]  # a Python migration: its steps, or a note
    res = cli("migrate", "plan", "--down", "--to", "0040", "--dsn", migrated_dsn.url())
    assert res.returncode == 0 and "-- rollback of 0041_ticket_log_sequence" in res.stdout
    assert "-- rollback of 0040" not in res.stdout
    assert cli("migrate", "plan", "--all", "--dsn", migrated_dsn.url()).returncode == 2
    assert applied(migrated_dsn) == before  # nothing ran
    assert mig.status(migrated_dsn, project)["pending"] == []


def test_down_refuses_to_drop_rows_without_allow_data_loss(db_dsn: DSN, tiny: Project):
    mig.up(db_dsn, tiny)
    conn = connect(db_dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO fa (id, note) VALUES (1, 'kept'), (2, NULL)")
    conn.close()
    res = cli("migrate", "down", "--yes", "--dsn", db_dsn.url(), project=tiny)
    assert res.returncode == 1
    assert "drop column fa.note (1 row(s))" in res.stderr and "--allow-data-loss" in res.stderr
    assert applied(db_dsn) == ["0001_fa", "0002_note"]
    with pytest.raises(TicketdbError, match=r"drop column fa\.note \(1 row"):
        mig.down(db_dsn, tiny)  # the Python API refuses the same way
    with pytest.raises(TicketdbError, match="changed since it was shown"):
        mig.down(db_dsn, tiny, allow_data_loss=True, expect=["0001_fa"])  # a stale preview
    res = cli("migrate", "down", "--yes", "--allow-data-loss", "--dsn", db_dsn.url(), project=tiny)
    assert res.returncode == 0, res.stderr
    assert applied(db_dsn) == ["0001_fa"]
    res = cli("migrate", "down", "--all", "--yes", "--dsn", db_dsn.url(), project=tiny)
    assert res.returncode == 1 and "drop table fa (2 row(s))" in res.stderr
    conn = connect(db_dsn)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM fa")
    conn.close()
    assert mig.down(db_dsn, tiny, all_=True).rolled_back == ["0001_fa"]  # empty: no flag needed


def _on_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, answer its question, return (rc, output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ticketdb", *args],
        stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=ENV,
    )  # fmt: skip
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 120
    try:
        while b"[y/N]" not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
            elif proc.poll() is not None:
                break
        assert b"[y/N]" in out, out
        os.write(master, answer)
        rc = proc.wait(timeout=120)
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)
    return rc, out.decode(errors="replace")


def test_down_on_a_terminal_asks_and_no_changes_nothing(db_dsn: DSN, tiny: Project):
    mig.up(db_dsn, tiny)
    args = ["migrate", "down", "--dsn", db_dsn.url(), "--project", str(tiny.root)]
    rc, out = _on_terminal(args, b"n\n")
    assert rc == 1, out
    assert "will roll back 1 migration(s): 0002_note" in out and "drop column fa.note" in out
    assert "nothing was changed" in out
    assert applied(db_dsn) == ["0001_fa", "0002_note"]
    rc, out = _on_terminal(args, b"y\n")
    assert rc == 0, out
    assert "rolled back 0002_note" in out
    assert applied(db_dsn) == ["0001_fa"]


def _objects(dsn: DSN) -> set[tuple[str, str]]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT 'TRIGGER', trigger_name FROM information_schema.triggers "
                "WHERE trigger_schema = DATABASE() UNION ALL SELECT routine_type, routine_name "
                "FROM information_schema.routines WHERE routine_schema = DATABASE() UNION ALL "
                "SELECT 'EVENT', event_name FROM information_schema.events "
                "WHERE event_schema = DATABASE()"
            )
            return {(r[0], r[1]) for r in cur.fetchall()}
    finally:
        conn.close()


def _doctor_objects(dsn: DSN) -> dict[str, str] | None:
    res = cli("doctor", "--json", "--dsn", dsn.url())
    checks = {c["name"]: c for c in json.loads(res.stdout)}
    return checks.get("repeatable objects")


def test_objects_that_still_compile_come_back_and_doctor_fails_on_the_rest(
    migrated_dsn: DSN, project: Project
) -> None:
    at_head = _objects(migrated_dsn)
    assert _doctor_objects(migrated_dsn) is None
    ids = [m["id"] for m in mig.status(migrated_dsn, project)["migrations"]]
    before_0042 = ids[next(i for i, m in enumerate(ids) if m.startswith("0042")) - 1]
    # 0042 drops ticket_logs.request_key; the later 0045 drops a column holding rows
    res = mig.down(migrated_dsn, project, to=before_0042, allow_data_loss=True)
    missing = {(o["kind"], o["name"]) for o in res.missing_objects}
    assert ("PROCEDURE", "ticket_log_action") in missing  # it writes request_key
    reasons = {o["name"]: o["reason"] for o in res.missing_objects}
    assert "request_key" in reasons["ticket_log_action"]
    now = _objects(migrated_dsn)
    assert now == at_head - missing and now  # everything else is back at once
    # the guard rails are up: the integrity trigger still refuses a log of no ticket
    assert ("TRIGGER", "ticket_logs_before_insert") in now
    conn = connect(migrated_dsn)
    with pytest.raises(pymysql.err.OperationalError) as err, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ticket_logs (ticket_id, agent_id, action_type) VALUES (999999, 1, 'reply')"
        )
    conn.close()
    assert err.value.args[0] == 1644  # SIGNAL 45000
    check = _doctor_objects(migrated_dsn)
    assert check is not None and check["status"] == "fail"
    assert "ticket_log_action" in check["detail"]
    assert cli("doctor", "--dsn", migrated_dsn.url()).returncode == 1

    up = mig.up(migrated_dsn, project)
    created = {(o["kind"], o["name"]) for o in up.objects if o["action"] == "create"}
    # 0046 came back empty: its report statements are loaded again (ticketdb.migrate.reportsql)
    reloaded = {("REPORT", st.name) for st in reportsql.load(project)}
    assert created == missing | reloaded
    assert _objects(migrated_dsn) == at_head
    assert _doctor_objects(migrated_dsn) is None
