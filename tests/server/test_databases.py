"""ticketdb.server.databases against a real server: the DSN's database created once, scratch
databases created like their source, always dropped, recognisable by name."""

from __future__ import annotations

import pytest

from ticketdb import catalog
from ticketdb.catalog import database_exists
from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.server import databases


def _exists(server: DSN, name: str) -> bool:
    with connection(server, database=False) as conn:
        return database_exists(conn, name)


def test_ensure_database_creates_it_once(db_dsn: DSN, server_dsn: DSN) -> None:
    assert not _exists(server_dsn, db_dsn.database)
    assert databases.ensure_database(db_dsn) is True
    assert _exists(server_dsn, db_dsn.database)
    assert databases.ensure_database(db_dsn) is False
    with connection(server_dsn, database=False) as conn:
        assert catalog.default_charset(conn, db_dsn.database) == catalog.DEFAULT_CHARSET


def test_scratch_database_is_created_like_its_source_and_dropped(
    migrated_dsn: DSN, server_dsn: DSN
) -> None:
    with databases.scratch_database(migrated_dsn, "unit", charset_of=migrated_dsn.database) as s:
        assert databases.is_scratch_name(s.database, migrated_dsn.database, "unit")
        assert s.database.startswith(f"{migrated_dsn.database}__unit_")
        assert _exists(server_dsn, s.database)
        with connection(server_dsn, database=False) as conn:
            assert databases.scratch_databases(conn, migrated_dsn.database, "unit") == [s.database]
            assert databases.scratch_databases(conn, migrated_dsn.database, "drift") == []
            assert catalog.default_charset(conn, s.database) == catalog.default_charset(
                conn, migrated_dsn.database
            )
    assert not _exists(server_dsn, s.database)


def test_scratch_database_is_dropped_when_the_body_fails(db_dsn: DSN, server_dsn: DSN) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with databases.scratch_database(db_dsn, "unit") as s:
            assert _exists(server_dsn, s.database)
            raise RuntimeError("boom")
    assert not _exists(server_dsn, s.database)


def test_scratch_database_without_create_still_drops(server_dsn: DSN) -> None:
    with databases.scratch_database(server_dsn, "unit", create=False) as s:
        assert not _exists(server_dsn, s.database)
        with connection(server_dsn, database=False) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{s.database}`")
    assert not _exists(server_dsn, s.database)


def test_scratch_names_fit_and_are_recognised() -> None:
    long = "x" * 64
    name = databases.scratch_name(long, "drift")
    assert len(name) == 64 and databases.is_scratch_name(name, long, "drift")
    assert not databases.is_scratch_name(name, long, "rawload")
    assert not databases.is_scratch_name("db__drift_0badc0dex", "db", "drift")
    assert not databases.is_scratch_name("db__drift_notahex0", "db", "drift")
    assert databases.is_scratch_name("db__drift_0badc0de", "db", "drift")
    assert databases.scratch_name("db", "drift") != databases.scratch_name("db", "drift")
