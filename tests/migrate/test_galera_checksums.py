"""Checksums, baseline and a guarded rollback on a 3-node Galera cluster: what one node records
is what every node verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from waiting import node_synced

from ticketdb import migrate as mig
from ticketdb.db import connect, quote_ident
from ticketdb.drift.baseline import baseline
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.project import Project

pytestmark = [pytest.mark.galera, pytest.mark.timeout(600)]


def _project(root: Path) -> Project:
    m = root / "migrations"
    m.mkdir(parents=True)
    (m / "0001_ga.sql").write_text("CREATE TABLE ga (id INT PRIMARY KEY, note VARCHAR(20));\n")
    (m / "0001_ga.rollback.sql").write_text("DROP TABLE ga;\n")
    (m / "0002_gb.sql").write_text("-- depends: 0001_ga\nCREATE TABLE gb (id INT PRIMARY KEY);\n")
    (m / "0002_gb.rollback.sql").write_text("DROP TABLE gb;\n")
    return Project(root)


@pytest.fixture
def gdsns(galera_database: Any) -> Iterator[list[DSN]]:
    with galera_database("gc") as dsns:
        yield dsns


def _recorded(dsn: DSN) -> dict[str, str]:
    conn = connect(dsn, database=False)  # as in node_synced: the database may not be there yet
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION wsrep_sync_wait = 15")  # read what the cluster committed
            cur.execute("SELECT migration_id, how FROM "
                        f"{quote_ident(dsn.database)}.ticketdb_migration_checksum")  # fmt: skip
            return dict(cur.fetchall())
    finally:
        conn.close()


def test_checksums_recorded_on_one_node_are_verified_on_the_others(
    gdsns: list[DSN], tmp_path: Path
) -> None:
    project = _project(tmp_path / "p")
    assert mig.up(gdsns[0], project).applied == ["0001_ga", "0002_gb"]
    assert _recorded(gdsns[2]) == {"0001_ga": "applied", "0002_gb": "applied"}
    path = project.migrations / "0001_ga.sql"
    path.write_text(path.read_text().replace("VARCHAR(20)", "VARCHAR(30)"))
    for dsn in gdsns[1:]:
        node_synced(dsn)
        with pytest.raises(TicketdbError, match=r"0001_ga\.sql: applied"):
            mig.status(dsn, project)
    with pytest.raises(TicketdbError, match=r"0001_ga\.sql: applied"):
        mig.down(gdsns[1], project)
    assert mig.repair(gdsns[1], project, accept_checksums=["0001"])
    assert _recorded(gdsns[2])["0001_ga"] == "accepted"
    node_synced(gdsns[0])
    assert mig.status(gdsns[0], project)["pending"] == []
    # a guarded rollback through node 3: rows in gb → refused, then allowed
    conn = connect(gdsns[0])
    with conn.cursor() as cur:
        cur.execute("INSERT INTO gb (id) VALUES (1)")
    conn.close()
    node_synced(gdsns[2])
    with pytest.raises(TicketdbError, match=r"drop table gb \(1 row"):
        mig.down(gdsns[2], project)
    assert mig.down(gdsns[2], project, allow_data_loss=True).rolled_back == ["0002_gb"]
    assert set(_recorded(gdsns[0])) == {"0001_ga"}


def test_baseline_through_one_node_is_seen_by_all(gdsns: list[DSN], tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    conn = connect(gdsns[0], database=False)
    with conn.cursor() as cur:  # the schema made by hand, before ticketdb
        cur.execute(
            f"CREATE DATABASE {quote_ident(gdsns[0].database)} "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        cur.execute(f"USE {quote_ident(gdsns[0].database)}")
        cur.execute("CREATE TABLE ga (id INT PRIMARY KEY, note VARCHAR(20))")
    conn.close()
    node_synced(gdsns[1])
    res = baseline(gdsns[1], project, to="0001")
    assert res.matched and res.recorded == ["0001_ga"]
    assert _recorded(gdsns[2]) == {"0001_ga": "baseline"}
    node_synced(gdsns[2])
    assert mig.up(gdsns[2], project).applied == ["0002_gb"]
    node_synced(gdsns[0])
    assert mig.status(gdsns[0], project)["pending"] == []
