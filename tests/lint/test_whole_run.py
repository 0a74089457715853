"""The dry run (every table and routine of the whole run, ticketdb.lint.context.WholeRun) is
read only when a statement needs a name the schema at its point lacks: the findings must be
exactly those of a run that reads it first, and a library that names only what it made before
must not pay for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_helpers import make_project
from test_parallel import _findings, _project

from ticketdb.lint import context, engine, parallel
from ticketdb.lint.parse import stream

LIBRARY = """\
CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(20), total INT);
DELIMITER ;;
{body}DELIMITER ;
"""
ROUTINE = """\
CREATE PROCEDURE p_{n}(IN a INT) SQL SECURITY INVOKER
BEGIN
    DECLARE v INT DEFAULT 0;
    SET v = (SELECT COUNT(*) FROM orders WHERE id = a);
    IF v > 0 THEN UPDATE orders SET note = 'x' WHERE id = a; END IF;
    {call}
END ;;
CREATE TRIGGER t_{n} BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = NEW.id ;;
"""


@pytest.fixture
def dry_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the dry runs (each reads every file of the run once more)."""
    runs: list[int] = []
    real = engine._whole_run

    def counting(*args: object) -> object:
        runs.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_whole_run", counting)
    return runs


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every script streams, and is checked in one process (its dry run, if any, is here)."""
    monkeypatch.setattr(stream, "STREAM_BYTES", 1)
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "1")


def _library(calls: dict[int, str]) -> str:
    body = "".join(ROUTINE.format(n=n, call=calls.get(n, "")) for n in range(40))
    return LIBRARY.format(body=body)


def test_findings_equal_those_of_a_run_that_reads_the_dry_run_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The corpora, fixtures, dumps and routine libraries of the parallel test, streamed and
    read whole, with the dry run read when needed and with it read first."""
    monkeypatch.setattr(parallel, "_alone", lambda: True)
    paths = _project(tmp_path)
    lazy = _findings(tmp_path, paths)
    real = context.WholeRun.__init__

    def eager(self: context.WholeRun, *args: object) -> None:
        real(self, *args)  # type: ignore[arg-type]
        self._get()

    monkeypatch.setattr(context.WholeRun, "__init__", eager)
    assert _findings(tmp_path, paths) == lazy
    assert {"TDB001", "TDB002", "TDB019"} <= {f[3] for f in lazy}  # findings that depend on it


def test_a_library_naming_only_what_it_made_before_never_reads_it(
    tmp_path: Path, streamed: None, dry_runs: list[int]
) -> None:
    make_project(tmp_path, {"lib.sql": _library({n: f"CALL p_{n - 1}(a);" for n in range(1, 40)})})
    assert _findings(tmp_path, [tmp_path / "lib.sql"]) == []
    assert dry_runs == []


@pytest.mark.parametrize(
    ("later", "call"),
    [
        ("CREATE TABLE made_later (id INT PRIMARY KEY);\n", "SELECT id INTO @x FROM made_later;"),
        ("", "CALL p_39(a);"),  # defined further down the same script
        ("CREATE DATABASE other;\nCREATE TABLE other.t (id INT PRIMARY KEY);\n",
         "SELECT nope INTO @x FROM other.t;"),  # another database: own only later
    ],
)  # fmt: skip
def test_a_name_made_later_reads_it_once_and_resolves(
    tmp_path: Path, streamed: None, dry_runs: list[int], later: str, call: str
) -> None:
    make_project(tmp_path, {"lib.sql": _library({3: call, 7: call}) + later})
    found = _findings(tmp_path, [tmp_path / "lib.sql"])
    assert dry_runs == [1]
    if "nope" in call:  # read with the run's tables, the column is checked: twice, both found
        assert [(f[3], f[4]) for f in found] == [("TDB002", "unknown column `nope` in `t`")] * 2
    else:
        assert found == []


def test_a_procedure_of_a_later_file_is_checked_against_that_definition(
    tmp_path: Path, streamed: None, dry_runs: list[int]
) -> None:
    """The last definition in file order counts, from a streamed script after a file read
    whole too (the parallel test has the other order)."""
    files = {
        "a.sql": "CALL p(1);\n",
        "b.sql": "use shop\nCREATE PROCEDURE p(IN x INT) SELECT x;\n",
        "c.sql": "CREATE PROCEDURE p(IN x INT, IN y INT) SELECT x + y;\n",
    }
    make_project(tmp_path, files)
    found = _findings(tmp_path, [tmp_path / name for name in files])
    assert [f[3:] for f in found if f[0].endswith("a.sql")] == [
        ("TDB019", "CALL p passes 1 argument(s); the procedure takes 2")
    ]
    assert dry_runs == [1]
