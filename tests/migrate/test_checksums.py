"""Checksums of applied migrations: edits, deletions and renames are refused by up/down/plan/
status (exit 1, each file listed) until `repair --accept-checksums`; CRLF-only changes are not
edits; a database migrated before checksums were kept gets them recorded once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ticketdb import migrate as mig
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.checksums import CHECKSUM_TABLE, text_checksum
from ticketdb.project import Project


def small_project(root: Path) -> Project:
    m = root / "migrations"
    m.mkdir(parents=True)
    (m / "0001_fa.sql").write_text("CREATE TABLE fa (id INT PRIMARY KEY);\n")
    (m / "0001_fa.rollback.sql").write_text("DROP TABLE fa;\n")
    (m / "0002_fb.sql").write_text(
        "-- depends: 0001_fa\nCREATE TABLE fb (id INT PRIMARY KEY, note VARCHAR(20));\n"
    )
    (m / "0002_fb.rollback.sql").write_text("DROP TABLE fb;\n")
    (m / "0003_fc.sql").write_text("-- depends: 0002_fb\nCREATE TABLE fc (id INT PRIMARY KEY);\n")
    (m / "0003_fc.rollback.sql").write_text("DROP TABLE fc;\n")
    return Project(root)


@pytest.fixture
def proj(tmp_path: Path) -> Project:
    return small_project(tmp_path / "proj")


def cli(dsn: DSN, project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    res = subprocess.run(
        [sys.executable, "-m", "ticketdb", "migrate", *args, "--dsn", dsn.url(),
         "--project", str(project.root)],  # fmt: skip
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in res.stderr, res.stderr
    return res


def recorded(dsn: DSN) -> dict[str, tuple[str, str | None, str]]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT migration_id, checksum, rollback_checksum, how FROM {CHECKSUM_TABLE}"
            )
            return {r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()}
    finally:
        conn.close()


def test_up_records_checksums_in_the_same_run_and_down_forgets_them(
    db_dsn: DSN, proj: Project
) -> None:
    mig.up(db_dsn, proj)
    rec = recorded(db_dsn)
    m = proj.migrations
    assert rec["0002_fb"][0] == text_checksum((m / "0002_fb.sql").read_bytes())
    assert rec["0002_fb"][1] == text_checksum((m / "0002_fb.rollback.sql").read_bytes())
    assert set(rec) == {"0001_fa", "0002_fb", "0003_fc"}
    mig.down(db_dsn, proj)
    assert set(recorded(db_dsn)) == {"0001_fa", "0002_fb"}


@pytest.mark.parametrize("command", ["up", "down", "plan", "status"])
def test_an_edited_applied_migration_is_refused_listing_the_file(
    db_dsn: DSN, proj: Project, command: str
) -> None:
    mig.up(db_dsn, proj, to="0002")
    path = proj.migrations / "0002_fb.sql"
    before = text_checksum(path.read_bytes())
    path.write_text(path.read_text().replace("VARCHAR(20)", "VARCHAR(40)"))
    res = cli(db_dsn, proj, command)  # down: refused before it would ask for --yes
    assert res.returncode == 1, res.stderr
    assert "0002_fb.sql: applied " in res.stderr
    assert f"recorded sha256 {before[:16]}" in res.stderr
    assert f"now sha256 {text_checksum(path.read_bytes())[:16]}" in res.stderr
    assert "--accept-checksums" in res.stderr
    # nothing was done: 0003 still pending, 0002 still applied
    st = {r["id"]: r["applied"] for r in json.loads(
        cli(db_dsn, proj, "status", "--json").stdout or "{}").get("migrations", [])}  # fmt: skip
    assert st == {}  # status refuses too
    conn = connect(db_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id")
        assert [r[0] for r in cur.fetchall()] == ["0001_fa", "0002_fb"]
    conn.close()


def test_edited_rollback_file_and_accept(db_dsn: DSN, proj: Project) -> None:
    mig.up(db_dsn, proj)
    (proj.migrations / "0001_fa.rollback.sql").write_text("DROP TABLE IF EXISTS fa;\n")
    (proj.migrations / "0003_fc.sql").write_text("-- depends: 0002_fb\nCREATE TABLE fc (id INT);\n")
    with pytest.raises(TicketdbError) as err:
        mig.up(db_dsn, proj)
    assert "0001_fa.rollback.sql: applied" in str(err.value)
    assert "0003_fc.sql: applied" in str(err.value)
    res = cli(db_dsn, proj, "repair", "--accept-checksums", "0003")
    assert res.returncode == 0, res.stderr
    assert "0003_fc.sql: accepted sha256" in res.stderr
    assert cli(db_dsn, proj, "status").returncode == 1  # 0001's rollback is still refused
    res = cli(db_dsn, proj, "repair", "--accept-checksums", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["repaired"] == [
        f"0001_fa.rollback.sql: accepted sha256 "
        f"{text_checksum(b'DROP TABLE IF EXISTS fa;' + bytes([10]))[:16]} "
        f"(was {text_checksum(b'DROP TABLE fa;' + bytes([10]))[:16]})"
    ]
    assert recorded(db_dsn)["0001_fa"][2] == "accepted"
    assert cli(db_dsn, proj, "status").returncode == 0
    res = cli(db_dsn, proj, "repair", "--accept-checksums", "0002")
    assert res.returncode == 2 and "no checksum mismatch for 0002_fb" in res.stderr


def test_crlf_only_change_is_the_same_migration(db_dsn: DSN, proj: Project) -> None:
    mig.up(db_dsn, proj)
    for path in proj.migrations.iterdir():
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert cli(db_dsn, proj, "status").returncode == 0
    assert mig.up(db_dsn, proj).applied == []
    assert mig.down(db_dsn, proj).rolled_back == ["0003_fc"]


def test_deleted_and_renamed_applied_migrations(db_dsn: DSN, proj: Project) -> None:
    mig.up(db_dsn, proj)
    m = proj.migrations
    (m / "0003_fc.sql").rename(m / "0004_fc.sql")
    (m / "0003_fc.rollback.sql").rename(m / "0004_fc.rollback.sql")
    res = cli(db_dsn, proj, "up")
    assert res.returncode == 1
    assert "0003_fc.sql: applied" in res.stderr and "renamed to 0004_fc" in res.stderr
    res = cli(db_dsn, proj, "repair", "--accept-checksums")
    assert res.returncode == 0 and "accepted the rename to 0004_fc" in res.stderr
    assert mig.status(db_dsn, proj)["pending"] == []  # not applied a second time
    assert "0004_fc" in recorded(db_dsn)

    (m / "0004_fc.sql").unlink()
    (m / "0004_fc.rollback.sql").unlink()
    res = cli(db_dsn, proj, "plan")
    assert res.returncode == 1 and "0004_fc.sql: applied" in res.stderr
    assert "file deleted" in res.stderr
    res = cli(db_dsn, proj, "repair", "--accept-checksums", "0004_fc")
    assert res.returncode == 0 and "accepted its deletion" in res.stderr
    assert cli(db_dsn, proj, "plan").returncode == 0


def test_database_migrated_before_checksums_gets_them_once(db_dsn: DSN, proj: Project) -> None:
    mig.up(db_dsn, proj, to="0002")
    conn = connect(db_dsn)
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE {CHECKSUM_TABLE}")  # as an older ticketdb left it
    conn.close()
    st = cli(db_dsn, proj, "status", "--json")
    assert st.returncode == 0, st.stderr
    assert json.loads(st.stdout)["checksums"]["unrecorded"] == ["0001_fa", "0002_fb"]
    res = cli(db_dsn, proj, "up")
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("recorded the checksums of 2 migration(s) applied before") == 1
    rec = recorded(db_dsn)
    assert rec["0001_fa"][2] == "first-seen" and rec["0003_fc"][2] == "applied"
    res = cli(db_dsn, proj, "up")
    assert res.returncode == 0 and "recorded the checksums" not in res.stderr
