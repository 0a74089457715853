"""``workflow_throughput``: the live write path under C concurrent clients, against sysbench's
``oltp_write_only`` and against the same ticket lives written as plain SQL, all in the same run.

For every concurrency level (``--clients``, default 1, 4, 16), each for ``--duration`` seconds:

1. sysbench ``oltp_write_only`` with that many threads, in its own scratch database
   (``<bench db>__sysbench_…``, prepared once, dropped at the end): the server's ceiling for
   small write transactions;
2. ticket lives through the procedures (lives.py, ``ProcedureDriver``) in the bench database;
3. the same lives as plain SQL (``PlainDriver``) in the scratch database ``<bench
   db>__plain_…``: a copy of ``service_tickets`` (rows included, so the indexes are as big)
   and an empty ``ticket_logs`` with the same partitions, no trigger on either; dropped at the
   end.

Tickets and logs the lives created in the bench database are deleted afterwards, so a reused
data set is left as found (apart from AUTO_INCREMENT and cache versions).
"""

from __future__ import annotations

from typing import Any

from ticketdb.bench.context import BenchContext
from ticketdb.bench.lives import create_plain_copy, remove_lives, writer_state
from ticketdb.bench.load import run_level
from ticketdb.bench.metrics import plain_sql_cost, ratio_to_sysbench
from ticketdb.bench.registry import Scenario, register
from ticketdb.bench.sysbench import Sysbench
from ticketdb.server.databases import scratch_database

NAME = "workflow_throughput"
DEFAULT_CLIENTS = (1, 4, 16)
DEFAULT_DURATION = 10.0
SYSBENCH_TABLES = 4
SYSBENCH_TABLE_SIZE = 100_000


def _option(ctx: BenchContext, name: str, default: Any) -> Any:
    value = ctx.options.get(name)
    return default if value is None else value


def _prepare(ctx: BenchContext) -> None:
    ctx.state[NAME] = writer_state(ctx)


def _cleanup(ctx: BenchContext) -> None:
    remove_lives(ctx, ctx.state.pop(NAME, {}))


def _measure(ctx: BenchContext) -> dict[str, Any]:
    assert ctx.dsn is not None, "workflow_throughput needs the bench DSN"
    clients = list(_option(ctx, "clients", DEFAULT_CLIENTS))
    duration = float(_option(ctx, "duration", DEFAULT_DURATION))
    table_size = int(_option(ctx, "sysbench_table_size", SYSBENCH_TABLE_SIZE))
    st = ctx.state[NAME]
    kw = {"customers": st["customers"], "agents": st["agents"], "server_pid": st["server_pid"]}
    root = ctx.project.root
    levels: list[dict[str, Any]] = []
    with (scratch_database(ctx.dsn, "sysbench") as sysbench_dsn,
          scratch_database(ctx.dsn, "plain", charset_of=ctx.dsn.database) as plain_dsn):
        ctx.log(f"{NAME}: plain-SQL copy of the tables in {plain_dsn.database}, sysbench prepare")
        create_plain_copy(ctx.conn, ctx.dsn.database, plain_dsn.database)
        sb = Sysbench(sysbench_dsn, SYSBENCH_TABLES, table_size)
        sb.prepare()
        for i, c in enumerate(clients):
            ctx.log(f"{NAME}: {c} client(s), {duration:g} s each: sysbench, procedures, plain SQL")
            sys_result = sb.run(c, duration, st["server_pid"])
            ours = run_level(ctx.dsn, root, "procedures", c, duration, seed=i + 1, **kw)
            plain = run_level(plain_dsn, root, "plain_sql", c, duration, seed=i + 1, **kw)
            level = ours.as_dict()
            p = plain.as_dict()
            level.update(
                sysbench_tps=sys_result.tps,
                sysbench_p99_ms=sys_result.p99_ms,
                plain_sql_ops_per_s=p["ops_per_s"],
                ratio_to_sysbench=ratio_to_sysbench(level["ops_per_s"], sys_result.tps),
                plain_sql_cost=plain_sql_cost(level["ops_per_s"], p["ops_per_s"]),
                sysbench=sys_result.as_dict(),
                plain_sql={k: v for k, v in p.items() if k != "clients"},
            )
            levels.append(level)
    top = levels[-1]
    return {
        "p50_ms": top["p50_ms"],
        "p95_ms": top["p95_ms"],
        "runs": top["ops"],
        "duration_s": duration,
        "levels": levels,
        "sysbench": {"test": "oltp_write_only", "tables": SYSBENCH_TABLES,
                     "table_size": table_size},  # fmt: skip
        "plain_sql": "the same lives from the client: guarded UPDATE + log INSERT + COMMIT per "
                     "action, in a copy of the tables without triggers (queries/plain_*.sql)",
    }


register(Scenario(
    NAME,
    "ticket lives (create, assign, 2 replies, transfer, resolve, close) from C concurrent "
    "clients through the procedures vs sysbench oltp_write_only vs plain SQL",
    measure=_measure,
    prepare=_prepare,
    cleanup=_cleanup,
))  # fmt: skip
