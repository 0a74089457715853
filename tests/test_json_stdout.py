"""Every command's ``--json`` / ``--format json`` writes JSON and nothing else to stdout.

Run as real processes (what a pipeline's ``| jq`` sees), in a project whose newest migration
and its rollback contain a SELECT: yoyo prints a SELECT step's rows to stdout, which made
``migrate up --json`` and ``drift --json`` (its scratch build migrates too) unparseable.
The list of commands is checked against the CLI itself, so a new ``--json`` needs a case here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from ticketdb import PROJECT_ROOT
from ticketdb import migrate as mig
from ticketdb.cli import cli
from ticketdb.cli.reference import _walk
from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.project import Project
from ticketdb.server import databases

SELECT_MIGRATION = "9000_json_probe_select"

#: commands whose --json is not "JSON on stdout": bench writes its document to a file
NOT_STDOUT = {"bench": "--json FILE writes the document to a file"}

def _head(project: Project) -> str:
    return sorted(p.stem for p in project.migrations.glob("*.sql") if ".rollback" not in p.name)[
        -1
    ]


@pytest.fixture(scope="module")
def select_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The repo plus a head migration whose apply and rollback both print a result table."""
    root = tmp_path_factory.mktemp("select_project")
    for name in ("migrations", "procedures", "triggers", "events", "queries", "grants"):
        shutil.copytree(PROJECT_ROOT / name, root / name)
    project = Project(root)
    head = _head(project)
    (root / "migrations" / f"{SELECT_MIGRATION}.sql").write_text(
        f"-- depends: {head}\nSELECT 'probe' AS printed_by_yoyo, 1 AS n;\n"
    )
    (root / "migrations" / f"{SELECT_MIGRATION}.rollback.sql").write_text(
        "SELECT 'undo' AS printed_by_yoyo;\n"
    )
    return project


@pytest.fixture(scope="module")
def shared_db(server_dsn: DSN, select_project: Project) -> Iterator[DSN]:
    """One migrated database for the commands that do not need a fresh one."""
    with databases.scratch_database(server_dsn, "test", create=False) as dsn:
        mig.up(dsn, select_project)
        yield dsn


# name → (extra arguments, database: "fresh" (none yet), "own" (migrated) or "shared")
CASES: dict[str, tuple[list[str], str]] = {
    "migrate up": ([], "fresh"),
    "migrate down": (["--yes"], "own"),
    "migrate plan": ([], "fresh"),
    "migrate baseline": (["--to", SELECT_MIGRATION], "own"),
    "migrate new": (["json_probe"], "shared"),
    "migrate status": ([], "shared"),
    "migrate repair": ([], "shared"),
    "drift": ([], "shared"),
    "doctor": ([], "shared"),
    "alerts status": ([], "shared"),
    "partitions status": ([], "shared"),
    "partitions ensure": (["--months-ahead", "1", "--dry-run"], "shared"),
    "report overdue": ([], "shared"),
    "report agents": ([], "shared"),
    "report trail": (["1"], "shared"),
    "report transfers": ([], "shared"),
    "report urgent-today": ([], "shared"),
    "seed": (["--tickets", "20"], "shared"),
    "grants apply": (["--user", "ticketdb_reporter", "--host", "localhost"], "shared"),
    "vip refresh": ([], "shared"),
    "vip open": (["1"], "shared"),
    "cluster status": ([], "shared"),
    "sandbox status": ([], "shared"),
    "lint": ([], "shared"),
}
_FOLDER = {"cluster status", "sandbox status"}
_NO_DSN = _FOLDER | {"lint"}


def json_commands() -> set[str]:
    """Every command with a ``--json`` flag or a ``--format`` that offers json."""
    found = set()
    for path, cmd in _walk(cli, ["ticketdb"]):
        for p in cmd.params:
            if not isinstance(p, click.Option):
                continue
            choices = getattr(p.type, "choices", ()) or ()
            if "--json" in p.opts or ("--format" in p.opts and "json" in choices):
                found.add(" ".join(path[1:]))
    return found


def test_every_json_command_has_a_case() -> None:
    assert json_commands() - set(NOT_STDOUT) == set(CASES)


def _argv(name: str, tmp: Path) -> list[str]:
    argv = [*name.split(), *CASES[name][0]]
    if name in _FOLDER:
        argv += ["--dir", str(tmp / "no-server-here")]
    if name == "lint":
        return [*argv, "--format", "json"]
    return [*argv, "--json"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_stdout_is_only_json(
    name: str,
    db_dsn: DSN,
    shared_db: DSN,
    select_project: Project,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    where = CASES[name][1]
    if where == "own":
        mig.up(db_dsn, select_project)
    dsn = shared_db if where == "shared" else db_dsn
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    env["TICKETDB_PROJECT"] = str(select_project.root)
    if name == "migrate new":  # writes files: into a copy of the migrations only
        shutil.copytree(select_project.migrations, tmp_path / "new" / "migrations")
        env["TICKETDB_PROJECT"] = str(tmp_path / "new")
    if name == "grants apply":
        env["TICKETDB_REPORTER_PASSWORD"] = "json-probe-only"
    if name in ("vip refresh", "vip open"):
        env["TICKETDB_REDIS_URL"] = request.getfixturevalue("redis_url")
    pre = [] if name in _NO_DSN else ["--dsn", dsn.url()]
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ticketdb.cli", *pre, *_argv(name, tmp_path)],
            capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path,
        )  # fmt: skip
    finally:
        if name == "grants apply":  # accounts are server-wide
            with connection(dsn, database=False) as conn, conn.cursor() as cur:
                cur.execute("DROP USER IF EXISTS 'ticketdb_reporter'@'localhost'")
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout.strip(), f"{name}: nothing on stdout; stderr: {proc.stderr}"
    try:
        json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"{name} --json: stdout is not JSON ({exc}):\n{proc.stdout[:2000]}")
    if name in ("migrate up", "migrate down", "drift"):
        # the SELECT's rows were printed, on stderr
        assert "printed_by_yoyo" in proc.stderr or name == "drift", proc.stderr
