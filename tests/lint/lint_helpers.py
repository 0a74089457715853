"""Helpers for lint tests: a throwaway project with the base schema as its first migration."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ticketdb.project import Project

FIXTURES = Path(__file__).parent / "fixtures"
BASE_SCHEMA = (FIXTURES / "base_schema.sql").read_text()
BASE_ROLLBACK = "DROP TABLE logs;\nDROP TABLE tickets;\n"


def make_project(root: Path, files: dict[str, str] | None = None) -> Project:
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    for d in ("procedures", "triggers", "events"):
        (root / d).mkdir(exist_ok=True)
    (root / "migrations" / "0001_base.sql").write_text(BASE_SCHEMA)
    (root / "migrations" / "0001_base.rollback.sql").write_text(BASE_ROLLBACK)
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Project(root.resolve())


def git(root: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(root), "PATH": "/usr/bin:/bin:/usr/local/bin",
    }  # fmt: skip
    proc = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout
