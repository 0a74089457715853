"""`migrate baseline --to ID` on a database made by hand from a dump (mariadb-dump of a migrated
database, loaded into a fresh one without the migration tool's tables): recorded only when drift's
comparison with a scratch build up to ID finds the same schema; --force records and says why not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ticketdb import catalog, drift
from ticketdb import migrate as mig
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.project import Project
from ticketdb.server import databases

ENV = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
NOT_DUMPED = (
    "_yoyo_migration", "_yoyo_log", "_yoyo_version", "yoyo_lock", "ticketdb_repeatable",
    "ticketdb_migration_progress", "ticketdb_migration_checksum",
)  # fmt: skip


def _client(tool: str, dsn: DSN) -> list[str]:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed")
    args = [exe, "--protocol=tcp", f"--host={dsn.host}", f"--port={dsn.port}", f"--user={dsn.user}"]
    return args + ([f"--password={dsn.password}"] if dsn.password else [])


def dump_into(src: DSN, dst: DSN) -> None:
    """What a DBA does by hand: dump the schema and data, load them into a new database."""
    ignore = [f"--ignore-table={src.database}.{t}" for t in NOT_DUMPED]
    dump = subprocess.run(
        [*_client("mariadb-dump", src), "--routines", "--triggers", "--events",
         "--skip-comments", *ignore, src.database],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    conn = connect(dst, database=False)
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE DATABASE `{dst.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    conn.close()
    subprocess.run(
        [*_client("mariadb", dst), dst.database], input=dump.stdout, capture_output=True,
        timeout=120, check=True,
    )  # fmt: skip


@pytest.fixture
def copy_dsn(server_dsn: DSN) -> Iterator[DSN]:
    with databases.scratch_database(server_dsn, "test", create=False) as dsn:
        yield dsn


def cli(dsn: DSN, *args: str) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [sys.executable, "-m", "ticketdb", "migrate", *args, "--dsn", dsn.url()],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in res.stderr, res.stderr
    return res


def recorded(dsn: DSN) -> list[str]:
    conn = connect(dsn)
    try:
        if not catalog.table_exists(conn, "_yoyo_migration"):
            return []
        with conn.cursor() as cur:
            cur.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id")
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def test_baseline_of_a_dump_at_head_records_everything_and_up_is_a_no_op(
    migrated_dsn: DSN, copy_dsn: DSN, project: Project
) -> None:
    ids = [m["id"] for m in mig.status(migrated_dsn, project)["migrations"]]
    dump_into(migrated_dsn, copy_dsn)
    res = cli(copy_dsn, "up")  # the problem a baseline solves
    assert res.returncode == 1 and "1050" in res.stderr and "already exists" in res.stderr
    assert recorded(copy_dsn) == []

    res = cli(copy_dsn, "baseline", "--to", ids[-1], "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["matched"] and out["differences"] == []
    assert out["recorded"] == ids and recorded(copy_dsn) == sorted(ids)
    assert out["objects_tracked"]  # the dumped routines/triggers/events match their files
    st = mig.status(copy_dsn, project)
    assert st["pending"] == [] and st["checksums"]["verified"] == len(ids)
    again = mig.up(copy_dsn, project)
    assert again.applied == [] and again.objects == []  # nothing re-created either
    assert drift.check(copy_dsn, project).clean
    res = cli(copy_dsn, "baseline", "--to", ids[-1])  # idempotent
    assert res.returncode == 0 and "recorded 0 migration(s)" in res.stderr


def test_baseline_refuses_a_differing_schema_and_force_records_with_the_drift(
    db_dsn: DSN, copy_dsn: DSN, project: Project
) -> None:
    mig.up(db_dsn, project, to="0017")
    dump_into(db_dsn, copy_dsn)
    conn = connect(copy_dsn)
    with conn.cursor() as cur:  # a hotfix nobody wrote down
        cur.execute("ALTER TABLE service_tickets ADD KEY idx_hotfix (customer_id, created_at)")
    conn.close()
    res = cli(copy_dsn, "baseline", "--to", "0017")
    assert res.returncode == 1, res.stderr
    assert "table service_tickets: changed" in res.stdout and "idx_hotfix" in res.stdout
    assert "nothing was recorded" in res.stderr
    assert recorded(copy_dsn) == []
    res = cli(copy_dsn, "baseline", "--to", "0016")  # a wrong ID is refused the same way
    assert res.returncode == 1 and "cache_customer_version: extra" in res.stdout

    res = cli(copy_dsn, "baseline", "--to", "0017", "--force")
    assert res.returncode == 0, res.stderr
    assert "idx_hotfix" in res.stdout and "DIFFERS (recorded anyway: --force)" in res.stderr
    assert recorded(copy_dsn)[-1] == "0017_cache_customer_version"
    up = mig.up(copy_dsn, project)  # the rest applies on top
    assert up.applied[0] == "0040_ticketdb_leases" and up.at_head
    res = cli(copy_dsn, "baseline", "--to", "0016")
    assert res.returncode == 1 and "after 0016_customers are applied already" in res.stderr
