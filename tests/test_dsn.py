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


SECRET = "Zq9Secret"


@pytest.mark.parametrize(
    "text",
    [
        f"mysql://app:{SECRET}/42@host:3306/db",
        f"mysql://app:{SECRET}#1@host:3306/db",
        f"mysql://app:{SECRET}?1@host:3306/db",
        f"mysql://app:{SECRET}[1]@host:3306/db",
        f"mysql://app:{SECRET}@ho st:3306/db",
        f"mysql://app:{SECRET}@host:0/db",
        f"mysql://app:{SECRET}@host:/db",
        f"mysql://app:{SECRET}@host:00/db",
        f"mysql://app:{SECRET}@host:65536/db",
        f"mysql://app:{SECRET}@[::1/db",
        f"mysql://app:{SECRET}@::1:3306/db",
        f"mysql://app:{SECRET}@[nothex]:3306/db",
        f"mysql://app:{SECRET}@h1:1,,h2:2/db",
        f"mysql://app:{SECRET}@host/db#frag",
        f"mysql://app:{SECRET}@host/db?noequals",
        f"mysql//app:{SECRET}@host/db",
        f"mysql://{SECRET}@host/a/b",
        f"mysql:/{SECRET}@host",
    ],
)
def test_hostile_or_malformed_never_echoes_credentials(text: str) -> None:
    """Everything between :// and the last @ is credentials: parsed or refused, never printed."""
    try:
        d = DSN.parse(text)
    except UsageError as err:
        assert SECRET not in str(err) and "malformed DSN" in str(err)
        assert err.exit_code == 2
        return
    # accepted: the secret is the password and never shows in str/repr
    assert SECRET in d.password
    assert SECRET not in str(d) and SECRET not in repr(d)


@pytest.mark.parametrize("text", ["mysql://u:p@h:0/db", "mysql://u:p@h:/db", "mysql://u:p@h:00/db"])
def test_port_zero_or_empty_is_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="port"):
        DSN.parse(text)


def test_unencoded_specials_in_password_split_at_last_at() -> None:
    d = DSN.parse("mysql://app:Se/c#r?e@t[]@db.example:3307/tickets")
    assert (d.user, d.password, d.host, d.port, d.database) == (
        "app",
        "Se/c#r?e@t[]",
        "db.example",
        3307,
        "tickets",
    )
    assert DSN.parse(d.url()) == d


def test_ipv6_host() -> None:
    d = DSN.parse("mysql://u:p@[::1]:3307/db")
    assert (d.host, d.port, d.address) == ("::1", 3307, "[::1]:3307")
    assert "@[::1]:3307/" in d.url()
    assert DSN.parse(d.url()) == d
    assert DSN.parse("mysql://[0:0:0:0:0:0:0:1]/db").host == "::1"


def test_multi_host_keeps_order_and_first_is_primary() -> None:
    d = DSN.parse("mysql://u:p@h1:3311,h2:3312,[::1]:3313/db")
    assert d.hosts == (("h1", 3311), ("h2", 3312), ("::1", 3313))
    assert (d.host, d.port) == ("h1", 3311)
    assert DSN.parse(d.url()) == d
    one = d.with_host("h2", 3312)
    assert one.hosts == (("h2", 3312),) and one.password == "p" and one.database == "db"
    assert DSN.parse("mysql://h1,h2:5/db").hosts == (("h1", 3306), ("h2", 5))
    assert d.with_database("x").hosts == d.hosts


def test_single_host_dsn_has_one_host() -> None:
    assert DSN(host="127.0.0.1", port=3310).hosts == (("127.0.0.1", 3310),)
