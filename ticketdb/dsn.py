"""One DSN type for every way of reaching a server: sandbox, testcontainer, --dsn, TICKETDB_DSN.

The parser is our own rather than ``urlsplit``: a password with an unencoded ``/``, ``#``,
``?``, ``@``, ``[`` or ``]`` must neither split the URL in the wrong place nor reach an error
message or a traceback. Everything between ``://`` and the last ``@`` is credentials; it is
never echoed (errors show ``mysql://***@host…``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlencode

from ticketdb.errors import UsageError

DEFAULT_DATABASE = "ticketdb"
DEFAULT_PORT = 3306
ENV_DSN = "TICKETDB_DSN"
SCHEMES = ("mysql", "mariadb")

_HOSTNAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_HOST_PORT = re.compile(r"(?P<host>\[[^\[\]]*\]|[^:\[\]]*)(?::(?P<port>[^:]*))?")


def redact(text: str) -> str:
    """The DSN text safe to print: the credentials (``://`` up to the last ``@``) become ***."""
    text = text.strip()
    if "@" not in text:
        return text
    scheme, sep, _ = text.partition("://")
    tail = text.rsplit("@", 1)[1]
    return f"{scheme}://***@{tail}" if sep else f"***@{tail}"


def _format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _parse_host(part: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; port 0 or empty is an error."""
    m = _HOST_PORT.fullmatch(part)
    if not m:
        raise ValueError("bad host (an IPv6 address goes in brackets: [::1]:3306)")
    host, port_text = m.group("host"), m.group("port")
    if host.startswith("["):
        try:
            host = str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError:
            raise ValueError("bad IPv6 address in brackets") from None
    elif not host:
        raise ValueError("no host")
    elif not _HOSTNAME.fullmatch(host):
        raise ValueError("bad host name")
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text:
        raise ValueError("empty port after ':' (leave out ':' for 3306)")
    if not port_text.isdigit() or not port_text.isascii():
        raise ValueError("port must be a number")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError("port must be between 1 and 65535")
    return host, port


@dataclass(frozen=True)
class DSN:
    """``mysql://user:pass@host:port/db?unix_socket=/path`` parsed once, passed everywhere.

    ``hosts`` keeps every ``host:port`` of a multi-host DSN (``h1:p1,h2:p2``) in order; ``host``
    and ``port`` are the first, which is where a single connection goes.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    user: str = "root"
    password: str = ""
    database: str = DEFAULT_DATABASE
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    hosts: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.hosts:
            object.__setattr__(self, "hosts", ((self.host, self.port),))
        elif self.hosts[0] != (self.host, self.port):
            raise ValueError("DSN.hosts must start with (host, port)")

    @classmethod
    def parse(cls, text: str) -> DSN:
        """Parse and validate; a malformed DSN is a usage error that names what is wrong."""
        try:
            return cls._parse(text.strip())
        except ValueError as exc:
            raise UsageError(
                f"malformed DSN {redact(text)!r}: {exc} (expected mysql://user:pass@host:port/db)"
            ) from None

    @classmethod
    def _parse(cls, text: str) -> DSN:
        scheme, sep, rest = text.partition("://")
        if not sep or scheme.lower() not in SCHEMES:
            raise ValueError("scheme must be mysql:// or mariadb://")
        user, password = "root", ""
        if "@" in rest:
            userinfo, rest = rest.rsplit("@", 1)
            name, _, secret = userinfo.partition(":")
            user = unquote(name) or "root"
            password = unquote(secret)
        if "#" in rest:
            raise ValueError("unexpected '#' after the host (encode it as %23 in a password)")
        rest, _, query = rest.partition("?")
        netloc, slash, path = rest.partition("/")
        if not netloc:
            raise ValueError("no host")
        hosts = tuple(_parse_host(part) for part in netloc.split(","))
        database = unquote(path) if slash else ""
        if "/" in database:
            raise ValueError("bad database name (one name after the host)")
        if len(database) > 64:
            raise ValueError("database name longer than 64 characters")
        try:
            params = tuple(parse_qsl(query, strict_parsing=bool(query)))
        except ValueError:
            raise ValueError("bad query string (key=value&…)") from None
        return cls(
            host=hosts[0][0],
            port=hosts[0][1],
            user=user,
            password=password,
            database=database or DEFAULT_DATABASE,
            params=params,
            hosts=hosts,
        )

    def with_database(self, database: str) -> DSN:
        return replace(self, database=database)

    def with_host(self, host: str, port: int) -> DSN:
        """The same credentials and database on one node (``hosts`` becomes just that one)."""
        return replace(self, host=host, port=port, hosts=((host, port),))

    @property
    def unix_socket(self) -> str | None:
        return dict(self.params).get("unix_socket")

    @property
    def address(self) -> str:
        """``host:port`` for messages, IPv6 in brackets."""
        return f"{_format_host(self.host)}:{self.port}"

    @property
    def netloc(self) -> str:
        return ",".join(f"{_format_host(h)}:{p}" for h, p in self.hosts)

    def url(self, *, hide_password: bool = False, scheme: str = "mysql") -> str:
        """Render back to a URL; yoyo accepts the same ``mysql://`` form (single host only)."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + ("***" if hide_password else quote(self.password, safe=""))
        query = f"?{urlencode(self.params)}" if self.params else ""
        return f"{scheme}://{auth}@{self.netloc}/{quote(self.database, safe='')}{query}"

    def __str__(self) -> str:
        return self.url(hide_password=True)

    def __repr__(self) -> str:
        return f"DSN({str(self)!r})"


def dsn_from_env() -> DSN | None:
    value = os.environ.get(ENV_DSN)
    return DSN.parse(value) if value else None
