"""One DSN type for every way of reaching a server: sandbox, testcontainer, --dsn, TICKETDB_DSN."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ticketdb.errors import UsageError

DEFAULT_DATABASE = "ticketdb"
ENV_DSN = "TICKETDB_DSN"


@dataclass(frozen=True)
class DSN:
    """``mysql://user:pass@host:port/db?unix_socket=/path`` parsed once, passed everywhere."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""
    database: str = DEFAULT_DATABASE
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> DSN:
        """Parse and validate; a malformed DSN is a usage error naming what is wrong."""
        text = text.strip()
        parts = urlsplit(text)
        if parts.scheme not in ("mysql", "mariadb"):
            raise UsageError(
                f"malformed DSN {cls._redact(text)!r}: expected mysql://user:pass@host:port/db"
            )
        try:
            port = parts.port or 3306
        except ValueError:
            raise UsageError(
                f"malformed DSN {cls._redact(text)!r}: port must be a number"
            ) from None
        if not parts.hostname:
            raise UsageError(f"malformed DSN {cls._redact(text)!r}: no host")
        database = unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE
        if "/" in database:
            raise UsageError(f"malformed DSN {cls._redact(text)!r}: bad database name")
        return cls(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else "root",
            password=unquote(parts.password) if parts.password else "",
            database=database,
            params=tuple(parse_qsl(parts.query)),
        )

    @staticmethod
    def _redact(text: str) -> str:
        parts = urlsplit(text)
        if parts.password:
            return text.replace(f":{parts.password}@", ":***@")
        return text

    def with_database(self, database: str) -> DSN:
        return replace(self, database=database)

    @property
    def unix_socket(self) -> str | None:
        return dict(self.params).get("unix_socket")

    def url(self, *, hide_password: bool = False, scheme: str = "mysql") -> str:
        """Render back to a URL; yoyo accepts the same ``mysql://`` form."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + ("***" if hide_password else quote(self.password, safe=""))
        query = f"?{urlencode(self.params)}" if self.params else ""
        return f"{scheme}://{auth}@{self.host}:{self.port}/{quote(self.database, safe='')}{query}"

    def __str__(self) -> str:
        return self.url(hide_password=True)


def dsn_from_env() -> DSN | None:
    value = os.environ.get(ENV_DSN)
    return DSN.parse(value) if value else None
