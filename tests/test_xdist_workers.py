"""How ``make test`` spreads the suite over workers (tests/xdist_workers.py), checked on a small
generated suite run by the installed pytest and pytest-xdist on two workers: every Galera test
on one worker and first, a module with a module-scoped fixture on one worker, and the
controller's COLUMNS (unset) in the workers.
(xdist's own ``--dist loadgroup`` silently stopped grouping with pytest 9.2: this would fail.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

HERE = Path(__file__).parent

CONFTEST = """
import os
import time

import pytest

pytest_plugins = ["xdist_workers"]


@pytest.fixture(scope="session")
def galera_cluster():
    return "cluster"


@pytest.fixture(scope="module")
def seeded():
    return "seeded"


@pytest.fixture(autouse=True)
def _record(request):
    time.sleep(0.05)  # long enough for both workers to take tests
    yield
    with open(os.environ["RECORD"], "a") as f:
        f.write(f"{os.environ['PYTEST_XDIST_WORKER']} {os.environ.get('COLUMNS')} "
                f"{request.node.nodeid}\\n")
"""

PLAIN = """
import pytest


@pytest.mark.parametrize("i", range(12))
def test_plain(i):
    pass
"""

GALERA_A = """
def test_cluster_one(galera_cluster):
    pass


def test_not_on_the_cluster():
    pass
"""

GALERA_B = """
import pytest


@pytest.fixture
def gdb(galera_cluster):
    return galera_cluster


@pytest.mark.parametrize("i", range(4))
def test_through_a_fixture(gdb, i):
    pass
"""

SHARED = """
import pytest


@pytest.mark.parametrize("i", range(6))
def test_shared(seeded, i):
    pass
"""


def test_galera_tests_share_one_worker_and_go_first_modules_with_shared_fixtures_too(
    tmp_path: Path,
) -> None:
    pytest.importorskip("xdist")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    files = {"test_a_plain.py": PLAIN, "test_b_galera.py": GALERA_A,
             "test_c_shared.py": SHARED, "test_d_galera.py": GALERA_B}  # fmt: skip
    for name, text in files.items():
        (suite / name).write_text(text)
    record = tmp_path / "record"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(RECORD=str(record), PYTHONPATH=str(HERE))
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         f"--basetemp={tmp_path / 'tmp'}", "-c", os.devnull, "--rootdir", str(suite), str(suite)],
        capture_output=True, text=True, env=env, cwd=suite, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [line.split(" ", 2) for line in record.read_text().splitlines()]
    assert {columns for _, columns, _ in lines} == {"None"}  # as in the controller, not 80
    runs = [(worker, nodeid) for worker, _, nodeid in lines]
    assert len(runs) == 12 + 2 + 6 + 4
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, nodeid in runs:
        # test_not_on_the_cluster is in a Galera module but is a unit of its own
        kind = ("galera" if "cluster_one" in nodeid or "through_a_fixture" in nodeid
                else nodeid.split("::")[0])  # fmt: skip
        workers[kind].add(worker)
    assert len(workers["galera"]) == 1, runs
    assert len(workers["test_c_shared.py"]) == 1, runs
    galera = workers["galera"].pop()
    mine = [nodeid for worker, nodeid in runs if worker == galera]
    assert "cluster_one" in mine[0], mine  # the Galera unit first on its worker
