"""``mariadbd --wsrep-recover`` as the cluster runs it before restarting a killed node: taken
at its word once it logged the recovered position, killed (with anything it started) when it
then hangs, and given up on after the timeout. A stand-in script plays the server: the real
one hangs only now and then (8 of 34 restarts on a loaded machine, growing ~60 MB/s)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from waiting import eventually

from ticketdb.errors import TicketdbError
from ticketdb.server import cluster as cluster_mod
from ticketdb.server.cluster import Cluster
from ticketdb.server.node import Node

UUID = "4c1e7a5e-0f7d-11ef-9a4c-0242ac120002"

FAKE = """#!{python}
import os, subprocess, sys, time
log = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--log-error="))
mode = os.environ["FAKE_RECOVER"]
child = subprocess.Popen(["sleep", "300"])  # in its process group: must die with it
with open(os.environ["FAKE_PIDS"], "w") as f:
    f.write(f"{{os.getpid()}} {{child.pid}}")
if mode != "silent":
    seqno = "-1" if mode == "unknown" else "42"
    with open(log, "a") as f:
        f.write(f"[Note] WSREP: Recovered position: {uuid}:{{seqno}}\\n")
if mode == "unknown":
    child.kill()
    sys.exit(0)
time.sleep(300)  # "hang" and "silent": never exits by itself
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone: its parent (the stand-in) was killed
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Node:
    monkeypatch.setattr(Cluster, "_as_mysql", lambda self: False)
    n = Node(cluster=Cluster(tmp_path / "cluster", nodes=3), index=1)
    n.root.mkdir(parents=True)
    return n


def _server(tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    script = tmp_path / "mariadbd"
    script.write_text(FAKE.format(python=sys.executable, uuid=UUID))
    script.chmod(0o755)
    pids = tmp_path / "pids"
    monkeypatch.setenv("FAKE_RECOVER", mode)
    monkeypatch.setenv("FAKE_PIDS", str(pids))
    return str(script), pids


def test_a_recover_that_hangs_after_logging_is_killed_with_its_children(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, pids = _server(tmp_path, "hang", monkeypatch)
    start = time.monotonic()
    position = node.cluster.recover_position(server, node, timeout=60)
    took = time.monotonic() - start
    assert position == f"{UUID}:42"
    # the grace, not the timeout: the stand-in would sleep 300 s
    assert cluster_mod._RECOVER_GRACE <= took < cluster_mod._RECOVER_GRACE + 10
    server_pid, child_pid = map(int, pids.read_text().split())
    # SIGKILL to the group is delivered, not awaited: on a loaded machine the child may take
    # a moment to be gone
    assert eventually(lambda: not _alive(server_pid) and not _alive(child_pid), 10)


def test_a_recover_that_finds_no_position_gives_none(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = _server(tmp_path, "unknown", monkeypatch)
    assert node.cluster.recover_position(server, node, timeout=60) is None


def test_a_recover_that_never_logs_is_given_up_after_the_timeout(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, pids = _server(tmp_path, "silent", monkeypatch)
    start = time.monotonic()
    with pytest.raises(TicketdbError, match="did not finish in 2s"):
        node.cluster.recover_position(server, node, timeout=2)
    assert time.monotonic() - start < 10
    server_pid, child_pid = map(int, pids.read_text().split())
    # SIGKILL to the group is delivered, not awaited: on a loaded machine the child may take
    # a moment to be gone
    assert eventually(lambda: not _alive(server_pid) and not _alive(child_pid), 10)
