"""Every parse failure says why and where (issue 11), in both of sqlglot's builds.

sqlglot's interpreted parser is subclassed to record where it fell back to an opaque Command;
its compiled build (sqlglotc) cannot be subclassed, so there :func:`stuck_at` finds the place
by parsing prefixes. ``test_compiled_code_path_…`` runs that path on whichever build is
installed (with the interpreted one, by switching the tracking dialect off), so the path is
tested here either way. The default install has sqlglotc where a wheel exists (pyproject.toml),
so `make test` runs the compiled build; a venv without it (Python 3.10, PyPy) runs the hook.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_helpers import make_project
from sqlglot.dialects.mysql import MySQL

from ticketdb.lint import discover
from ticketdb.lint.engine import lint
from ticketdb.lint.parse import unit

#: (statement, line, column, words the message must hold); line 1 is `SELECT 1;`
CASES = [
    ("SELEC id FROM tickets;", 2, 10, ["Invalid expression / Unexpected token", "near 'FROM'"]),
    ("CREATE TABLE t (id INT;", 2, 20, ["Expecting )", "near 'INT'"]),
    ("SELECT id FROM tickets WHERE (id = 1;", 2, 36, ["Expecting )", "near '1'"]),
    ("INSERT INTO tickets (id) VALUES (1,;", 2, 35, ["Expecting )", "near ','"]),
    ("DELETE FROM WHERE id = 1;", 2, 13, ["Expected table name but got 'WHERE'", "near 'WHERE'"]),
    ("CREATE TABLE t LIKE;", 2, 16, ["got the end of the statement", "near 'LIKE'"]),
    ("UPDATE tickets SET id = WHERE id = 2;", 2, 25, ["missing for EQ", "near 'WHERE'"]),
    ("UPDATE tickets SET WHERE id = 1;", 2, 16, ["UPDATE without SET assignments"]),
    # sqlglot falls back to an opaque Command: where it gave up
    (
        "CREATE VIEW v AS SELECT id FROM tickets FROB FROB;", 2, 46,
        ["cannot parse CREATE VIEW statement", "unsupported syntax near 'FROB'"],
    ),
    (
        "CREATE INDEX i ON tickets FROB;", 2, 27,
        ["cannot parse CREATE INDEX statement", "unsupported syntax near 'FROB'"],
    ),
    (
        "ALTER TABLE tickets FROB COLUMN x;", 2, 21,
        ["cannot parse ALTER TABLE action", "unsupported syntax near 'FROB'"],
    ),
    (
        "ALTER TABLE tickets ADD COLUMN y INT, ADD COLUMN z INT FOOBAR BAZ;", 2, 56,
        ["cannot parse ALTER TABLE action", "unsupported syntax near 'FOOBAR'"],
    ),
    # a long statement whose problem is near its start: hundreds of prefixes to search
    (
        "CREATE VIEW v AS SELECT 1 FROB FROB FROM (SELECT "
        + ", ".join(f"{i} AS c{i}" for i in range(200)) + ") AS x;", 2, 32,
        ["cannot parse CREATE VIEW statement", "unsupported syntax near 'FROB'"],
    ),
]  # fmt: skip


def _parse_errors(tmp_path: Path, sql: str) -> list[tuple[int, int, str]]:
    discover._cache.clear()  # parsed files are cached per process by path, mtime and size
    project = make_project(tmp_path)
    path = tmp_path / "bad.sql"
    path.write_text(f"SELECT 1;\n{sql}\n")
    result = lint(project, [path])
    return [(f.line, f.column, f.message) for f in result.findings if f.code == "TDB000"]


def _check(tmp_path: Path, sql: str, line: int, col: int, words: list[str]) -> None:
    [(got_line, got_col, message)] = _parse_errors(tmp_path, sql)
    assert (got_line, got_col) == (line, col), message
    for w in words:
        assert w in message
    assert "<Token" not in message and "<class" not in message  # no parser internals


IDS = [c[0][:60] for c in CASES]


@pytest.mark.parametrize(("sql", "line", "col", "words"), CASES, ids=IDS)
def test_parse_failure_gives_reason_and_position(
    sql: str, line: int, col: int, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _check(tmp_path, sql, line, col, words)


@pytest.mark.parametrize(("sql", "line", "col", "words"), CASES, ids=IDS)
def test_compiled_code_path_gives_the_same_reason_and_position(
    sql: str, line: int, col: int, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain dialect, as with sqlglotc: no hook in the parser, stuck_at() searches."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(unit, "_DIALECT", MySQL())
    monkeypatch.setattr(unit, "_TRACKS_STUCK", False)
    _check(tmp_path, sql, line, col, words)


def test_search_that_would_cost_too_much_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(unit, "_DIALECT", MySQL())
    monkeypatch.setattr(unit, "_TRACKS_STUCK", False)
    monkeypatch.setattr(unit, "_STUCK_BUDGET", 5)
    [(line, col, message)] = _parse_errors(tmp_path, CASES[-1][0])
    assert (line, col) == (2, 1)
    assert "unsupported syntax" in message and "does not say where" in message


def test_build_in_use_is_the_one_expected() -> None:
    """With sqlglotc installed the parser is compiled and cannot be hooked; without it the
    hook is in place. Either way the tests above ran the code path of that build."""
    assert unit._TRACKS_STUCK is (not unit._COMPILED)
