"""``escalation``: CALL escalate_stale_tickets() against the same work done row by row from Python.

Both start from the same rows: before the scenario the pending, unassigned tickets (every
rule's candidates) are copied into a session temporary table together with the highest log id;
``reset`` deletes the 'escalate' logs written since and puts priority / SLA clock / updated_at
back (with the bulk-load switch on, so the cache triggers stay quiet), then checks that the
candidate count is what it was. Not timed.

The baseline is what an application without the procedure would do: read the rules, select each
rule's candidates (queries/escalation_candidates.sql, the same index), then one INSERT of the
same 'escalate' log row per ticket, each in its own autocommit transaction
(queries/escalate_one.sql); the same triggers move the ticket in both paths.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ticketdb.bench.context import BenchContext, plan_summary
from ticketdb.bench.registry import Scenario, register
from ticketdb.catalog import server_now
from ticketdb.errors import TicketdbError

SNAPSHOT = "bench_escalation_snapshot"


def _candidates(ctx: BenchContext) -> int:
    total = 0
    now = server_now(ctx.conn)
    for _rule, from_p, _to, hours in ctx.query("escalation_rules").run(ctx.conn)[1]:
        cutoff = now - timedelta(hours=int(hours))
        total += len(ctx.query("escalation_candidates").run(
            ctx.conn, from_priority=from_p, cutoff=cutoff)[1])  # fmt: skip
    return total


def _prepare(ctx: BenchContext) -> None:
    with ctx.conn.cursor() as cur:
        cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {SNAPSHOT}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {SNAPSHOT} (PRIMARY KEY (id)) ENGINE=InnoDB "
            "SELECT id, priority, sla_started_at, updated_at FROM service_tickets "
            "WHERE current_status = 'pending' AND assigned_agent_id IS NULL"
        )
    ctx.state["max_log_id"] = ctx.scalar("SELECT IFNULL(MAX(id), 0) FROM ticket_logs")
    ctx.state["candidates"] = _candidates(ctx)
    if not ctx.state["candidates"]:
        raise TicketdbError("escalation: no ticket matches an enabled escalation rule")


def _reset(ctx: BenchContext) -> None:
    with ctx.conn.cursor() as cur:
        cur.execute("SET @ticketdb_bulk_load = 1")
        cur.execute("DELETE FROM ticket_logs WHERE id > %s", (ctx.state["max_log_id"],))
        cur.execute(
            f"UPDATE service_tickets AS t JOIN {SNAPSHOT} AS s ON s.id = t.id "
            "SET t.priority = s.priority, t.sla_started_at = s.sla_started_at, "
            "t.updated_at = s.updated_at "
            "WHERE NOT (t.priority <=> s.priority AND t.sla_started_at <=> s.sla_started_at)"
        )
        cur.execute("SET @ticketdb_bulk_load = NULL")
    if _candidates(ctx) != ctx.state["candidates"]:
        raise TicketdbError("escalation: reset did not restore the candidate tickets")


def _cleanup(ctx: BenchContext) -> None:
    _reset(ctx)
    with ctx.conn.cursor() as cur:
        cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {SNAPSHOT}")


def _procedure(ctx: BenchContext) -> int:
    with ctx.conn.cursor() as cur:
        cur.execute("CALL escalate_stale_tickets(@ticketdb_bench_escalated)")
        cur.execute("SELECT @ticketdb_bench_escalated")
        n = int(cur.fetchone()[0])
    _check(ctx, n)
    return n


def _row_by_row(ctx: BenchContext) -> int:
    now = server_now(ctx.conn)
    escalate_one = ctx.query("escalate_one")
    n = 0
    for rule, from_p, to_p, hours in ctx.query("escalation_rules").run(ctx.conn)[1]:
        cutoff = now - timedelta(hours=int(hours))
        ids = ctx.query("escalation_candidates").run(ctx.conn, from_priority=from_p,
                                                       cutoff=cutoff)[1]  # fmt: skip
        note = f"rule {rule}: {from_p} -> {to_p} after {hours} h unassigned"
        for (ticket_id,) in ids:
            escalate_one.run(ctx.conn, ticket_id=ticket_id, now=now, note=note, to_priority=to_p)
            n += 1
    _check(ctx, n)
    return n


def _check(ctx: BenchContext, n: int) -> None:
    if n != ctx.state["candidates"]:
        raise TicketdbError(
            f"escalation: escalated {n} tickets, expected {ctx.state['candidates']}"
        )


def _explain(ctx: BenchContext) -> dict[str, Any]:
    rule = ctx.query("escalation_rules").run(ctx.conn)[1][0]
    text, args = ctx.query("escalation_candidates").bind(
        from_priority=rule[1], cutoff=server_now(ctx.conn) - timedelta(hours=int(rule[3]))
    )
    plan = ctx.explain(text, args)
    before = ctx.handler_reads()
    _procedure(ctx)
    examined = ctx.handler_reads() - before
    _reset(ctx)
    return {**plan_summary(plan), "rows_examined": examined,
            "rows_escalated": ctx.state["candidates"], "plan": plan,
            "note": "plan of the candidate scan (queries/escalation_candidates.sql), the same "
                    "predicate and index as the procedure's; rows_examined covers the whole "
                    "CALL, triggers included"}  # fmt: skip


register(Scenario(
    "escalation",
    "CALL escalate_stale_tickets() on the full table",
    run=_procedure,
    baseline=_row_by_row,
    baseline_label="Python loop, one INSERT + commit per ticket",
    explain=_explain,
    prepare=_prepare,
    reset=_reset,
    cleanup=_cleanup,
    max_repeat=5,
))  # fmt: skip
