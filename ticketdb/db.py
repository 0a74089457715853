"""The one way ticketdb opens a connection: strict sql_mode, utf8mb4, clean errors."""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from ticketdb import catalog
from ticketdb.dsn import DSN
from ticketdb.errors import ConnectionFailed, SqlError, TicketdbError

#: Valid on MySQL 8.0+ and MariaDB 10.11. Strict so an invalid ENUM is an error, not ''.
STRICT_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
    "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)
INIT_COMMAND = f"SET SESSION sql_mode='{STRICT_SQL_MODE}'"

#: Every wait on the server is bounded on the client (NOTES "Connections and bad networks"): a
#: peer that vanishes without a reset (a firewall, a NAT, a frozen proxy) fails the statement
#: with 2013 instead of blocking in recv() for ever. A statement known to be long raises the
#: read timeout for itself (:func:`long_statement`, sized by :func:`size_timeout`).
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_WRITE_TIMEOUT = 60.0
#: Server-side waits (row locks, metadata locks) end this long before the client's read timeout
#: would: a DDL still queued for a metadata lock after its client gave up would run unwatched.
SERVER_WAIT_MARGIN = 10
#: TCP keepalive (idle, interval, probes), read by every :func:`connect` (tests shorten it): a
#: peer whose packets vanish is noticed 30 + 10*3 s after its last reply, on an idle connection
#: (the next statement fails at once) and while a long statement legitimately keeps the
#: socket silent. Not on a request sent into the dead path: TCP retransmits that instead of
#: probing, and only the read/write timeout ends the wait (tests/test_faults_keepalive.py).
KEEPALIVE = (30, 10, 3)
#: Clean-up after a failure runs on a new connection that gives up this fast.
CLEANUP_TIMEOUT = 10.0
#: The slowest rate (rows/s) a bulk statement's timeout assumes: 10-50x below what the sandbox
#: measures for LOAD DATA and index builds, so only a dead peer reaches the timeout.
SLOWEST_ROWS_PER_S = 10_000

# Client-side errors that mean "could not reach / log in", mapped to one readable line.
_CONNECT_ERRORS = {2003, 2005, 2006, 2013, 1045, 1044, 1698, 2059, 2061}
#: Client library error numbers start here; below are the server's own (it answered).
CLIENT_ERRORS = 2000
#: The connection is gone (2013 also after a read timeout: PyMySQL then closes the socket).
LOST_CODES = frozenset({2006, 2013, 2055})
#: Errors that waiting and retrying cannot fix: credentials, a missing database, table, column
#: or privilege, an auth plugin the client lacks. A long-running worker stops on these.
PERMANENT_ERRORS = frozenset({1044, 1045, 1049, 1054, 1142, 1143, 1146, 1370, 1698, 2059, 2061})


def error_code(exc: BaseException) -> int | None:
    """The server/client error number of a PyMySQL error or a ConnectionFailed/SqlError."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


class _Connection(pymysql.connections.Connection):
    """PyMySQL's connection, with its default TLS context built once per process.

    Given no TLS option, PyMySQL 1.2 prefers TLS (used when the server offers it) and builds a
    fresh default context for that on every connection, reading the system's CA store each
    time: ~30 ms of CPU per connect, a third of a ``migrate up`` (23 connections). The context
    it builds for that case has the same settings every time, so one is shared."""

    _preferred: ssl.SSLContext | None = None

    def _create_ssl_ctx(self, sslp: Any) -> Any:
        if sslp != {}:  # options of the caller's own: PyMySQL's own handling
            return super()._create_ssl_ctx(sslp)
        if _Connection._preferred is None:
            _Connection._preferred = super()._create_ssl_ctx(sslp)
        return _Connection._preferred


def connect(
    dsn: DSN,
    *,
    database: bool = True,
    autocommit: bool = True,
    local_infile: bool = False,
    dict_cursor: bool = False,
    connect_timeout: float = 10,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
) -> pymysql.connections.Connection:
    """Open a connection; ``database=False`` connects without selecting the DSN's database.

    Bounded everywhere: the TCP connect and the handshake by ``connect_timeout``, each read
    and write by ``read_timeout``/``write_timeout``, a silent peer by TCP keepalive; the
    session's lock waits end before the read timeout (``SERVER_WAIT_MARGIN``)."""
    wait = max(1, int(read_timeout) - SERVER_WAIT_MARGIN)
    kwargs: dict[str, Any] = dict(
        host=dsn.host,
        port=dsn.port,
        user=dsn.user,
        password=dsn.password,
        charset="utf8mb4",
        autocommit=autocommit,
        init_command=(
            f"{INIT_COMMAND}, lock_wait_timeout = LEAST(@@lock_wait_timeout, {wait}), "
            f"innodb_lock_wait_timeout = LEAST(@@innodb_lock_wait_timeout, {wait})"
        ),
        local_infile=local_infile,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        write_timeout=write_timeout,
        defer_connect=True,
        cursorclass=pymysql.cursors.DictCursor if dict_cursor else pymysql.cursors.Cursor,
    )
    if dsn.unix_socket:
        kwargs["unix_socket"] = dsn.unix_socket
    if database:
        kwargs["database"] = dsn.database
    try:
        conn = _Connection(**kwargs)
        # the handshake and init_command are part of connecting: a listener that accepts but
        # never answers (a frozen proxy) fails after connect_timeout, not read_timeout
        conn._read_timeout = conn._write_timeout = connect_timeout
        try:
            conn.connect()
        finally:
            conn._read_timeout, conn._write_timeout = read_timeout, write_timeout
        keepalive(conn)
        return conn
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        msg = exc.args[1] if len(exc.args) > 1 else str(exc)
        if code == 1049:
            raise ConnectionFailed(
                f"database {dsn.database!r} does not exist on {dsn.address} "
                "(run `ticketdb migrate up` to create it)",
                code,
            ) from None
        if code in _CONNECT_ERRORS or code is None:
            raise ConnectionFailed(f"cannot connect to {dsn}: {msg}", code) from None
        raise SqlError(msg, code) from None
    except (OSError, RuntimeError) as exc:
        raise ConnectionFailed(f"cannot connect to {dsn}: {exc}") from None


def keepalive(conn: Any) -> None:
    """SO_KEEPALIVE with short probes on a TCP connection (PyMySQL sets only SO_KEEPALIVE, and
    Linux's default first probe comes after 2 hours)."""
    sock = getattr(conn, "_sock", None)
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    idle, interval, count = KEEPALIVE
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", interval),
                        ("TCP_KEEPCNT", count)):  # fmt: skip
        opt = getattr(socket, name, None)
        if opt is not None:
            sock.setsockopt(socket.IPPROTO_TCP, opt, value)


def size_timeout(rows: int) -> float:
    """A read timeout for a statement over ``rows`` rows (LOAD DATA, an index build, a copy):
    the default plus the time at ``SLOWEST_ROWS_PER_S``. Keepalive still notices a dead peer."""
    return DEFAULT_READ_TIMEOUT + max(rows, 0) / SLOWEST_ROWS_PER_S


@contextmanager
def read_timeout(conn: Any, seconds: float) -> Iterator[None]:
    """The statements inside wait up to ``seconds`` for each reply (PyMySQL reads the timeout
    before every packet), e.g. a short one for clean-up on a connection that may be dead."""
    old = conn._read_timeout
    conn._read_timeout = seconds
    try:
        yield
    finally:
        conn._read_timeout = old


def long_statement(conn: Any, seconds: float) -> Any:
    """Let the statements inside wait up to ``seconds`` for the server's reply (never less than
    the connection's own read timeout)."""
    return read_timeout(conn, max(seconds, conn._read_timeout or 0))


def connection_lost(exc: BaseException) -> bool:
    """The client lost the server (timed out, reset, closed): no statement on that connection
    can say anything more, and clean-up needs a new one."""
    return isinstance(exc, pymysql.err.InterfaceError) or error_code(exc) in LOST_CODES


def abort(conn: Any) -> None:
    """Close ``conn`` now, waking any thread blocked reading it (``close()`` alone does not
    wake a recv() in another thread, and its COM_QUIT could wait on a dead peer)."""
    sock = getattr(conn, "_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - already closed or broken: the socket is what matters
        pass


def close_quietly(conn: Any) -> None:
    """Close unless already closed (a watchdog or a read timeout closes connections too): in an
    ``ExitStack`` a second close's "Already closed" would replace the error being raised."""
    if conn.open:
        conn.close()


def cleanup_connection(dsn: DSN, **kwargs: Any) -> pymysql.connections.Connection:
    """A new connection for clean-up after a failure: a dead peer makes it fail in seconds."""
    kwargs.setdefault("connect_timeout", CLEANUP_TIMEOUT)
    kwargs.setdefault("read_timeout", CLEANUP_TIMEOUT + SERVER_WAIT_MARGIN)
    return connect(dsn, **kwargs)


class Watchdog:
    """Tells a silent peer from a busy server while ``conn`` waits on a long statement (a
    migration's DDL, LOAD DATA, an index build, a DROP DATABASE of many files on a loaded
    disk): every ``every`` s a side connection with short timeouts asks the server whether
    ``conn``'s session is still there. No answer (the network or the server is gone), or the
    session gone: ``conn`` is aborted, so the statement fails with 2013 within about
    ``every`` + CLEANUP_TIMEOUT s instead of waiting out its long read timeout; ``lost`` says
    why. A busy but live server keeps the statement going."""

    def __init__(self, dsn: DSN, conn: Any, every: float = 20.0) -> None:
        self.dsn, self.conn, self.every = dsn, conn, every
        self.session = conn.thread_id()
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="db-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            if not self.conn.open:
                return
            why = self.check()
            if why is not None and not self._stop.is_set():
                self.lost = why
                abort(self.conn)
                return

    def check(self) -> str | None:
        """Why the watched session is lost (None: the server answers and still has it)."""
        try:
            side = cleanup_connection(self.dsn, database=False)
        except TicketdbError as exc:
            code = error_code(exc)
            if code is not None and code < CLIENT_ERRORS:  # it answered (1040 too many
                return None  # connections, 1045 …): alive, and a busy server is no reason
            return f"the server did not answer a second connection: {exc}"
        try:
            found = catalog.session_exists(side, self.session)
        except pymysql.err.MySQLError as exc:
            return f"the server did not answer a second connection: {sql_error(exc)}"
        finally:
            abort(side)
        return None if found else f"the server no longer has session {self.session}"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=CLEANUP_TIMEOUT * 3)
        assert not self._thread.is_alive(), "watchdog still running"


@contextmanager
def watched(dsn: DSN, conn: Any, seconds: float, every: float = 20.0) -> Iterator[Watchdog]:
    """Run a long statement on ``conn`` with a read timeout of ``seconds`` and a
    :class:`Watchdog` that fails it early when the server stops answering."""
    dog = Watchdog(dsn, conn, every)
    try:
        with long_statement(conn, seconds):
            yield dog
    finally:
        dog.stop()


@contextmanager
def connection(dsn: DSN, **kwargs: Any) -> Iterator[pymysql.connections.Connection]:
    conn = connect(dsn, **kwargs)
    try:
        yield conn
    finally:
        conn.close()


def scalar(conn: Any, sql: str, args: Any = None) -> Any:
    """First column of the first row (None without rows), whatever the cursor class."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    if row is None:
        return None
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


#: one quoting rule for the whole package; it lives in catalog, which db's watchdog reads through
#: and which therefore cannot import db
quote_ident = catalog.quoted


#: "table is full", "disk full", "temporary file write failure": on InnoDB with autoextending
#: files these mean the server's disk (or its tmpdir) has no space left
DISK_FULL_CODES = frozenset({1021, 1114, 1878})


def sql_error(exc: BaseException, where: str | None = None) -> SqlError:
    """Turn a PyMySQL error into our SqlError, keeping the server's code and text (and saying
    "disk full" where the server's words name only a table or a temporary file)."""
    args = getattr(exc, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    msg = str(args[1] if len(args) > 1 else exc)
    if code in DISK_FULL_CODES and "space" not in msg:
        msg += " - the server's disk is probably full"
    return SqlError(msg, code, where)


@dataclass(frozen=True)
class Flavor:
    """MariaDB vs MySQL, detected from ``SELECT VERSION()`` (the handshake lies: 5.5.5-…)."""

    name: str  # "mariadb" | "mysql"
    version: tuple[int, int, int]
    raw: str

    @property
    def is_mariadb(self) -> bool:
        return self.name == "mariadb"

    def __str__(self) -> str:
        return f"{'MariaDB' if self.is_mariadb else 'MySQL'} {'.'.join(map(str, self.version))}"


def parse_version(raw: str) -> Flavor:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", raw)
    version = tuple(int(x) for x in m.groups()) if m else (0, 0, 0)
    name = "mariadb" if "mariadb" in raw.lower() else "mysql"
    return Flavor(name, version, raw)  # type: ignore[arg-type]


def flavor(conn: pymysql.connections.Connection) -> Flavor:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
    raw = row["VERSION()"] if isinstance(row, dict) else row[0]
    return parse_version(raw)
