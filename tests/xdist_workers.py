"""How ``make test`` spreads the suite over pytest-xdist workers (``-n``): most of the suite
waits (timeouts, server starts, fsync, a node's state transfer), so two workers on two cores
take about half the time. Each worker gets the controller's COLUMNS/LINES (see TERMINAL_ENV).

Work units, decided on each worker at collection (they all collect the same tests):

- every test that uses the Galera cluster is one unit, queued first (the longest): one worker
  starts one cluster (a second one would double its minute of start-up and its memory);
- a module with a fixture wider than a test (a sandbox, a seeded database, a benchmark run) is
  one unit, so that fixture is built once;
- any other test is a unit of its own.

A plugin (tests/conftest.py: ``pytest_plugins``). The workers hand the units to the
controller's scheduler in a file: xdist's own
``--dist loadgroup`` passes them by rewriting node ids, which pytest 9.2 ignores (pytest-xdist
issue 1386: the tests are then spread as if ungrouped, silently).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

#: the workerinput key naming the file a worker writes its units to
INPUT_KEY = "ticketdb_units"
#: the workerinput key holding the controller's terminal size variables (None: not set)
ENV_KEY = "ticketdb_terminal_env"
#: a worker starts with COLUMNS=80 LINES=24 that the controller's environment may not have: the
#: CLI then folds its output at 80 columns where a plain run prints one line per row or path
TERMINAL_ENV = ("COLUMNS", "LINES")
GALERA = "galera"
#: fixture scopes wider than a test and narrower than the session
SHARED_SCOPES = frozenset({"class", "module", "package"})


def unit_of(item: pytest.Item) -> str:
    """The work unit of ``item`` (see the module docstring)."""
    if "galera_cluster" in item.fixturenames:
        return GALERA
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    if any(d.scope in SHARED_SCOPES for ds in defs for d in ds):
        return item.nodeid.split("::")[0]
    return item.nodeid


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker: the Galera tests first, then each test's unit into the controller's file."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None or INPUT_KEY not in workerinput:
        return
    items.sort(key=lambda item: unit_of(item) != GALERA)  # stable: the rest keeps its order
    units = {item.nodeid: unit_of(item) for item in items}
    Path(workerinput[INPUT_KEY]).write_text(json.dumps(units))


def pytest_configure(config: pytest.Config) -> None:
    """On a worker: the controller's COLUMNS and LINES (set or not), so that the commands the
    tests run print as they do in a run without workers."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    for name, value in (workerinput or {}).get(ENV_KEY, {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.hookimpl(optionalhook=True)  # xdist's hooks: unknown to a run without pytest-xdist
def pytest_configure_node(node: Any) -> None:
    """On the controller: tell a starting worker where to write its units (the session's temp
    root, created by xdist before the workers start) and this process's terminal size."""
    root = Path(node.config.option.basetemp)
    node.workerinput[INPUT_KEY] = str(root / f"xdist-units-{node.gateway.id}.json")
    node.workerinput[ENV_KEY] = {name: os.environ.get(name) for name in TERMINAL_ENV}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The scheduler for ``-n N`` (xdist's default ``--dist load``); None for another --dist."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        """xdist's scope scheduling, with the workers' units as scopes, in collection order
        (the Galera unit first) instead of largest-first: a unit's size in tests says nothing
        of its duration."""

        def __init__(self, config: pytest.Config, log: Any) -> None:
            super().__init__(config, log)
            self.units: dict[str, str] | None = None

        def schedule(self) -> None:
            if self.units is None:
                files = sorted(Path(config.option.basetemp).glob("xdist-units-*.json"))
                if not files:
                    raise pytest.UsageError(
                        "no worker wrote its test units (tests/xdist_workers.py): cannot keep "
                        "the Galera tests on one worker"
                    )
                self.units = json.loads(files[0].read_text())
            self.config.option.loadscopereorder = False  # read by the schedule() below
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            assert self.units is not None, "scopes asked for before the collection ended"
            return self.units.get(nodeid, nodeid)

    return UnitScheduling(config, log)
