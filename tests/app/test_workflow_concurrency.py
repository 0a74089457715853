"""8 threads assigning and transferring the same tickets: no lost log, state == replayed log."""

from __future__ import annotations

import random
import threading

import pymysql
from waiting import join_all

from ticketdb.app.workflow import RetryStats, TransitionRejected, Workflow
from ticketdb.db import connect

THREADS = 8
OPS_PER_THREAD = 40
TICKETS = 3
AGENTS = list(range(1, 7))
PRIORITIES = ["urgent", "high", "medium", "low"]


def replay(rows: list[dict]) -> tuple[str, int | None, str]:
    """The ticket state the log implies, checking each step was legal when it happened."""
    status, agent, priority = "processing", 1, "medium"
    for r in rows:
        if r["action_type"] == "assign":
            agent = r["agent_id"]
        elif r["action_type"] == "transfer":
            assert r["agent_id"] == agent, f"transfer from {r['agent_id']} logged while {agent}"
            agent = r["to_agent_id"]
            priority = r["new_priority"] or priority
        else:
            raise AssertionError(f"unexpected action {r['action_type']}")
    return status, agent, priority


def test_concurrent_assign_and_transfer(migrated_dsn, conn):
    ids = []
    with conn.cursor() as cur:
        for _ in range(TICKETS):
            cur.execute(
                "INSERT INTO service_tickets (customer_id, title, priority, current_status, "
                "assigned_agent_id) VALUES (1, 't', 'medium', 'processing', 1)"
            )
            ids.append(cur.lastrowid)
    stats = RetryStats()
    done: list[tuple[int, str]] = []  # (ticket, action) of every call that returned normally
    rejected: list[TransitionRejected] = []
    crashed: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS, timeout=30)

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        wf = Workflow(connect(migrated_dsn), stats=stats)
        try:
            start.wait()
            for _ in range(OPS_PER_THREAD):
                tid = rnd.choice(ids)
                try:
                    if rnd.random() < 0.3:
                        wf.assign(tid, rnd.choice(AGENTS))
                        action = "assign"
                    else:
                        with wf.conn.cursor() as cur:  # possibly stale by the time we transfer
                            cur.execute(
                                "SELECT assigned_agent_id FROM service_tickets WHERE id=%s", (tid,)
                            )
                            current = cur.fetchone()[0]
                        wf.transfer(
                            tid, current, rnd.choice(AGENTS), rnd.choice(PRIORITIES + [None])
                        )
                        action = "transfer"
                except TransitionRejected as exc:
                    with lock:
                        rejected.append(exc)
                    continue
                with lock:
                    done.append((tid, action))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            with lock:
                crashed.append(exc)
        finally:
            wf.conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    assert join_all(threads, 120) == []
    assert crashed == []
    assert len(done) + len(rejected) == THREADS * OPS_PER_THREAD
    # rejections are only the stale-"from agent" transfers, never anything else
    assert all(r.action == "transfer" and "assigned to agent" in r.reason for r in rejected)

    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        for tid in ids:
            cur.execute(
                "SELECT action_type, agent_id, to_agent_id, new_priority FROM ticket_logs "
                "WHERE ticket_id = %s ORDER BY id",
                (tid,),
            )
            rows = list(cur.fetchall())
            # no lost log, no extra log: one row per successful call, of the same kinds
            assert sorted(r["action_type"] for r in rows) == sorted(a for t, a in done if t == tid)
            cur.execute(
                "SELECT current_status, assigned_agent_id, priority FROM service_tickets "
                "WHERE id = %s",
                (tid,),
            )
            t = cur.fetchone()
            assert (t["current_status"], t["assigned_agent_id"], t["priority"]) == replay(rows)
    print(f"done={len(done)} rejected={len(rejected)} retries={stats.retries}")


def test_concurrent_assign_and_escalation(migrated_dsn, conn):
    """Escalation chunks lock tickets through the status index while 7 threads assign them:
    every ticket ends escalated-then-assigned or assigned-only, exactly as its log says."""
    with conn.cursor() as cur:
        cur.execute("UPDATE ticketdb_settings SET value = '5' WHERE name = 'escalation_batch_size'")
        cur.executemany(
            "INSERT INTO service_tickets (customer_id, title, priority, created_at) "
            "VALUES (1, 't', 'medium', NOW() - INTERVAL %s HOUR)",
            [(25 + i % 50,) for i in range(120)],
        )
        cur.execute("SELECT id FROM service_tickets ORDER BY id")
        ids = [r[0] for r in cur.fetchall()]
    stats = RetryStats()
    crashed: list[BaseException] = []
    escalated: list[int] = []
    start = threading.Barrier(THREADS, timeout=30)

    def assigner(seed: int) -> None:
        rnd = random.Random(seed)
        wf = Workflow(connect(migrated_dsn), stats=stats)
        try:
            start.wait()
            for tid in rnd.sample(ids, 40):
                wf.assign(tid, seed + 1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            crashed.append(exc)
        finally:
            wf.conn.close()

    def escalator() -> None:
        wf = Workflow(connect(migrated_dsn), stats=stats)
        try:
            start.wait()
            for _ in range(3):
                escalated.append(wf.escalate_stale())
        except BaseException as exc:  # noqa: BLE001 - reported below
            crashed.append(exc)
        finally:
            wf.conn.close()

    threads = [threading.Thread(target=assigner, args=(i,)) for i in range(THREADS - 1)]
    threads.append(threading.Thread(target=escalator))
    for t in threads:
        t.start()
    assert join_all(threads, 120) == []
    assert crashed == []
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(
            "SELECT t.id, t.current_status, t.priority, t.assigned_agent_id, "
            "(SELECT COUNT(*) FROM ticket_logs l WHERE l.ticket_id = t.id "
            " AND l.action_type = 'escalate') AS escalations, "
            "(SELECT agent_id FROM ticket_logs l WHERE l.ticket_id = t.id "
            " AND l.action_type = 'assign' ORDER BY l.id DESC LIMIT 1) AS last_assignee "
            "FROM service_tickets t"
        )
        tickets = list(cur.fetchall())
    assert sum(t["escalations"] for t in tickets) == sum(escalated)
    for t in tickets:
        assert t["escalations"] <= 1
        assert t["priority"] == ("high" if t["escalations"] else "medium")
        assert t["assigned_agent_id"] == t["last_assignee"]
        assert t["current_status"] == ("processing" if t["last_assignee"] else "pending")
    print(f"escalated={escalated} retries={stats.retries}")
