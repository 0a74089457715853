"""A big script is checked by several processes (ticketdb.lint.parallel): the findings of a
run must be exactly those of one process reading every file whole, also when a worker fails
or hangs, and no worker may outlive the run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from lint_helpers import FIXTURES, make_project
from test_light import ROUTINES
from test_stream import MIXED

from ticketdb.lint import discover, engine, parallel
from ticketdb.lint.parse import stream

HERE = Path(__file__).parent
INPUTS = sorted([*(HERE / "corpus").glob("*.sql"), *(HERE / "thirdparty").glob("*.sql")])
INPUTS += sorted(FIXTURES.glob("*.sql"))


def _project(root: Path) -> list[Path]:
    """Several scripts in one run: the corpus, the shape-cache input, a routine library
    (under two delimiters) and a dump of one-line statements with findings in it."""
    files = {f"{n:02d}_{p.name}": p.read_text(encoding="utf-8") for n, p in enumerate(INPUTS)}
    files["50_mixed.sql"] = MIXED * 3
    files["60_routines.sql"] = "".join(ROUTINES.format(n=n) for n in range(60))
    rows = "".join(f"UPDATE shapes SET a = {i} WHERE id = {i};\n" for i in range(3000))
    files["70_dump.sql"] = MIXED + rows + "UPDATE shapes SET nope = 1 WHERE id = 1;\n" + rows
    make_project(root, {f"scripts/{name}": text for name, text in files.items()})
    return sorted((root / "scripts").glob("*.sql"))


def _findings(root: Path, paths: list[Path]) -> list[tuple[str, int, int, str, str]]:
    discover._cache.clear()
    result = engine.lint(make_project(root), paths)
    return [(f.path, f.line, f.column, f.code, f.message) for f in result.findings]


@pytest.fixture(autouse=True)
def alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads other tests left behind (servers of the alert tests) would turn the workers
    off; none of them holds a lock the lint needs, and a worker that hung would be killed."""
    monkeypatch.setattr(parallel, "_alone", lambda: True)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the workers started, so a test knows the parallel path ran."""
    started: list[int] = []
    real = parallel.Worker.__init__

    def counting(self: parallel.Worker, work: object) -> None:
        real(self, work)  # type: ignore[arg-type]
        started.append(self.pid)

    monkeypatch.setattr(parallel.Worker, "__init__", counting)
    return started


def _reaped(pids: list[int]) -> None:
    """Every worker was waited for: none is left running or a zombie."""
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_parallel_findings_equal_one_process_reading_whole_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], jobs: str
) -> None:
    paths = _project(tmp_path)
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "1")
    plain = _findings(tmp_path, paths)
    assert not forks
    monkeypatch.setenv("TICKETDB_LINT_JOBS", jobs)
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "MIN_LINES", 0)  # every script that lexes goes parallel
    monkeypatch.setattr(stream, "STREAM_BYTES", 1)
    assert _findings(tmp_path, paths) == plain
    assert len(forks) >= 10 * (int(jobs) - 1)
    codes = {code for *_, code, _ in plain}
    assert {"TDB000", "TDB001", "TDB002"} <= codes  # the input has findings to lose
    _reaped(forks)


def test_failed_worker_costs_time_not_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    paths = _project(tmp_path)
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "1")
    plain = _findings(tmp_path, paths)
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "3")
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "MIN_LINES", 0)
    monkeypatch.setattr(stream, "STREAM_BYTES", 1)
    real = parallel.Worker.__init__

    def failing(self: parallel.Worker, work: object) -> None:
        def broken() -> parallel.Part:
            raise RuntimeError("a worker's bug")

        real(self, broken)

    monkeypatch.setattr(parallel.Worker, "__init__", failing)
    assert _findings(tmp_path, paths) == plain
    assert forks
    _reaped(forks)


def test_hanging_worker_is_killed_and_its_segment_checked_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    text = "".join(ROUTINES.format(n=n) for n in range(200)) + "SELECT nope FROM orders;\n"
    (tmp_path / "lib.sql").write_text(text)
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "1")
    plain = _findings(tmp_path, [tmp_path / "lib.sql"])
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "2")
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "MIN_LINES", 0)
    monkeypatch.setattr(parallel, "SLOWER", 0.0)
    monkeypatch.setattr(parallel, "GRACE", 0.5)
    real = parallel.Worker.__init__

    def hanging(self: parallel.Worker, work: object) -> None:
        real(self, lambda: time.sleep(600))  # type: ignore[arg-type,return-value]

    monkeypatch.setattr(parallel.Worker, "__init__", hanging)
    began = time.monotonic()
    assert _findings(tmp_path, [tmp_path / "lib.sql"]) == plain
    assert time.monotonic() - began < 60
    _reaped(forks)


def test_a_script_the_lexer_rejects_is_read_whole_as_before(tmp_path: Path, monkeypatch) -> None:
    """Read whole, an unterminated string is the file's one finding; a script of middling
    size is streamed (to be checked in parallel) only when it lexes."""
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "2")
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "MIN_LINES", 0)
    (tmp_path / "bad.sql").write_text(MIXED + "UPDATE shapes SET b = 'bad\n")
    (tmp_path / "good.sql").write_text(MIXED)
    found = _findings(tmp_path, [tmp_path / "bad.sql", tmp_path / "good.sql"])
    assert [f[3:] for f in found if f[0].endswith("bad.sql")] == [("TDB000", "unterminated string")]
    srcs = {Path(k[0]).name: s for k, s in discover._cache.items()}
    assert not srcs["bad.sql"].streamed and srcs["good.sql"].streamed


def test_routines_of_a_streamed_script_count_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scripts define one procedure with different parameters and an earlier one calls
    it: the later definition's count is checked, whether the first is streamed or not."""
    files = {
        "a.sql": "CALL p(1);\n",
        "b.sql": "CREATE PROCEDURE p(IN x INT) SELECT x;\n",
        "c.sql": "use shop\nCREATE PROCEDURE p(IN x INT, IN y INT) SELECT x + y;\n",
    }
    make_project(tmp_path, files)
    paths = [tmp_path / name for name in files]
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "1")
    whole = _findings(tmp_path, paths)
    monkeypatch.setenv("TICKETDB_LINT_JOBS", "2")
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "MIN_LINES", 0)
    assert _findings(tmp_path, paths) == whole
    srcs = {Path(k[0]).name: s for k, s in discover._cache.items()}
    assert srcs["b.sql"].streamed and not srcs["c.sql"].streamed  # (`use` lines: read whole)
    assert [f[3:] for f in whole if f[0].endswith("a.sql")] == [
        ("TDB019", "CALL p passes 1 argument(s); the procedure takes 2")
    ]
