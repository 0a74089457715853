"""The pre-commit hook definition names a command that exists and selects the right files."""

from __future__ import annotations

import re
import subprocess
import sys

from ticketdb import PROJECT_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HOOKS = PROJECT_ROOT / ".pre-commit-hooks.yaml"


def _hook() -> dict[str, str]:
    """The one hook's ``key: value`` lines (the file is flat YAML; no YAML parser needed)."""
    out: dict[str, str] = {}
    for line in HOOKS.read_text().splitlines():
        m = re.match(r"^(?:- |  )(\w+): (.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip().strip("'")
    return out


def test_pre_commit_hook_runs_the_lint_command_on_sql_files() -> None:
    hook = _hook()
    assert hook["id"] == "ticketdb-lint"
    assert hook["language"] == "python"
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
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
