"""``drift --sql`` (the server back to the repo) and ``drift --write-migration NAME`` (a hand
change captured as the repo's next migration), on a real server.

Changes are made by hand with plain SQL, as a DBA would; the --sql script is run with the
mariadb/mysql command-line client, as a DBA would (our own splitter where no client exists).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from waiting import node_synced

from ticketdb import migrate as mig
from ticketdb.cli import cli
from ticketdb.db import connection
from ticketdb.drift import sql
from ticketdb.dsn import DSN
from ticketdb.migrate.checksums import CHECKSUM_TABLE
from ticketdb.project import Project
from ticketdb.server import databases
from ticketdb.sqlscript import split


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def hand(dsn: DSN, *statements: str) -> None:
    with connection(dsn) as conn, conn.cursor() as cur:
        for s in statements:
            cur.execute(s)


def drift_doc(dsn: DSN, project: Project) -> dict:
    code, out, err = run("--dsn", dsn.url(), "--project", str(project.root), "drift", "--json")
    doc = json.loads(out)
    assert code == (0 if doc["clean"] else 1), err
    return doc


def client_run(dsn: DSN, script: str) -> None:
    """The script as the command-line client runs it (DELIMITER and all)."""
    exe = shutil.which("mariadb") or shutil.which("mysql")
    if exe is None:
        with connection(dsn) as conn, conn.cursor() as cur:
            for st in split(script):
                cur.execute(st.text)
        return
    proc = subprocess.run(
        [exe, "-h", dsn.host, "-P", str(dsn.port), "-u", dsn.user, *(
            [f"-p{dsn.password}"] if dsn.password else []), dsn.database],
        input=script, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def index_columns(dsn: DSN, table: str, index: str) -> list[str]:
    with connection(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.statistics WHERE table_schema = "
            "DATABASE() AND table_name = %s AND index_name = %s ORDER BY seq_in_index",
            (table, index),
        )
        return [r[0] for r in cur.fetchall()]


def test_sql_brings_columns_partitions_indexes_and_objects_back(migrated_dsn: DSN, project) -> None:
    dsn = migrated_dsn
    hand(
        dsn,
        "ALTER TABLE service_tickets ADD KEY idx_hotfix (customer_id, created_at)",
        "ALTER TABLE service_tickets MODIFY title VARCHAR(300) NOT NULL",
        "ALTER TABLE ticket_logs DROP COLUMN request_key",
        "ALTER TABLE ticket_logs REMOVE PARTITIONING",
        "DROP PROCEDURE ticket_reply",
    )
    before = drift_doc(dsn, project)
    changed = {(d["kind"], d["name"]) for d in before["differences"]}
    assert {("table", "service_tickets"), ("table", "ticket_logs"),
            ("procedure", "ticket_reply")} <= changed  # fmt: skip

    code, script, err = run("--dsn", dsn.url(), "drift", "--sql")
    assert code == 1, err
    assert "DROP KEY `idx_hotfix`" in script
    assert "MODIFY COLUMN `title` varchar(200)" in script
    assert "ADD COLUMN `request_key` bigint" in script
    assert "ALTER TABLE `ticket_logs` PARTITION BY RANGE" in script
    assert "DROP PROCEDURE IF EXISTS `ticket_reply`" in script
    # the procedure is the repo's file, not SQL regenerated from a parse tree
    body = (project.root / "procedures" / "ticket_reply.sql").read_text()
    create = body[body.upper().index("CREATE PROCEDURE") :].strip().rstrip(";")
    assert create in script
    assert "-- destroys data" not in script  # nothing here loses data

    # --json carries the same statements
    code, out, _ = run("--dsn", dsn.url(), "drift", "--sql", "--json")
    assert code == 1 and any("idx_hotfix" in s["sql"] for s in json.loads(out)["sql"])

    client_run(dsn, script)
    assert drift_doc(dsn, project)["clean"] is True
    # and the same run again has nothing to say
    code, script, _ = run("--dsn", dsn.url(), "drift", "--sql")
    assert code == 0 and "-- no statement needed" in script


def test_sql_never_drops_data_uncommented(migrated_dsn: DSN, project) -> None:
    dsn = migrated_dsn
    hand(dsn, "ALTER TABLE service_tickets ADD COLUMN source VARCHAR(20) NULL",
         "CREATE TABLE hand_made (id INT PRIMARY KEY)")  # fmt: skip
    code, script, _ = run("--dsn", dsn.url(), "drift", "--sql")
    assert code == 1
    assert "-- ALTER TABLE `service_tickets`\n--     DROP COLUMN `source`," in script
    assert "-- DROP TABLE `hand_made`;" in script
    live = [ln for ln in script.splitlines() if not ln.startswith("--")]
    assert not any("DROP" in ln for ln in live), live
    client_run(dsn, script)  # runs, changes nothing
    doc = drift_doc(dsn, project)
    assert {(d["kind"], d["name"]) for d in doc["differences"]} == {
        ("table", "service_tickets"), ("table", "hand_made")}  # fmt: skip


def test_hotfix_index_becomes_a_migration(
    db_dsn: DSN, server_dsn: DSN, project_copy: Project, tmp_path: Path
) -> None:
    project = project_copy
    mig.up(db_dsn, project)
    hand(db_dsn, "ALTER TABLE service_tickets ADD KEY idx_hotfix (customer_id, created_at)")
    base = ["--dsn", db_dsn.url(), "--project", str(project.root), "drift"]
    before = set(p.name for p in project.migrations.iterdir())

    code, out, err = run(*base, "--write-migration", "hotfix_customer_index", "--json")
    assert code == 0, err
    doc = json.loads(out)
    new = set(p.name for p in project.migrations.iterdir()) - before
    mid = doc["migration"]
    assert mid.endswith("_hotfix_customer_index")
    assert new == {f"{mid}.sql", f"{mid}.rollback.sql"}
    text = (project.migrations / f"{mid}.sql").read_text()
    assert "ADD KEY `idx_hotfix` (`customer_id`,`created_at`)" in text
    assert "ALGORITHM = INPLACE, LOCK = NONE" in text and text.startswith("-- depends: ")
    assert "DROP KEY `idx_hotfix`" in (project.migrations / f"{mid}.rollback.sql").read_text()

    # lints clean: no finding at all in the two new files
    code, out, _ = run("--project", str(project.root), "lint", "--format", "json")
    findings = [f for f in json.loads(out) if mid in f["path"]]
    assert code == 0 and findings == []

    # recorded as applied, with its checksum, on the server it came from
    with connection(db_dsn) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT how FROM {CHECKSUM_TABLE} WHERE migration_id = %s", (mid,))
        assert cur.fetchall() == (("captured",),)
    st = mig.status(db_dsn, project)
    assert st["pending"] == [] and st["migrations"][-1]["id"] == mid
    assert drift_doc(db_dsn, project)["clean"] is True

    # a fresh database gets the index from the migration, and matches too
    with databases.scratch_database(server_dsn, "test", create=False) as fresh:
        mig.up(fresh, project)
        assert index_columns(fresh, "service_tickets", "idx_hotfix") == [
            "customer_id",
            "created_at",
        ]
        assert drift_doc(fresh, project)["clean"] is True
        mig.down(fresh, project)  # and its rollback undoes it
        assert index_columns(fresh, "service_tickets", "idx_hotfix") == []

    # idempotent: nothing left to capture, nothing written
    code, out, err = run(*base, "--write-migration", "hotfix_again")
    assert code == 0 and "nothing to capture" in out, err
    assert set(p.name for p in project.migrations.iterdir()) - before == new


def test_write_migration_refusals(migrated_dsn: DSN, project_copy: Project) -> None:
    base = ["--dsn", migrated_dsn.url(), "--project", str(project_copy.root), "drift"]
    code, _, err = run(*base, "--sql", "--write-migration", "x")
    assert code == 2 and "either --sql or --write-migration" in err
    # a bad name is refused before connecting anywhere
    code, _, err = run("--dsn", "mysql://root@127.0.0.1:1/x", "drift", "--write-migration", "9 x")
    assert code == 2 and "not an identifier" in err
    # a database behind the repo: the new migration would capture the pending ones reversed
    head = sorted(p.name for p in project_copy.migrations.glob("*.rollback.sql"))[-1]
    (project_copy.migrations / "9000_later.sql").write_text(
        f"-- depends: {head.removesuffix('.rollback.sql')}\n"
        "CREATE TABLE later (id INT PRIMARY KEY);\n"
    )
    (project_copy.migrations / "9000_later.rollback.sql").write_text("DROP TABLE later;\n")
    before = sorted(p.name for p in project_copy.migrations.iterdir())
    code, _, err = run(*base, "--write-migration", "capture_it")
    assert code == 1 and "run `ticketdb migrate up` first" in err
    assert sorted(p.name for p in project_copy.migrations.iterdir()) == before


@pytest.mark.parametrize(
    ("src", "dst", "expect"),
    [
        # a column moved: MODIFY … AFTER, nothing else
        ("CREATE TABLE `t` (\n  `a` int,\n  `b` int,\n  `c` int\n) ENGINE=InnoDB",
         "CREATE TABLE `t` (\n  `a` int,\n  `c` int,\n  `b` int\n) ENGINE=InnoDB",
         ["MODIFY COLUMN `c` int AFTER `a`"]),
        # a foreign key and a check constraint replaced, a comment changed
        ("CREATE TABLE `t` (\n  `a` int,\n  CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `p` "
         "(`id`),\n  CONSTRAINT `ck` CHECK (`a` > 0)\n) ENGINE=InnoDB COMMENT='old'",
         "CREATE TABLE `t` (\n  `a` int,\n  CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `p` "
         "(`id`) ON DELETE CASCADE,\n  CONSTRAINT `ck` CHECK (`a` > 1)\n) ENGINE=InnoDB "
         "COMMENT='new'",
         ["DROP FOREIGN KEY `fk`", "DROP CONSTRAINT `ck`", "ADD CONSTRAINT `fk` FOREIGN KEY",
          "ADD CONSTRAINT `ck` CHECK (`a` > 1)", "COMMENT='new'"]),
    ],
)  # fmt: skip
def test_alter_table_from_two_texts(src: str, dst: str, expect: list[str]) -> None:
    steps = sql.alter_table("t", src, dst)
    text = "\n".join(s.sql for s in steps)
    for part in expect:
        assert part in text, text
    assert not any(s.data_loss for s in steps)
    assert sql.alter_table("t", dst, dst) == []


@pytest.mark.galera
@pytest.mark.timeout(900)
def test_capture_and_sql_on_a_cluster(galera_database, project_copy: Project) -> None:
    """A hotfix made on node 2, captured through node 1, is recorded cluster-wide (node 3's
    drift is clean); --sql computed on node 2 and run there fixes node 3 too."""
    project = project_copy
    with galera_database("g") as (n1, n2, n3):
        mig.up(n1, project)
        node_synced(n2)
        hand(n2, "ALTER TABLE service_tickets ADD KEY idx_hotfix (customer_id, created_at)")
        code, out, err = run("--dsn", n1.url(), "--project", str(project.root), "drift",
                             "--write-migration", "hotfix_on_cluster", "--json")  # fmt: skip
        assert code == 0, err
        mid = json.loads(out)["migration"]
        assert mid in {r["id"] for r in mig.status(n3, project)["migrations"] if r["applied"]}
        assert drift_doc(n3, project)["clean"] is True

        hand(n1, "ALTER TABLE service_tickets MODIFY title VARCHAR(300) NOT NULL")
        code, script, err = run("--dsn", n2.url(), "--project", str(project.root), "drift",
                                "--sql")  # fmt: skip
        assert code == 1 and "MODIFY COLUMN `title` varchar(200)" in script, err
        client_run(n2, script)
        assert drift_doc(n3, project)["clean"] is True


_RANGED = ("CREATE TABLE `l` (\n  `id` int NOT NULL,\n  `t` datetime NOT NULL,\n"
           "  PRIMARY KEY (`id`,`t`)\n) ENGINE=InnoDB\n"
           " PARTITION BY RANGE (to_days(`t`))\n(PARTITION `p202611` VALUES LESS THAN (740316) "
           "ENGINE = InnoDB{extra})")  # fmt: skip
_CATCH_ALL = ",\n PARTITION `p_future` VALUES LESS THAN MAXVALUE ENGINE = InnoDB"


def test_partition_steps_from_two_texts() -> None:
    with_catch_all, without = _RANGED.format(extra=_CATCH_ALL), _RANGED.format(extra="")
    # only the catch-all is missing: added, month partitions left to maintenance
    (step,) = sql.alter_table("l", without, with_catch_all)
    assert step.sql == ("ALTER TABLE `l` ADD PARTITION (PARTITION `p_future` VALUES LESS THAN "
                        "MAXVALUE ENGINE = InnoDB)") and not step.data_loss  # fmt: skip
    # the other way the catch-all's rows would go: data loss
    (step,) = sql.alter_table("l", with_catch_all, without)
    assert step.sql == "ALTER TABLE `l` DROP PARTITION `p_future`" and step.data_loss
    # different month partitions are not a difference
    other_months = with_catch_all.replace("p202611", "p202612").replace("740316", "740347")
    assert sql.alter_table("l", with_catch_all, other_months) == []
    # no partitioning on one side
    plain = with_catch_all.split("\n PARTITION BY")[0]
    (step,) = sql.alter_table("l", with_catch_all, plain)
    assert step.sql == "ALTER TABLE `l` REMOVE PARTITIONING"
    (step,) = sql.alter_table("l", plain, with_catch_all)
    assert step.sql.startswith("ALTER TABLE `l` PARTITION BY RANGE (to_days(`t`))")
    assert "`p_future` VALUES LESS THAN MAXVALUE" in step.sql
