"""`ticketdb migrate new NAME`: the next number, the right `-- depends:`, a template that lints
clean and applies, refusals for a duplicate or non-identifier name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ticketdb import migrate as mig
from ticketdb.dsn import DSN
from ticketdb.lint.engine import lint
from ticketdb.migrate.runner import load_migrations
from ticketdb.project import Project


def new(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    res = subprocess.run(
        [sys.executable, "-m", "ticketdb", "migrate", "new", *args,
         "--project", str(project.root)],  # fmt: skip
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert "Traceback" not in res.stderr, res.stderr
    return res


def test_new_writes_the_next_migration_and_its_rollback(project_copy: Project) -> None:
    before = sorted(p.name for p in project_copy.migrations.iterdir())
    head = load_migrations(project_copy)[-1].id
    number = int(head.split("_")[0]) + 1
    res = new(project_copy, "agent_notes")
    assert res.returncode == 0, res.stderr
    mid = f"{number:04d}_agent_notes"
    path = project_copy.migrations / f"{mid}.sql"
    rollback = project_copy.migrations / f"{mid}.rollback.sql"
    assert res.stdout.split() == [str(path), str(rollback)]
    assert path.read_text().startswith(f"-- depends: {head}\n-- {mid}: ")
    assert rollback.read_text().startswith(f"-- Undo of {mid}.sql")
    after = sorted(p.name for p in project_copy.migrations.iterdir())
    assert sorted(set(after) - set(before)) == sorted([path.name, rollback.name])
    # yoyo reads it as the new head, after the old one
    ms = load_migrations(project_copy)
    assert ms[-1].id == mid and {d.id for d in ms[-1].depends} == {head}
    # lints clean (rollback present, depends chain intact, number unique)
    result = lint(project_copy, [path, rollback])
    assert [f for f in result.findings if f.severity == "error"] == []

    again = new(project_copy, "Agent_Notes")  # same name, other case
    assert again.returncode == 2 and f"a migration named Agent_Notes exists already: {mid}" in (
        again.stderr
    )
    assert sorted(p.name for p in project_copy.migrations.iterdir()) == after


def test_new_refuses_names_that_are_not_identifiers(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    project = Project(tmp_path)
    for bad in ("add-notes", "1notes", "notes.sql", "", "x" * 65, "../evil"):
        res = new(project, bad)
        assert res.returncode == 2, (bad, res.stderr)
        assert list((tmp_path / "migrations").iterdir()) == []
    res = new(project, "first")  # an empty folder: 0001, no depends header
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "migrations" / "0001_first.sql").read_text().startswith("-- depends")


def test_a_new_migration_applies_after_the_head(db_dsn: DSN, tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    project = Project(tmp_path)
    assert new(project, "fa").returncode == 0
    m = project.migrations
    (m / "0001_fa.sql").write_text("CREATE TABLE fa (id INT PRIMARY KEY);\n")
    (m / "0001_fa.rollback.sql").write_text("DROP TABLE fa;\n")
    assert new(project, "fb").returncode == 0
    fb = m / "0002_fb.sql"
    fb.write_text(fb.read_text() + "CREATE TABLE fb (id INT PRIMARY KEY);\n")
    rb = m / "0002_fb.rollback.sql"
    rb.write_text(rb.read_text() + "DROP TABLE fb;\n")
    assert mig.up(db_dsn, project).applied == ["0001_fa", "0002_fb"]
