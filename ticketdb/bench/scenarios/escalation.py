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

After the timed calls, one more call of each (from the same reset state) is measured in I/O
terms (ticketdb.bench.serverio): commits, fsyncs, rows written from the server's status
counters, round trips counted by the client; ``io.reduction_pct`` is how many fewer
fsyncs + round trips the procedure needs (the seed's "90 %+ less I/O" claim).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ticketdb.app.workflow import BULK_LOAD_VARIABLE, ESCALATED_VARIABLE
from ticketdb.bench.context import BenchContext, plan_summary
from ticketdb.bench.registry import Scenario, register
from ticketdb.bench.serverio import measure, reduction_pct
from ticketdb.catalog import server_now
from ticketdb.errors import TicketdbError


def _candidates(ctx: BenchContext) -> int:
    total = 0
    now = server_now(ctx.conn)
    for _rule, from_p, _to, hours in ctx.query("escalation_rules").run(ctx.conn)[1]:
        cutoff = now - timedelta(hours=int(hours))
        total += len(ctx.query("escalation_candidates").run(
            ctx.conn, from_priority=from_p, cutoff=cutoff)[1])  # fmt: skip
    return total


def _pin_clock(ctx: BenchContext, on: bool) -> None:
    """One NOW() for the whole scenario (this session only; the procedure and the triggers read
    it too): otherwise a slow run (row by row on the durable profile takes minutes) lets more
    tickets cross a rule's age cut-off, and the runs no longer escalate the same tickets."""
    with ctx.conn.cursor() as cur:
        cur.execute("SET @@SESSION.timestamp = " + ("UNIX_TIMESTAMP()" if on else "DEFAULT"))


def _prepare(ctx: BenchContext) -> None:
    _pin_clock(ctx, True)
    try:
        _snapshot(ctx)
    except BaseException:
        _pin_clock(ctx, False)
        raise


def _execute(ctx: BenchContext, query: str, **values: Any) -> None:
    with ctx.conn.cursor() as cur:
        cur.execute(*ctx.query(query).bind(**values))
        while cur.nextset():
            pass


def _snapshot(ctx: BenchContext) -> None:
    _execute(ctx, "escalation_snapshot_drop")
    _execute(ctx, "escalation_snapshot")
    ctx.state["max_log_id"] = ctx.scalar(*ctx.query("escalation_max_log_id").bind())
    ctx.state["candidates"] = _candidates(ctx)
    if not ctx.state["candidates"]:
        raise TicketdbError("escalation: no ticket matches an enabled escalation rule")


def _reset(ctx: BenchContext) -> None:
    with ctx.conn.cursor() as cur:
        cur.execute(f"SET {BULK_LOAD_VARIABLE} = 1")
        cur.execute(*ctx.query("escalation_reset_logs").bind(max_log_id=ctx.state["max_log_id"]))
        cur.execute(*ctx.query("escalation_reset_tickets").bind())
        cur.execute(f"SET {BULK_LOAD_VARIABLE} = NULL")
    if _candidates(ctx) != ctx.state["candidates"]:
        raise TicketdbError("escalation: reset did not restore the candidate tickets")


def _cleanup(ctx: BenchContext) -> None:
    try:
        _reset(ctx)
        _execute(ctx, "escalation_snapshot_drop")
    finally:
        _pin_clock(ctx, False)


def _procedure(ctx: BenchContext) -> int:
    _execute(ctx, "escalate_stale")  # the statement Workflow.escalate_stale runs
    n = int(ctx.scalar(f"SELECT {ESCALATED_VARIABLE}"))
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


def _io(ctx: BenchContext) -> dict[str, Any]:
    costs = []
    for fn in (_procedure, _row_by_row):
        _reset(ctx)
        with measure(ctx.conn) as box:
            fn(ctx)
        costs.append(box[0])
    run, base = costs
    return {"io": {"run": run.as_dict(), "baseline": base.as_dict(),
                   "reduction_pct": reduction_pct(run, base),
                   "tickets": ctx.state["candidates"]}}  # fmt: skip


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
    extra=_io,
    max_repeat=5,
))  # fmt: skip
