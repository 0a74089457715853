"""`ticketdb migrate down` and `migrate break-lock` as users run them (the real entry point),
checked against what the server then holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.migrate.runner import load_migrations
from ticketdb.project import Project
from ticketdb.server.databases import scratch_database

TOOL_TABLES = {
    "_yoyo_migration",
    "_yoyo_log",
    "_yoyo_version",
    "yoyo_lock",
    "ticketdb_repeatable",
    "ticketdb_migration_progress",  # the step journal (ticketdb.migrate.progress)
    "ticketdb_migration_checksum",  # checksums of applied files (ticketdb.migrate.checksums)
    "ticketdb_lock_salt",  # the GET_LOCK names' salt (ticketdb.migrate.locksalt)
}


def migrate(dsn: DSN, *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    res = subprocess.run(
        [sys.executable, "-m", "ticketdb", "migrate", *args, "--dsn", dsn.url()],
        capture_output=True,
        text=True,
        env=base,
        timeout=300,
    )
    assert "Traceback" not in res.stderr, res.stderr
    return res


def tables(dsn: DSN) -> set[str]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            return {r[0] for r in cur.fetchall()} - TOOL_TABLES
    finally:
        conn.close()


def routines(dsn: DSN) -> int:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT (SELECT COUNT(*) FROM information_schema.routines "
                "WHERE routine_schema = DATABASE()) + (SELECT COUNT(*) FROM "
                "information_schema.triggers WHERE trigger_schema = DATABASE()) + (SELECT "
                "COUNT(*) FROM information_schema.events WHERE event_schema = DATABASE())"
            )
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def applied(dsn: DSN) -> list[str]:
    st = json.loads(migrate(dsn, "status", "--json").stdout)
    return [m["id"] for m in st["migrations"] if m["applied"]]


def test_down_last_to_and_all_from_the_cli(db_dsn: DSN, project: Project) -> None:
    all_ids = ids = [m.id for m in load_migrations(project)]
    assert migrate(db_dsn, "up").returncode == 0
    at_head = tables(db_dsn)
    assert {"cache_customer_version", "customers", "alert_outbox"} <= at_head
    assert routines(db_dsn) > 0

    # what follows is about 0042 (request_key); later migrations go first, with
    # --allow-data-loss where they drop a column holding rows (0045: changed_at)
    i42 = next(i for i, m in enumerate(ids) if m.startswith("0042"))
    if i42 < len(ids) - 1:
        res = migrate(db_dsn, "down", "--to", ids[i42], "--yes", "--allow-data-loss")
        assert res.returncode == 0, res.stderr
        ids = ids[: i42 + 1]
    res = migrate(db_dsn, "down", "--json")  # no terminal: needs --yes, changes nothing
    assert res.returncode == 2 and "pass --yes" in res.stderr and res.stdout == ""
    assert applied(db_dsn) == ids
    res = migrate(db_dsn, "down", "--json", "--yes")  # the last one only
    assert res.returncode == 0, res.stderr
    assert f"will roll back 1 migration(s): {ids[-1]}" in res.stderr
    assert "drop column ticket_logs.request_key (0 row(s))" in res.stderr
    out = json.loads(res.stdout)
    assert out["rolled_back"] == [ids[-1]]
    actions = {o["action"] for o in out["objects"]}
    assert actions == {"drop", "create"}, out["objects"]
    with scratch_database(db_dsn, "test") as reference:  # what the one before the last leaves
        assert migrate(reference, "up", "--to", ids[-2]).returncode == 0
        assert tables(db_dsn) == tables(reference)
    # objects that still compile came back at once; the ones using request_key did not
    missing = {o["name"] for o in out["missing_objects"]}
    assert "ticket_log_action" in missing
    assert routines(db_dsn) == sum(o["action"] == "create" for o in out["objects"]) > 0
    assert applied(db_dsn) == ids[:-1]

    res = migrate(db_dsn, "down", "--to", "0010", "--yes")  # drops tables holding rows
    assert res.returncode == 1 and "--allow-data-loss" in res.stderr, res.stderr
    assert "drop table cache_customer_version (1 row(s))" in res.stderr
    assert applied(db_dsn) == ids[:-1]  # nothing was done
    res = migrate(db_dsn, "down", "--to", "0010", "--yes", "--allow-data-loss")  # text output
    assert res.returncode == 0, res.stderr
    assert "rolled back 0016_customers" in res.stderr
    assert "rolled back 0015_alert_outbox" in res.stderr
    assert applied(db_dsn) == ids[: ids.index("0010_service_tickets_closed_index") + 1]
    assert not {"customers", "alert_outbox"} & tables(db_dsn)

    res = migrate(db_dsn, "down", "--to", "0016")  # not applied any more
    assert res.returncode == 2 and "0016_customers is not applied" in res.stderr
    res = migrate(db_dsn, "down", "--to", "9999")
    assert res.returncode == 2 and "unknown migration id '9999'" in res.stderr
    res = migrate(db_dsn, "down", "--to", "0001", "--all")
    assert res.returncode == 2 and "either --to or --all" in res.stderr
    assert len(applied(db_dsn)) == ids.index("0010_service_tickets_closed_index") + 1  # untouched

    res = migrate(db_dsn, "down", "--all", "--json", "--yes", "--allow-data-loss")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["rolled_back"][-1] == "0001_service_tickets"
    assert tables(db_dsn) == set() and applied(db_dsn) == []

    res = migrate(db_dsn, "down")
    assert res.returncode == 0 and "nothing to roll back" in res.stderr

    res = migrate(db_dsn, "up", "--json")  # and back: the way back is always there
    assert res.returncode == 0 and json.loads(res.stdout)["applied"] == all_ids
    assert tables(db_dsn) == at_head and routines(db_dsn) > 0


def test_break_lock_from_the_cli(migrated_dsn: DSN) -> None:
    from ticketdb.leases import job_lock_name

    conn = connect(migrated_dsn)
    with conn.cursor() as cur:  # what a killed run leaves behind
        cur.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, NOW(), 999999)")
    conn.close()
    # its owner holds no GET_LOCK any more (its connection died): removed on sight, no wait
    res = migrate(migrated_dsn, "up", "--lock-timeout", "60")
    assert res.returncode == 0 and "removed a stale migrate lock (pid 999999" in res.stderr

    # a live run (its connection holds the lock) makes the others wait, then fail, touching nothing
    holder = connect(migrated_dsn)
    with holder.cursor() as cur:
        name = job_lock_name(holder, "migrate", migrated_dsn.database)
        cur.execute("SELECT GET_LOCK(%s, 0)", (name,))
        cur.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, NOW(), 999998)")
    try:
        res = migrate(migrated_dsn, "up", "--lock-timeout", "1")
        assert res.returncode == 1 and "still holds the lock" in res.stderr
        res = migrate(migrated_dsn, "down", "--yes", "--allow-data-loss", "--lock-timeout", "1")
        assert res.returncode == 1 and "still holds the lock" in res.stderr
        assert "0017_cache_customer_version" in applied(migrated_dsn)  # nothing rolled back
        # break-lock removes the row by hand (for Galera, where a row's owner may be elsewhere)
        res = migrate(migrated_dsn, "break-lock")
        assert res.returncode == 0 and "migration lock removed" in res.stderr
        with holder.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM yoyo_lock")
            assert cur.fetchone()[0] == 0
    finally:
        holder.close()
    res = migrate(migrated_dsn, "up")
    assert res.returncode == 0 and "up to date" in res.stderr
    assert migrate(migrated_dsn, "break-lock").returncode == 0  # no lock: still fine


def test_plain_down_then_up_says_nothing_alarming(db_dsn: DSN) -> None:
    """`migrate down` drops the repeatable objects, lease_release included, while it holds the
    migrate lease; the next `up` used to print "took over the migrate lease of …: its
    connection is gone" although nothing was killed (issue 20)."""
    assert migrate(db_dsn, "up").returncode == 0
    res = migrate(db_dsn, "down", "--yes", "--allow-data-loss")  # the last may drop a filled column
    assert res.returncode == 0, res.stderr
    res = migrate(db_dsn, "up")
    assert res.returncode == 0, res.stderr
    assert "took over" not in res.stderr and "connection is gone" not in res.stderr, res.stderr
