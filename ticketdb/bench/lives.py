"""A ticket's life, the unit of work of the ``workflow_throughput`` bench, and the two ways to
write it: through the workflow procedures, or as plain SQL from the client.

A life is seven operations on a new ticket: create, assign, reply, reply, transfer (with a
priority change on one life in three), resolve, close. Each operation is one transaction and one
measured call. The two drivers do the same writes with the same validation:

* :class:`ProcedureDriver` — ``INSERT`` of the ticket (the cache trigger fires), then
  ``ticketdb.app.workflow.Workflow``: one ``CALL ticket_*`` per action; the procedure locks the
  ticket, inserts the log, and the log's triggers check the transition and move the ticket.
* :class:`PlainDriver` — what an application without procedures or triggers would send, in a
  scratch copy of the two tables with no trigger on them: per action one transaction of a guarded
  ``UPDATE`` (the state check is its WHERE clause; 0 rows matched = rejected) and the log
  ``INSERT`` (a reply locks the ticket with ``SELECT … FOR UPDATE`` instead of updating it),
  then ``COMMIT``. Deadlocks and lock wait timeouts are retried by the same policy for both.

The SQL is in queries/ (ticket_create.sql, plain_*.sql).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Protocol

from ticketdb.app.queries import app_query, load_query
from ticketdb.app.workflow import PRIORITIES, RetryStats, TransitionRejected, Workflow
from ticketdb.bench.context import BenchContext
from ticketdb.bench.serverio import server_pid
from ticketdb.db import quote_ident
from ticketdb.project import Project

#: The operations of one life, in order (what ``ops_per_s`` counts).
STEPS = ("create", "assign", "reply", "reply", "transfer", "resolve", "close")
PRIORITY_CHANGE_EVERY = 3  # one life in three changes the priority on transfer
#: service_tickets columns copied into the plain-SQL scratch table (``deadline`` is generated)
_TICKET_COLUMNS = ("id, customer_id, title, priority, current_status, assigned_agent_id, "
                   "created_at, updated_at, closed_at, sla_started_at")  # fmt: skip


def create_plain_copy(conn: Any, source: str, target: str) -> None:
    """Fill the empty database ``target`` with the plain-SQL baseline's tables:
    ``service_tickets`` (rows copied, so its indexes are as big as the source's) and an empty
    ``ticket_logs``, both ``LIKE`` the source's (same columns, indexes, partitions), no trigger."""
    src, dst = quote_ident(source), quote_ident(target)
    with conn.cursor() as cur:
        for table in ("service_tickets", "ticket_logs"):
            cur.execute(f"CREATE TABLE {dst}.{table} LIKE {src}.{table}")
        cur.execute(f"INSERT INTO {dst}.service_tickets ({_TICKET_COLUMNS}) "
                    f"SELECT {_TICKET_COLUMNS} FROM {src}.service_tickets")  # fmt: skip


def writer_state(ctx: BenchContext) -> dict[str, Any]:
    """What a scenario writing ticket lives needs: the highest ids now (to remove its tickets
    afterwards), how many customers and agents to draw from, the server's pid (CPU time)."""
    with ctx.conn.cursor() as cur:
        cur.execute(*app_query("bench_writer_state").bind())
        max_ticket, max_log, customers, agents = cur.fetchone()
    return {"max_ticket_id": int(max_ticket), "max_log_id": int(max_log),
            "customers": int(customers) or 1000, "agents": int(agents) or 200,
            "server_pid": server_pid(ctx.conn)}  # fmt: skip


#: what :func:`remove_lives` deletes, children first (alerts and the urgent list are filled by
#: the events from the scenario's tickets)
_REMOVE = (
    ("bench_remove_logs", "max_log_id"),
    ("bench_remove_alerts", "max_ticket_id"),
    ("bench_remove_urgent", "max_ticket_id"),
    ("bench_remove_tickets", "max_ticket_id"),
)


def remove_lives(ctx: BenchContext, st: dict[str, Any]) -> None:
    """Delete the tickets and logs written since :func:`writer_state` (``st``), and what the
    events derived from them: a reused data set is left as found."""
    if "max_log_id" not in st:
        return
    with ctx.conn.cursor() as cur:
        for query, key in _REMOVE:
            cur.execute(*app_query(query).bind(**{key: st[key]}))


@dataclass(frozen=True)
class Life:
    customer_id: int
    title: str
    priority: str
    agent_id: int
    to_agent_id: int
    new_priority: str | None


def plan_life(rng: random.Random, customers: int, agents: int, n: int) -> Life:
    """The ``n``-th life of a worker: random customer, agents and priorities (never a transfer
    to the same agent, so every step really changes the ticket)."""
    agent = rng.randint(1, agents)
    to_agent = rng.randint(1, agents - 1) if agents > 1 else agent
    if agents > 1 and to_agent >= agent:
        to_agent += 1
    priority = rng.choice(PRIORITIES)
    new_priority = None
    if n % PRIORITY_CHANGE_EVERY == 0:
        new_priority = rng.choice([p for p in PRIORITIES if p != priority])
    return Life(rng.randint(1, customers), f"bench ticket {n}", priority, agent, to_agent,
                new_priority)  # fmt: skip


class Driver(Protocol):
    stats: RetryStats

    def step(self, name: str, life: Life, ticket_id: int | None) -> int | None: ...


class ProcedureDriver:
    """Create by INSERT, then one ``CALL ticket_*`` per action (autocommit connection)."""

    def __init__(self, conn: Any, project: Project, stats: RetryStats | None = None) -> None:
        self.wf = Workflow(conn, stats=stats)
        self.stats = self.wf.stats
        self._create = load_query(project, "ticket_create")

    def step(self, name: str, life: Life, ticket_id: int | None) -> int | None:
        wf = self.wf
        if name == "create":
            sql, args = self._create.bind(customer_id=life.customer_id, title=life.title,
                                          priority=life.priority)  # fmt: skip

            def create() -> int:
                with wf.conn.cursor() as cur:
                    cur.execute(sql, args)
                    return int(cur.lastrowid)

            return wf.retrying(create)
        assert ticket_id is not None
        if name == "assign":
            wf.assign(ticket_id, life.agent_id)
        elif name == "reply":
            wf.reply(ticket_id, life.agent_id, "bench reply")
        elif name == "transfer":
            wf.transfer(ticket_id, life.agent_id, life.to_agent_id, life.new_priority)
        elif name == "resolve":
            wf.resolve(ticket_id, life.to_agent_id, None)
        elif name == "close":
            wf.close(ticket_id, life.to_agent_id)
        else:
            raise ValueError(f"unknown step {name!r}")
        return ticket_id


class PlainDriver:
    """Guarded UPDATE + log INSERT + COMMIT per action (connection with autocommit off)."""

    def __init__(self, conn: Any, project: Project, stats: RetryStats | None = None) -> None:
        if conn.get_autocommit():
            conn.autocommit(False)
        self.conn = conn
        self.wf = Workflow(conn, stats=stats)  # only for its retry policy and counters
        self.stats = self.wf.stats
        self._q = {name: load_query(project, name) for name in (
            "ticket_create", "plain_assign", "plain_transfer", "plain_resolve", "plain_close",
            "plain_reply_check", "plain_log")}  # fmt: skip

    def _bound(self, name: str, **values: Any) -> tuple[str, dict[str, Any]]:
        return self._q[name].bind(**values)

    def step(self, name: str, life: Life, ticket_id: int | None) -> int | None:
        conn = self.conn
        if name == "create":
            sql, args = self._bound("ticket_create", customer_id=life.customer_id,
                                    title=life.title, priority=life.priority)  # fmt: skip

            def create() -> int:
                with conn.cursor() as cur:
                    cur.execute(sql, args)
                    new_id = int(cur.lastrowid)
                conn.commit()
                return new_id

            return self.wf.retrying(create)
        assert ticket_id is not None
        agent, to_agent, new_priority, note = life.agent_id, None, None, None
        if name == "assign":
            check = self._bound("plain_assign", ticket_id=ticket_id, agent_id=agent)
        elif name == "reply":
            check = self._bound("plain_reply_check", ticket_id=ticket_id)
            note = "bench reply"
        elif name == "transfer":
            to_agent, new_priority = life.to_agent_id, life.new_priority
            check = self._bound("plain_transfer", ticket_id=ticket_id, from_agent_id=agent,
                                to_agent_id=to_agent, new_priority=new_priority)  # fmt: skip
        elif name in ("resolve", "close"):
            agent = life.to_agent_id
            check = self._bound(f"plain_{name}", ticket_id=ticket_id)
        else:
            raise ValueError(f"unknown step {name!r}")
        log = self._bound("plain_log", ticket_id=ticket_id, agent_id=agent, action=name,
                          to_agent_id=to_agent, new_priority=new_priority, note=note)  # fmt: skip

        def transaction() -> None:
            with conn.cursor() as cur:
                cur.execute(*check)
                if name == "reply":
                    row = cur.fetchone()
                    ok = row is not None and row[0] in ("pending", "processing")
                else:
                    ok = cur.rowcount == 1
                if not ok:
                    conn.rollback()
                    raise TransitionRejected(f"ticket {ticket_id}: {name} rejected",
                                             ticket_id, name, "state check failed")  # fmt: skip
                cur.execute(*log)
            conn.commit()

        self.wf.retrying(transaction)
        return ticket_id


DRIVERS: dict[str, type[ProcedureDriver] | type[PlainDriver]] = {
    "procedures": ProcedureDriver,
    "plain_sql": PlainDriver,
}
