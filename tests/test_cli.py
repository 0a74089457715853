"""CLI contract: clean one-line errors with exit codes, JSON output, help on every command."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ticketdb.cli import cli
from ticketdb.dsn import DSN
from ticketdb.project import Project


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point (a subprocess shows tracebacks CliRunner would hide)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    return subprocess.run(
        [sys.executable, "-m", "ticketdb", *args],
        capture_output=True,
        text=True,
        env={**base, "TICKETDB_SANDBOX_DIR": "/nonexistent/ticketdb-sandbox", **(env or {})},
        timeout=60,
    )


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["migrate", "status", "--dsn", "mysq://nope"], 2, "malformed DSN"),
        (["migrate", "status", "--dsn", "mysql://root@127.0.0.1:notaport/x"], 2, "port"),
        (["migrate", "status", "--dsn", "mysql://root@127.0.0.1:1/x"], 1, "cannot connect"),
        (["migrate", "status"], 1, "ticketdb sandbox start"),
        (["doctor", "--dsn", "mysql://root@127.0.0.1:1/x"], 1, "FAIL"),
        (["migrate", "frobnicate"], 2, "No such command"),
    ],
)
def test_bad_input_gives_one_clean_line(args: list[str], code: int, message: str) -> None:
    res = run(*args)
    assert res.returncode == code, (res.stdout, res.stderr)
    assert message in res.stdout + res.stderr
    assert "Traceback" not in res.stderr


def test_wrong_password_and_unknown_id(server_dsn: DSN, db_dsn: DSN) -> None:
    bad = DSN(**{**server_dsn.__dict__, "password": "definitely-wrong", "user": "nobody_here"})
    res = run("migrate", "status", "--dsn", bad.url())
    assert res.returncode == 1
    assert "Access denied" in res.stderr and "definitely-wrong" not in res.stderr
    assert "Traceback" not in res.stderr
    res = run("migrate", "up", "--to", "9999", "--dsn", db_dsn.url())
    assert res.returncode == 2 and "unknown migration id '9999'" in res.stderr
    assert "Traceback" not in res.stderr


def test_migrate_json_and_env_dsn(db_dsn: DSN) -> None:
    env = {"TICKETDB_DSN": db_dsn.url()}
    res = run("migrate", "up", "--json", env=env)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["applied"][0] == "0001_service_tickets" and data["at_head"] is True
    st = json.loads(run("migrate", "status", "--json", env=env).stdout)
    assert st["pending"] == [] and all(m["applied"] for m in st["migrations"])
    res = run("migrate", "plan", env=env)
    assert res.returncode == 0 and "nothing to do" in res.stdout


def test_doctor_passes_on_sandbox(server_dsn: DSN) -> None:
    res = run("doctor", "--json", "--dsn", server_dsn.url())
    checks = {c["name"]: c["status"] for c in json.loads(res.stdout)}
    if not os.environ.get("TICKETDB_TEST_DSN"):  # our own sandbox is configured for ticketdb
        assert res.returncode == 0, res.stdout
        assert checks["event_scheduler"] == "ok"
        assert checks["local_infile"] == "ok"
    assert checks["connection"] == "ok" and checks["privileges"] == "ok"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command path; the root imports its commands lazily, so ask it, not ``.commands``."""
    out = []
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        full = f"{prefix}{name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, full + " "))
    return out


# a command as the hand-written docs spell it: `ticketdb sandbox start|stop`, `ticketdb report
# overdue|trail ID|transfers` (a metavariable may follow an alternative)
_ALT = r"[a-z][\w-]*(?: [A-Z][A-Z_]*)?"
_WORD = rf"{_ALT}(?:\|{_ALT})*"
_MENTION = re.compile(rf"\bticketdb((?: {_WORD})+)")


def hand_written_docs(root: Path) -> str:
    """README.md and docs/*.md without what is generated from the code (docs/cli.md, the lint
    rule reference): a command only counts as documented when a person wrote about it."""
    from ticketdb.lint.docs import BEGIN, END

    texts = [(root / "README.md").read_text()]
    for path in sorted((root / "docs").glob("*.md")):
        if path.name == "cli.md":
            continue
        text = path.read_text()
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + text[text.index(END) + len(END) :]
        texts.append(text)
    return "\n".join(texts)


def mentioned_commands(text: str) -> set[tuple[str, ...]]:
    """Every command path the text mentions, alternatives expanded (and their parent groups)."""
    found: set[tuple[str, ...]] = set()
    for m in _MENTION.finditer(text):
        words = [[alt.split()[0] for alt in w.split("|")] for w in re.findall(_WORD, m.group(1))]
        for path in itertools.product(*words):
            found.update(path[:i] for i in range(1, len(path) + 1))
    return found


def undocumented(text: str) -> list[str]:
    mentioned = mentioned_commands(text)
    return [name for name, _ in _commands(cli) if tuple(name.split()) not in mentioned]


def test_every_command_has_help_and_is_documented(project: Project) -> None:
    runner = CliRunner()
    for name, cmd in _commands(cli):
        assert (cmd.help or "").strip(), f"`ticketdb {name}` has no help text"
        res = runner.invoke(cli, [*name.split(), "--help"])
        assert res.exit_code == 0, (name, res.output)
    assert undocumented(hand_written_docs(project.root)) == [], "not in README.md / docs/*.md"


def test_documentation_check_sees_a_missing_command(project: Project) -> None:
    """The check above is only worth something if deleting a mention makes it fail."""
    text = hand_written_docs(project.root)
    assert "sandbox destroy" not in undocumented(text)
    gone = text.replace("start|stop|status|dsn|destroy", "start|stop|status|dsn")
    gone = re.sub(r"ticketdb sandbox destroy\b", "", gone)
    assert undocumented(gone) == ["sandbox destroy"]
    assert "drift" in undocumented(re.sub(r"ticketdb drift\b", "", text))
    assert "Usage: ticketdb" not in text and "BEGIN GENERATED" not in text


def test_commands_load_lazily_and_all_are_listed(project: Project, tmp_path: Path) -> None:
    """`ticketdb lint` imports only what lint needs (start-up is most of a small lint's time);
    --help still lists every cmd_*.py by its name and short help."""
    modules = sorted(
        p.stem.removeprefix("cmd_") for p in (project.root / "ticketdb" / "cli").glob("cmd_*.py")
    )
    assert [name for name, _ in _commands(cli) if " " not in name] == modules
    sql = tmp_path / "one.sql"
    sql.write_text("SELECT 1;\n")
    heavy = ("pymysql", "redis", "httpx", "yoyo", "rich", "ticketdb.cli.cmd_migrate")
    probe = (
        # cli.main, not main(): main() ends a lint process with os._exit (no teardown)
        "import sys\nfrom ticketdb.cli import cli\n"
        "cli.main(['lint', sys.argv[1]], prog_name='ticketdb', standalone_mode=False)\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe, str(sql)], capture_output=True, text=True, cwd=project.root
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]", res.stdout
    res = subprocess.run(
        [sys.executable, "-m", "ticketdb.cli", "--help"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    listed = re.findall(r"^  ([a-z]+) +\S", res.stdout.split("Commands:")[1], re.M)
    assert listed == modules, res.stdout
    assert "Lint migrations/" in res.stdout


def test_cli_reference_is_current(project: Project) -> None:
    from ticketdb.cli.reference import render

    current = (project.root / "docs" / "cli.md").read_text()
    assert current == render(), "docs/cli.md is stale: run `make docs`"


def test_failing_migration_exit_code_and_message(db_dsn: DSN, project_copy: Project) -> None:
    from ticketdb.migrate.runner import load_migrations

    ids = [m.id for m in load_migrations(project_copy)]
    (project_copy.migrations / "0999_bad.sql").write_text(
        f"-- depends: {ids[-1]}\nALTER TABLE tdb_missing ADD COLUMN x INT;\n"
    )
    (project_copy.migrations / "0999_bad.rollback.sql").write_text(
        "ALTER TABLE tdb_missing DROP COLUMN x;\n"
    )
    res = run("--project", str(project_copy.root), "migrate", "up", "--dsn", db_dsn.url())
    assert res.returncode == 1
    assert "migration 0999_bad" in res.stderr and "tdb_missing" in res.stderr
    assert "1146" in res.stderr and "Traceback" not in res.stderr
