"""Helpers for the fault-injection tests: run the real CLI as a process, wait, kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ticketdb import PROJECT_ROOT
from ticketdb.dsn import DSN

if TYPE_CHECKING:
    import socket


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    return {**base, "TICKETDB_SANDBOX_DIR": "/nonexistent/ticketdb-sandbox", **(extra or {})}


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real console entry point, in a subprocess (tracebacks and exit codes are visible)."""
    return subprocess.run(
        [sys.executable, "-m", "ticketdb", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=timeout,
        cwd=PROJECT_ROOT,
    )


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ticketdb", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(env),
        cwd=PROJECT_ROOT,
    )


def wait_for(
    cond: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(
                f"process ended (rc {proc.returncode}) before {what}: {err[-2000:]}"
            )
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kill(
    proc: subprocess.Popen[str], sig: int = signal.SIGKILL, timeout: float = 60
) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def signal_if_running(proc: subprocess.Popen[str], sig: int) -> bool:
    """Send ``sig`` unless the process has already exited; False (nothing sent) is proof that
    it ended before the signal. Its exit status is only peeked at (WNOWAIT: still a zombie,
    ``communicate`` reaps it), and a zombie's pid cannot be reused, so there is no race."""
    if proc.poll() is not None:
        return False
    if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
        return False
    proc.send_signal(sig)
    return True


def finish_all(procs: list[subprocess.Popen[bytes]], timeout: float) -> list[str]:
    """Each process's stderr once it exits; any still running after ``timeout`` (or when the
    wait fails) is killed, so a stuck worker never outlives the test."""
    try:
        return [p.communicate(timeout=timeout)[1].decode() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def clean(res: subprocess.CompletedProcess[str] | tuple[int, str, str]) -> str:
    """All the output, asserting there is no traceback in it."""
    text = (
        res.stdout + res.stderr if isinstance(res, subprocess.CompletedProcess) else res[1] + res[2]
    )
    assert "Traceback" not in text, text[-3000:]
    return text


def marker(tmp: Path, name: str) -> Path:
    p = tmp / name
    p.unlink(missing_ok=True)
    return p


# -- the state machine, replayed in Python over what the database holds -------------------------
_ALLOWED = {
    "assign": {"pending", "processing"},
    "reply": {"pending", "processing"},
    "transfer": {"processing"},
    "resolve": {"processing"},
    "reopen": {"resolved"},
    "close": {"pending", "processing", "resolved"},
    "escalate": {"pending", "processing"},
}


def replay_problems(conn: object) -> list[str]:
    """Every ticket's log replayed from 'pending, unassigned' through the workflow's state
    machine: illegal transitions and final states that contradict the log."""
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SELECT id, current_status, assigned_agent_id, closed_at FROM service_tickets")
        tickets = {r[0]: r[1:] for r in cur.fetchall()}
        cur.execute(
            "SELECT ticket_id, action_type, agent_id, to_agent_id, action_time FROM ticket_logs "
            "ORDER BY ticket_id, action_time, id"
        )
        logs = cur.fetchall()
    state: dict[int, list] = {tid: ["pending", None, None] for tid in tickets}
    problems: list[str] = []
    for tid, action, agent, to_agent, at in logs:
        st = state.get(tid)
        if st is None:
            problems.append(f"log for missing ticket {tid}")
            continue
        if st[0] not in _ALLOWED[action]:
            problems.append(f"ticket {tid}: {action} from {st[0]}")
        if action == "assign":
            st[0], st[1] = "processing", agent
        elif action == "transfer":
            st[1] = to_agent
        elif action == "resolve":
            st[0] = "resolved"
        elif action == "reopen":
            st[0] = "processing"
        elif action == "close":
            st[0], st[2] = "closed", at
    for tid, (status, agent, closed_at) in tickets.items():
        if [status, agent, closed_at] != state[tid]:
            problems.append(f"ticket {tid}: stored {status}/{agent}/{closed_at}, log {state[tid]}")
    return problems


def schema_shape(conn: object) -> dict[str, object]:
    """Triggers and secondary indexes of the two seeded tables: what a seed takes apart."""
    from ticketdb.migrate.ledger import secondary_keys

    shape: dict[str, object] = {}
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute(
            "SELECT trigger_name FROM information_schema.triggers "
            "WHERE trigger_schema = DATABASE() ORDER BY 1"
        )
        shape["triggers"] = [r[0] for r in cur.fetchall()]
        for table in ("service_tickets", "ticket_logs"):
            cur.execute(f"SHOW CREATE TABLE {table}")
            shape[table] = secondary_keys(cur.fetchone()[1])
    return shape


def fifo_folders(pid: int, base: Path | None = None) -> list[Path]:
    """The FIFO folders of the seed process ``pid`` in ``base`` (default: the temp dir)."""
    import tempfile

    return list((base or Path(tempfile.gettempdir())).glob(f"ticketdb-seed-{pid}-*"))


# -- a network that goes silent -----------------------------------------------------------------
class FreezingProxy:
    """127.0.0.1:port → ``target``, forwarding both ways until :meth:`freeze`: from then on
    it forwards nothing and closes nothing (a firewall or NAT dropping packets, as the client
    sees it: no reset, no FIN), and new connections are accepted and left unanswered.
    ``close()`` ends everything (use it in a ``finally``). ``listener``: accept there instead
    of on a new 127.0.0.1 port (tests/netns.py relays from another network namespace)."""

    def __init__(self, target: tuple[str, int], listener: socket.socket | None = None):
        import socket
        import threading

        self.target = target
        self.listener = listener or socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self.listener.getsockname()[:2]
        self.frozen = threading.Event()
        self._closed = threading.Event()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def dsn(self, dsn: DSN) -> DSN:
        """``dsn`` reached through this proxy."""
        return dsn.with_host(self.host, self.port)

    def first_node(self, dsn: DSN) -> DSN:
        """A multi-host DSN: this proxy first, ``dsn``'s server direct second (two "nodes"
        of one server, for failover)."""
        return DSN.parse(
            f"mysql://root@{self.host}:{self.port},{dsn.host}:{dsn.port}/{dsn.database}"
        )

    def freeze(self) -> None:
        self.frozen.set()

    def close(self) -> None:
        import socket

        self._closed.set()
        self.listener.close()
        with self._lock:
            for s in self._socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _keep(self, *socks: object) -> None:
        with self._lock:
            self._socks.extend(socks)  # type: ignore[arg-type]

    def _accept(self) -> None:
        import socket
        import threading

        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._keep(client)
            if self.frozen.is_set():
                continue  # accepted, never answered
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self._keep(server)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: object, dst: object) -> None:
        import select
        import socket

        while not self._closed.is_set():
            if self.frozen.is_set():
                self._closed.wait(0.2)  # hold the sockets open, move nothing
                continue
            try:
                ready, _, _ = select.select([src], [], [], 0.1)
                if not ready:
                    continue
                data = src.recv(65536)  # type: ignore[attr-defined]
                if not data:
                    dst.shutdown(socket.SHUT_WR)  # type: ignore[attr-defined]
                    return
                if self.frozen.is_set():
                    continue  # read just as it froze: dropped, like a lost packet
                dst.sendall(data)  # type: ignore[attr-defined]
            except OSError:
                return


#: a migration 0002_fb for fault tests (tests/migrate, tests/server): three steps, the middle one
#: commits DDL, then parks while FAULT_PARK (FAULT_PARK_ROLLBACK on the way down) names a file
STEP_PY = '''
"""Three steps; the middle one commits DDL, then parks when FAULT_PARK names a file."""
import os
import time
from pathlib import Path

from yoyo import step

__depends__ = {"0001_fa"}


def ddl_then_park(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE fb2 (id INT PRIMARY KEY)")
    park = os.environ.get("FAULT_PARK")
    if park:
        Path(park).write_text("parked")
        time.sleep(120)


def undo_ddl_then_park(conn):
    with conn.cursor() as cur:
        cur.execute("DROP TABLE fb2")
    park = os.environ.get("FAULT_PARK_ROLLBACK")
    if park:
        Path(park).write_text("parked")
        time.sleep(120)


steps = [
    step("CREATE TABLE fb1 (id INT PRIMARY KEY)", "DROP TABLE fb1"),
    step(ddl_then_park, undo_ddl_then_park),
    step("CREATE TABLE fb3 (id INT PRIMARY KEY)", "DROP TABLE fb3"),
]
'''
