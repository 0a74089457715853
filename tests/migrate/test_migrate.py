"""migrate up/down/status/plan against a live server: round trips, locking, repeatable objects,
and truthful state after a failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ticketdb import migrate as mig
from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import SqlError, TicketdbError, UsageError
from ticketdb.migrate import repeatable
from ticketdb.project import Project

TOOL_TABLES = {"_yoyo_migration", "_yoyo_log", "_yoyo_version", "yoyo_lock", "ticketdb_repeatable"}


def _tables(dsn: DSN) -> set[str]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            )
            # ticketdb_* bookkeeping (journal, repeatable tracking) is the tool's, like yoyo's
            return {r[0] for r in cur.fetchall() if not r[0].startswith("ticketdb_")} - TOOL_TABLES
    finally:
        conn.close()


def _scalar(dsn: DSN, sql: str, *args: object) -> object:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def test_up_down_up_round_trip(any_db_dsn: DSN, project: Project) -> None:
    first = mig.up(any_db_dsn, project)
    assert first.database_created
    assert first.at_head
    ids = [m["id"] for m in mig.status(any_db_dsn, project)["migrations"]]
    assert first.applied == ids
    assert {"service_tickets", "ticket_logs"} <= _tables(any_db_dsn)

    assert mig.up(any_db_dsn, project).applied == []  # idempotent

    down = mig.down(any_db_dsn, project, all_=True, allow_data_loss=True)  # seeded settings
    assert down.rolled_back == list(reversed(ids))
    assert _tables(any_db_dsn) == set(), "rollback to zero must leave no project table"
    # only routines that touch no table compile against an empty schema: those came back
    back = [o for o in down.objects if o["action"] == "create"]
    assert all(o["kind"] in ("PROCEDURE", "FUNCTION") for o in back), back
    assert _scalar(
        any_db_dsn,
        "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = DATABASE()",
    ) == len(back)
    assert len(down.missing_objects) > 10  # the rest: doctor fails until `up`
    st = mig.status(any_db_dsn, project)
    assert st["pending"] == ids

    again = mig.up(any_db_dsn, project)
    assert again.applied == ids
    assert {"service_tickets", "ticket_logs"} <= _tables(any_db_dsn)


def test_down_one_and_to(db_dsn: DSN, project: Project) -> None:
    mig.up(db_dsn, project)
    ids = [m["id"] for m in mig.status(db_dsn, project)["migrations"]]
    last = mig.down(db_dsn, project, allow_data_loss=True)  # 0045 drops a filled column
    assert last.rolled_back == [ids[-1]]
    mig.up(db_dsn, project)
    res = mig.down(db_dsn, project, to="0001", allow_data_loss=True)
    assert res.rolled_back == list(reversed(ids[1:]))
    assert _tables(db_dsn) == {"service_tickets"}
    assert mig.status(db_dsn, project)["pending"] == ids[1:]


def test_up_to_stops_and_skips_repeatables(db_dsn: DSN, project: Project) -> None:
    res = mig.up(db_dsn, project, to="0002")
    assert res.applied == ["0001_service_tickets", "0002_ticket_logs"]
    assert not res.at_head
    assert res.objects == []


def test_unknown_and_ambiguous_ids_are_usage_errors(db_dsn: DSN, project: Project) -> None:
    with pytest.raises(UsageError, match="unknown migration id"):
        mig.up(db_dsn, project, to="9999")
    with pytest.raises(UsageError, match="ambiguous"):
        mig.up(db_dsn, project, to="000")


def test_concurrent_up_from_four_processes_applies_each_once(db_dsn: DSN, project: Project) -> None:
    cmd = [sys.executable, "-m", "ticketdb.cli", "--project", str(project.root)]
    env = {**os.environ, "TICKETDB_DSN": db_dsn.url()}
    procs = [
        subprocess.Popen(cmd + ["migrate", "up"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(p.wait(timeout=180), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert all(rc == 0 for rc, _ in results), results
    ids = [m["id"] for m in mig.status(db_dsn, project)["migrations"]]
    conn = connect(db_dsn)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT migration_id, COUNT(*) FROM _yoyo_log WHERE operation = 'apply' "
            "GROUP BY migration_id"
        )
        applied = dict(cur.fetchall())
        cur.execute("SELECT kind, name, COUNT(*) FROM ticketdb_repeatable GROUP BY kind, name")
        objects = cur.fetchall()
    conn.close()
    assert applied == {i: 1 for i in ids}
    assert all(n == 1 for _, _, n in objects)


PROC = """-- a test procedure
CREATE PROCEDURE tdb_test_proc(IN n INT)
    SQL SECURITY INVOKER
BEGIN
    DECLARE i INT DEFAULT 0;
    REPEAT
        SET i = i + 1;
    UNTIL i >= n END REPEAT;
    SELECT i AS result;
END
"""


def _call(dsn: DSN, sql: str) -> object:
    return _scalar(dsn, sql)


def test_repeatable_object_reapplied_only_when_file_changes(
    db_dsn: DSN, project_copy: Project
) -> None:
    path = project_copy.root / "procedures" / "tdb_test_proc.sql"
    path.write_text(PROC)
    first = mig.up(db_dsn, project_copy)
    assert {"action": "create", "kind": "PROCEDURE", "name": "tdb_test_proc", "reason": "new"} in (
        first.objects
    )
    assert _call(db_dsn, "CALL tdb_test_proc(3)") == 3

    assert mig.up(db_dsn, project_copy).objects == []  # unchanged file: nothing re-applied

    path.write_text(PROC.replace("SELECT i AS result", "SELECT i * 10 AS result"))
    changed = mig.up(db_dsn, project_copy).objects
    assert changed == [
        {
            "action": "replace",
            "kind": "PROCEDURE",
            "name": "tdb_test_proc",
            "reason": "file changed",
        }
    ]
    assert _call(db_dsn, "CALL tdb_test_proc(3)") == 30

    # dropped by hand on the server: the next up notices and re-creates it
    conn = connect(db_dsn)
    with conn.cursor() as cur:
        cur.execute("DROP PROCEDURE tdb_test_proc")
    conn.close()
    assert mig.up(db_dsn, project_copy).objects[0]["reason"] == "missing on server"

    path.unlink()
    removed = mig.up(db_dsn, project_copy).objects
    assert removed == [
        {"action": "drop", "kind": "PROCEDURE", "name": "tdb_test_proc", "reason": "file removed"}
    ]
    assert (
        _scalar(
            db_dsn,
            "SELECT COUNT(*) FROM information_schema.routines "
            "WHERE routine_schema = DATABASE() AND routine_name = 'tdb_test_proc'",
        )
        == 0
    )


def test_broken_repeatable_keeps_previous_definition(db_dsn: DSN, project_copy: Project) -> None:
    path = project_copy.root / "procedures" / "tdb_test_proc.sql"
    path.write_text(PROC)
    mig.up(db_dsn, project_copy)
    path.write_text(PROC.replace("SELECT i AS result", "SELEKT i"))
    with pytest.raises(SqlError) as err:
        mig.up(db_dsn, project_copy)
    assert err.value.code == 1064 or "previous definition restored" in str(err.value)
    assert "tdb_test_proc.sql" in str(err.value)
    assert _call(db_dsn, "CALL tdb_test_proc(2)") == 2  # old body still there
    # and the failure is remembered as "changed", so the next up retries it
    changes = mig.status(db_dsn, project_copy)["object_changes"]
    assert any(c["name"] == "tdb_test_proc" for c in changes)


def test_repeatable_file_rules(tmp_path: Path) -> None:
    d = tmp_path / "procedures"
    d.mkdir()
    wrong_name = d / "other_name.sql"
    wrong_name.write_text("CREATE PROCEDURE p1() SELECT 1;")
    with pytest.raises(TicketdbError, match="file name must be the object name"):
        repeatable.load_file(wrong_name, {"PROCEDURE", "FUNCTION"})
    two = d / "p2.sql"
    two.write_text("CREATE PROCEDURE p2() SELECT 1;\nCREATE PROCEDURE p3() SELECT 2;")
    with pytest.raises(TicketdbError, match="exactly one CREATE"):
        repeatable.load_file(two)
    trig = d / "t1.sql"
    trig.write_text("CREATE TRIGGER t1 BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1;")
    with pytest.raises(TicketdbError, match="does not belong"):
        repeatable.load_file(trig, {"PROCEDURE", "FUNCTION"})
    delim = d / "p4.sql"
    delim.write_text(
        "DROP PROCEDURE IF EXISTS p4;\nDELIMITER $$\nCREATE PROCEDURE p4()\nBEGIN\n"
        "  SELECT 1;\nEND$$\nDELIMITER ;\n"
    )
    obj = repeatable.load_file(delim, {"PROCEDURE"})
    assert obj.create_sql.startswith("CREATE PROCEDURE p4()") and obj.create_sql.endswith("END")


FAILING = (
    "CREATE TABLE tdb_half_done (id INT PRIMARY KEY);\n"
    "ALTER TABLE tdb_no_such_table ADD COLUMN x INT;\n"
)
FAILING_ROLLBACK = "ALTER TABLE tdb_no_such_table DROP COLUMN x;\nDROP TABLE tdb_half_done;\n"


def test_failing_migration_reports_real_error_and_state_stays_truthful(
    db_dsn: DSN, project_copy: Project
) -> None:
    ids = [m["id"] for m in mig.status(db_dsn, project_copy)["migrations"]]
    bad = project_copy.migrations / "0999_broken.sql"
    bad.write_text(f"-- depends: {ids[-1]}\n" + FAILING)
    (project_copy.migrations / "0999_broken.rollback.sql").write_text(FAILING_ROLLBACK)
    with pytest.raises(SqlError) as err:
        mig.up(db_dsn, project_copy)
    assert err.value.code == 1146, str(err.value)
    assert "tdb_no_such_table" in str(err.value)
    assert "SAVEPOINT" not in str(err.value).upper()
    assert "0999_broken" in str(err.value)
    st = mig.status(db_dsn, project_copy)
    assert st["pending"] == ["0999_broken"]  # earlier ones recorded, the failed one not
    assert "tdb_half_done" not in _tables(db_dsn)  # its executed step was undone
    bad.write_text(f"-- depends: {ids[-1]}\nCREATE TABLE tdb_half_done (id INT PRIMARY KEY);\n")
    (project_copy.migrations / "0999_broken.rollback.sql").write_text("DROP TABLE tdb_half_done;\n")
    assert mig.up(db_dsn, project_copy).applied == ["0999_broken"]


def test_plan_runs_nothing(db_dsn: DSN, project: Project) -> None:
    p = mig.plan(db_dsn, project)
    assert p["create_database"] is True
    assert [m["id"] for m in p["migrations"]] == mig.status(db_dsn, project)["pending"]
    assert "CREATE TABLE service_tickets" in p["migrations"][0]["sql"]
    assert mig.status(db_dsn, project)["database_exists"] is False
    mig.up(db_dsn, project)
    p2 = mig.plan(db_dsn, project)
    assert p2["migrations"] == [] and p2["object_changes"] == []


def test_stale_lock_row_of_a_dead_run_is_removed_at_once(
    migrated_dsn: DSN, project: Project
) -> None:
    """A lock row whose owner holds no GET_LOCK (its connection died) does not block 120 s."""
    conn = connect(migrated_dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, NOW(), 999999)")
    conn.close()
    said: list[str] = []
    started = time.monotonic()
    assert mig.up(migrated_dsn, project, lock_timeout=60, progress=said.append).applied == []
    assert time.monotonic() - started < 10
    assert any("stale migrate lock (pid 999999" in s for s in said), said
    conn = connect(migrated_dsn)
    assert scalar(conn, "SELECT COUNT(*) FROM yoyo_lock") == 0
    conn.close()


def test_break_lock_clears_a_lock_row(migrated_dsn: DSN) -> None:
    conn = connect(migrated_dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, NOW(), 999999)")
    mig.break_lock(migrated_dsn)
    assert scalar(conn, "SELECT COUNT(*) FROM yoyo_lock") == 0
    conn.close()


def test_live_lock_holder_makes_the_other_run_wait_then_fail(
    migrated_dsn: DSN, project: Project
) -> None:
    from ticketdb.leases import job_lock_name

    holder = connect(migrated_dsn)
    name = job_lock_name(holder, "migrate", migrated_dsn.database)
    assert scalar(holder, "SELECT GET_LOCK(%s, 0)", (name,))
    try:
        with pytest.raises(TicketdbError, match="still holds the lock"):
            mig.up(migrated_dsn, project, lock_timeout=1)
    finally:
        holder.close()
    assert mig.up(migrated_dsn, project).applied == []


@pytest.mark.parametrize("to", ["", "   "])
def test_empty_to_is_a_usage_error(migrated_dsn: DSN, project: Project, to: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        mig.up(migrated_dsn, project, to=to)
    with pytest.raises(UsageError, match="empty"):
        mig.down(migrated_dsn, project, to=to)
    assert mig.status(migrated_dsn, project)["pending"] == []


def test_migrations_form_one_chain_in_file_order(project: Project) -> None:
    """Each migration depends on the one before it, so apply order == file order everywhere."""
    from ticketdb.migrate.runner import load_migrations

    ms = list(load_migrations(project))
    ids = [m.id for m in ms]
    assert ids == sorted(ids)
    for prev, m in zip(ms, ms[1:], strict=False):
        m.load()
        assert {d.id for d in m.depends} == {prev.id}, f"{m.id} must depend on {prev.id}"
