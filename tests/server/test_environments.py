"""Named environments: ``--env NAME`` picks ``[tool.ticketdb.environments.NAME]`` (pyproject.toml)
or ``[environments.NAME]`` (ticketdb.toml), whose DSN takes its secrets from ``${VAR}``s.

Precedence (README, docs/cli.md): ``--dsn`` or ``--env`` (both at once is exit 2) >
``TICKETDB_DSN`` > ``TICKETDB_ENV`` > the running sandbox. A secret is never printed, whatever
fails, and ticketdb writes it to no file. Real servers tell the levels apart: the session's
server and a sandbox of this module's own in the working directory's ``.ticketdb/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.errors import UsageError
from ticketdb.project import Environment

USER = "ticketdb_envtest"
#: every character the DSN parser must survive in a password, and a marker to grep for
SECRET = "Zq9-secret@/:%41#?[x]"
PASSWORD_VAR = "TICKETDB_TEST_ENV_PASSWORD"


def ticketdb(*args: str, cwd: Path, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    return subprocess.run(
        [sys.executable, "-m", "ticketdb", *args],
        capture_output=True, text=True, cwd=cwd, env={**base, **(env or {})}, timeout=120,
    )  # fmt: skip


def used_port(res: subprocess.CompletedProcess[str]) -> int:
    assert res.returncode in (0, 1) and "Traceback" not in res.stderr, res.stderr
    checks = {c["name"]: c for c in json.loads(res.stdout)}
    assert checks["connection"]["status"] == "ok", checks["connection"]
    return int(checks["connection"]["detail"].rsplit(":", 1)[1])


def never_shown(res: subprocess.CompletedProcess[str]) -> None:
    for part in (SECRET, SECRET.replace("%41", "A"), "Zq9-secret"):
        assert part not in res.stdout and part not in res.stderr, (res.stdout, res.stderr)


@pytest.fixture(scope="module")
def secret_user(server_dsn: DSN) -> Iterator[DSN]:
    """An account on the session's server whose password holds every awkward character."""
    if server_dsn.host not in ("127.0.0.1", "localhost"):
        pytest.skip("creates an account: only on a local test server")
    with connection(server_dsn, database=False) as conn, conn.cursor() as cur:
        cur.execute(f"DROP USER IF EXISTS '{USER}'@'127.0.0.1'")
        cur.execute(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY %s", (SECRET,))
    try:
        yield DSN(host="127.0.0.1", port=server_dsn.port, user=USER, password=SECRET)
    finally:
        with connection(server_dsn, database=False) as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{USER}'@'127.0.0.1'")


@pytest.fixture
def project(tmp_path: Path, secret_user: DSN, sandbox_port: int) -> Path:
    """A project with environments in pyproject.toml and in ticketdb.toml."""
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    port = secret_user.port
    (root / "pyproject.toml").write_text(
        "[tool.ticketdb.environments.staging]\n"
        f'dsn = "mysql://{USER}:${{{PASSWORD_VAR}}}@127.0.0.1:{port}/ticketdb"\n'
        "[tool.ticketdb.environments.sandbox]\n"
        f'dsn = "mysql://root@127.0.0.1:{sandbox_port}/ticketdb"\n'
    )
    (root / "ticketdb.toml").write_text(
        "[environments.prod]\n"
        f'dsn = "mysql://{USER}:${{{PASSWORD_VAR}}}@127.0.0.1:{port}/${{TICKETDB_TEST_DB}}"\n'
    )
    return root


def test_env_connects_with_the_secret_from_the_environment(
    project: Path, workdir: Path, secret_user: DSN, sandbox_port: int
) -> None:
    env = {PASSWORD_VAR: SECRET, "TICKETDB_PROJECT": str(project)}
    for args in (["--env", "staging", "doctor", "--json"],
                 ["doctor", "--json", "--env", "staging"]):  # fmt: skip
        res = ticketdb(*args, cwd=workdir, env=env)
        assert used_port(res) == secret_user.port  # not the sandbox of the working directory
        never_shown(res)
    # ticketdb.toml, with a variable in the database part too
    res = ticketdb("migrate", "status", "--json", "--env", "prod", cwd=project,
                   env={PASSWORD_VAR: SECRET, "TICKETDB_TEST_DB": "env_db"})  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["database"] == "env_db"
    never_shown(res)
    # nothing ticketdb wrote holds the secret
    for folder in (project, workdir):
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 1_000_000 and ".ticketdb" not in path.parts:
                assert SECRET.encode() not in path.read_bytes(), path


def test_precedence(project: Path, workdir: Path, secret_user: DSN, sandbox_port: int,
                    server_dsn: DSN) -> None:  # fmt: skip
    base = {PASSWORD_VAR: SECRET, "TICKETDB_PROJECT": str(project)}
    sandbox_url = DSN(port=sandbox_port).url()
    # --env beats TICKETDB_DSN
    res = ticketdb("--env", "staging", "doctor", "--json", cwd=workdir,
                   env={**base, "TICKETDB_DSN": sandbox_url})  # fmt: skip
    assert used_port(res) == secret_user.port
    # TICKETDB_DSN beats TICKETDB_ENV
    both = {**base, "TICKETDB_DSN": sandbox_url, "TICKETDB_ENV": "staging"}
    res = ticketdb("doctor", "--json", cwd=workdir, env=both)
    assert used_port(res) == sandbox_port
    # TICKETDB_ENV beats the running sandbox
    res = ticketdb("doctor", "--json", cwd=workdir, env={**base, "TICKETDB_ENV": "staging"})
    assert used_port(res) == secret_user.port
    # --dsn beats TICKETDB_ENV
    res = ticketdb("doctor", "--json", "--dsn", server_dsn.url(), cwd=workdir,
                   env={**base, "TICKETDB_ENV": "sandbox"})  # fmt: skip
    assert used_port(res) == server_dsn.port
    # --dsn and --env together: which one was meant is unknown
    res = ticketdb("doctor", "--env", "staging", "--dsn", server_dsn.url(), cwd=workdir, env=base)
    assert res.returncode == 2 and "either --dsn or --env" in res.stderr


def test_unknown_environment_lists_the_known_ones(project: Path, workdir: Path) -> None:
    res = ticketdb("migrate", "status", "--env", "prd", cwd=workdir,
                   env={"TICKETDB_PROJECT": str(project)})  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "unknown environment 'prd'" in res.stderr
    assert "known: prod, sandbox, staging" in res.stderr
    res = ticketdb("migrate", "status", "--env", "", cwd=project)
    assert res.returncode == 2 and "empty value" in res.stderr


@pytest.mark.parametrize("value", [None, ""])
def test_unset_variable_is_named_and_no_partial_dsn_is_used(
    project: Path, workdir: Path, value: str | None
) -> None:
    env = {"TICKETDB_PROJECT": str(project)}
    if value is not None:
        env[PASSWORD_VAR] = value  # a CI secret that does not exist expands to ""
    res = ticketdb("doctor", "--env", "staging", cwd=workdir, env=env)
    assert res.returncode == 2, res.stderr
    assert PASSWORD_VAR in res.stderr and "staging" in res.stderr
    assert "Traceback" not in res.stderr and "connection" not in res.stdout


def test_malformed_and_failing_dsns_never_print_the_secret(
    project: Path, workdir: Path, secret_user: DSN
) -> None:
    (project / "ticketdb.toml").write_text(
        "[environments.badhost]\n"
        f'dsn = "mysql://{USER}:${{{PASSWORD_VAR}}}@${{{PASSWORD_VAR}}}:1/x"\n'
        "[environments.wrongpw]\n"
        f'dsn = "mysql://{USER}:${{{PASSWORD_VAR}}}x@127.0.0.1:{secret_user.port}/x"\n'
    )
    env = {PASSWORD_VAR: SECRET, "TICKETDB_PROJECT": str(project)}
    res = ticketdb("doctor", "--env", "badhost", cwd=workdir, env=env)
    assert res.returncode == 2 and "malformed DSN" in res.stderr and "badhost" in res.stderr
    never_shown(res)
    res = ticketdb("migrate", "status", "--env", "wrongpw", cwd=workdir, env=env)
    assert res.returncode == 1 and "Access denied" in res.stderr, res.stderr
    never_shown(res)


def test_a_name_defined_twice_is_an_error(project: Path) -> None:
    (project / "ticketdb.toml").write_text('[environments.staging]\ndsn = "mysql://h/db"\n')
    res = ticketdb("doctor", "--env", "staging", cwd=project)
    assert res.returncode == 2 and "defined twice" in res.stderr


def test_expand_encodes_credentials_only() -> None:
    e = Environment("x", "mysql://u:${P}@${H}:3306/${D}?unix_socket=${S}", "test")
    env = {"P": "a@b/c:%", "H": "127.0.0.1", "D": "db", "S": "/tmp/s.sock"}
    text = e.expand(env)
    assert text == "mysql://u:a%40b%2Fc%3A%25@127.0.0.1:3306/db?unix_socket=/tmp/s.sock"
    dsn = DSN.parse(text)
    assert (dsn.password, dsn.database, dsn.unix_socket) == ("a@b/c:%", "db", "/tmp/s.sock")
    with pytest.raises(UsageError, match="H, D"):
        e.expand({"P": "x", "S": "y", "H": ""})
