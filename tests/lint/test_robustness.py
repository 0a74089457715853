"""Never a crash: truncated and mangled SQL gives findings, not exceptions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lint_helpers import make_project

from ticketdb import PROJECT_ROOT
from ticketdb.lint.engine import lint

HERE = Path(__file__).parent
SOURCES = [
    HERE / "thirdparty" / "sakila_excerpt.sql",
    HERE / "thirdparty" / "employees_objects.sql",
    *sorted((PROJECT_ROOT / "triggers").glob("*.sql"))[:2],
]
NOISE = ["BEGIN", "END", ";", "(", ")", "CASE", "IF", "THEN", "DELIMITER ;;", "`", "'", "END IF;"]


def _mangled(seed: int) -> str:
    rnd = random.Random(seed)
    text = rnd.choice(SOURCES).read_text()
    if seed % 3 == 0:
        return text[: rnd.randint(0, len(text))]
    if seed % 3 == 1:
        a = rnd.randint(0, len(text))
        return text[:a] + text[a + rnd.randint(1, 40) :]
    words = text.split(" ")
    words.insert(rnd.randint(0, len(words)), rnd.choice(NOISE))
    return " ".join(words)


@pytest.mark.parametrize("seed", range(30))
def test_mangled_sql_never_crashes(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    path = tmp_path / "mangled.sql"
    path.write_text(_mangled(seed))
    result = lint(project, [path])
    assert all(f.line >= 1 and f.column >= 1 for f in result.findings)
    assert not any("internal error" in f.message for f in result.findings)


def test_data_dump_insert_is_read_up_to_its_first_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mysqldump writes one multi-row INSERT per line; only the first row goes to sqlglot."""
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path)
    rows = ",".join(f"({i},'it''s ) {i}','open','high',NULL,NOW())" for i in range(3000))
    path = tmp_path / "data.sql"
    path.write_text(
        f"INSERT INTO tickets (id, title, status, priority, amount, created) VALUES {rows};\n"
        f"INSERT INTO tickets VALUES {rows};\n"
    )
    result = lint(project, [path])
    assert [(f.code, f.line) for f in result.findings] == [("TDB002", 1)]
