"""Least privilege: create the three accounts, then connect as each and hit the walls.

Accounts are server-wide: tests create them for host 127.0.0.1 only (never touching a real
deployment's 'ticketdb_*'@'%' accounts) and drop them afterwards.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace

import pymysql
import pytest
from accounts import HOST, code_of, drop_test_accounts, is_local
from accounts import password as _pw
from click.testing import CliRunner

from ticketdb import PROJECT_ROOT
from ticketdb import grants as gr
from ticketdb import migrate as mig
from ticketdb.cli import cli
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.errors import SqlError, TicketdbError


@pytest.fixture(autouse=True)
def local_server(server_dsn: DSN) -> Iterator[None]:
    if not is_local(server_dsn):
        pytest.skip("account tests connect over TCP from 127.0.0.1 to a local server")
    yield
    drop_test_accounts(server_dsn)


def test_app_cannot_ddl_or_delete_logs_but_can_run_the_workflow(accounts, conn):
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 'x', 'high')"
        )
        tid = cur.lastrowid
    app = connect(accounts["ticketdb_app"])
    try:
        assert code_of(app, "DROP TABLE ticket_logs") == 1142
        assert code_of(app, "DELETE FROM ticket_logs") == 1142
        assert code_of(app, "DELETE FROM service_tickets") == 1142
        assert code_of(app, "UPDATE service_tickets SET current_status = 'closed'") == 1142
        log_insert = "INSERT INTO ticket_logs (ticket_id, action_type) VALUES (1, 'reply')"
        assert code_of(app, log_insert) == 1142
        assert code_of(app, "CREATE TABLE t (id INT PRIMARY KEY)") == 1142
        assert code_of(app, "ALTER TABLE service_tickets ADD COLUMN x INT") == 1142
        assert code_of(app, "CALL vip_refresh(1)") == 1370  # maintenance: no EXECUTE
        assert code_of(app, "USE mysql") == 1044
        # what it needs works
        new_ticket = (
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (2, 'y', 'low')"
        )
        assert code_of(app, new_ticket) is None
        assert code_of(app, "SELECT * FROM alert_outbox") is None
        assert code_of(app, "UPDATE alert_outbox SET lease_owner = NULL WHERE id = 0") is None
        # EXECUTE only, the procedure runs with its definer's rights (SQL SECURITY DEFINER)
        assert code_of(app, "CALL ticket_assign(%s, 42)", (tid,)) is None
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_status, assigned_agent_id FROM service_tickets WHERE id = %s",
                (tid,),
            )
            assert cur.fetchone() == ("processing", 42)
            cur.execute("SELECT action_type FROM ticket_logs WHERE ticket_id = %s", (tid,))
            assert [r[0] for r in cur.fetchall()] == ["assign"]
        internal = "CALL ticket_log_action(%s, 1, 'close', NULL, NULL, NULL)"
        assert code_of(app, internal, (tid,)) == 1370  # internal: no EXECUTE
        # the nightly urgent list is refilled by DML in place: the by-name grant keeps working
        with conn.cursor() as cur:
            cur.execute("CALL rebuild_daily_urgent_tickets(@n)")
        assert code_of(app, "SELECT COUNT(*) FROM daily_urgent_tickets") is None
    finally:
        app.close()


def test_reporter_runs_reports_and_reads_nothing_else(accounts, conn):
    """EXECUTE on report_run is all it holds: no table can be read, so none can be locked by a
    read either, and neither the report statements nor the lock salt can be seen or changed."""
    rep = connect(accounts["ticketdb_reporter"])
    try:
        for table in ("service_tickets", "ticket_logs", "ticketdb_leases", "alert_outbox",
                      "ticketdb_report_statements", "ticketdb_lock_salt"):  # fmt: skip
            assert code_of(rep, f"SELECT COUNT(*) FROM {table}") == 1142, table
            assert code_of(rep, f"SELECT 1 FROM {table} LIMIT 1 FOR UPDATE") == 1142, table
            assert code_of(rep, f"SELECT 1 FROM {table} LIMIT 1 LOCK IN SHARE MODE") == 1142
        # not even through a prepared statement of its own
        assert code_of(rep, "PREPARE ticketdb_report FROM 'SELECT 1 FROM ticket_logs "
                       "FOR UPDATE'") == 1142  # fmt: skip
        new_ticket = (
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (1, 'x', 'low')"
        )
        assert code_of(rep, new_ticket) == 1142
        assert code_of(rep, "UPDATE ticketdb_report_statements SET sql_text = 'SELECT 1'") == 1142
        assert code_of(rep, "DROP TABLE customers") == 1142
        assert code_of(rep, "CALL vip_refresh(1)") == 1370
        assert code_of(rep, "CALL lease_acquire('seed.x', 60, 0, @w)") == 1370
        assert code_of(rep, "USE mysql") == 1044
        assert code_of(rep, "CALL report_run('audit_trail', '{\"ticket_id\": 1}')") is None
        with rep.cursor() as cur:
            cur.execute("SHOW GRANTS")
            grants = [r[0] for r in cur.fetchall()]
        assert len(grants) == 2 and "EXECUTE ON PROCEDURE" in grants[1], grants
    finally:
        rep.close()


def test_recreating_a_granted_procedure_drops_its_grant_and_up_says_so(
    accounts, migrated_dsn, project_copy, env
):
    """The server revokes a dropped routine's privileges (automatic_sp_privileges), and `migrate
    up` re-creates report_run when its file changes: the reporter loses its only privilege until
    `grants apply` runs again, which `up` says."""
    shutil.copytree(PROJECT_ROOT / "grants", project_copy.root / "grants")
    proc = project_copy.root / "procedures" / "report_run.sql"
    proc.write_text("-- a comment changes the checksum\n" + proc.read_text())
    said: list[str] = []
    mig.up(migrated_dsn, project_copy, progress=said.append)
    assert any("re-created report_run" in s and "grants apply" in s for s in said), said
    call = f"CALL `{migrated_dsn.database}`.report_run('urgent_today_built', '{{}}')"
    # with no privilege left in the schema it cannot even select it as its database
    with connect(accounts["ticketdb_reporter"], database=False) as rep:
        assert code_of(rep, call) == 1370
    gr.apply(migrated_dsn, PROJECT_ROOT, env=env, host=HOST)
    with connect(accounts["ticketdb_reporter"]) as rep:
        assert code_of(rep, call) is None


def test_apply_takes_back_the_schema_wide_select_of_older_reporters(accounts, migrated_dsn, env):
    """A reporter created by the grant file before issue 20 held SELECT on the whole schema;
    a plain `grants apply` (no --reset) revokes it, and re-applying is quiet."""
    schema = f"`{migrated_dsn.database}`"
    with connect(migrated_dsn) as c, c.cursor() as cur:
        cur.execute(f"GRANT SELECT ON {schema}.* TO 'ticketdb_reporter'@%s", (HOST,))
    rep_dsn = accounts["ticketdb_reporter"]
    with connect(rep_dsn) as rep:
        assert code_of(rep, "SELECT COUNT(*) FROM service_tickets") is None  # the old grant
    for _ in range(2):
        gr.apply(migrated_dsn, PROJECT_ROOT, env=env, host=HOST, users=["ticketdb_reporter"])
    with connect(rep_dsn) as rep:
        assert code_of(rep, "SELECT COUNT(*) FROM service_tickets") == 1142


def test_migrator_owns_the_schema_and_nothing_else(accounts):
    mig = connect(accounts["ticketdb_migrator"])
    try:
        assert code_of(mig, "CREATE TABLE scratch (id INT PRIMARY KEY)") is None
        assert code_of(mig, "DROP TABLE scratch") is None
        assert code_of(mig, "CALL vip_refresh(1)") is None
        assert code_of(mig, "USE mysql") == 1044
        assert code_of(mig, "CREATE USER 'x'@'%'") == 1227  # no global privileges
    finally:
        mig.close()


def test_apply_is_idempotent_and_rotates_passwords(accounts, migrated_dsn, env):
    new_env = {**env, "TICKETDB_APP_PASSWORD": _pw()}
    again = gr.apply(migrated_dsn, PROJECT_ROOT, env=new_env, host=HOST)
    assert [r.user for r in again] == list(gr.USERS)
    app_dsn = replace(accounts["ticketdb_app"], password=new_env["TICKETDB_APP_PASSWORD"])
    connect(app_dsn).close()
    with pytest.raises(TicketdbError):  # the old password no longer works
        connect(accounts["ticketdb_app"])
    # --reset revokes first, then grants the same again: still works, still walled
    gr.apply(migrated_dsn, PROJECT_ROOT, env=new_env, reset=True, host=HOST)
    app = connect(app_dsn)
    try:
        assert code_of(app, "SELECT COUNT(*) FROM service_tickets") is None
        assert code_of(app, "DELETE FROM ticket_logs") == 1142
    finally:
        app.close()


def test_missing_password_is_a_clear_error_and_passwords_are_never_printed(
    migrated_dsn, server_dsn, env, monkeypatch
):
    for var in gr.USERS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TICKETDB_MIGRATOR_PASSWORD", env["TICKETDB_MIGRATOR_PASSWORD"])
    res = CliRunner().invoke(cli, ["grants", "apply", "--host", HOST, "--dsn", migrated_dsn.url()])
    assert res.exit_code == 1
    assert "TICKETDB_APP_PASSWORD" in res.output and "TICKETDB_REPORTER_PASSWORD" in res.output
    with connect(server_dsn, database=False) as c, c.cursor() as cur:  # nothing half-applied
        cur.execute(
            "SELECT COUNT(*) FROM mysql.user WHERE user LIKE 'ticketdb\\_%%' AND host = %s",
            (HOST,),
        )
        assert cur.fetchone()[0] == 0
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    try:
        res = CliRunner().invoke(
            cli, ["grants", "apply", "--json", "--host", HOST, "--dsn", migrated_dsn.url()]
        )
        assert res.exit_code == 0, res.output
        plan = CliRunner().invoke(cli, ["grants", "plan", "--dsn", migrated_dsn.url()])
        assert "'***'" in plan.stdout and "GRANT SELECT ON" in plan.stdout
        for out in (res.output, plan.output):
            assert not any(v in out for v in env.values())
    finally:
        drop_test_accounts(server_dsn)


def test_grant_on_missing_object_is_skipped_and_reported(db_dsn, server_dsn, env, tmp_path):
    from ticketdb.server.databases import ensure_database

    ensure_database(db_dsn)  # an empty schema: no tables, no procedures yet
    try:
        res = gr.apply(db_dsn, PROJECT_ROOT, env=env, users=["ticketdb_app"], host=HOST)
        assert "procedure ticket_assign" in res[0].skipped
        assert "table service_tickets" in res[0].skipped
        with pytest.raises(SqlError):
            bad = tmp_path / "grants"
            bad.mkdir()
            (bad / "ticketdb_reporter.sql").write_text(
                "GRANT FROBNICATE ON {{schema}}.* TO {{account}};"
            )
            gr.apply(db_dsn, tmp_path, env=env, users=["ticketdb_reporter"], host=HOST)
    finally:
        drop_test_accounts(server_dsn)


def _user_variables() -> list[str]:
    """Every ``@ticketdb_…`` user variable a trigger or procedure reads: a client can set any
    of them, so none may switch a rule off for the app role (issue 20)."""
    names: set[str] = set()
    for folder in ("triggers", "procedures"):
        for path in (PROJECT_ROOT / folder).glob("*.sql"):
            names.update(re.findall(r"@(ticketdb_\w+)", path.read_text(encoding="utf-8")))
    return sorted(names)


def _version(conn, customer: int) -> int:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COALESCE(MAX(version), 0) FROM cache_customer_version WHERE customer_id = %s",
            (customer,),
        )
        return int(cur.fetchone()[0])


def test_app_session_switches_bypass_neither_state_machine_nor_cache(accounts, conn):
    variables = _user_variables()
    assert "ticketdb_bulk_load" in variables  # the list is read from the files, not typed here
    for value in ("1", "'1'", "1.0", "TRUE"):  # every spelling `<=> 1` accepts
        _try_switches(connect(accounts["ticketdb_app"]), conn, variables, value)


def _try_switches(app, conn, variables: list[str], value: str) -> None:
    try:
        with app.cursor() as cur:
            for name in variables:
                cur.execute(f"SET @{name} = {value}")
            # session system switches need no privilege either
            cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
            before = _version(conn, 7301)
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority) "
                "VALUES (7301, 'switch', 'low')"
            )
            tid = cur.lastrowid
        # the cache version bump happened in the app's own insert
        assert _version(conn, 7301) == before + 1
        # the state machine still applies: a pending ticket cannot be resolved …
        with pytest.raises(pymysql.err.OperationalError) as exc:
            with app.cursor() as cur:
                cur.execute("CALL ticket_resolve(%s, 5, NULL)", (tid,))
        assert exc.value.args[0] == 1644 and "rejected" in exc.value.args[1]
        # … and an allowed step moves the ticket (the AFTER INSERT trigger was not skipped)
        assert code_of(app, "CALL ticket_assign(%s, 5)", (tid,)) is None
        assert code_of(app, "CALL ticket_resolve(%s, 5, NULL)", (tid,)) is None
        with conn.cursor() as cur:
            cur.execute("SELECT current_status FROM service_tickets WHERE id = %s", (tid,))
            assert cur.fetchone() == ("resolved",)
        assert _version(conn, 7301) == before + 2  # open -> resolved bumped again
        # the one place the switch matters (a direct log insert) needs a grant the app lacks
        log = "INSERT INTO ticket_logs (ticket_id, action_type) VALUES (%s, 'close')"
        assert code_of(app, log, (tid,)) == 1142
    finally:
        app.close()


@pytest.mark.parametrize("grants", ["now", "before issue 20"])
def test_the_reporter_cannot_stall_a_workflow_step(accounts, conn, migrated_dsn, grants):
    """A reporter session tries every way it had to hold locks a writer waits for: SERIALIZABLE
    (plain reads lock), an open transaction, FOR UPDATE / LOCK IN SHARE MODE on the ticket and
    its logs, and a report — then sits idle. The app's next step on that ticket must not wait,
    and a DDL (what migrate and partition maintenance run) must not wait for its metadata lock.

    "before issue 20" gives the reporter back its old `SELECT ON <schema>.*`: the same session
    then stalls both (MariaDB needs no more than SELECT for a locking read), which is what
    proves the first case tests something."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        if grants != "now" and "MariaDB" not in cur.fetchone()[0]:
            pytest.skip("MySQL 8.0.22+ refuses FOR UPDATE without UPDATE/DELETE/LOCK TABLES")
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority) VALUES (7401, 'r', 'low')"
        )
        tid = cur.lastrowid
        cur.execute("CALL ticket_assign(%s, 4)", (tid,))  # it has a log row to lock
        if grants != "now":
            cur.execute(f"GRANT SELECT ON `{migrated_dsn.database}`.* "
                        "TO 'ticketdb_reporter'@%s", (HOST,))  # fmt: skip
    rep = connect(accounts["ticketdb_reporter"], autocommit=False)
    app = connect(accounts["ticketdb_app"])
    try:
        with rep.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            cur.execute("START TRANSACTION")
        report = "CALL report_run('audit_trail', CONCAT('{\"ticket_id\": ', %s, '}'))"
        assert code_of(rep, report, (tid,)) is None  # first: it commits what was open
        tries = {
            sql: code_of(rep, sql, (tid,))
            for sql in (
                "SELECT id FROM service_tickets WHERE id = %s FOR UPDATE",
                "SELECT id FROM ticket_logs WHERE ticket_id = %s FOR UPDATE",
                "SELECT id FROM service_tickets WHERE id = %s LOCK IN SHARE MODE",
                "SELECT id FROM service_tickets WHERE id = %s",  # SERIALIZABLE: a shared lock
            )
        }
        assert list(tries.values()) == [1142 if grants == "now" else None] * 4, tries
        with app.cursor() as cur:
            cur.execute("SET SESSION innodb_lock_wait_timeout = 1")
        step = code_of(app, "CALL ticket_reply(%s, 4, 'on it')", (tid,))
        with conn.cursor() as cur:
            cur.execute("SET SESSION lock_wait_timeout = 1")
        ddl = code_of(conn, "ALTER TABLE service_tickets COMMENT = 'probe'")
        if grants == "now":
            assert (step, ddl) == (None, None)
        else:
            assert (step, ddl) == (1205, 1205)  # stalled: the lock wait, the metadata lock
    finally:
        rep.rollback()
        rep.close()
        app.close()
