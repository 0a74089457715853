"""DSN parsing: the one place user input about servers is validated."""

import pytest

from ticketdb.dsn import DSN
from ticketdb.errors import UsageError


def test_round_trip_with_escaped_password() -> None:
    d = DSN.parse("mysql://app:p%40ss%3Aw@db.example:3307/tickets?unix_socket=/tmp/x.sock")
    assert (d.user, d.password, d.host, d.port, d.database) == (
        "app",
        "p@ss:w",
        "db.example",
        3307,
        "tickets",
    )
    assert d.unix_socket == "/tmp/x.sock"
    assert DSN.parse(d.url()) == d
    assert "p@ss" not in str(d) and "***" in str(d)


def test_defaults() -> None:
    d = DSN.parse("mysql://127.0.0.1")
    assert (d.user, d.port, d.database) == ("root", 3306, "ticketdb")


@pytest.mark.parametrize(
    "text", ["postgres://x/y", "mysql://:3306/db", "mysql://h:port/db", "nonsense", "mysql://h/a/b"]
)
def test_malformed(text: str) -> None:
    with pytest.raises(UsageError, match="malformed DSN"):
        DSN.parse(text)


def test_password_not_echoed_in_errors() -> None:
    with pytest.raises(UsageError) as err:
        DSN.parse("mysql://u:secret@h:xx/db")
    assert "secret" not in str(err.value)
