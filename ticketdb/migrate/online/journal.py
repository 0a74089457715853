"""``ticketdb_online_copy``: one row per online copy in progress, written BEFORE each step.

The row names the table, the copy (``_<t>_new``) and the retired original (``_<t>_old``), the
migration step it belongs to and the phase it reached: ``copying`` (pt-online-schema-change
runs), ``verifying`` (it waits in its hook while ticketdb checksums), ``swapping`` (the fence
has started) and ``swapped`` (the renames are done; only ``_<t>_old`` is left to drop). The row
is deleted once nothing is left. A row found by the next run means that run was killed:
``migrate repair`` reads the catalog to see which table is in service and finishes or removes
what was left (ticketdb.migrate.online.repair).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from typing import Any

from ticketdb import catalog

TABLE = "ticketdb_online_copy"
PHASES = ("copying", "verifying", "swapping", "swapped")

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " table_name VARCHAR(64) NOT NULL,"
    " new_table VARCHAR(64) NOT NULL,"
    " old_table VARCHAR(64) NOT NULL,"
    " alter_sql TEXT NOT NULL,"
    " migration_id VARCHAR(255) NULL,"
    " step INT NULL,"
    " phase VARCHAR(16) NOT NULL,"
    " own_triggers MEDIUMTEXT NULL,"
    " pid INT NOT NULL,"
    " client VARCHAR(255) NOT NULL,"
    " started_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (table_name)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
)


@dataclass(frozen=True)
class Copy:
    """One journal row."""

    table: str
    new_table: str
    old_table: str
    alter: str
    migration_id: str | None
    step: int | None
    phase: str
    pid: int
    client: str
    started_at: str
    own_triggers: list[dict[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        where = ""
        if self.step is not None:
            where = f" (migration {self.migration_id}, step {self.step + 1})"
        return (
            f"an online copy of {self.table}{where} was interrupted while {self.phase} "
            f"(started {self.started_at} by pid {self.pid} on {self.client})"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_name(table: str) -> str:
    """pt-online-schema-change's name for the copy."""
    return f"_{table}_new"


def old_name(table: str) -> str:
    return f"_{table}_old"


def ensure_table(conn: Any) -> None:
    with conn.cursor() as cur:
        cur.execute(_CREATE)


def begin(
    conn: Any,
    table: str,
    alter: str,
    own_triggers: list[dict[str, str]],
    migration_id: str | None = None,
    step: int | None = None,
) -> None:
    """The row, committed before pt-osc starts; it keeps the own triggers' CREATE statements,
    so a run killed inside the fence (some dropped, not yet re-created) can put them back."""
    ensure_table(conn)
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (table_name, new_table, old_table, alter_sql, migration_id, "
            "step, phase, own_triggers, pid, client) "
            "VALUES (%s, %s, %s, %s, %s, %s, 'copying', %s, %s, %s)",
            (
                table,
                new_name(table),
                old_name(table),
                alter,
                migration_id,
                step,
                json.dumps(own_triggers),
                os.getpid(),
                f"{getpass.getuser()}@{socket.gethostname()}"[:255],
            ),
        )
    conn.commit()


def phase(conn: Any, table: str, value: str) -> None:
    assert value in PHASES, value
    with conn.cursor() as cur:
        cur.execute(
            f"UPDATE {TABLE} SET phase = %s, updated_at = NOW() WHERE table_name = %s",
            (value, table),
        )
    conn.commit()


def end(conn: Any, table: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE table_name = %s", (table,))
    conn.commit()


def read(conn: Any) -> list[Copy]:
    if not catalog.table_exists(conn, TABLE):
        return []
    rows = catalog.rows(
        conn,
        f"SELECT table_name, new_table, old_table, alter_sql, migration_id, step, phase, pid, "
        f"client, started_at, own_triggers FROM {TABLE} ORDER BY started_at, table_name",
    )
    return [
        Copy(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            None if r[5] is None else int(r[5]),
            r[6],
            int(r[7]),
            r[8],
            str(r[9]),
            json.loads(r[10] or "[]"),
        )  # fmt: skip
        for r in rows
    ]
