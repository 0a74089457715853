"""The one way ticketdb opens a connection: strict sql_mode, utf8mb4, clean errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from ticketdb.dsn import DSN
from ticketdb.errors import ConnectionFailed, SqlError

#: Valid on MySQL 8.0+ and MariaDB 10.11. Strict so an invalid ENUM is an error, not ''.
STRICT_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
    "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)
INIT_COMMAND = f"SET SESSION sql_mode='{STRICT_SQL_MODE}'"

# Client-side errors that mean "could not reach / log in", mapped to one readable line.
_CONNECT_ERRORS = {2003, 2005, 2006, 2013, 1045, 1044, 1698, 2059, 2061}
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


def connect(
    dsn: DSN,
    *,
    database: bool = True,
    autocommit: bool = True,
    local_infile: bool = False,
    dict_cursor: bool = False,
    connect_timeout: float = 10,
    read_timeout: float | None = None,
) -> pymysql.connections.Connection:
    """Open a connection; ``database=False`` connects without selecting the DSN's database."""
    kwargs: dict[str, Any] = dict(
        host=dsn.host,
        port=dsn.port,
        user=dsn.user,
        password=dsn.password,
        charset="utf8mb4",
        autocommit=autocommit,
        init_command=INIT_COMMAND,
        local_infile=local_infile,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        cursorclass=pymysql.cursors.DictCursor if dict_cursor else pymysql.cursors.Cursor,
    )
    if dsn.unix_socket:
        kwargs["unix_socket"] = dsn.unix_socket
    if database:
        kwargs["database"] = dsn.database
    try:
        return pymysql.connect(**kwargs)
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


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sql_error(exc: BaseException, where: str | None = None) -> SqlError:
    """Turn a PyMySQL error into our SqlError, keeping the server's code and text."""
    args = getattr(exc, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    msg = args[1] if len(args) > 1 else str(exc)
    return SqlError(str(msg), code, where)


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
