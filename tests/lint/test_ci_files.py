"""The pre-commit hook definition names a command that exists and selects the right files, and
docs/ci.md's GitHub Actions workflow and pre-commit configs parse and work as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from ticketdb import PROJECT_ROOT
from ticketdb.cli import cli
from ticketdb.dsn import DSN
from ticketdb.project import environment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HOOKS = PROJECT_ROOT / ".pre-commit-hooks.yaml"


def _hook() -> dict[str, str]:
    """The one hook of the file, as pre-commit reads it."""
    (hook,) = yaml.safe_load(HOOKS.read_text())
    return hook


def test_pre_commit_hook_runs_the_lint_command_on_sql_files() -> None:
    hook = _hook()
    assert hook["id"] == "ticketdb-lint"
    assert hook["language"] == "python"
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["pass_filenames"] is False
    command, *args = hook["entry"].split()
    assert command in scripts and args == ["lint"]
    files = re.compile(hook["files"])
    for path in ("migrations/0001_a.sql", "procedures/p.sql", "migrations/0003_b.py"):
        assert files.search(path), path
    for path in ("ticketdb/cli/main.py", "README.md", "tests/test_x.py"):
        assert not files.search(path), path
    proc = subprocess.run(
        [sys.executable, "-m", "ticketdb.cli", "--project", str(PROJECT_ROOT), *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- docs/ci.md: the workflow and the pre-commit configs work as written ---------------------------

CI_DOC = PROJECT_ROOT / "docs" / "ci.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", CI_DOC.read_text(), re.S)


def _workflow() -> dict:
    (text,) = [b for b in _blocks("yaml") if b.startswith("# .github/workflows/")]
    return yaml.safe_load(text)


def _ticketdb_commands(script: str) -> list[list[str]]:
    """Every ``ticketdb …`` invocation in a step's shell script (``${{ … }}`` made a word)."""
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)
    out = []
    for line in script.splitlines():
        for part in re.findall(r"(?:^|[|&;{]\s*)(ticketdb\b[^|&;{}>]*)", line.split(" #")[0]):
            out.append(shlex.split(part)[1:])
    return out


def _parses(args: list[str]) -> None:
    """Parse like the real CLI (every option and argument checked), without running anything."""
    ctx = cli.make_context("ticketdb", list(args))
    cmd: click.Command = cli
    while isinstance(cmd, click.Group):
        rest = [*ctx._protected_args, *ctx.args]
        name, sub, rest = cmd.resolve_command(ctx, rest)
        assert sub is not None, args
        ctx = sub.make_context(name, rest, parent=ctx)
        cmd = sub


def test_workflow_stages_run_in_order_and_every_command_exists() -> None:
    jobs = _workflow()["jobs"]
    assert list(jobs) == ["lint", "plan", "staging", "drift"]
    assert [jobs[j].get("needs") for j in jobs] == [None, "lint", "plan", "staging"]
    runs = {j: "\n".join(s.get("run", "") for s in jobs[j]["steps"]) for j in jobs}
    commands = {j: _ticketdb_commands(runs[j]) for j in jobs}
    assert ["lint", "--format", "github"] in commands["lint"]
    assert any("--diff" in c and "github" in c for c in commands["lint"])
    assert {s.get("with", {}).get("fetch-depth") for s in jobs["lint"]["steps"]} >= {0}
    assert ["--env", "staging", "migrate", "plan"] in commands["plan"]
    assert any(c[:4] == ["--env", "staging", "migrate", "up"] for c in commands["staging"])
    assert ["--env", "staging", "drift"] in commands["drift"]
    assert jobs["staging"]["if"] == "github.event_name == 'push'"
    every = [c for j in jobs for c in commands[j]]
    assert len(every) == 11
    for args in every:
        _parses(args)
    with pytest.raises(click.UsageError):  # the check can fail
        _parses(["migrate", "up", "--no-such-option"])
    # the staging secret reaches every step that uses --env staging
    for j in ("plan", "staging", "drift"):
        text = yaml.safe_dump(jobs[j])
        assert "secrets.TICKETDB_STAGING_PASSWORD" in text, j


def test_environment_of_the_recipe_is_one_ticketdb_reads(tmp_path: Path) -> None:
    (toml,) = [b for b in _blocks("toml") if "environments.staging" in b]
    (tmp_path / "pyproject.toml").write_text(toml)
    env = environment(tmp_path, "staging")
    assert "${TICKETDB_STAGING_PASSWORD}" in env.template
    secrets = {"TICKETDB_STAGING_PASSWORD": "s3cret/@x", "TICKETDB_STAGING_HOST": "127.0.0.1"}
    dsn = DSN.parse(env.expand(secrets))
    assert dsn.password == "s3cret/@x" and dsn.database == "ticketdb"
    assert dsn.host == "127.0.0.1"


def test_this_repository_s_pre_commit_config_is_the_documented_one() -> None:
    local = [yaml.safe_load(b) for b in _blocks("yaml") if "repo: local" in b]
    assert local == [yaml.safe_load((PROJECT_ROOT / ".pre-commit-config.yaml").read_text())]
    (hook,) = local[0]["repos"][0]["hooks"]
    shipped = yaml.safe_load(HOOKS.read_text())[0]
    for key in ("id", "entry", "files", "pass_filenames"):
        assert hook[key] == shipped[key], key


def test_pinned_pre_commit_config_points_at_a_commit_holding_the_hook(tmp_path: Path) -> None:
    """The documented snippet, run against a clone of this repository, writes a config whose
    ``repo`` is the clone's origin and whose ``rev`` is a commit with the hook in it."""
    (snippet,) = [b for b in _blocks("bash") if ".pre-commit-config.yaml" in b]
    clone = tmp_path / "ticketdb"
    git = ["git", "-c", "protocol.file.allow=always"]
    subprocess.run([*git, "clone", "-q", "--no-checkout", str(PROJECT_ROOT), str(clone)],
                   check=True, timeout=120, capture_output=True)  # fmt: skip
    user = tmp_path / "project"
    user.mkdir()
    script = snippet.replace("TICKETDB=path/to/your/clone/of/ticketdb", f"TICKETDB={clone}")
    script = script.replace("pre-commit install", "")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=user,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load((user / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == str(PROJECT_ROOT) and "example" not in repo["repo"]
    assert re.fullmatch(r"[0-9a-f]{40}", repo["rev"]), repo["rev"]
    at_rev = f"{repo['rev']}:.pre-commit-hooks.yaml"
    hooks = subprocess.run([*git, "-C", str(clone), "show", at_rev], capture_output=True,
                           text=True, timeout=30, check=True).stdout  # fmt: skip
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in yaml.safe_load(hooks)]
