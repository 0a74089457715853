"""ticketdb.migrate.online.everywhere on a live 3-node Galera cluster: a node that failed to apply
a replicated CREATE TRIGGER (simulated by dropping it there alone, ``wsrep_on = OFF``: what
``wsrep_ignore_apply_errors`` leaves behind) is found and mended, in firing order."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from waiting import node_synced

from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate.online import everywhere

CREATES = {
    "t_ins_a": "CREATE TRIGGER t_ins_a AFTER INSERT ON t FOR EACH ROW "
    "INSERT INTO seen (trg, id) VALUES ('a', NEW.id)",
    "t_ins_b": "CREATE TRIGGER t_ins_b AFTER INSERT ON t FOR EACH ROW "
    "INSERT INTO seen (trg, id) VALUES ('b', NEW.id)",
}


def _exec(dsn: DSN, *sql: str, local: bool = False, database: bool = True) -> list[tuple]:
    conn = connect(dsn, database=database)
    try:
        with conn.cursor() as cur:
            if local:
                cur.execute("SET SESSION wsrep_on = OFF")
            for s in sql:
                cur.execute(s)
            rows = list(cur.fetchall())
        conn.commit()
        return rows
    finally:
        conn.close()


def _names(dsn: DSN) -> list[str]:
    conn = connect(dsn)
    try:
        return everywhere.listed(conn, "t")
    finally:
        conn.close()


@pytest.fixture
def cluster_db(galera_database: Any) -> Iterator[list[DSN]]:
    with galera_database("g_every") as dsns:
        _exec(dsns[0], f"CREATE DATABASE {dsns[0].database}", database=False)
        _exec(dsns[0], "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
              "CREATE TABLE seen (n INT AUTO_INCREMENT PRIMARY KEY, trg CHAR(1), id INT)",
              *CREATES.values())  # fmt: skip
        # the other nodes apply the CREATEs asynchronously: a test that drops one there alone
        # must find it first (CI once ran the local DROP on node 2 before it had arrived, and
        # once connected to node 2 before it had the database)
        for d in dsns[1:]:
            node_synced(d)
        deadline = time.monotonic() + 30
        while any(_names(d) != list(CREATES) for d in dsns[1:]):
            assert time.monotonic() < deadline, "the triggers never reached every node"
            time.sleep(0.05)
        yield dsns


def test_a_node_that_lost_a_trigger_gets_it_back_and_fires_it(cluster_db: list[DSN]) -> None:
    dsns = cluster_db
    _exec(dsns[1], "DROP TRIGGER t_ins_b", local=True)  # node 2 "failed to apply" it
    assert _names(dsns[1]) == ["t_ins_a"] and _names(dsns[2]) == list(CREATES)
    said: list[str] = []
    conn = connect(dsns[0])
    try:
        mended = everywhere.ensure(dsns[0], conn, "t", CREATES, said.append)
    finally:
        conn.close()
    assert len(mended) == 1 and "t_ins_b" in mended[0] and dsns[1].address in mended[0], said
    for d in dsns:
        assert _names(d) == list(CREATES), d.address
    _exec(dsns[1], "INSERT INTO t (v) VALUES (1)")  # node 2's writers fire both again
    rows = _exec(dsns[1], "SELECT trg FROM seen ORDER BY n")
    assert [r[0] for r in rows] == ["a", "b"]


def test_a_group_is_restored_in_firing_order(cluster_db: list[DSN]) -> None:
    dsns = cluster_db
    _exec(dsns[2], "DROP TRIGGER t_ins_a", local=True)  # only b left: a would now fire last
    conn = connect(dsns[0])
    try:
        unordered = everywhere.ensure(dsns[0], conn, "t", CREATES, lambda _m: None)
        assert _names(dsns[2]) == ["t_ins_b", "t_ins_a"]  # present, but in the wrong order
        ordered = everywhere.ensure(dsns[0], conn, "t", CREATES, lambda _m: None, in_order=True)
    finally:
        conn.close()
    assert unordered and ordered and dsns[2].address in ordered[0]
    for d in dsns:
        assert _names(d) == ["t_ins_a", "t_ins_b"], d.address


def test_a_node_that_cannot_be_mended_is_named(
    cluster_db: list[DSN], monkeypatch: pytest.MonkeyPatch
) -> None:
    dsns = cluster_db
    _exec(dsns[1], "DROP TRIGGER t_ins_b", local=True)
    monkeypatch.setattr(everywhere.galera, "run_locally", lambda _conn, _sql: None)  # no mend
    monkeypatch.setattr(everywhere, "TIMEOUT", 1.0)
    conn = connect(dsns[0])
    try:
        with pytest.raises(TicketdbError, match=r"still does not list the triggers"):
            everywhere.ensure(dsns[0], conn, "t", CREATES, lambda _m: None)
    finally:
        conn.close()
