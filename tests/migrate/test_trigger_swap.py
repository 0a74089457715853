"""Re-creating an existing trigger while the application writes (``migrate up`` after a trigger
file changed): no row may slip through the DROP→CREATE gap, and on Galera the swap is refused
unless the writes were stopped (that test is in test_galera.py)."""

from __future__ import annotations

import threading

from rows import open_tickets
from waiting import join_all

from ticketdb import migrate as mig
from ticketdb.app.workflow import Workflow
from ticketdb.db import connect
from ticketdb.dsn import DSN
from ticketdb.migrate import repeatable
from ticketdb.project import Project

TRIGGER = "ticket_logs_before_insert"


def _touch_trigger(project: Project, round_: int) -> None:
    """A new checksum for the trigger file, same behaviour: migrate up must re-create it."""
    path = project.root / "triggers" / f"{TRIGGER}.sql"
    text = path.read_text().split("\n-- swap round", 1)[0]
    path.write_text(f"{text}\n-- swap round {round_}\n")


def test_trigger_swapped_under_writes_loses_no_trigger_effect(
    db_dsn: DSN, project_copy: Project
) -> None:
    mig.up(db_dsn, project_copy)
    ids = open_tickets(db_dsn, 8)
    stop = threading.Event()
    errors: list[BaseException] = []
    answered = [0]

    def writer() -> None:
        with Workflow.open(db_dsn) as wf:
            i = 0
            while not stop.is_set():
                try:
                    wf.reply(ids[i % len(ids)], 7, f"n{i}")
                    answered[0] += 1
                except Exception as exc:  # every failure is a finding here
                    errors.append(exc)
                    return
                i += 1

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for round_ in range(12):
            _touch_trigger(project_copy, round_)
            changed = mig.up(db_dsn, project_copy).objects
            assert {"action": "replace", "kind": "TRIGGER", "name": TRIGGER,
                    "reason": "file changed"} in changed  # fmt: skip
    finally:
        stop.set()
        alive = join_all(threads, 30)
    assert alive == []
    assert not errors, errors[:3]
    assert answered[0] > 50  # the swaps really happened under writes
    conn = connect(db_dsn)
    with conn.cursor() as cur:
        # every log went through the BEFORE INSERT trigger: numbered 1..n per ticket, no gaps,
        # no NULL, no duplicate; and the AFTER trigger stored the last number on the ticket
        cur.execute(
            "SELECT l.ticket_id, COUNT(*), COUNT(l.ticket_seq), COUNT(DISTINCT l.ticket_seq), "
            "MAX(l.ticket_seq), t.log_seq FROM ticket_logs l "
            "JOIN service_tickets t ON t.id = l.ticket_id GROUP BY l.ticket_id, t.log_seq"
        )
        rows = cur.fetchall()
        cur.execute("SELECT COUNT(*) FROM ticket_logs")
        total = cur.fetchone()[0]
    conn.close()
    assert total == answered[0]
    for ticket_id, n, numbered, distinct, top, stored in rows:
        assert n == numbered == distinct == top == stored, (ticket_id, n, numbered, distinct, top)


def test_live_swaps_are_listed_and_only_existing_triggers_count(
    migrated_dsn: DSN, project_copy: Project
) -> None:
    _touch_trigger(project_copy, 1)
    conn = connect(migrated_dsn)
    try:
        changes = repeatable.plan_changes(conn, repeatable.load_objects(project_copy))
        assert repeatable.live_trigger_swaps(conn, changes) == [f"{TRIGGER} on `ticket_logs`"]
        with conn.cursor() as cur:
            cur.execute(f"DROP TRIGGER {TRIGGER}")
        changes = repeatable.plan_changes(conn, repeatable.load_objects(project_copy))
        assert repeatable.live_trigger_swaps(conn, changes) == []  # a create has no gap
    finally:
        conn.close()
