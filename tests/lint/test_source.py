"""``source file`` / ``\\. file`` are followed: the sourced file is linted at that point of the
script, against and into the same schema; missing files and cycles are TDB032 findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_helpers import make_project

from ticketdb.lint import discover
from ticketdb.lint.engine import lint


def _lint(root: Path, *targets: str) -> list[str]:
    project = make_project(root)
    result = lint(project, [root / t for t in targets])
    return sorted(f"{f.path}:{f.line}:{f.code}" for f in result.findings)


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_sourced_tables_count_after_the_source_line_and_in_the_final_schema(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {
        "sql/main.sql": (
            "SELECT id FROM part_notes;\n"             # before the source: not there yet
            "source part.sql\n"
            "SELECT body FROM part_notes WHERE id = 1;\n"
            "SELECT nope FROM part_notes;\n"
        ),
        "sql/part.sql": "CREATE TABLE part_notes (id INT, body TEXT);\n",  # no PRIMARY KEY
    })  # fmt: skip
    assert _lint(tmp_path, "sql/main.sql") == [
        "sql/main.sql:1:TDB001",
        "sql/main.sql:4:TDB002",
        "sql/part.sql:1:TDB003",  # the final schema holds the sourced table
    ]


def test_nested_sources_resolve_from_each_sourcing_file_and_report_in_that_file(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {
        "main.sql": "\\. lib/a.sql;\nSELECT b_col FROM b_table;\n",
        "lib/a.sql": "-- a\nsource 'b.sql'\nUPDATE b_table SET b_colx = 1 WHERE id = 2;\n",
        "lib/b.sql": "CREATE TABLE b_table (id INT PRIMARY KEY, b_col INT);\n",
    })  # fmt: skip
    # b.sql is next to a.sql, not next to main.sql; a.sql's own bug is reported in a.sql
    assert _lint(tmp_path, "main.sql") == ["lib/a.sql:3:TDB002"]


def test_working_directory_is_the_fallback_like_the_mysql_client(tmp_path: Path) -> None:
    _write(tmp_path, {
        "scripts/run.sql": "source shared/tables.sql\nSELECT id FROM shared_t;\n",
        "shared/tables.sql": "CREATE TABLE shared_t (id INT PRIMARY KEY);\n",
    })  # fmt: skip
    assert _lint(tmp_path, "scripts/run.sql") == []


def test_missing_sourced_file_is_an_error_finding_not_a_traceback(tmp_path: Path) -> None:
    _write(tmp_path, {"main.sql": "SELECT 1;\nsource gone.sql\nSELECT id FROM tickets;\n"})
    project = make_project(tmp_path)
    result = lint(project, [tmp_path / "main.sql"])
    [finding] = result.findings
    assert (finding.line, finding.code, finding.severity) == (2, "TDB032", "error")
    assert "gone.sql" in finding.message and "no such file" in finding.message
    assert result.errors == 1


def test_cycle_is_reported_once_and_each_file_is_linted(tmp_path: Path) -> None:
    _write(tmp_path, {
        "a.sql": "CREATE TABLE a_t (id INT PRIMARY KEY);\nsource b.sql\n",
        "b.sql": "SELECT missing_col FROM a_t;\nsource a.sql\n",
    })  # fmt: skip
    project = make_project(tmp_path)
    result = lint(project, [tmp_path / "a.sql", tmp_path / "b.sql"])
    got = sorted(f"{f.path}:{f.line}:{f.code}" for f in result.findings)
    assert got == ["b.sql:1:TDB002", "b.sql:2:TDB032"]
    cycle = next(f for f in result.findings if f.code == "TDB032")
    assert "a.sql -> b.sql -> a.sql" in cycle.message
    assert sorted(result.files) == ["a.sql", "b.sql"]


def test_a_sourced_target_is_linted_where_it_is_sourced_not_alone(tmp_path: Path) -> None:
    # part.sql uses a table that exists only while zmain.sql sources it: alone (before or
    # after zmain.sql) it would be TDB001
    _write(tmp_path, {
        "dir/part.sql": "INSERT INTO main_t (id) VALUES (1);\n",
        "dir/zmain.sql": (
            "CREATE TABLE main_t (id INT PRIMARY KEY);\nsource part.sql\nDROP TABLE main_t;\n"
        ),
    })  # fmt: skip
    project = make_project(tmp_path)
    result = lint(project, [tmp_path / "dir"])
    assert result.findings == []
    assert sorted(result.files) == ["dir/part.sql", "dir/zmain.sql"]


def test_routine_bodies_see_tables_of_files_sourced_later(tmp_path: Path) -> None:
    _write(tmp_path, {
        "main.sql": (
            "CREATE PROCEDURE p() BEGIN SELECT late_col FROM late_t; END;\n"
            "source late.sql\n"
        ),
        "late.sql": "CREATE TABLE late_t (id INT PRIMARY KEY, late_col INT);\n",
    })  # fmt: skip
    got = [x for x in _lint(tmp_path, "main.sql") if ":TDB0" in x and "TDB020" not in x]
    assert got == []


def test_unreadable_sourced_file_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # root reads a chmod 000 file anyway: make reading this one fail as it would for a user
    _write(tmp_path, {"main.sql": "source locked.sql\n", "locked.sql": "SELECT 1;\n"})
    real_load = discover.load

    def load(path: Path, *args: object, **kwargs: object) -> object:
        if path.name == "locked.sql":
            raise PermissionError(13, "Permission denied")
        return real_load(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(discover, "load", load)
    discover._cache.clear()
    project = make_project(tmp_path)
    result = lint(project, [tmp_path / "main.sql"])
    assert [(f.line, f.code) for f in result.findings] == [(1, "TDB032")]
    assert "cannot read" in result.findings[0].message
    assert "Permission denied" in result.findings[0].message
