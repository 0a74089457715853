"""Fixtures shared by the server tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ticketdb.server.sandbox import Sandbox


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working directory whose `.ticketdb/` holds a running sandbox (and no migrations/)."""
    cwd = tmp_path_factory.mktemp("cwd")
    box = Sandbox(cwd / ".ticketdb")
    box.start()
    try:
        yield cwd
    finally:
        box.stop()


@pytest.fixture(scope="module")
def sandbox_port(workdir: Path) -> int:
    port = Sandbox(workdir / ".ticketdb").resolved_port()
    assert port is not None
    return port
