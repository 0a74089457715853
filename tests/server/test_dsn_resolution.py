"""Which server and which project a command uses, as the README promises:
`--dsn` > `TICKETDB_DSN` > the running sandbox (else a message saying how to start one) — named
environments are in tests/server/test_environments.py — and
`--project` > `TICKETDB_PROJECT` > the current directory when it has migrations/ > the checkout.

Two real servers tell the levels apart: the session's server and a sandbox of this module's
own, started in a temp `.ticketdb/` (the default folder, found from the working directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ticketdb import PROJECT_ROOT
from ticketdb.dsn import DSN

NO_SERVER = (
    "no database: pass --dsn or --env, set TICKETDB_DSN, or run `ticketdb sandbox start`"
)


def ticketdb(*args: str, cwd: Path, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    return subprocess.run(
        [sys.executable, "-m", "ticketdb", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **(env or {})},
        timeout=120,
    )


def used_server(res: subprocess.CompletedProcess[str]) -> int:
    """The port `doctor --json` connected to (its connection check names user@host:port)."""
    assert "Traceback" not in res.stderr, res.stderr
    checks = {c["name"]: c for c in json.loads(res.stdout)}
    assert checks["connection"]["status"] == "ok", checks["connection"]
    return int(checks["connection"]["detail"].rsplit(":", 1)[1])


# -- DSN precedence -------------------------------------------------------------------------------


def test_dsn_flag_beats_environment_and_sandbox(workdir, sandbox_port, server_dsn: DSN) -> None:
    assert server_dsn.port != sandbox_port
    env = {"TICKETDB_DSN": DSN(port=sandbox_port).url()}
    res = ticketdb("doctor", "--json", "--dsn", server_dsn.url(), cwd=workdir, env=env)
    assert used_server(res) == server_dsn.port
    # before the sub-command too
    res = ticketdb("--dsn", server_dsn.url(), "doctor", "--json", cwd=workdir, env=env)
    assert used_server(res) == server_dsn.port


def test_environment_beats_the_running_sandbox(workdir, sandbox_port, server_dsn: DSN) -> None:
    res = ticketdb("doctor", "--json", cwd=workdir, env={"TICKETDB_DSN": server_dsn.url()})
    assert used_server(res) == server_dsn.port
    st = ticketdb("migrate", "status", "--json", cwd=workdir,
                  env={"TICKETDB_DSN": server_dsn.with_database("from_env").url()})  # fmt: skip
    assert st.returncode == 0, st.stderr
    assert json.loads(st.stdout)["database"] == "from_env"


def test_running_sandbox_is_the_fallback(workdir, sandbox_port, tmp_path: Path) -> None:
    """Found in the working directory's `.ticketdb/`, or where TICKETDB_SANDBOX_DIR points."""
    assert used_server(ticketdb("doctor", "--json", cwd=workdir)) == sandbox_port
    env = {"TICKETDB_SANDBOX_DIR": str(workdir / ".ticketdb")}
    assert used_server(ticketdb("doctor", "--json", cwd=tmp_path, env=env)) == sandbox_port


def test_malformed_environment_dsn_is_not_skipped_for_the_sandbox(workdir) -> None:
    res = ticketdb("doctor", cwd=workdir, env={"TICKETDB_DSN": "postgres://nope"})
    assert res.returncode == 2 and "malformed DSN" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("sandbox_dir", ["never-started", "stopped"])
def test_no_server_says_how_to_start_one(tmp_path: Path, sandbox_dir: str) -> None:
    env = {}
    if sandbox_dir == "stopped":  # a sandbox folder whose server is not running
        (tmp_path / "sb").mkdir()
        (tmp_path / "sb" / "sandbox.json").write_text('{"port": 1}')
        env = {"TICKETDB_SANDBOX_DIR": str(tmp_path / "sb")}
    for args in (["migrate", "status"], ["doctor"], ["alerts", "status"]):
        res = ticketdb(*args, cwd=tmp_path, env=env)
        assert res.returncode == 1, (args, res.stdout, res.stderr)
        assert res.stderr.strip().endswith(NO_SERVER) and "Traceback" not in res.stderr


# -- project detection --------------------------------------------------------------------------


def make_project(root: Path, table: str) -> Path:
    """A one-migration project whose migration id names it."""
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / f"0001_{table}.sql").write_text(f"CREATE TABLE {table} (id INT);\n")
    (root / "migrations" / f"0001_{table}.rollback.sql").write_text(f"DROP TABLE {table};\n")
    return root


@pytest.fixture
def projects(tmp_path: Path) -> dict[str, Path]:
    return {name: make_project(tmp_path / name, name) for name in ("flag", "env", "cwd")}


def planned(res: subprocess.CompletedProcess[str]) -> list[str]:
    assert res.returncode == 0, res.stderr
    return [m["id"] for m in json.loads(res.stdout)["migrations"]]


def test_project_flag_beats_environment_and_cwd(projects, db_dsn: DSN) -> None:
    env = {"TICKETDB_PROJECT": str(projects["env"])}
    for args in (["migrate", "plan", "--json", "--project", str(projects["flag"])],
                 ["--project", str(projects["flag"]), "migrate", "plan", "--json"]):  # fmt: skip
        res = ticketdb(*args, "--dsn", db_dsn.url(), cwd=projects["cwd"], env=env)
        assert planned(res) == ["0001_flag"]


def test_project_environment_beats_cwd(projects, db_dsn: DSN) -> None:
    res = ticketdb("migrate", "plan", "--json", "--dsn", db_dsn.url(), cwd=projects["cwd"],
                   env={"TICKETDB_PROJECT": str(projects["env"])})  # fmt: skip
    assert planned(res) == ["0001_env"]


def test_cwd_with_migrations_is_the_project(projects, db_dsn: DSN) -> None:
    res = ticketdb("migrate", "plan", "--json", "--dsn", db_dsn.url(), cwd=projects["cwd"])
    assert planned(res) == ["0001_cwd"]
    # the project is what gets applied, not just planned
    up = ticketdb("migrate", "up", "--json", "--dsn", db_dsn.url(), cwd=projects["cwd"])
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout)["applied"] == ["0001_cwd"]


def test_cwd_without_migrations_falls_back_to_the_checkout(tmp_path: Path, db_dsn: DSN) -> None:
    res = ticketdb("migrate", "plan", "--json", "--dsn", db_dsn.url(), cwd=tmp_path)
    ids = planned(res)
    assert ids[0] == "0001_service_tickets"
    assert len(ids) == len(list((PROJECT_ROOT / "migrations").glob("*.rollback.sql"))) + len(
        list((PROJECT_ROOT / "migrations").glob("*.py"))
    )


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_named_project_without_migrations_is_a_usage_error(
    tmp_path: Path, db_dsn: DSN, how: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["migrate", "plan", "--dsn", db_dsn.url()]
    if how == "flag":
        res = ticketdb(*args, "--project", str(empty), cwd=tmp_path)
    else:
        res = ticketdb(*args, cwd=tmp_path, env={"TICKETDB_PROJECT": str(empty)})
    assert res.returncode == 2 and f"{empty} has no migrations/ folder" in res.stderr
    assert "Traceback" not in res.stderr
