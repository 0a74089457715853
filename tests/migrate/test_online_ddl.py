"""Online schema change in ``migrate up`` (ticketdb.migrate.online), against a real server and
a real pt-online-schema-change: the path each ALTER takes, refusals before any change, writers
running through the copy and the swap with every trigger firing exactly once, the checksum,
kill -9 at three points then ``migrate repair`` / ``--undo`` and ``drift`` clean.

The exactly-once check (:func:`violations`) reads what the triggers leave behind: the BEFORE
INSERT trigger numbers each ticket's logs 1..n from ``service_tickets.log_seq`` and the AFTER
INSERT trigger stores the number back, so a trigger that fired twice (a copy-trigger write into
a table where the own triggers already are) or not at all leaves a gap, a duplicate, a NULL or
a ``log_seq`` that differs from the last number. ``test_checker_catches_the_naive_trigger_move``
proves the check fails on the naive setup (pt-osc's own one-trigger-at-a-time move).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from faultkit import FreezingProxy, clean, run, start, wait_for
from rows import open_tickets
from waiting import node_synced

from ticketdb import migrate as mig
from ticketdb import partitions
from ticketdb.app.workflow import Workflow
from ticketdb.db import connect, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.online import engine, everywhere, journal, ptosc, run_online_alter, swap
from ticketdb.project import Project
from ticketdb.seed.generate import SeedSpec
from ticketdb.seed.runner import seed

pytestmark = pytest.mark.skipif(
    shutil.which("pt-online-schema-change") is None,
    reason="pt-online-schema-change missing (scripts/system-deps.sh installs percona-toolkit)",
)
TICKETS = 3000
_ON = re.compile(r"ON\s+`?(\w+)`?\s+FOR\s+EACH\s+ROW")


def _project(project: Project, min_rows: int = 1000) -> Project:
    (project.root / "pyproject.toml").write_text(
        f"[tool.ticketdb.migrate]\nonline_min_rows = {min_rows}\nonline_min_bytes = 1073741824\n"
    )
    return project


def _last_sql_migration(project: Project) -> str:
    names = (p.stem for p in project.migrations.glob("0*.sql") if ".rollback" not in p.name)
    return sorted(names)[-1]


def _migration(project: Project, name: str, sql: str, rollback: str) -> None:
    (project.migrations / f"{name}.sql").write_text(
        f"-- depends: {_last_sql_migration(project)}\n{sql}\n"
    )
    (project.migrations / f"{name}.rollback.sql").write_text(rollback + "\n")


def _py_migration(
    project: Project, name: str, steps: list[tuple[str, str]], depends: str | None = None
) -> None:
    """A Python migration of SQL steps (apply, rollback), after ``depends`` (by default the
    last SQL migration)."""
    body = "".join(f"    step({apply!r}, {back!r}),\n" for apply, back in steps)
    (project.migrations / f"{name}.py").write_text(
        f'"""depends: {depends or _last_sql_migration(project)}"""\nfrom yoyo import step\n\n'
        f"steps = [\n{body}]\n"
    )


@pytest.fixture
def seeded(db_dsn: DSN, project_copy: Project) -> tuple[DSN, Project]:
    project = _project(project_copy)
    mig.up(db_dsn, project)
    seed(db_dsn, project, SeedSpec(tickets=TICKETS, months=3))
    return db_dsn, project


def _q(dsn: DSN, sql: str, args: object = None) -> list[tuple]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def _column(dsn: DSN, table: str, column: str) -> str:
    return str(
        _q(
            dsn,
            "SELECT column_type FROM information_schema.columns WHERE table_schema "
            "= DATABASE() AND table_name = %s AND column_name = %s",
            (table, column),
        )[0][0]
    )


def _triggers(dsn: DSN) -> dict[str, tuple[str, str]]:
    conn = connect(dsn)
    try:
        names = [
            r[0]
            for r in _q(
                dsn,
                "SELECT trigger_name FROM information_schema.triggers "
                "WHERE trigger_schema = DATABASE()",
            )
        ]
        out = {}
        with conn.cursor() as cur:
            for n in names:
                cur.execute(f"SHOW CREATE TRIGGER `{n}`")
                row = cur.fetchone()
                table = _q(
                    dsn,
                    "SELECT event_object_table FROM information_schema.triggers "
                    "WHERE trigger_schema = DATABASE() AND trigger_name = %s",
                    (n,),
                )[0][0]
                # the server rewrites a renamed table's ON clause as ON `t` FOR EACH ROW
                out[n] = (table, _ON.sub(r"ON \1 FOR EACH ROW", row[2]))
        return out
    finally:
        conn.close()


def _partitions(dsn: DSN) -> list[str]:
    return [
        r[0]
        for r in _q(
            dsn,
            "SELECT partition_name FROM information_schema.partitions "
            "WHERE table_schema = DATABASE() AND table_name = 'ticket_logs' "
            "ORDER BY partition_ordinal_position",
        )
    ]


def _leftovers(dsn: DSN) -> list[str]:
    tables = [
        r[0]
        for r in _q(dsn, "SHOW TABLES")
        if r[0].startswith("_") and r[0].endswith(("_new", "_old"))
    ]
    trig = [n for n in _triggers(dsn) if n.startswith(("pt_osc_", "tdb_osc_guard_"))]
    rows = _q(dsn, "SHOW TABLES LIKE %s", (journal.TABLE,))
    copies = [r[0] for r in _q(dsn, f"SELECT table_name FROM {journal.TABLE}")] if rows else []
    return tables + trig + copies


def violations(dsn: DSN, tickets: list[int], table: str = "ticket_logs") -> list[tuple]:
    """Tickets whose logs are not numbered 1..n exactly once, or whose log_seq is not n."""
    marks = ", ".join(["%s"] * len(tickets))
    return _q(
        dsn,
        "SELECT l.ticket_id, COUNT(*), COUNT(l.ticket_seq), COUNT(DISTINCT l.ticket_seq), "
        f"MAX(l.ticket_seq), t.log_seq FROM `{table}` l JOIN service_tickets t "
        f"ON t.id = l.ticket_id WHERE l.ticket_id IN ({marks}) GROUP BY l.ticket_id, t.log_seq "
        "HAVING NOT (COUNT(*) = COUNT(l.ticket_seq) AND COUNT(*) = COUNT(DISTINCT l.ticket_seq) "
        "AND MAX(l.ticket_seq) = t.log_seq)",
        tickets,
    )


@contextmanager
def paused_alter(
    dsn: DSN, project: Project, table: str, alter: str, point: str, pause: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[list[BaseException]]:  # fmt: skip
    """run_online_alter in a thread, held at ``point`` while the ``with`` body runs; yields the
    list its exception (if any) lands in once the block is left and the copy went on."""
    monkeypatch.setenv(engine.PAUSE_ENV, point)
    monkeypatch.setenv(engine.PAUSE_FILE_ENV, str(pause))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_online_alter(dsn, table, alter, project=project)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            errors.append(exc)

    th = threading.Thread(target=run)
    th.start()
    try:
        wait_for(pause.exists, 120, f"the copy to pause at {point}")
        yield errors
    finally:
        pause.unlink(missing_ok=True)
        th.join(120)
    assert not th.is_alive(), "the copy did not end"


class Writers:
    """Threads calling Workflow.reply with unique notes; every acknowledged call is recorded."""

    def __init__(self, dsn: DSN, tickets: list[int], n: int = 3) -> None:
        self.dsn, self.tickets = dsn, tickets
        self.stop = threading.Event()
        self.acked: list[str] = []
        self.acked_at: list[float] = []
        self.retries: dict[int, int] = {}
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(k,)) for k in range(n)]

    def _run(self, k: int) -> None:
        with Workflow.open(self.dsn) as wf:
            i = 0
            while not self.stop.is_set():
                note = f"w{k}-{i}"
                ticket = self.tickets[(i * 7 + k) % len(self.tickets)]
                try:
                    if i % 5 == 4:  # moves a pending ticket to processing: replayed below
                        wf.assign(ticket, 7)
                        self.acked.append(f"assign {ticket}")
                    wf.reply(ticket, 7, note)
                    self.acked.append(note)
                    self.acked_at.append(time.monotonic())
                except Exception as exc:  # noqa: BLE001 - every failure is a finding
                    self.errors.append(exc)
                    return
                i += 1
            for code, n in wf.stats.retries.items():
                self.retries[code] = self.retries.get(code, 0) + n

    def longest_gap(self) -> float:
        """Longest time without any acknowledged call (the stall writers saw)."""
        at = sorted(self.acked_at)
        return max((b - a for a, b in zip(at, at[1:], strict=False)), default=0.0)

    def __enter__(self) -> Writers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)
        assert not any(t.is_alive() for t in self.threads), "a writer did not stop"

    def check(self, dsn: DSN) -> None:
        assert not self.errors, self.errors[:3]
        assigns = [a for a in self.acked if a.startswith("assign ")]
        replies = [a for a in self.acked if not a.startswith("assign ")]
        assert len(replies) > 20, "the writers did not run through the copy"
        notes = dict(
            _q(dsn, "SELECT note, COUNT(*) FROM ticket_logs WHERE note LIKE 'w%%-%%' GROUP BY note")
        )
        assert sorted(notes) == sorted(replies)  # every acknowledged call, nothing else
        assert set(notes.values()) == {1}  # exactly one log row each
        assert violations(dsn, self.tickets) == []
        ids = ", ".join(map(str, self.tickets))
        logged = _q(
            dsn,
            "SELECT COUNT(*) FROM ticket_logs WHERE action_type = 'assign' "
            f"AND ticket_id IN ({ids})",
        )
        assert logged[0][0] == len(assigns)  # every acknowledged assign logged exactly once
        # replayed status = current status: pending until the first assign log, then processing
        replayed = dict(
            _q(
                dsn,
                "SELECT t.id, IF(SUM(l.action_type = 'assign') > 0, 'processing', 'pending') "
                f"FROM service_tickets t LEFT JOIN ticket_logs l ON l.ticket_id = t.id "
                f"WHERE t.id IN ({ids}) GROUP BY t.id",
            )
        )
        current = dict(
            _q(dsn, f"SELECT id, current_status FROM service_tickets WHERE id IN ({ids})")
        )
        assert replayed == current


def test_each_alter_takes_its_path_and_triggers_partitions_survive(
    seeded: tuple[DSN, Project],
) -> None:
    dsn, project = seeded
    before_triggers, before_parts = _triggers(dsn), _partitions(dsn)
    _migration(
        project,
        "0050_paths",
        "\n".join(
            [
                "ALTER TABLE ticket_logs ADD COLUMN osc_x INT NULL;",  # INSTANT
                "ALTER TABLE ticket_logs ADD INDEX idx_osc_agent (agent_id);",  # INPLACE, LOCK=NONE
                "CREATE TABLE osc_tiny (id INT PRIMARY KEY, v VARCHAR(10));",
                "ALTER TABLE osc_tiny MODIFY id BIGINT NOT NULL;",  # blocking, small: direct
                "ALTER TABLE service_tickets MODIFY title VARCHAR(190) NOT NULL;",  # online copy
                "ALTER TABLE ticket_logs MODIFY note VARCHAR(400) NULL;",  # online, partitioned
            ]
        ),
        "\n".join(
            [
                "ALTER TABLE ticket_logs DROP COLUMN osc_x;",
                "ALTER TABLE ticket_logs DROP INDEX idx_osc_agent;",
                "DROP TABLE osc_tiny;",
                "SELECT 1;",
                "ALTER TABLE service_tickets MODIFY title VARCHAR(200) NOT NULL;",
                "ALTER TABLE ticket_logs MODIFY note VARCHAR(500) NULL;",
            ]
        ),
    )
    res = run("migrate", "plan", "--check-ddl", "--json", "--dsn", dsn.url(), "--project",
              str(project.root))  # fmt: skip
    paths = {(c["table"], " ".join(c["statement"].split()[3:5])): c["path"]
             for c in json.loads(res.stdout)["ddl_checks"]}  # fmt: skip
    assert paths[("ticket_logs", "ADD COLUMN")] == "INSTANT"
    assert paths[("ticket_logs", "ADD INDEX")] == "INPLACE LOCK=NONE"
    assert paths[("service_tickets", "MODIFY title")].startswith("online copy through")
    assert paths[("ticket_logs", "MODIFY note")].startswith("online copy through")
    said: list[str] = []
    mig.up(dsn, project, progress=said.append)
    text = "\n".join(said)
    assert "ticket_logs: INSTANT (0050_paths step 1)" in text
    assert "ticket_logs: INPLACE LOCK=NONE (0050_paths step 2)" in text
    assert "osc_tiny: blocking direct (0050_paths step 4)" in text
    assert "service_tickets: online copy (0050_paths step 5)" in text
    assert "ticket_logs: online copy (0050_paths step 6)" in text
    assert _column(dsn, "service_tickets", "title") == "varchar(190)"
    assert _column(dsn, "ticket_logs", "note") == "varchar(400)"
    assert _triggers(dsn) == before_triggers  # same set, same bodies, same tables
    assert _partitions(dsn) == before_parts
    assert _leftovers(dsn) == []
    assert int(scalar(connect(dsn), "SELECT COUNT(*) FROM service_tickets")) == TICKETS
    # the moved triggers fire on the new tables: the state machine still refuses and numbers
    ids = open_tickets(dsn, 1, "osc")
    with Workflow.open(dsn) as wf:
        wf.assign(ids[0], 5)
        wf.reply(ids[0], 5, "after")
        with pytest.raises(TicketdbError, match="reopen rejected"):
            wf.reopen(ids[0], 5)
    assert _q(
        dsn, "SELECT current_status, log_seq FROM service_tickets WHERE id = %s", (ids[0],)
    ) == [("processing", 2)]
    drift = run("drift", "--dsn", dsn.url(), "--project", str(project.root))
    assert drift.returncode == 0, clean(drift)
    # and back: a rollback's ALTERs take their paths too (a rollback file runs in file order)
    _migration(project, "0051_widen",
               "ALTER TABLE service_tickets MODIFY title VARCHAR(210) NOT NULL;",
               "ALTER TABLE service_tickets MODIFY title VARCHAR(190) NOT NULL;")  # fmt: skip
    said.clear()
    mig.up(dsn, project, progress=said.append)
    assert "service_tickets: INSTANT (0051_widen step 1)" in "\n".join(said)
    res = run("migrate", "plan", "--down", "--check-ddl", "--json", "--dsn", dsn.url(),
              "--project", str(project.root))  # fmt: skip
    assert res.returncode == 0, clean(res)
    checks = json.loads(res.stdout)["ddl_checks"]
    assert [(c["migration"], c["table"], c["algorithm"]) for c in checks] == [
        ("0051_widen", "service_tickets", "COPY")
    ]
    assert checks[0]["path"].startswith("online copy through"), checks
    said.clear()
    mig.down(dsn, project, progress=said.append)  # narrowing again: a table copy
    assert "service_tickets: online copy (0051_widen step 1)" in "\n".join(said)
    assert _column(dsn, "service_tickets", "title") == "varchar(190)"
    assert _triggers(dsn) == before_triggers and _leftovers(dsn) == []
    said.clear()
    mig.down(dsn, project, allow_data_loss=True, progress=said.append)
    text = "\n".join(said)
    assert "ticket_logs: INSTANT (0050_paths step 1)" in text  # DROP COLUMN osc_x
    assert "service_tickets: INSTANT (0050_paths step 5)" in text  # widening back
    assert _column(dsn, "service_tickets", "title") == "varchar(200)"
    assert _column(dsn, "ticket_logs", "note") == "varchar(500)"
    assert _triggers(dsn) == before_triggers and _partitions(dsn) == before_parts
    assert _leftovers(dsn) == []
    assert int(scalar(connect(dsn), "SELECT COUNT(*) FROM service_tickets")) == TICKETS + 1
    for name in ("0050_paths", "0051_widen"):  # the repo's head is where the server is again
        for suffix in (".sql", ".rollback.sql"):
            (project.migrations / f"{name}{suffix}").unlink()
    drift = run("drift", "--dsn", dsn.url(), "--project", str(project.root))
    assert drift.returncode == 0, clean(drift)


def test_a_second_copy_of_a_table_in_one_run_is_not_taken_for_a_small_table(
    seeded: tuple[DSN, Project],
) -> None:
    """Right after an online copy rebuilt a table, the server's row estimate for it can be 0:
    the next blocking ALTER of it counts the rows instead of running directly as "small"."""
    dsn, project = seeded
    _migration(project, "0050_twice",
               "ALTER TABLE service_tickets MODIFY title VARCHAR(190) NOT NULL;\n"
               "ALTER TABLE service_tickets MODIFY title VARCHAR(180) NOT NULL;",
               "ALTER TABLE service_tickets MODIFY title VARCHAR(200) NOT NULL;\n"
               "ALTER TABLE service_tickets MODIFY title VARCHAR(190) NOT NULL;")  # fmt: skip
    said: list[str] = []
    mig.up(dsn, project, progress=said.append)
    assert "service_tickets: online copy (0050_twice step 1)" in said
    assert "service_tickets: online copy (0050_twice step 2)" in said, said
    assert _column(dsn, "service_tickets", "title") == "varchar(180)"
    assert _leftovers(dsn) == []


def test_a_python_migrations_rollback_alter_takes_its_path_too(
    seeded: tuple[DSN, Project],
) -> None:
    """A Python migration's SQL steps are probed too (`migrate plan --down --check-ddl` lists
    its rollback ALTER, with the line in the .py file), and its rollback ALTER is routed when
    it runs."""
    dsn, project = seeded
    (project.migrations / "0050_py.py").write_text(
        f'"""depends: {_last_sql_migration(project)}"""\nfrom yoyo import step\n\nsteps = [step(\n'
        '    "ALTER TABLE ticket_logs ADD COLUMN py_x INT NULL",\n'
        '    "ALTER TABLE ticket_logs DROP COLUMN py_x",\n)]\n'
    )
    mig.up(dsn, project)
    res = run("migrate", "plan", "--down", "--check-ddl", "--json", "--dsn", dsn.url(),
              "--project", str(project.root))  # fmt: skip
    assert res.returncode == 0, clean(res)
    checks = json.loads(res.stdout)["ddl_checks"]
    assert [(c["migration"], c["line"], c["table"], c["statement"], c["algorithm"])
            for c in checks] == [("0050_py", 6, "ticket_logs",
                                  "ALTER TABLE ticket_logs DROP COLUMN py_x", "INSTANT")], checks
    said: list[str] = []
    mig.down(dsn, project, progress=said.append)
    assert "ticket_logs: INSTANT (0050_py step 1)" in said, said
    assert _q(dsn, "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = "
              "DATABASE() AND column_name = 'py_x'") == [(0,)]  # fmt: skip


def test_refused_before_any_change(seeded: tuple[DSN, Project]) -> None:
    dsn, project = seeded
    _migration(
        project,
        "0050_nopk",
        "\n".join(
            [
                "CREATE TABLE osc_nopk (a INT, b VARCHAR(10));",
                "INSERT INTO osc_nopk SELECT id, 'x' FROM service_tickets;",
            ]
        ),
        "DROP TABLE osc_nopk;\nSELECT 1;",
    )
    mig.up(dsn, project)
    _migration(
        project,
        "0051_refused",
        "\n".join(
            [
                "ALTER TABLE ticket_logs ADD COLUMN osc_y INT NULL;",
                "ALTER TABLE osc_nopk MODIFY a BIGINT;",
            ]
        ),
        "ALTER TABLE ticket_logs DROP COLUMN osc_y;\nSELECT 1;",
    )
    res = run("migrate", "plan", "--check-ddl", "--json", "--dsn", dsn.url(), "--project",
              str(project.root))  # fmt: skip
    paths = [c["path"] for c in json.loads(res.stdout)["ddl_checks"]]
    assert paths[0] == "INSTANT"
    assert paths[1].startswith("refused without --allow-blocking: osc_nopk has no primary")
    res = run("migrate", "up", "--dsn", dsn.url(), "--project", str(project.root))
    out = clean(res)
    assert res.returncode == 1, out
    assert "refused before any change" in out and "osc_nopk has no primary or unique key" in out
    assert "--allow-blocking" in out and " rows, " in out and "locks it ~" in out
    assert _q(
        dsn,
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = "
        "DATABASE() AND column_name = 'osc_y'",
    ) == [(0,)]
    (project.migrations / "0051_refused.sql").unlink()
    (project.migrations / "0051_refused.rollback.sql").unlink()
    _migration(
        project,
        "0051_unique",
        "ALTER TABLE service_tickets ADD UNIQUE KEY uq_osc (customer_id);",
        "ALTER TABLE service_tickets DROP INDEX uq_osc;",
    )
    res = run("migrate", "up", "--dsn", dsn.url(), "--project", str(project.root))
    assert res.returncode == 1 and "duplicate rows" in clean(res)
    assert _leftovers(dsn) == []
    # a rollback too: its narrowing needs a table copy, which a table without a key cannot get
    (project.migrations / "0051_unique.sql").unlink()
    (project.migrations / "0051_unique.rollback.sql").unlink()
    _migration(project, "0051_widen", "ALTER TABLE osc_nopk MODIFY b VARCHAR(20);",
               "ALTER TABLE osc_nopk MODIFY b VARCHAR(10);")  # fmt: skip
    mig.up(dsn, project)
    where = ("--dsn", dsn.url(), "--project", str(project.root))
    res = run("migrate", "down", "--yes", *where)
    out = clean(res)
    assert res.returncode == 1, out
    assert "refused before any change" in out and "0051_widen step 1" in out
    assert "osc_nopk has no primary or unique key" in out and "--allow-blocking" in out
    assert _column(dsn, "osc_nopk", "b") == "varchar(20)"  # nothing rolled back
    assert _q(dsn, "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = "
              "DATABASE()")[0][0] > 0  # the objects were not dropped either  # fmt: skip
    res = run("migrate", "down", "--yes", "--allow-blocking", *where)
    assert res.returncode == 0, clean(res)
    assert "osc_nopk: blocking ALTER run directly (--allow-blocking" in clean(res)
    assert _column(dsn, "osc_nopk", "b") == "varchar(10)"


def test_writers_run_through_copy_and_swap_exactly_once(seeded: tuple[DSN, Project]) -> None:
    dsn, project = seeded
    tickets = open_tickets(dsn, 40, "osc")
    with Writers(dsn, tickets) as w:
        time.sleep(0.3)
        r1 = run_online_alter(dsn, "ticket_logs", "MODIFY note VARCHAR(450) NULL", project=project)
        r2 = run_online_alter(
            dsn, "service_tickets", "MODIFY title VARCHAR(180) NOT NULL", project=project
        )
        time.sleep(0.3)
    w.check(dsn)
    print(f"one server: {r1.as_dict()} {r2.as_dict()} longest gap {w.longest_gap():.3f}s")
    for r in (r1, r2):
        assert r.checksum_ok and r.rows_copied > 0 and r.swap_seconds < 5
    assert _leftovers(dsn) == []


def test_checker_catches_the_naive_trigger_move(
    seeded: tuple[DSN, Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pt-osc's --preserve-triggers moves one trigger at a time while its copy trigger feeds the
    new table: its first move, done here by hand at the point it would (after the copy), and one
    workflow call in between fails (the AFTER trigger reads the number the moved BEFORE trigger
    no longer sets) — a violation the writers' check reports. Our fence then moves every own
    trigger by name (wherever it is) inside its lock, so the run still ends whole."""
    dsn, project = seeded
    tickets = open_tickets(dsn, 1, "osc")
    before = _triggers(dsn)
    with paused_alter(dsn, project, "ticket_logs", "MODIFY note VARCHAR(450) NULL",
                      "verifying", tmp_path / "pause", monkeypatch) as errors:  # fmt: skip
        conn = connect(dsn)
        with conn.cursor() as cur:  # what create_trigger_sql does for the first trigger
            body = before["ticket_logs_before_insert"][1]
            cur.execute("LOCK TABLES _ticket_logs_new WRITE, ticket_logs WRITE")
            cur.execute("DROP TRIGGER ticket_logs_before_insert")
            cur.execute(
                body.replace("ON `ticket_logs`", "ON `_ticket_logs_new`").replace(
                    "ON ticket_logs", "ON _ticket_logs_new"
                )
            )
            cur.execute("UNLOCK TABLES")
        conn.close()
        failed: list[BaseException] = []
        with Workflow.open(dsn) as wf:
            try:  # the before trigger moved, the after trigger not: the call breaks
                wf.reply(tickets[0], 7, "between two moves")
            except TicketdbError as exc:
                failed.append(exc)
        # what Writers.check asserts (no failed call, numbering intact) catches it
        assert failed or violations(dsn, tickets, "_ticket_logs_new") != []
    # the fence drops each own trigger by name wherever it is and creates it on the copy: the
    # hand-moved one is moved once more, the end state is whole
    assert not errors, errors
    assert _triggers(dsn) == before and _leftovers(dsn) == []
    assert violations(dsn, tickets) == []


def test_checksum_catches_a_row_changed_behind_the_copy(
    seeded: tuple[DSN, Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn, project = seeded
    before = _q(dsn, "SELECT id, customer_id, title FROM service_tickets ORDER BY id")
    with paused_alter(dsn, project, "service_tickets", "MODIFY title VARCHAR(180) NOT NULL",
                      "verifying", tmp_path / "pause", monkeypatch) as errors:  # fmt: skip
        _q(dsn, "UPDATE _service_tickets_new SET customer_id = customer_id + 1 WHERE id = 2500")
        _q(dsn, "DELETE FROM _service_tickets_new WHERE id = 2600")
    assert errors, "the swap went ahead"
    assert "differs from the original in chunk 1 (id 1..3000)" in str(errors[0])
    # and names the rows: one changed, one missing from the copy
    assert "(id 2500 differs; id 2600 only in service_tickets)" in str(errors[0]), errors[0]
    assert _column(dsn, "service_tickets", "title") == "varchar(200)"
    assert _q(dsn, "SELECT id, customer_id, title FROM service_tickets ORDER BY id") == before
    assert _leftovers(dsn) == []


def test_the_partition_lease_is_held_and_renewed_through_a_long_copy(
    seeded: tuple[DSN, Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of ticket_logs keeps partition maintenance (the event, `partitions ensure`) out
    for as long as it runs, not for the lease's TTL only: a REORGANIZE of the original during
    the copy would leave the copy with another partition list."""
    dsn, project = seeded
    monkeypatch.setattr(partitions, "MAINTENANCE_TTL", 3)
    with paused_alter(dsn, project, "ticket_logs", "MODIFY note VARCHAR(450) NULL",
                      "copying", tmp_path / "pause", monkeypatch) as errors:  # fmt: skip
        time.sleep(5)  # past the 3 s TTL: only renewals can keep the lease
        other = connect(dsn)
        try:
            with (
                pytest.raises(TicketdbError, match="running elsewhere"),
                partitions.maintenance_lock(other, "ticket_logs", timeout=1),
            ):
                pass
        finally:
            other.close()
    assert not errors, errors
    assert _column(dsn, "ticket_logs", "note") == "varchar(450)"
    other = connect(dsn)  # and given back at the end
    try:
        with partitions.maintenance_lock(other, "ticket_logs", timeout=1):
            pass
    finally:
        other.close()


def _kill_9_at(dsn: DSN, point: str, tmp_path: Path, *command: str) -> None:
    """Run ``command`` until its online copy of service_tickets pauses at ``point``, kill -9
    it, and wait for pt-online-schema-change to die with it."""
    pause = tmp_path / "pause"
    env = {engine.PAUSE_ENV: point, engine.PAUSE_FILE_ENV: str(pause)}
    proc = start(*command, env=env)
    try:
        wait_for(pause.exists, 120, f"{' '.join(command[:2])} to pause at {point}", proc)
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_for(
        lambda: not _q(dsn, "SELECT 1 FROM information_schema.processlist WHERE info LIKE "
                       "'%%_service_tickets_new%%' AND id <> CONNECTION_ID()"),
        30, "pt-osc to die with its parent",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("point", "undo"),
    [("copying", False), ("verifying", True), ("mid-swap", False)],
)
def test_kill_9_then_repair_leaves_old_or_new_and_drift_clean(
    seeded: tuple[DSN, Project], tmp_path: Path, point: str, undo: bool
) -> None:
    dsn, project = seeded
    _migration(
        project,
        "0050_title",
        "ALTER TABLE service_tickets MODIFY title VARCHAR(190) NOT NULL;",
        "ALTER TABLE service_tickets MODIFY title VARCHAR(200) NOT NULL;",
    )
    before = _triggers(dsn)
    args = ["--dsn", dsn.url(), "--project", str(project.root)]
    _kill_9_at(dsn, point, tmp_path, "migrate", "up", *args)
    if point == "mid-swap":  # fail closed until repair: writes are refused, never run bare
        with pytest.raises(Exception, match="being swapped"):
            open_tickets(dsn, 1, "osc")
    res = run("migrate", "up", *args)
    assert res.returncode == 1 and "migrate repair" in clean(res)
    st = run("migrate", "status", *args)  # names the stopped copy and what is in service
    phase = {"copying": "copying", "verifying": "verifying", "mid-swap": "swapping"}[point]
    said = " ".join(clean(st).split())
    assert st.returncode == 0 and f"online copy of service_tickets (step 1 of 0050_title) " \
        f"stopped while {phase}" in said, said  # fmt: skip
    assert ("refuses writes" in said) == (point == "mid-swap")
    assert "a migrate is running" not in said
    copies = json.loads(run("migrate", "status", "--json", *args).stdout)["online_copies"]
    assert [(c["table"], c["phase"]) for c in copies] == [("service_tickets", phase)]
    if point == "copying":  # drift reports the remains until repair
        drift = run("drift", *args)
        assert drift.returncode == 1 and "_service_tickets_new" in clean(drift)
    res = run("migrate", "repair", *(["--undo"] if undo else []), *args)
    assert res.returncode == 0, clean(res)
    assert "online copy of service_tickets" in res.stdout + res.stderr
    assert _leftovers(dsn) == []
    assert _triggers(dsn) == before
    expected = "varchar(200)" if undo else "varchar(190)"
    assert _column(dsn, "service_tickets", "title") == expected
    res = run("migrate", "up", *args)
    assert res.returncode == 0, clean(res)
    assert json.loads(run("migrate", "status", "--json", *args).stdout)["online_copies"] == []
    ids = open_tickets(dsn, 1, "osc")
    with Workflow.open(dsn) as wf:
        wf.assign(ids[0], 3)
    assert violations(dsn, ids) == []
    drift_dsn = dsn.url()
    if not undo:
        drift = run("drift", "--dsn", drift_dsn, "--project", str(project.root))
        assert drift.returncode == 0, clean(drift)
    os.environ.pop(engine.PAUSE_ENV, None)


@pytest.mark.parametrize("undo", [False, True])
def test_kill_9_of_a_rollback_copy_then_repair_then_up_is_whole_again(
    seeded: tuple[DSN, Project], tmp_path: Path, undo: bool
) -> None:
    """`migrate down` killed while its rollback ALTER copies the table (after it dropped the
    repeatable objects): repair finishes (or undoes) the rollback, `up` brings the rest back."""
    dsn, project = seeded
    _migration(project, "0050_widen",
               "ALTER TABLE service_tickets MODIFY title VARCHAR(210) NOT NULL;",
               "ALTER TABLE service_tickets MODIFY title VARCHAR(200) NOT NULL;")  # fmt: skip
    args = ["--dsn", dsn.url(), "--project", str(project.root)]
    assert run("migrate", "up", *args).returncode == 0
    before = _triggers(dsn)
    _kill_9_at(dsn, "copying", tmp_path, "migrate", "down", "--yes", *args)
    res = run("migrate", "down", "--yes", *args)
    assert res.returncode == 1 and "migrate repair" in clean(res)
    res = run("migrate", "repair", *(["--undo"] if undo else []), *args)
    assert res.returncode == 0, clean(res)
    assert "online copy of service_tickets" in res.stdout + res.stderr
    assert f"{'undid' if undo else 'finished'} the interrupted rollback of 0050_widen" in clean(res)
    assert _leftovers(dsn) == []
    assert _column(dsn, "service_tickets", "title") == ("varchar(210)" if undo else "varchar(200)")
    res = run("migrate", "up", *args)  # re-applies it (finished) and the dropped objects
    assert res.returncode == 0, clean(res)
    assert _column(dsn, "service_tickets", "title") == "varchar(210)"
    assert _triggers(dsn) == before and _leftovers(dsn) == []
    ids = open_tickets(dsn, 1, "osc")
    with Workflow.open(dsn) as wf:
        wf.assign(ids[0], 3)
    assert violations(dsn, ids) == []
    drift = run("drift", *args)
    assert drift.returncode == 0, clean(drift)
    os.environ.pop(engine.PAUSE_ENV, None)


@pytest.mark.galera
@pytest.mark.timeout(900)
def test_galera_writer_on_another_node_and_every_node_on_the_new_schema(
    galera_database: Any, project_copy: Project
) -> None:
    project = _project(project_copy)
    with galera_database("g_osc") as dsns:
        mig.up(dsns[0], project)
        seed(dsns[0], project, SeedSpec(tickets=2000, months=3))
        node_synced(dsns[1])
        before = _triggers(dsns[0])
        tickets = open_tickets(dsns[1], 30, "osc")
        said: list[str] = []
        with Writers(dsns[1], tickets, n=2) as w:  # node 2 writes, node 1 migrates
            time.sleep(0.3)
            r = run_online_alter(dsns[0], "ticket_logs", "MODIFY note VARCHAR(450) NULL",
                                 project=project, say=said.append)  # fmt: skip
            time.sleep(0.3)
        assert r.galera and r.checksum_ok, said
        w.check(dsns[1])
        for d in dsns:  # no node left on another schema, or with the copy's remains
            assert _column(d, "ticket_logs", "note") == "varchar(450)"
            assert _triggers(d) == before
            assert _leftovers(d) == []
        print(f"galera: {r.as_dict()} longest gap {w.longest_gap():.3f}s retries {w.retries}")


def test_sigterm_during_the_copy_stops_it_cleanly_and_says_how_to_resume(
    seeded: tuple[DSN, Project], tmp_path: Path
) -> None:
    dsn, project = seeded
    _migration(
        project,
        "0050_title",
        "ALTER TABLE service_tickets MODIFY title VARCHAR(190) NOT NULL;",
        "ALTER TABLE service_tickets MODIFY title VARCHAR(200) NOT NULL;",
    )
    pause = tmp_path / "pause"
    env = {engine.PAUSE_ENV: "copying", engine.PAUSE_FILE_ENV: str(pause)}
    args = ["--dsn", dsn.url(), "--project", str(project.root)]
    proc = start("migrate", "up", *args, env=env)
    try:
        wait_for(pause.exists, 120, "migrate up to pause while copying", proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, out + err  # 128 + SIGTERM, as every ticketdb command
    assert "Traceback" not in err and "migrate repair" in err
    assert _leftovers(dsn) == []  # pt-osc stopped, its triggers and the copy removed
    assert _column(dsn, "service_tickets", "title") == "varchar(200)"
    res = run("migrate", "up", *args)
    assert res.returncode == 1 and "migrate repair" in clean(res)
    res = run("migrate", "repair", *args)  # resumes: runs the copy again
    assert res.returncode == 0, clean(res)
    assert _column(dsn, "service_tickets", "title") == "varchar(190)"
    assert _leftovers(dsn) == []


@pytest.mark.galera
@pytest.mark.timeout(900)
def test_galera_a_node_that_cannot_get_the_own_triggers_stops_the_swap(
    galera_database: Any, project_copy: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside the fence (the table renamed away on every node) the own triggers are moved to
    the copy and every node must hold them; when one cannot be mended, the original goes back
    in service under its name with its triggers on every node, and the copy is gone."""
    project = _project(project_copy)
    real = everywhere.ensure

    def fails_for_own(*args: Any, **kw: Any) -> list[str]:
        if kw.get("in_order") and args[2] == "_ticket_logs_new":  # the move into the copy
            raise TicketdbError("node X still does not list the triggers (simulated)")
        return real(*args, **kw)

    monkeypatch.setattr(everywhere, "ensure", fails_for_own)
    with galera_database("g_osc") as dsns:
        mig.up(dsns[0], project)
        seed(dsns[0], project, SeedSpec(tickets=500, months=3))
        before, note = _triggers(dsns[0]), _column(dsns[0], "ticket_logs", "note")
        with pytest.raises(TicketdbError, match="simulated"):
            run_online_alter(dsns[0], "ticket_logs", "MODIFY note VARCHAR(450) NULL",
                             project=project)  # fmt: skip
        for d in dsns:
            assert _column(d, "ticket_logs", "note") == note != "varchar(450)"
            assert _triggers(d) == before, d.address
            assert _leftovers(d) == []
        tickets = open_tickets(dsns[1], 1, "osc")  # node 2 takes writes, checked as before
        with Workflow.open(dsns[1]) as wf:
            wf.assign(tickets[0], 3)
        assert violations(dsns[1], tickets) == []


#: a dead peer during an online copy must end `migrate` within this (no long statement is
#: waited out: the watchdog asks the server every WATCH_EVERY s over a side connection)
SILENT_BOUND = 120


def test_pt_osc_statements_time_out_on_a_silent_network(seeded: tuple[DSN, Project]) -> None:
    """pt-online-schema-change's own connections carry a read timeout (DBD::mysql attributes in
    its DSN): frozen mid-copy, it fails by itself instead of blocking in recv() for ever."""
    dsn, project = seeded
    proxy = FreezingProxy((dsn.host, dsn.port))
    try:
        via = proxy.dsn(dsn)
        argv = ptosc.command(via, "service_tickets", "MODIFY title VARCHAR(190) NOT NULL",
                             ptosc.Options(read_timeout=3, connect_timeout=3))  # fmt: skip
        child = ptosc.Child.start(argv, via.password, lambda _m: None)
        try:
            child.wait_for("triggers", check=_deadline(60, "pt-osc's copy triggers"))
            proxy.freeze()
            t0 = time.monotonic()
            child.tell("go", last=False)
            with pytest.raises(TicketdbError, match="stopped .* before the copy was complete"):
                child.wait_for("waiting", check=_deadline(120, "pt-osc to give up"))
            took = time.monotonic() - t0
        finally:
            child.stop(grace=1)
    finally:
        proxy.close()
    print(f"pt-osc, dead peer mid-copy (read timeout 3 s): exited after {took:.1f}s")
    assert took < 60
    assert any("Lost connection" in line for line in child.lines), child.lines[-10:]
    conn = connect(dsn)  # its remains (its own clean-up could not reach the server either)
    try:
        own = swap.own_triggers(conn, "service_tickets", project)
        swap.restore(conn, "service_tickets", journal.new_name("service_tickets"),
                     journal.old_name("service_tickets"), own)  # fmt: skip
    finally:
        conn.close()
    assert _leftovers(dsn) == []


def _deadline(seconds: float, what: str) -> Callable[[], None]:
    end = time.monotonic() + seconds

    def check() -> None:
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")

    return check


@pytest.mark.parametrize(
    ("command", "point"),
    [("up", "triggers"), ("up", "verifying"), ("down", "triggers")],
)
def test_a_silent_network_during_the_copy_ends_migrate_in_bounded_time(
    seeded: tuple[DSN, Project], tmp_path: Path, command: str, point: str
) -> None:
    """The network goes silent while `migrate up`/`down` runs an online copy: once pt-osc holds
    its copy triggers and is told to copy (it then blocks on the dead path), or while ticketdb
    checksums the copy. The command must not wait with them: the watchdog ends it, pt-osc is
    killed, and `migrate repair` on a live route puts everything right."""
    dsn, project = seeded
    wide = "VARCHAR(190)" if command == "up" else "VARCHAR(210)"
    _migration(project, "0050_title",
               f"ALTER TABLE service_tickets MODIFY title {wide} NOT NULL;",
               "ALTER TABLE service_tickets MODIFY title VARCHAR(200) NOT NULL;")  # fmt: skip
    args = ["--dsn", dsn.url(), "--project", str(project.root)]
    if command == "down":
        assert run("migrate", "up", *args).returncode == 0
    digest = "SELECT COUNT(*), SUM(CRC32(title)) FROM service_tickets"
    before, rows = _triggers(dsn), _q(dsn, digest)
    proxy = FreezingProxy((dsn.host, dsn.port))
    pause = tmp_path / "pause"
    env = {engine.PAUSE_ENV: point, engine.PAUSE_FILE_ENV: str(pause)}
    try:
        proc = start("migrate", command, *(["--yes"] if command == "down" else []), "--dsn",
                     proxy.dsn(dsn).url(), "--project", str(project.root), env=env)  # fmt: skip
        try:
            wait_for(pause.exists, 120, f"migrate {command} to pause at {point}", proc)
            proxy.freeze()
            t0 = time.monotonic()
            pause.unlink()
            out, err = proc.communicate(timeout=SILENT_BOUND + 60)
            took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    finally:
        proxy.close()
    text = out + err
    print(f"migrate {command}, dead peer at {point}: failed after {took:.1f}s")
    assert "Traceback" not in text, text
    assert proc.returncode == 1, text
    assert took < SILENT_BOUND, text
    assert "the server stopped answering during the online copy of service_tickets" in text, text
    assert "migrate repair" in text, text
    wait_for(
        lambda: not _q(dsn, "SELECT 1 FROM information_schema.processlist WHERE info LIKE "
                       "'%%_service_tickets_new%%' AND id <> CONNECTION_ID()"),
        60, "pt-osc's statements to end",
    )  # fmt: skip
    res = run("migrate", "repair", *args)  # runs the copy again, on a live route
    assert res.returncode == 0, clean(res)
    assert _leftovers(dsn) == []
    if command == "up":
        assert _column(dsn, "service_tickets", "title") == "varchar(190)"
    else:  # the rollback finished; `up` brings back the migration and the dropped objects
        assert _column(dsn, "service_tickets", "title") == "varchar(200)"
        assert run("migrate", "up", *args).returncode == 0
        assert _column(dsn, "service_tickets", "title") == "varchar(210)"
    assert _triggers(dsn) == before and _q(dsn, digest) == rows
    drift = run("drift", *args)
    assert drift.returncode == 0, clean(drift)


def test_a_lost_lease_stops_the_copy_and_leaves_the_original(
    seeded: tuple[DSN, Project],
) -> None:
    """The caller's guard (``migrate``: its lease) is asked while pt-osc works: once it raises,
    the copy stops and the original stays in service as it was."""
    dsn, project = seeded
    before = _triggers(dsn)
    asked: list[float] = []

    def lost() -> None:
        asked.append(time.monotonic())
        raise TicketdbError("the migrate lease was taken over by another run")

    with pytest.raises(TicketdbError, match="taken over by another run"):
        run_online_alter(dsn, "service_tickets", "MODIFY title VARCHAR(190) NOT NULL",
                         project=project, guard=lost)  # fmt: skip
    assert asked
    assert _column(dsn, "service_tickets", "title") == "varchar(200)"
    assert _leftovers(dsn) == [] and _triggers(dsn) == before


def _keyless_table(dsn: DSN, rows: int = 1500) -> None:
    """``nokey``: no primary or unique key (the online copy cannot do it), above the tests'
    online_min_rows (1000)."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE nokey (a INT NOT NULL, b VARCHAR(20) NOT NULL)")
            cur.executemany("INSERT INTO nokey VALUES (%s, 'x')", [(i,) for i in range(rows)])
        conn.commit()
    finally:
        conn.close()


def _failing_second_step(project: Project, name: str, first: str, first_back: str) -> None:
    """A Python migration whose step 1 runs and whose step 2 fails (unknown column)."""
    _py_migration(project, name, [
        (first, first_back),
        ("ALTER TABLE service_tickets ADD COLUMN zz INT AFTER no_such_column", "SELECT 1"),
    ])  # fmt: skip


def test_the_undo_of_a_failed_run_takes_the_online_path_too(
    seeded: tuple[DSN, Project],
) -> None:
    """Step 1 widens a column (INSTANT), step 2 fails: undoing step 1 narrows it again, a
    blocking ALTER of a big table, so it runs as an online copy, not under a table lock."""
    dsn, project = seeded
    _failing_second_step(
        project, "0050_undo",
        "ALTER TABLE service_tickets MODIFY title VARCHAR(210) NOT NULL",
        "ALTER TABLE service_tickets MODIFY title VARCHAR(200) NOT NULL",
    )  # fmt: skip
    before = _triggers(dsn)
    said: list[str] = []
    with pytest.raises(TicketdbError, match="no_such_column"):
        mig.up(dsn, project, progress=said.append)
    assert "service_tickets: INSTANT (0050_undo step 1)" in said, said
    assert "service_tickets: online copy (0050_undo step 1)" in said, said
    assert "undid the 1 step(s) of 0050_undo that had taken effect" in said, said
    assert _column(dsn, "service_tickets", "title") == "varchar(200)"
    assert _leftovers(dsn) == [] and _triggers(dsn) == before
    st = json.loads(run("migrate", "status", "--json", "--dsn", dsn.url(), "--project",
                        str(project.root)).stdout)  # fmt: skip
    assert st["online_copies"] == [] and "0050_undo" in st["pending"], st


def test_an_undo_the_copy_cannot_do_runs_directly_with_a_warning(
    seeded: tuple[DSN, Project],
) -> None:
    """A table without a key cannot be copied online: `up` would refuse such an ALTER before
    any change, but an undo must not leave the migration half-done, so it runs the blocking
    ALTER directly and says so."""
    dsn, project = seeded
    _keyless_table(dsn)
    # an SQL migration: the preflight probes it (step 1 is INSTANT) and lets it run
    _migration(project, "0050_nokey",
               "ALTER TABLE nokey MODIFY b VARCHAR(30) NOT NULL;\n"
               "INSERT INTO no_such_table VALUES (1);",
               "SELECT 1;\nALTER TABLE nokey MODIFY b VARCHAR(20) NOT NULL;")  # fmt: skip
    said: list[str] = []
    with pytest.raises(TicketdbError, match="no_such_table"):
        mig.up(dsn, project, progress=said.append)
    warned = [s for s in said if s.startswith("warning: nokey: blocking ALTER run directly to "
                                              "undo a failed step")]  # fmt: skip
    assert warned and "no primary or unique key" in warned[0], said
    assert "undid the 1 step(s) of 0050_nokey that had taken effect" in said, said
    assert _column(dsn, "nokey", "b") == "varchar(20)"
    assert _q(dsn, "SELECT COUNT(*) FROM nokey") == [(1500,)]


def test_a_python_migrations_instant_alter_of_a_keyless_table_is_not_refused(
    seeded: tuple[DSN, Project],
) -> None:
    """The preflight probes a Python migration's SQL steps like an SQL migration's: an ALTER the
    server runs INSTANT passes on a big table the copy could not do (no key), and one that
    needs a copy is still refused before any change."""
    dsn, project = seeded
    _keyless_table(dsn)
    _py_migration(project, "0050_wide", [("ALTER TABLE nokey MODIFY b VARCHAR(30) NOT NULL",
                                           "ALTER TABLE nokey MODIFY b VARCHAR(20) NOT NULL")])
    assert mig.up(dsn, project).applied == ["0050_wide"]
    assert _column(dsn, "nokey", "b") == "varchar(30)"
    _py_migration(project, "0051_narrow", [("ALTER TABLE nokey MODIFY b VARCHAR(25) NOT NULL",
                                             "ALTER TABLE nokey MODIFY b VARCHAR(30) NOT NULL")],
                  depends="0050_wide")  # fmt: skip
    with pytest.raises(TicketdbError, match="refused before any change: 0051_narrow step 1"):
        mig.up(dsn, project)
    assert _column(dsn, "nokey", "b") == "varchar(30)"
