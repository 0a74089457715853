"""The ticket_* procedures through ticketdb.app.workflow: results, typed errors, atomicity,
retries."""

from __future__ import annotations

import threading
import time

import pymysql
import pytest
from waiting import join_all

from ticketdb.app.workflow import (
    RetryPolicy,
    TicketNotFound,
    TransitionRejected,
    Workflow,
    WorkflowError,
    bulk_load,
)
from ticketdb.db import connect


def new_ticket(conn, priority: str = "medium") -> int:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO service_tickets (customer_id, title, priority, sla_started_at) "
            "VALUES (1, 't', %s, NOW() - INTERVAL 2 HOUR)",
            (priority,),
        )
        return cur.lastrowid


def ticket(conn, tid: int) -> dict:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SELECT * FROM service_tickets WHERE id = %s", (tid,))
        return cur.fetchone()


def logs(conn, tid: int) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT action_type, agent_id, to_agent_id, new_priority, note FROM ticket_logs "
            "WHERE ticket_id = %s ORDER BY id",
            (tid,),
        )
        return list(cur.fetchall())


@pytest.fixture
def wf(conn) -> Workflow:
    return Workflow(conn)


def test_full_lifecycle(conn, migrated_dsn):
    tid = new_ticket(conn)
    with Workflow.open(migrated_dsn) as wf:
        wf.reply(tid, 5, "we are looking")
        wf.assign(tid, 5)
        wf.transfer(tid, 5, 6)
        wf.resolve(tid, 6, "fixed")
        wf.reopen(tid, 6, "not fixed")
        wf.resolve(tid, 6)
        wf.close(tid, 6)
    assert wf.conn.open is False  # the context closed its connection
    t = ticket(conn, tid)
    assert (t["current_status"], t["assigned_agent_id"]) == ("closed", 6)
    assert t["closed_at"] is not None
    assert logs(conn, tid) == [
        ("reply", 5, None, None, "we are looking"),
        ("assign", 5, None, None, None),
        ("transfer", 5, 6, None, None),
        ("resolve", 6, None, None, "fixed"),
        ("reopen", 6, None, None, "not fixed"),
        ("resolve", 6, None, None, None),
        ("close", 6, None, None, None),
    ]


def test_rejection_is_typed(conn, wf):
    tid = new_ticket(conn)
    wf.close(tid, 1)
    with pytest.raises(TransitionRejected) as exc:
        wf.assign(tid, 2)
    assert (exc.value.ticket_id, exc.value.action, exc.value.reason) == (
        tid,
        "assign",
        "ticket is closed",
    )
    assert exc.value.code == 1644
    with pytest.raises(TicketNotFound) as missing:
        wf.reply(424242, 1, "hello?")
    assert missing.value.ticket_id == 424242
    assert len(logs(conn, tid)) == 1


def test_invalid_priority_is_an_error_not_a_silent_blank(conn, wf):
    tid = new_ticket(conn)
    wf.assign(tid, 1)
    with conn.cursor() as cur:
        with pytest.raises(pymysql.err.MySQLError) as exc:
            cur.execute("CALL ticket_transfer(%s, 1, 2, 'whenever')", (tid,))
    assert exc.value.args[0] in (1265, 1366)  # strict mode: data truncated / incorrect value
    assert ticket(conn, tid)["assigned_agent_id"] == 1
    assert [r[0] for r in logs(conn, tid)] == ["assign"]
    with pytest.raises(ValueError):
        wf.transfer(tid, 1, 2, "whenever")


def test_transfer_with_new_priority_restarts_sla_clock(conn, wf):
    tid = new_ticket(conn, "low")
    wf.assign(tid, 1)
    before = ticket(conn, tid)
    wf.transfer(tid, 1, 2, "urgent")
    after = ticket(conn, tid)
    assert (after["priority"], after["assigned_agent_id"]) == ("urgent", 2)
    assert after["sla_started_at"] > before["sla_started_at"]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TIMESTAMPDIFF(MINUTE, NOW(), deadline) FROM service_tickets WHERE id = %s",
            (tid,),
        )
        assert 115 <= cur.fetchone()[0] <= 120  # urgent: 2 h from now, not from creation


def test_transfer_is_all_or_nothing_when_the_ticket_update_fails(conn, wf, migrated_dsn):
    """The log insert succeeds, then the ticket update (second statement) fails: nothing stays."""
    tid = new_ticket(conn, "medium")
    wf.assign(tid, 1)
    before = ticket(conn, tid)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TRIGGER test_refuse_priority BEFORE UPDATE ON service_tickets FOR EACH ROW "
            "BEGIN IF NEW.priority <> OLD.priority THEN "
            "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test: priority update fails'; "
            "END IF; END"
        )
    with pytest.raises(WorkflowError, match="priority update fails"):
        wf.transfer(tid, 1, 2, "high")
    assert ticket(conn, tid) == before
    assert [r[0] for r in logs(conn, tid)] == ["assign"]
    assert not ticket_locked(migrated_dsn, tid)  # the procedure rolled back, nothing left open
    with conn.cursor() as cur:
        cur.execute("DROP TRIGGER test_refuse_priority")
    wf.transfer(tid, 1, 2, "high")
    assert ticket(conn, tid)["priority"] == "high"


def ticket_locked(dsn, tid: int) -> bool:
    """Does another session still hold the ticket's row lock? (Every procedure locks the ticket
    FOR UPDATE first, so one that failed without its ROLLBACK leaves the lock behind.)"""
    other = connect(dsn)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT id FROM service_tickets WHERE id = %s FOR UPDATE NOWAIT", (tid,))
        return False
    except pymysql.err.OperationalError as exc:
        if exc.args[0] in (1205, 3572):  # lock wait timeout (MariaDB) / NOWAIT refused (MySQL)
            return True
        raise
    finally:
        other.close()


def test_lock_probe_sees_a_transaction_left_open(conn, migrated_dsn):
    """The check above must be able to fail: a session holding the row lock is seen."""
    tid = new_ticket(conn)
    assert not ticket_locked(migrated_dsn, tid)
    with conn.cursor() as cur:
        cur.execute("START TRANSACTION")
        cur.execute("SELECT id FROM service_tickets WHERE id = %s FOR UPDATE", (tid,))
        assert ticket_locked(migrated_dsn, tid)
        cur.execute("ROLLBACK")
    assert not ticket_locked(migrated_dsn, tid)


def test_procedures_switch_bulk_load_off(conn, wf):
    """A session that left the switch on still moves tickets through the procedures."""
    tid = new_ticket(conn)
    with conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
    wf.assign(tid, 3)
    assert ticket(conn, tid)["current_status"] == "processing"
    with conn.cursor() as cur:
        cur.execute("SELECT @ticketdb_bulk_load")
        assert cur.fetchone()[0] is None


def test_bulk_load_context_always_switches_off(conn):
    tid = new_ticket(conn)
    with pytest.raises(RuntimeError):
        with bulk_load(conn):
            with conn.cursor() as cur:
                cur.execute(
                    "INSERT INTO ticket_logs (ticket_id, agent_id, action_type) "
                    "VALUES (%s, 1, 'resolve')",
                    (tid,),
                )
            raise RuntimeError("loader crashed")
    assert ticket(conn, tid)["current_status"] == "pending"  # loaded, not applied
    with conn.cursor() as cur:
        cur.execute("SELECT @ticketdb_bulk_load")
        assert cur.fetchone()[0] is None


def test_deadlock_is_retried(migrated_dsn, conn):
    """Two transactions lock two tickets in opposite order: InnoDB kills one, retrying wins."""
    a, b = new_ticket(conn), new_ticket(conn)
    barrier = threading.Barrier(2, timeout=10)
    flows = [Workflow(connect(migrated_dsn)) for _ in range(2)]
    shared = flows[0].stats
    flows[1].stats = shared
    errors: list[BaseException] = []

    def work(wf: Workflow, first: int, second: int) -> None:
        waited = False

        def tx() -> None:
            nonlocal waited
            wf.conn.begin()
            with wf.conn.cursor() as cur:
                cur.execute("SELECT id FROM service_tickets WHERE id=%s FOR UPDATE", (first,))
                if not waited:
                    waited = True
                    barrier.wait()
                cur.execute("SELECT id FROM service_tickets WHERE id=%s FOR UPDATE", (second,))
                cur.execute("UPDATE service_tickets SET title = 'x' WHERE id=%s", (second,))
            wf.conn.commit()

        try:
            wf.retrying(tx)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(flows[0], a, b)),
        threading.Thread(target=work, args=(flows[1], b, a)),
    ]
    for t in threads:
        t.start()
    alive = join_all(threads, 30)
    for f in flows:
        f.conn.close()
    assert alive == []
    assert errors == []
    assert shared.retries.get(1213, 0) >= 1
    assert ticket(conn, a)["title"] == ticket(conn, b)["title"] == "x"


def test_lock_wait_timeout_is_retried(migrated_dsn, conn):
    tid = new_ticket(conn)
    holder = connect(migrated_dsn, autocommit=False)
    holder.cursor().execute("SELECT id FROM service_tickets WHERE id=%s FOR UPDATE", (tid,))
    worker = connect(migrated_dsn)
    worker.cursor().execute("SET SESSION innodb_lock_wait_timeout = 1")
    wf = Workflow(worker, retry=RetryPolicy(attempts=5, base_delay=0.05))
    release = threading.Timer(1.5, holder.commit)
    release.start()
    started = time.monotonic()
    try:
        wf.assign(tid, 9)
    finally:
        release.join(30)
        holder.close()
        worker.close()
    assert not release.is_alive()
    assert wf.stats.retries.get(1205, 0) >= 1
    assert time.monotonic() - started >= 1.0
    assert ticket(conn, tid)["assigned_agent_id"] == 9
    assert [r[0] for r in logs(conn, tid)] == ["assign"]


def test_retries_are_bounded(migrated_dsn, conn):
    from ticketdb.app.workflow import RetriesExhausted

    tid = new_ticket(conn)
    holder = connect(migrated_dsn, autocommit=False)
    holder.cursor().execute("SELECT id FROM service_tickets WHERE id=%s FOR UPDATE", (tid,))
    worker = connect(migrated_dsn)
    worker.cursor().execute("SET SESSION innodb_lock_wait_timeout = 1")
    wf = Workflow(worker, retry=RetryPolicy(attempts=2, base_delay=0.01))
    try:
        with pytest.raises(RetriesExhausted):
            wf.assign(tid, 9)
    finally:
        holder.rollback()
        holder.close()
        worker.close()
    assert wf.stats.retries == {1205: 2}
    assert logs(conn, tid) == []
