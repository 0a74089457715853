"""Read-only scenarios: the report queries of queries/*.sql, timed as the reports run them."""

from __future__ import annotations

from typing import Any

from ticketdb.bench.context import BenchContext, ignore_index, plan_summary
from ticketdb.bench.registry import Scenario, register

WINDOW_MINUTES = 60
COVERING_INDEX = "idx_priority_deadline_status"


def _explained(ctx: BenchContext, name: str, sql: str | None = None, **params: Any) -> dict:
    q = ctx.query(name)
    text, args = q.bind(**params)
    plan = ctx.explain(sql or text, args)
    before = ctx.handler_reads()
    with ctx.conn.cursor() as cur:
        cur.execute(sql or text, args)
        n = len(cur.fetchall())
    return {**plan_summary(plan), "rows_examined": ctx.handler_reads() - before,
            "rows_returned": n, "plan": plan}  # fmt: skip


# -- timeout_warning ---------------------------------------------------------------------------
def _warning_params(ctx: BenchContext) -> dict[str, Any]:
    return {"as_of": ctx.anchor, "window_minutes": WINDOW_MINUTES}


def _warning_baseline_sql(ctx: BenchContext) -> str:
    text, _ = ctx.query("timeout_warning").bind(**_warning_params(ctx))
    return ignore_index(text, "service_tickets", COVERING_INDEX)


def _warning(ctx: BenchContext) -> Any:
    return ctx.query("timeout_warning").run(ctx.conn, **_warning_params(ctx))


def _warning_baseline(ctx: BenchContext) -> Any:
    with ctx.conn.cursor() as cur:
        cur.execute(_warning_baseline_sql(ctx), _warning_params(ctx))
        return cur.fetchall()


def _warning_explain(ctx: BenchContext) -> dict[str, Any]:
    params = _warning_params(ctx)
    return {
        **_explained(ctx, "timeout_warning", **params),
        "baseline": _explained(ctx, "timeout_warning", _warning_baseline_sql(ctx), **params),
    }


register(Scenario(
    "timeout_warning",
    f"open tickets due within {WINDOW_MINUTES} min (supervisor alert list)",
    run=_warning,
    baseline=_warning_baseline,
    baseline_label=f"same query, IGNORE INDEX ({COVERING_INDEX})",
    explain=_warning_explain,
))  # fmt: skip


# -- agent_monthly_stats -----------------------------------------------------------------------
def _stats_params(ctx: BenchContext, months: int) -> dict[str, Any]:
    return {"from": ctx.month(-months), "to": ctx.month(0)}


for _months in (1, 12):

    def _stats(ctx: BenchContext, months: int = _months) -> Any:
        return ctx.query("agent_monthly_stats").run(ctx.conn, **_stats_params(ctx, months))

    def _stats_explain(ctx: BenchContext, months: int = _months) -> dict[str, Any]:
        return _explained(ctx, "agent_monthly_stats", **_stats_params(ctx, months))

    register(Scenario(
        f"agent_monthly_stats_{_months}m",
        f"tickets closed per agent per month + avg hours to close, {_months} month(s)",
        run=_stats,
        explain=_stats_explain,
        max_repeat=5 if _months > 1 else None,
    ))  # fmt: skip


# -- audit_trail -------------------------------------------------------------------------------
def _trail(ctx: BenchContext) -> Any:
    return ctx.query("audit_trail").run(ctx.conn, ticket_id=ctx.audit_ticket_id)


register(Scenario(
    "audit_trail",
    "one closed ticket's timeline (assign → first reply → close), pruned partitions",
    run=_trail,
    explain=lambda ctx: _explained(ctx, "audit_trail", ticket_id=ctx.audit_ticket_id),
))  # fmt: skip


# -- frequent_transfers ------------------------------------------------------------------------
def _transfer_params(ctx: BenchContext) -> dict[str, Any]:
    return {"from": ctx.month(-1), "to": ctx.month(0), "limit": 20}


register(Scenario(
    "frequent_transfers",
    "top 20 most transferred tickets in the last full month",
    run=lambda ctx: ctx.query("frequent_transfers").run(ctx.conn, **_transfer_params(ctx)),
    explain=lambda ctx: _explained(ctx, "frequent_transfers", **_transfer_params(ctx)),
))  # fmt: skip


# -- vip_open_tickets --------------------------------------------------------------------------
register(Scenario(
    "vip_open_tickets",
    "open tickets of one VIP customer (database path)",
    run=lambda ctx: ctx.query("vip_open_tickets").run(ctx.conn, customer_id=ctx.vip_customer_id),
    explain=lambda ctx: _explained(ctx, "vip_open_tickets", customer_id=ctx.vip_customer_id),
))  # fmt: skip
