"""One fixture file per rule (tests/lint/fixtures/<code>.toml), one parametrized runner.

Each ``[[case]]`` places ``sql`` at ``path`` (default ``scripts/case.sql``) in a throwaway project
whose first migration is fixtures/base_schema.sql, lints that file, and compares the findings of
the fixture's rule as ``CODE:line`` (or ``CODE:line:col``) with ``expect``. ``files`` adds other
project files; ``base`` turns the project into a git repository whose HEAD holds those files, and
the case is linted with ``--diff HEAD``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from lint_helpers import FIXTURES, git, make_project

from ticketdb.lint.discover import display_path
from ticketdb.lint.engine import lint
from ticketdb.lint.gitdiff import diff_info

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib
from ticketdb.lint.registry import load_rules

RULES = load_rules()


def _cases() -> list[Any]:
    out = []
    for path in sorted(FIXTURES.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        for i, case in enumerate(data["case"]):
            out.append(pytest.param(data["rule"], case, id=f"{path.stem}-{i}-{case['name']}"))
    return out


@pytest.mark.parametrize(("code", "case"), _cases())
def test_rule_fixture(
    code: str, case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rel = case.get("path", "scripts/case.sql")
    diff = only = None
    if "base" in case:
        make_project(tmp_path, case["base"])
        git(tmp_path, "init", "-q")
        git(tmp_path, "add", ".")
        git(tmp_path, "commit", "-q", "-m", "base")
    project = make_project(tmp_path, {**case.get("files", {}), rel: case["sql"]})
    if "base" in case:
        diff, only = diff_info(project.root, project.migrations, "HEAD", display_path)
    result = lint(project, [tmp_path / rel], diff=diff, only=only)
    expected = sorted(case.get("expect", []))
    precise = any(e.count(":") == 2 for e in expected)
    got = sorted(
        f"{f.code}:{f.line}:{f.column}" if precise else f"{f.code}:{f.line}"
        for f in result.findings
        if f.code == code and f.path == rel
    )
    assert got == expected, f"{code} {case['name']}: all findings: {result.findings}"


def test_every_rule_has_fixtures_with_pass_and_fail_cases() -> None:
    for code in RULES:
        path = FIXTURES / f"{code}.toml"
        assert path.is_file(), f"{code} has no fixture file {path.name}"
        data = tomllib.loads(path.read_text())
        assert data["rule"] == code
        kinds = {bool(c.get("expect")) for c in data["case"]}
        assert kinds == {True, False}, f"{code}: needs at least one failing and one passing case"


def test_every_rule_documents_anti_pattern_and_best_practice() -> None:
    for code, cls in RULES.items():
        doc = cls.__doc__ or ""
        assert cls.description(), code
        assert "**Anti-pattern**" in doc and "**Best practice**" in doc, code
        assert doc.count(".. code-block:: sql") >= 2, code
        assert cls.severity in ("error", "warning", "info"), code
