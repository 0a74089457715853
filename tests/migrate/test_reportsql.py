"""ticketdb.migrate.reportsql: `migrate up` keeps ticketdb_report_statements equal to the
queries/*.sql files marked `-- runner: report_run`, by content; `drift` shows a row changed on
the server (the runner executes it with the migrator's rights) and `drift --sql` puts it back."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pymysql
import pytest

from ticketdb import drift
from ticketdb import migrate as mig
from ticketdb.app.queries import load_query
from ticketdb.app.reports import run_report
from ticketdb.db import connection
from ticketdb.drift.capture import repo_sql
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate import reportsql
from ticketdb.project import Project

MARKED = {"timeout_warning", "agent_monthly_stats", "audit_trail", "frequent_transfers",
          "urgent_today", "urgent_today_built"}  # fmt: skip


def _reports(result: mig.MigrateResult) -> list[tuple[str, str, str]]:
    return [(o["action"], o["name"], o["reason"]) for o in result.objects if o["kind"] == "REPORT"]


def test_up_loads_each_marked_query_with_its_placeholders_in_order(
    migrated_dsn: DSN, project: Project
) -> None:
    with connection(migrated_dsn) as conn:
        rows = reportsql.rows(conn)
    assert set(rows) == MARKED
    _name, sql_text, params, positions, checksum, path = rows["urgent_today"]
    query = load_query(project, "urgent_today")
    assert sql_text == query.qmark
    body = "\n".join(line for line in sql_text.splitlines() if not line.startswith("--"))
    assert ":as_of" not in body and body.count("?") == len(query.positions) == 5
    assert json.loads(positions) == ["as_of", "as_of", "include_handled", "agent_id", "agent_id"]
    assert json.loads(params) == ["agent_id", "as_of", "include_handled"]
    assert path == "queries/urgent_today.sql" and len(checksum) == 64
    assert _reports(mig.up(migrated_dsn, project)) == []  # in step: nothing to do


def test_a_row_changed_on_the_server_is_drift_and_the_next_up_puts_it_back(
    migrated_dsn: DSN, project: Project
) -> None:
    with connection(migrated_dsn) as conn, conn.cursor() as cur:
        cur.execute(
            f"UPDATE {reportsql.TABLE} SET sql_text = CONCAT(sql_text, ' FOR UPDATE') "
            "WHERE name = 'audit_trail'"
        )
        cur.execute(f"DELETE FROM {reportsql.TABLE} WHERE name = 'frequent_transfers'")
    report, steps = repo_sql(migrated_dsn, project)
    found = {(d.kind, d.name, d.state) for d in report.differences}
    assert found == {("report", "audit_trail", "changed"), ("report", "frequent_transfers",
                                                          "missing")}  # fmt: skip
    assert "FOR UPDATE" in next(d.diff for d in report.differences if d.name == "audit_trail")
    script = [s.sql for s in steps]
    assert len(script) == 2 and all(s.startswith(f"REPLACE INTO {reportsql.TABLE}") for s in script)
    assert ("replace", "audit_trail", "edited on the server") in _reports(
        mig.up(migrated_dsn, project)
    )
    assert drift.check(migrated_dsn, project).clean


def test_file_changes_and_removals_follow_the_files(db_dsn: DSN, project_copy: Project) -> None:
    mig.up(db_dsn, project_copy)
    built = project_copy.queries / "urgent_today_built.sql"
    built.write_text(built.read_text().replace("-- runner: report_run\n", ""))
    trail = project_copy.queries / "audit_trail.sql"
    trail.write_text(trail.read_text().replace("ORDER BY l.ticket_seq", "ORDER BY  l.ticket_seq"))
    changes = _reports(mig.up(db_dsn, project_copy))
    assert sorted(changes) == [("drop", "urgent_today_built", "file removed"),
                               ("replace", "audit_trail", "file changed")]  # fmt: skip
    with connection(db_dsn) as conn:
        assert "ORDER BY  l.ticket_seq" in reportsql.rows(conn)["audit_trail"][1]


@pytest.mark.parametrize(
    "text, message",
    [
        ("SELECT :a + :a + :a + :a + :a + :a + :a + :a + :a", "9 placeholders; report_run binds "
         "at most 8"),
        ("SELECT 1 FROM t WHERE id IN :a", "TUPLE parameter"),
    ],
)  # fmt: skip
def test_statements_the_runner_cannot_bind_are_refused_before_the_server(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "queries").mkdir()
    kind = "TUPLE" if "IN :a" in text else "INT"
    (tmp_path / "queries" / "x.sql").write_text(
        f"-- name: x\n-- x\n-- param :a {kind} — a\n-- runner: report_run\n{text}\n"
    )
    with pytest.raises(TicketdbError, match=message):
        reportsql.load(Project(tmp_path))


def test_report_run_gives_the_direct_rows_on_each_flavour(any_db_dsn: DSN, project: Project):
    """The runner's SQL (PREPARE/EXECUTE with user variables, its own READ ONLY transaction,
    the JSON functions) on MariaDB and on MySQL 8.4 (skipped without a Docker engine): each
    report gives what the query file gives run directly, and a bad call is SIGNAL 45000."""
    mig.up(any_db_dsn, project)
    with connection(any_db_dsn) as conn:
        with conn.cursor() as cur:
            for customer, priority in ((1, "urgent"), (2, "high"), (3, "low")):
                cur.execute(
                    "INSERT INTO service_tickets (customer_id, title, priority) "
                    "VALUES (%s, 'Billing: x', %s)",
                    (customer, priority),
                )
                last = cur.lastrowid
                cur.execute("CALL ticket_assign(%s, 7)", (last,))
            cur.execute("CALL ticket_transfer(%s, 7, 8, NULL)", (last,))
            cur.execute("SELECT NOW()")
            now = cur.fetchone()[0]
        cases = {
            "audit_trail": {"ticket_id": last},
            "timeout_warning": {"as_of": now, "window_minutes": 60 * 80},
            "frequent_transfers": {
                "from": datetime(2000, 1, 1),
                "limit": 5,
                "to": datetime(2100, 1, 1),
            },
            "agent_monthly_stats": {"from": datetime(2000, 1, 1), "to": datetime(2100, 1, 1)},
        }
        for name, args in cases.items():
            query = load_query(project, name)
            assert run_report(conn, query, **args) == query.run(conn, **args), name
        with pytest.raises(pymysql.err.OperationalError) as err, conn.cursor() as cur:
            cur.execute("CALL report_run('audit_trail', 'not json')")
        assert err.value.args[0] == 1644 and "JSON object" in err.value.args[1]
