"""`migrate plan --check-ddl` on a real server: the algorithm and lock each pending ALTER gets,
measured on an empty copy; the live table is never touched."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ticketdb import migrate as mig
from ticketdb.catalog import show_create
from ticketdb.cli import cli
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.project import Project

BASE = """CREATE TABLE owners (id INT UNSIGNED NOT NULL PRIMARY KEY) ENGINE = InnoDB;
CREATE TABLE notes (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    n INT NOT NULL,
    body VARCHAR(20) NULL,
    kind ENUM('a', 'b') NOT NULL DEFAULT 'a'
) ENGINE = InnoDB;
INSERT INTO notes (n, body) VALUES (1, 'x'), (2, 'y'), (3, 'z');
"""
PENDING = """SET SESSION lock_wait_timeout = 5;
ALTER TABLE notes ADD COLUMN extra INT NULL;
ALTER TABLE notes ADD KEY idx_n (n), ALGORITHM = INPLACE, LOCK = NONE;
ALTER TABLE notes MODIFY n BIGINT NOT NULL;
ALTER TABLE notes ADD COLUMN owner INT UNSIGNED NULL,
    ADD CONSTRAINT fk_owner FOREIGN KEY (owner) REFERENCES owners (id);
CREATE TABLE fresh (id INT PRIMARY KEY);
ALTER TABLE fresh ADD COLUMN x INT NULL;
ALTER TABLE notes DROP COLUMN extra, ADD KEY idx_extra (extra);
"""


def _project(root: Path) -> Project:
    mig_dir = root / "migrations"
    mig_dir.mkdir(parents=True)
    (mig_dir / "0001_notes.sql").write_text(BASE)
    (mig_dir / "0001_notes.rollback.sql").write_text("DROP TABLE notes;\nDROP TABLE owners;\n")
    return Project(root)


def test_check_ddl_reports_what_the_server_accepts(db_dsn: DSN, tmp_path: Path) -> None:
    project = _project(tmp_path)
    mig.up(db_dsn, project)
    conn = connect(db_dsn)
    try:
        before = show_create(conn, "TABLE", "notes")
    finally:
        conn.close()
    (tmp_path / "migrations" / "0002_change.sql").write_text(PENDING)
    (tmp_path / "migrations" / "0002_change.rollback.sql").write_text("SELECT 1;\n")
    result = CliRunner().invoke(
        cli,
        ["--dsn", db_dsn.url(), "--project", str(tmp_path), "migrate", "plan", "--check-ddl",
         "--json"],
    )  # fmt: skip
    # the last statement names a column the statement itself drops: the server refuses it
    assert result.exit_code == 1, result.output
    checks = {c["line"]: c for c in json.loads(result.stdout)["ddl_checks"]}
    assert (checks[2]["algorithm"], checks[2]["lock"]) == ("INSTANT", "NONE")  # ADD COLUMN
    assert (checks[3]["algorithm"], checks[3]["lock"]) == ("INPLACE", "NONE")  # ADD KEY
    assert checks[4]["algorithm"] == "COPY"  # INT -> BIGINT
    assert "Cannot change column type" in checks[4]["note"]
    assert checks[2]["rows"] is not None and checks[2]["bytes"] > 0
    # ADD FOREIGN KEY: probed with its parent table copied too (COPY while fk checks are on)
    assert checks[5]["algorithm"] is not None, checks[5]
    assert checks[8]["algorithm"] is None and "new table" in checks[8]["note"]
    assert checks[9]["note"].startswith("fails on the server: ERROR 1072")  # key on dropped col
    conn = connect(db_dsn)
    try:  # nothing ran on the live table, nothing was recorded as applied
        assert show_create(conn, "TABLE", "notes") == before
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM notes")
            assert cur.fetchone()[0] == 3
    finally:
        conn.close()
    assert mig.status(db_dsn, project)["pending"] == ["0002_change"]


def test_check_ddl_with_nothing_to_probe_says_so(db_dsn: DSN, tmp_path: Path) -> None:
    project = _project(tmp_path)
    mig.up(db_dsn, project)
    result = CliRunner().invoke(
        cli, ["--dsn", db_dsn.url(), "--project", str(tmp_path), "migrate", "plan", "--check-ddl"]
    )
    assert result.exit_code == 0, result.output
    assert "no pending ALTER of an existing table" in result.output
