"""``ticketdb drift``: live database vs a fresh migrate of the repo, on a real server.

Other work adds tables, triggers and procedures to the repo all the time, so these tests pick
object names from the live database at run time, and add their own probe procedure, trigger and
event to a copy of the repo where an object of that kind must exist.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ticketdb import drift
from ticketdb import migrate as mig
from ticketdb.cli import cli
from ticketdb.db import connect, connection, quote_ident
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.project import Project
from ticketdb.server import databases

PROBE_PROC = """\
-- drift test probe: a procedure this test suite owns
DROP PROCEDURE IF EXISTS drift_probe;
CREATE PROCEDURE drift_probe(IN p_n INT)
    SQL SECURITY INVOKER
BEGIN
    -- doubled, on purpose
    SELECT p_n * 2 AS doubled;
END;
"""
PROBE_TRIGGER = """\
CREATE TRIGGER drift_probe_trg BEFORE UPDATE ON service_tickets
FOR EACH ROW
BEGIN
    SET NEW.title = TRIM(NEW.title);
END;
"""
PROBE_EVENT = """\
CREATE EVENT drift_probe_ev ON SCHEDULE EVERY 1 DAY
ON COMPLETION PRESERVE DISABLE
DO DELETE FROM service_tickets WHERE 1 = 0;
"""

PROBE_DAILY = """\
-- daily at 03:00, whenever it is deployed
CREATE EVENT drift_probe_daily
ON SCHEDULE EVERY 1 DAY STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 3 HOUR
ON COMPLETION PRESERVE DISABLE
DO DELETE FROM service_tickets WHERE 1 = 0;
"""


@pytest.fixture
def probe_project(project_copy: Project) -> Project:
    """The repo plus one procedure, one trigger and two events of our own."""
    root = project_copy.root
    (root / "procedures" / "drift_probe.sql").write_text(PROBE_PROC)
    (root / "triggers" / "drift_probe_trg.sql").write_text(PROBE_TRIGGER)
    (root / "events").mkdir(exist_ok=True)
    (root / "events" / "drift_probe_ev.sql").write_text(PROBE_EVENT)
    (root / "events" / "drift_probe_daily.sql").write_text(PROBE_DAILY)
    return project_copy


@pytest.fixture
def probe_dsn(db_dsn: DSN, probe_project: Project) -> DSN:
    mig.up(db_dsn, probe_project)
    return db_dsn


def _exec(dsn: DSN, *sqls: str) -> None:
    with connection(dsn) as conn, conn.cursor() as cur:
        for sql in sqls:
            cur.execute(sql)


def _one(dsn: DSN, sql: str) -> str:
    with connection(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    assert row, f"nothing found: {sql}"
    return row[0]


def _states(report: drift.DriftReport) -> dict[tuple[str, str], str]:
    return {(d.kind, d.name): d.state for d in report.differences}


def _diff(report: drift.DriftReport, kind: str, name: str) -> str:
    return next(d.diff for d in report.differences if (d.kind, d.name) == (kind, name))


def _scratch_left(server: DSN, database: str) -> list[str]:
    with connection(server, database=False) as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        return [r[0] for r in cur.fetchall() if r[0].startswith(database + "__drift_")]


def _run(dsn: DSN, project: Project, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["drift", "--dsn", dsn.url(), "--project", str(project.root), *args]
    )
    return result.exit_code, result.stdout


# -- a fresh migrate is clean -------------------------------------------------------------------
def test_fresh_migrate_has_no_drift(migrated_dsn: DSN, project: Project, server_dsn: DSN) -> None:
    report = drift.check(migrated_dsn, project)
    assert report.clean, [d.as_dict() for d in report.differences]
    assert report.pending == []
    assert report.live_version == report.head
    assert report.compared >= 2
    assert _scratch_left(server_dsn, migrated_dsn.database) == []


def test_fresh_migrate_with_probe_objects_is_clean(probe_dsn: DSN, probe_project: Project) -> None:
    """Events (creation-time STARTS), DEFINERs and partitions made at another time cancel out."""
    report = drift.check(probe_dsn, probe_project)
    assert report.clean, [d.as_dict() for d in report.differences]


def test_cli_clean_exit_0_and_json_shape(migrated_dsn: DSN, project: Project) -> None:
    code, out = _run(migrated_dsn, project, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["clean"] is True
    assert data["differences"] == []
    assert isinstance(data["info"], list)
    assert all(set(i) == {"kind", "name", "message"} for i in data["info"])
    assert data["database"] == migrated_dsn.database


# -- tables -------------------------------------------------------------------------------------
def test_dropped_index_and_added_column_are_reported(migrated_dsn: DSN, project: Project) -> None:
    table, index, _cols = _one_index(migrated_dsn)
    _exec(
        migrated_dsn,
        f"ALTER TABLE {quote_ident(table)} DROP INDEX {quote_ident(index)}",
        f"ALTER TABLE {quote_ident(table)} ADD COLUMN drift_extra INT NULL",
    )
    report = drift.check(migrated_dsn, project)
    assert _states(report) == {("table", table): "changed"}
    diff = _diff(report, "table", table)
    removed = [ln for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert len(removed) == 1 and f"`{index}`" in removed[0]
    assert len(added) == 1 and "`drift_extra` int" in added[0]


def test_recreated_index_in_another_order_is_not_drift(migrated_dsn: DSN, project: Project) -> None:
    """Dropping and re-adding the same index moves its SHOW CREATE line; that is not drift."""
    table, index, cols = _one_index(migrated_dsn)
    _exec(
        migrated_dsn,
        f"ALTER TABLE {quote_ident(table)} DROP INDEX {quote_ident(index)}",
        f"ALTER TABLE {quote_ident(table)} ADD INDEX {quote_ident(index)} ({cols})",
        f"ALTER TABLE {quote_ident(table)} AUTO_INCREMENT = 5000",
    )
    assert drift.check(migrated_dsn, project).clean


def _one_index(dsn: DSN) -> tuple[str, str, str]:
    with connection(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name, index_name, GROUP_CONCAT(CONCAT('`', column_name, '`') "
            "ORDER BY seq_in_index) FROM information_schema.statistics "
            "WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY' AND non_unique = 1 "
            "AND sub_part IS NULL GROUP BY table_name, index_name ORDER BY 1, 2 LIMIT 1"
        )
        row = cur.fetchone()
    assert row, "the schema has no secondary index"
    return row


def test_extra_table_created_by_hand(migrated_dsn: DSN, project: Project) -> None:
    _exec(migrated_dsn, "CREATE TABLE drift_hand_made (id INT PRIMARY KEY)")
    report = drift.check(migrated_dsn, project)
    assert _states(report) == {("table", "drift_hand_made"): "extra"}
    assert "+CREATE TABLE `drift_hand_made`" in _diff(report, "table", "drift_hand_made")
    ignored = drift.check(migrated_dsn, project, ignore=["drift_hand_*"])
    assert ignored.clean


def test_pending_migration_changes_are_reported(migrated_dsn: DSN, project_copy: Project) -> None:
    """Live is one migration behind a repo that alters one table and adds another."""
    _exec(migrated_dsn, "CREATE TABLE drift_tmp (id INT PRIMARY KEY)")
    root = project_copy.root
    (root / "migrations" / "9990_drift_tmp.sql").write_text(
        "CREATE TABLE drift_tmp (id INT PRIMARY KEY, note VARCHAR(10) NULL);\n"
    )
    (root / "migrations" / "9991_drift_gone.sql").write_text(
        "CREATE TABLE drift_gone (id INT PRIMARY KEY);\n"
    )
    report = drift.check(migrated_dsn, project_copy)
    states = _states(report)
    assert states[("migration", "9990_drift_tmp")] == "pending"
    assert states[("table", "drift_tmp")] == "changed"
    assert states[("table", "drift_gone")] == "missing"
    assert "-  `note` varchar(10)" in _diff(report, "table", "drift_tmp")
    assert any("pending" in i.message and "migrate status" in i.message for i in report.info)


def test_extra_view_over_a_dropped_table_is_reported(migrated_dsn: DSN, project: Project) -> None:
    """A broken view (its table dropped by hand) is reported, not a crash."""
    _exec(
        migrated_dsn,
        "CREATE TABLE drift_base (id INT PRIMARY KEY)",
        "CREATE VIEW drift_view AS SELECT id FROM drift_base",
        "DROP TABLE drift_base",
    )
    report = drift.check(migrated_dsn, project)
    assert _states(report) == {("view", "drift_view"): "extra"}
    assert "drift_view" in _diff(report, "view", "drift_view")


def test_tool_tables_are_ignored(migrated_dsn: DSN, project: Project) -> None:
    _exec(
        migrated_dsn,
        "CREATE TABLE yoyo_tmp_drift (x INT)",
        "CREATE TABLE ticketdb_drift_cache (x INT)",
    )
    report = drift.check(migrated_dsn, project)
    assert report.clean, [d.as_dict() for d in report.differences]
    assert any(i.name == "ticketdb_drift_cache" for i in report.info)


# -- partitions ---------------------------------------------------------------------------------
def _range_partitioned(dsn: DSN) -> str:
    return _one(
        dsn,
        "SELECT table_name FROM information_schema.partitions WHERE table_schema = DATABASE() "
        "AND partition_method = 'RANGE' AND partition_description = 'MAXVALUE' "
        "AND partition_expression LIKE 'to_days(%' ORDER BY table_name LIMIT 1",
    )


def test_rolling_month_partitions_are_info_not_drift(migrated_dsn: DSN, project: Project) -> None:
    from ticketdb.partitions import ensure_months, retire_before

    table = _range_partitioned(migrated_dsn)
    with connection(migrated_dsn) as conn:
        ensure_months(conn, table, months_back=4, months_ahead=5)
        retire_before(conn, table, keep_months=2)
    report = drift.check(migrated_dsn, project)
    assert report.clean, [d.as_dict() for d in report.differences]
    note = next(i.message for i in report.info if i.name == table and "partition" in i.message)
    assert "not compared" in note


def test_missing_month_partitions_get_a_hint(migrated_dsn: DSN, project: Project) -> None:
    from ticketdb.partitions import merge_all

    table = _range_partitioned(migrated_dsn)
    with connection(migrated_dsn) as conn:
        merge_all(conn, table)  # only the catch-all left: every new row lands in it
    report = drift.check(migrated_dsn, project)
    assert report.clean, [d.as_dict() for d in report.differences]
    hints = [i.message for i in report.info if i.name == table and "ensure" in i.message]
    assert hints and "current month" in hints[0]


def test_lost_catch_all_partition_is_drift(migrated_dsn: DSN, project: Project) -> None:
    table = _range_partitioned(migrated_dsn)
    _exec(migrated_dsn, f"ALTER TABLE {quote_ident(table)} DROP PARTITION p_future")
    report = drift.check(migrated_dsn, project)
    assert _states(report) == {("table", table): "changed"}
    assert "-  PARTITION `p_future` VALUES LESS THAN MAXVALUE" in _diff(report, "table", table)


# -- routines, triggers, events -----------------------------------------------------------------
def test_dropped_trigger_is_missing(probe_dsn: DSN, probe_project: Project) -> None:
    name = _one(
        probe_dsn,
        "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() "
        "ORDER BY trigger_name LIMIT 1",
    )
    _exec(probe_dsn, f"DROP TRIGGER {quote_ident(name)}")
    report = drift.check(probe_dsn, probe_project)
    assert _states(report) == {("trigger", name): "missing"}
    assert f"TRIGGER {name}" in _diff(report, "trigger", name).replace("`", "")


def test_procedure_recreated_with_other_body(probe_dsn: DSN, probe_project: Project) -> None:
    _exec(
        probe_dsn,
        "DROP PROCEDURE drift_probe",
        "CREATE PROCEDURE drift_probe(IN p_n INT) SQL SECURITY INVOKER\n"
        "BEGIN\n    -- doubled, on purpose\n    SELECT p_n * 3 AS doubled;\nEND",
    )
    code, out = _run(probe_dsn, probe_project)
    assert code == 1
    assert "changed" in out and "procedure drift_probe" in out
    report = drift.check(probe_dsn, probe_project)
    assert _states(report) == {("procedure", "drift_probe"): "changed"}
    diff = _diff(report, "procedure", "drift_probe")
    assert "-    SELECT p_n * 2 AS doubled;" in diff
    assert "+    SELECT p_n * 3 AS doubled;" in diff


def test_procedure_recreated_same_body_other_layout_definer_is_clean(
    probe_dsn: DSN, probe_project: Project
) -> None:
    """Whitespace, comments, backticks and DEFINER are not drift."""
    _exec(
        probe_dsn,
        "DROP PROCEDURE drift_probe",
        "CREATE DEFINER=`drift_nobody`@`localhost` PROCEDURE `drift_probe`(IN p_n INT)\n"
        "  SQL SECURITY INVOKER\nBEGIN\n\tSELECT   p_n*2   AS doubled; -- same thing\nEND",
    )
    report = drift.check(probe_dsn, probe_project)
    assert report.clean, [d.as_dict() for d in report.differences]


def test_procedure_recreated_in_loose_sql_mode_is_drift(
    probe_dsn: DSN, probe_project: Project
) -> None:
    with connection(probe_dsn) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("DROP PROCEDURE drift_probe")
        cur.execute(
            "CREATE PROCEDURE drift_probe(IN p_n INT) SQL SECURITY INVOKER\n"
            "BEGIN\n    -- doubled, on purpose\n    SELECT p_n * 2 AS doubled;\nEND"
        )
    report = drift.check(probe_dsn, probe_project)
    assert _states(report) == {("procedure", "drift_probe"): "changed"}
    assert "+-- sql_mode: \n" in _diff(report, "procedure", "drift_probe") + "\n"


def test_extra_procedure_and_disabled_event(probe_dsn: DSN, probe_project: Project) -> None:
    _exec(
        probe_dsn,
        "CREATE FUNCTION drift_hand_fn(a INT) RETURNS INT DETERMINISTIC RETURN a + 1",
        "ALTER EVENT drift_probe_ev ENABLE",
    )
    report = drift.check(probe_dsn, probe_project)
    assert _states(report) == {
        ("function", "drift_hand_fn"): "extra",
        ("event", "drift_probe_ev"): "changed",
    }
    diff = _diff(report, "event", "drift_probe_ev")
    assert "DISABLE" in diff and "ENABLE" in diff and "STARTS" not in diff


def test_fresh_migrate_is_clean_on_each_flavour(any_db_dsn: DSN, project: Project) -> None:
    """MariaDB here; MySQL 8.4 too when a Docker engine answers (SHOW CREATE differs)."""
    mig.up(any_db_dsn, project)
    report = drift.check(any_db_dsn, project)
    assert report.clean, [d.as_dict() for d in report.differences]


def test_event_moved_to_another_time_of_day_is_drift(
    probe_dsn: DSN, probe_project: Project
) -> None:
    """A STARTS built from CURRENT_DATE fixes the time of day; moving it is drift."""
    _exec(
        probe_dsn,
        "DROP EVENT drift_probe_daily",
        "CREATE EVENT drift_probe_daily ON SCHEDULE EVERY 1 DAY "
        "STARTS CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 5 HOUR "
        "ON COMPLETION PRESERVE DISABLE DO DELETE FROM service_tickets WHERE 1 = 0",
    )
    report = drift.check(probe_dsn, probe_project)
    assert _states(report) == {("event", "drift_probe_daily"): "changed"}
    diff = _diff(report, "event", "drift_probe_daily")
    assert "03:00:00" in diff and "05:00:00" in diff


# -- versions, JSON, failures -------------------------------------------------------------------
def test_pending_migrations_count_as_drift(db_dsn: DSN, project: Project) -> None:
    first = mig.status(db_dsn, project)["migrations"][0]["id"]
    mig.up(db_dsn, project, to=first)
    code, out = _run(db_dsn, project, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["clean"] is False
    assert data["live_version"] == first
    pending = [d for d in data["differences"] if d["kind"] == "migration"]
    assert pending and all(d["state"] == "pending" for d in pending)
    assert {d["name"] for d in pending} == set(data["pending_migrations"])
    for d in data["differences"]:
        assert set(d) == {"kind", "name", "state", "diff"}
        assert d["state"] in {"missing", "extra", "changed", "pending"}


def test_scratch_database_dropped_when_reference_fails(
    migrated_dsn: DSN, project_copy: Project, server_dsn: DSN
) -> None:
    (project_copy.migrations / "9999_broken.sql").write_text("CREATE TABLE broken (\n")
    with pytest.raises(TicketdbError, match="9999_broken"):
        drift.check(migrated_dsn, project_copy)
    assert _scratch_left(server_dsn, migrated_dsn.database) == []


def test_scratch_database_of_a_killed_run_is_dropped_a_live_one_kept(
    migrated_dsn: DSN, project: Project, server_dsn: DSN
) -> None:
    """A scratch database whose owner holds no lock was left by a killed drift: dropped and
    said; one whose owner is alive (lock held) is only mentioned."""
    stale = f"{migrated_dsn.database}__drift_0badc0de"
    live = f"{migrated_dsn.database}__drift_0000beef"
    _exec(migrated_dsn, f"CREATE DATABASE {quote_ident(stale)}")
    _exec(migrated_dsn, f"CREATE DATABASE {quote_ident(live)}")
    owner = connect(server_dsn, database=False)
    try:
        with owner.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (databases.scratch_lock(live),))
        report = drift.check(migrated_dsn, project)
        with owner.cursor() as cur:
            cur.execute("SELECT schema_name FROM information_schema.schemata")
            names = {r[0] for r in cur.fetchall()}
    finally:
        owner.close()
        _exec(migrated_dsn, f"DROP DATABASE IF EXISTS {quote_ident(stale)}")
        _exec(migrated_dsn, f"DROP DATABASE IF EXISTS {quote_ident(live)}")
    assert report.clean
    assert stale not in names and live in names
    notes = {i.name: i.message for i in report.info}
    assert "dropped" in notes[stale] and "in progress" in notes[live]


def test_missing_database_is_an_error(db_dsn: DSN, project: Project) -> None:
    code, _out = _run(db_dsn, project)
    assert code == 1
    with pytest.raises(TicketdbError, match="does not exist"):
        drift.check(db_dsn, project)
