"""Fixtures for lint tests (helpers live in lint_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lint_helpers import make_project

from ticketdb.lint.engine import LintResult, lint


@pytest.fixture
def lint_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., LintResult]:
    """lint_project({"procedures/p.sql": "..."}, paths=[...]) -> LintResult (cwd = project)."""
    monkeypatch.chdir(tmp_path)

    def run(files: dict[str, str], paths: list[str] | None = None, **kw: object) -> LintResult:
        project = make_project(tmp_path, files)
        targets = [tmp_path / p for p in (paths if paths is not None else list(files))]
        return lint(project, targets, **kw)  # type: ignore[arg-type]

    return run
