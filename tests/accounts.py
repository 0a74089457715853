"""The three accounts of grants/ for tests: created for host 127.0.0.1 only (never touching a
real deployment's 'ticketdb_*'@'%' accounts) and dropped afterwards (fixtures ``env`` and
``accounts`` in conftest.py)."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pymysql

from ticketdb import PROJECT_ROOT
from ticketdb import grants as gr
from ticketdb.db import connect
from ticketdb.dsn import DSN

HOST = "127.0.0.1"


def password() -> str:
    return "Tdb-" + secrets.token_urlsafe(12) + "9a!"


def passwords() -> dict[str, str]:
    return {var: password() for var in gr.USERS.values()}


def drop_test_accounts(server_dsn: DSN) -> None:
    with connect(server_dsn, database=False) as c, c.cursor() as cur:
        for user in gr.USERS:
            cur.execute("DROP USER IF EXISTS %s@%s", (user, HOST))


def is_local(server_dsn: DSN) -> bool:
    """Accounts for 127.0.0.1 can log in only on a server reached over loopback."""
    return server_dsn.host in ("127.0.0.1", "localhost")


def create(dsn: DSN, env: dict[str, str]) -> dict[str, DSN]:
    """``grants apply`` for ``dsn``'s schema; each account's DSN."""
    gr.apply(dsn, PROJECT_ROOT, env=env, host=HOST)
    return {
        user: replace(dsn, user=user, password=env[var], params=())
        for user, var in gr.USERS.items()
    }


def code_of(conn, sql: str, args: tuple | None = None) -> int | None:
    """Run a statement; the server error code it failed with, or None when it worked."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            while cur.nextset():
                pass
    except pymysql.err.MySQLError as exc:
        return exc.args[0]
    return None
