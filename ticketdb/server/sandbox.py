"""The embedded throwaway server (``ticketdb sandbox``), and which database a command talks to:
``--dsn`` or ``--env``, else ``TICKETDB_DSN``, else ``TICKETDB_ENV``, else the running sandbox
(:func:`resolve_dsn`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pymysql

from ticketdb.db import STRICT_SQL_MODE
from ticketdb.dsn import DSN, ENV_DSN, dsn_from_env, redact
from ticketdb.errors import ConnectionFailed, TicketdbError, UsageError
from ticketdb.project import ENV_NAME, environment

DEFAULT_SANDBOX_DIR = Path(".ticketdb")
ENV_SANDBOX_DIR = "TICKETDB_SANDBOX_DIR"
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin")
#: [mysqld] settings of every server ticketdb starts (sandbox and Galera nodes alike): the
#: events run, LOAD DATA LOCAL works, strict mode, utf8mb4, and routines without SUPER.
SERVER_SETTINGS = (
    "event-scheduler=ON",
    "local-infile=1",
    f"sql-mode={STRICT_SQL_MODE}",
    "character-set-server=utf8mb4",
    "collation-server=utf8mb4_unicode_ci",
    "log-bin-trust-function-creators=1",
    # interleaved AUTO_INCREMENT (MySQL 8's default, Galera's requirement): with 1, each
    # INSERT … SELECT chunk of an online copy holds the table's AUTO-INC lock and every writer's
    # copy-trigger insert waits for it (the online_alter bench lost half its throughput). Safe:
    # the sandbox logs no binlog, or a ROW one (durable profile).
    "innodb-autoinc-lock-mode=2",
)


#: how MariaDB/MySQL report ENOSPC: "failed with error 28", "(errno: 28 …)", "Errcode: 28"
_ENOSPC = re.compile(r"error 28\b|errno:? ?28\b|Errcode: 28\b|No space left", re.I)


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (f"{d}/{name}" for d in _SBIN if os.access(f"{d}/{name}", os.X_OK)), None
        )
        if found:
            return found
    return None


def _is_mariadb(server: str) -> bool:
    """``mysqld`` may be MariaDB's compatibility name: ask the binary, not its file name."""
    try:
        out = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "mariadb" in Path(server).name
    return "mariadb" in (out.stdout + out.stderr).lower()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class ServerFiles:
    """Where one ``mariadbd`` keeps its files below ``root``: the sandbox and each Galera node
    share this layout (and so the commands that read their logs and sockets)."""

    root: Path

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def cnf(self) -> Path:
        return self.root / "my.cnf"

    @property
    def socket(self) -> Path:
        return self.root / "mysqld.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "mysqld.pid"

    @property
    def errorlog(self) -> Path:
        return self.root / "error.log"

    @property
    def tmpdir(self) -> Path:
        """Its own temp dir: with several servers sharing /tmp, temp-table files vanished."""
        return self.root / "tmp"

    def cnf_layout(self) -> list[str]:
        """The ``[mysqld]`` lines that put the server's files where this layout says."""
        return [
            f"datadir={self.datadir}",
            f"socket={self.socket}",
            f"pid-file={self.pidfile}",
            f"log-error={self.errorlog}",
            # own temp folder: servers sharing /tmp saw their temporary tables' files
            # vanish (ERROR 6 "Error on delete of '/tmp/#sql-temptable-…'", one crash)
            f"tmpdir={self.tmpdir}",
        ]

    def tail(self, lines: int = 5) -> str:
        """The error log's last lines on one line: what an error about this server quotes."""
        try:
            text = self.errorlog.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no error log)"
        return " | ".join(text[-lines:])

    def no_space(self, text: str) -> str:
        """``"no space left … : "`` when ``text`` (the server's output) says a write failed with
        ENOSPC: the server's own last words name a consequence ("Unknown/unsupported storage
        engine: InnoDB"), not the cause."""
        if not _ENOSPC.search(text):
            return ""
        try:
            free = f"{shutil.disk_usage(self.root).free / 2**20:.0f} MB free"
        except OSError:
            free = "free space unknown"
        return f"no space left on the device of {self.datadir} ({free}): "

    def install_db_cmd(self, install_db: str) -> list[str]:
        """``mariadb-install-db`` for this datadir: root by (empty) password, no test db."""
        return [
            install_db,
            "--no-defaults",  # the system my.cnf sets user=mysql and a global error log
            f"--datadir={self.datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            # the bootstrap server's temp tables too: two bootstraps sharing /tmp at once (two
            # test workers starting their sandboxes) failed with "Could not remove temporary
            # table '/tmp/#sql-temptable-…'" and "Unknown table 'mysql.tmp_user_sys'"
            f"--tmpdir={self.tmpdir}",
        ]

    def initialise(self, cmd: list[str], timeout: float | None = None) -> None:
        """Run the datadir initialiser ``cmd``; when it fails, remove the half-made datadir
        (so the next start initialises again) and raise with the end of its output."""
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            output = result.stderr or result.stdout
            cause = self.no_space(output)
            shutil.rmtree(self.datadir, ignore_errors=True)
            last = " | ".join(output.strip().splitlines()[-5:])
            raise TicketdbError(f"{cause}initialising {self.datadir} failed: {last}")

    def spawn(
        self,
        cmd: list[str],
        ready: Callable[[], bool],
        timeout: float,
        *,
        name: str,
        late: str,
        poll: float = 0.1,
        kill: int = signal.SIGTERM,
    ) -> None:
        """Start the server ``cmd`` in its own session, output to the error log, and return once
        its (fresh) socket exists and ``ready()`` holds.

        The sandbox and each Galera node start the same way and fail the same way: when the
        process exits first (``NAME exited with code N``) or ``timeout`` passes (``LATE in Ns``;
        the process then gets ``kill``), the error quotes the log's last lines.
        """
        self.socket.unlink(missing_ok=True)  # a stale socket would look like "listening"
        with open(self.errorlog, "ab") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                cause = self.no_space(self.tail(40))
                raise TicketdbError(
                    f"{cause}{name} exited with code {proc.returncode}: {self.tail()}"
                )
            if self.socket.exists() and ready():
                return
            time.sleep(poll)
        proc.send_signal(kill)
        raise TicketdbError(f"{late} in {timeout:.0f}s: {self.tail()}")


@dataclass
class Sandbox(ServerFiles):
    """A throwaway server in a project-local directory: data/, my.cnf, socket, pid, error log.

    The port is chosen once (free port, or ``--port``) and remembered in ``sandbox.json`` so
    the DSN stays stable across restarts.
    """

    root: Path
    port: int | None = None
    database: str = "ticketdb"
    #: the durable profile: binary log, sync_binlog=1, innodb_flush_log_at_trx_commit=1 (every
    #: commit on disk before OK, as production runs); else flush=2 and no binary log (fast)
    durable: bool = False

    def __post_init__(self) -> None:
        self.root = Path(self.root).absolute()

    # -- files ---------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.root / "sandbox.json"

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def started_durable(self) -> bool:
        """Whether the sandbox was last started with the durable profile."""
        return bool(self._state().get("durable"))

    def resolved_port(self) -> int | None:
        return self.port or self._state().get("port")

    def dsn(self) -> DSN:
        port = self.resolved_port()
        if port is None:
            raise TicketdbError(f"no sandbox in {self.root}: run `ticketdb sandbox start`")
        return DSN(host="127.0.0.1", port=port, user="root", password="", database=self.database)

    # -- state ---------------------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def is_running(self) -> bool:
        if self.pid() is None or self.resolved_port() is None:
            return False
        return self._ping()

    def _ping(self) -> bool:
        try:
            conn = pymysql.connect(  # the handshake too is bounded: a hung server is not up
                unix_socket=str(self.socket), user="root", password="", connect_timeout=2,
                read_timeout=5, write_timeout=5, ssl_disabled=True,  # local socket: no TLS
            )  # fmt: skip
        except pymysql.err.MySQLError:
            return False
        conn.close()
        return True

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> DSN:
        """Idempotent: an already running sandbox just reports its DSN."""
        if self.is_running():
            running = self.started_durable()
            if running != self.durable:
                raise UsageError(
                    f"sandbox in {self.root} already runs the "
                    f"{'durable' if running else 'fast'} profile; stop it first to change it"
                )
            if self.port and self.port != self._state().get("port"):
                raise UsageError(
                    f"sandbox in {self.root} already runs on port {self._state().get('port')}; "
                    "stop it first to change the port"
                )
            return self.dsn()
        server = _which("mariadbd", "mysqld")
        if server is None:
            raise TicketdbError(
                "no mariadbd or mysqld found: install one "
                "(e.g. `apt-get install -y mariadb-server`)"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        port = self.port or self._state().get("port") or free_port()
        if _port_in_use(port):
            raise UsageError(f"port {port} is already in use; pick another with --port")
        if not (self.datadir / "mysql").is_dir():
            self._initialise(server)
        self.tmpdir.mkdir(exist_ok=True)
        self._write_cnf(port, mariadb=_is_mariadb(server))
        self.state_file.write_text(
            json.dumps({"port": port, "server": server, "durable": self.durable})
        )
        cmd = [server, f"--defaults-file={self.cnf}"]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        self.spawn(
            cmd, self._ping, timeout, name=Path(server).name, late="sandbox did not become ready"
        )
        self.port = port
        return self.dsn()

    def _initialise(self, server: str) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.tmpdir.mkdir(exist_ok=True)
        install_db = _which("mariadb-install-db", "mysql_install_db")
        if install_db and _is_mariadb(server):
            cmd = self.install_db_cmd(install_db)
        else:  # Oracle MySQL
            cmd = [server, "--no-defaults", "--initialize-insecure", f"--datadir={self.datadir}",
                   f"--tmpdir={self.tmpdir}"]  # fmt: skip
        if os.geteuid() == 0:
            cmd.append("--user=root")
        self.initialise(cmd)

    def _write_cnf(self, port: int, *, mariadb: bool = True) -> None:
        # mariadb-install-db --skip-name-resolve creates root@127.0.0.1; MySQL's
        # --initialize-insecure creates root@localhost only, which TCP from 127.0.0.1 matches
        # only when names are resolved.
        self.cnf.write_text(
            "\n".join(
                [
                    "[mysqld]",
                    *self.cnf_layout(),
                    f"port={port}",
                    "bind-address=127.0.0.1",
                    "skip-name-resolve" if mariadb else "",
                    *SERVER_SETTINGS,
                    "innodb_buffer_pool_size=1G",
                    "innodb_log_file_size=256M",
                    *(
                        self._durable_lines()
                        if self.durable
                        else ["innodb_flush_log_at_trx_commit=2"]
                    ),  # fmt: skip
                    "max_connections=200",
                    "",
                ]
            )
        )

    def _durable_lines(self) -> list[str]:
        return [
            "innodb_flush_log_at_trx_commit=1",
            f"log-bin={self.datadir / 'binlog'}",
            "server-id=1",
            "sync-binlog=1",
            "binlog-format=ROW",
        ]

    def stop(self, timeout: float = 60) -> bool:
        """Clean shutdown (SIGTERM, wait for exit); returns False when nothing was running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            # a zombie child of ours (same process tree in tests) must be reaped
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return True
            except ChildProcessError:
                pass
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        return True

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def sandbox_dir() -> Path:
    return Path(os.environ.get(ENV_SANDBOX_DIR) or DEFAULT_SANDBOX_DIR)


def resolve_dsn(
    dsn_text: str | None,
    database: str | None = None,
    *,
    env: str | None = None,
    project_root: Path | None = None,
) -> DSN:
    """``--dsn`` or ``--env`` (not both) beat ``TICKETDB_DSN``, which beats ``TICKETDB_ENV``,
    which beats the running sandbox; none → say how to start one.

    Environments are read from ``project_root`` (pyproject.toml / ticketdb.toml)."""
    if dsn_text and env:
        raise UsageError("use either --dsn or --env, not both")
    if not dsn_text and not env and not os.environ.get(ENV_DSN):
        env = os.environ.get(ENV_NAME) or None
    if dsn_text:
        dsn = DSN.parse(dsn_text)
    elif env:
        dsn = _environment_dsn(env, project_root or Path.cwd())
    else:
        dsn = dsn_from_env()
        if dsn is None:
            box = Sandbox(sandbox_dir())
            if not box.is_running():
                raise ConnectionFailed(
                    "no database: pass --dsn or --env, set TICKETDB_DSN, "
                    "or run `ticketdb sandbox start`"
                )
            dsn = box.dsn()
    return dsn.with_database(database) if database else dsn


def _environment_dsn(name: str, root: Path) -> DSN:
    """The environment's DSN; a malformed one is reported with the template as written (minus
    its credentials), never with the expanded text, which may hold a secret anywhere."""
    chosen = environment(root, name)
    try:
        return DSN._parse(chosen.expand().strip())  # the reason alone: DSN.parse echoes the text
    except ValueError as exc:
        raise UsageError(
            f"environment {name!r} ({chosen.source}): "
            f"malformed DSN {redact(chosen.template)!r}: {exc}"
        ) from None
