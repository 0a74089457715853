"""pt-online-schema-change as a child process that copies rows and stops before its swap.

The command line asks for the copy only (``--execute`` with throttling); ``--preserve-triggers``
is there to pass its "the table has triggers" check: pt-osc would move the table's own triggers
one at a time after the copy (shared/NOTES.md, the double/zero-firing hazard), but the plugin
(``osc_plugin.pl``) stops it in ``before_swap_tables``, before that move. The password goes on
stdin (``--ask-pass``), never in argv, the environment or a file; the same pipe then carries
the one command the plugin waits for (``swapped`` or ``abort``; end of file = abort).

Stopping it: pt-osc handles SIGINT/SIGTERM by exiting *without* dropping its triggers or the new
table (3.2.1, ``sig_int`` sets ``$oktorun = 0`` and the cleanup tasks keep both "to resume"),
so after any stop the caller removes them itself (ticketdb.migrate.online.swap.remove_copy).
The child dies with us (``PR_SET_PDEATHSIG``): a killed ``migrate`` never leaves a copy running
behind ``migrate repair``.

Bounded waits: pt-osc's own connections get connect/read/write timeouts through DBD::mysql's
DSN attributes (:func:`command`; libmariadb reads no read timeout from an option file), so a
silent peer fails its statement instead of blocking in recv() for ever; and
:meth:`Child.wait_for` asks the caller's ``check`` (server watchdog, leases) twice a second.
"""

from __future__ import annotations

import ctypes
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError

TOOL = "pt-online-schema-change"
PACKAGE = "percona-toolkit"
PLUGIN = Path(__file__).with_name("osc_plugin.pl")
MARK = "TICKETDB_OSC "
_PR_SET_PDEATHSIG = 1


def available() -> str | None:
    """Path of pt-online-schema-change, or None."""
    return shutil.which(TOOL)


@dataclass
class Options:
    """Throttling: pt-osc pauses while Threads_running (or, on Galera, the receive queue) is
    above the ``max_*`` values and aborts above ``critical_threads_running``."""

    max_threads_running: int = 25
    chunk_time: float = 0.5
    galera: bool = False
    max_flow_ctl: float = 10.0  # percent of time paused for flow control (Galera)
    max_recv_queue: int = 100
    add_unique: bool = False  # the caller checked there are no duplicate rows
    #: per statement of pt-osc's: above its chunk time (0.5 s) and its own metadata-lock wait
    #: (``lock_wait_timeout=60``, pt-osc's default), so only a dead peer reaches it
    read_timeout: int = 90
    connect_timeout: int = 10

    @property
    def critical_threads_running(self) -> int:
        return max(self.max_threads_running * 4, 100)


def command(dsn: DSN, table: str, alter: str, opts: Options) -> list[str]:
    exe = available()
    if exe is None:
        raise TicketdbError(
            f"{TOOL} is not installed: install the Debian package {PACKAGE} "
            "(scripts/system-deps.sh does), or run the blocking ALTER directly with "
            "--allow-blocking"
        )
    parts = [f"u={dsn.user}", f"D={dsn.database}", f"t={table}", _timeouts(opts)]
    if dsn.unix_socket:
        parts.append(f"S={dsn.unix_socket}")
    else:
        parts += [f"h={dsn.host}", f"P={dsn.port}"]
    max_load = f"Threads_running={opts.max_threads_running}"
    if opts.galera:
        max_load += f",wsrep_local_recv_queue={opts.max_recv_queue}"
    args = [
        exe,
        "--alter", alter,
        "--execute",
        "--preserve-triggers",
        "--recursion-method=none",
        "--chunk-time", f"{opts.chunk_time:g}",
        "--max-load", max_load,
        "--critical-load", f"Threads_running={opts.critical_threads_running}",
        "--plugin", str(PLUGIN),
        "--progress", "time,5",
    ]  # fmt: skip
    if opts.galera:
        args += ["--max-flow-ctl", f"{opts.max_flow_ctl:g}"]
    if opts.add_unique:
        args.append("--no-check-unique-key-change")
    if dsn.password:
        args.append("--ask-pass")
    return [*args, ",".join(parts)]


def _timeouts(opts: Options) -> str:
    """pt-osc's ``A`` (charset) key with DBD::mysql timeouts after it: pt-osc 3.2.1 appends the
    value to its DBI DSN as ``;charset=<value>``, and DBD::mysql reads the ``;``-separated
    attributes that follow (its DSN has no key of its own for them)."""
    return (
        f"A=utf8mb4;mysql_connect_timeout={int(opts.connect_timeout)}"
        f";mysql_read_timeout={int(opts.read_timeout)}"
        f";mysql_write_timeout={int(opts.read_timeout)}"
    )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


@dataclass
class Child:
    """A running pt-osc: its output lines (markers parsed), and the pipe to its plugin."""

    proc: subprocess.Popen[str]
    say: Callable[[str], None]
    lines: list[str] = field(default_factory=list)
    events: queue.Queue[str] = field(default_factory=queue.Queue)
    new_table: str | None = None

    @classmethod
    def start(cls, argv: list[str], password: str, say: Callable[[str], None]) -> Child:
        env = dict(os.environ)
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,  # Ctrl-C at the terminal reaches us only: we stop it
            preexec_fn=_die_with_parent,
        )
        child = cls(proc, say)
        assert proc.stdin is not None
        if password:
            proc.stdin.write(password + "\n")
            proc.stdin.flush()
        threading.Thread(target=child._read, name="pt-osc-output", daemon=True).start()
        return child

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            self.lines.append(line)
            if line.startswith(MARK):
                word, _, rest = line[len(MARK) :].partition(" ")
                if word == "new_table":
                    self.new_table = rest.strip()
                self.events.put(word)
            elif line.strip() and not line.startswith("Enter MySQL password"):
                self.say(f"pt-osc: {line.strip()}")
        self.events.put("exit")

    def wait_for(
        self,
        wanted: str,
        on_event: Callable[[str], None] = lambda _e: None,
        check: Callable[[], None] = lambda: None,
    ) -> None:
        """Block until the plugin reports ``wanted``; every other marker goes to ``on_event``.
        pt-osc ending first is an error carrying its last lines. ``check`` runs twice a second
        and ends the wait by raising (the server stopped answering, a lease was lost): pt-osc
        itself may sit in a read for up to its read timeout, and retries some errors after it."""
        while True:
            check()
            try:
                event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            if event == wanted:
                return
            if event == "exit":
                self.proc.wait(10)
                tail = "; ".join(x.strip() for x in self.lines[-6:] if x.strip())
                raise TicketdbError(
                    f"{TOOL} stopped (exit {self.proc.returncode}) before the copy was "
                    f"complete: {tail}"
                )
            on_event(event)

    def tell(self, command: str, *, last: bool = True) -> None:
        """One command to the plugin (``go`` after its triggers; ``swapped``/``abort`` in
        ``before_swap_tables``, the ``last``: stdin is closed after it)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
            if last:
                self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    def finish(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise TicketdbError(f"{TOOL} did not end within {timeout:g}s after the swap") from None

    def stop(self, grace: float = 10) -> None:
        """SIGTERM (pt-osc stops between chunks), then SIGKILL after ``grace`` seconds."""
        if self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        deadline = time.monotonic() + 2
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
