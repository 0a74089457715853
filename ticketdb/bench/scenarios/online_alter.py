"""``online_alter``: a copy-only ALTER of each big table while the workflow runs, online
(pt-online-schema-change through ``ticketdb.migrate.online``) and, as the same-run baseline,
as a plain ALTER (issue 18, item 4).

For each table (``service_tickets``, then ``ticket_logs``) and each way (online, then direct):
4 client processes run ticket lives (background.py) for ``--duration`` seconds, the ALTER runs,
the lives go on for ``--duration`` seconds more, then stop. From every operation's completion
time: ops/s before / during / after, p99 of the operations the ALTER overlapped, and the
longest time in which no operation completed (the stall; for the plain ALTER about the whole
copy, since writers wait for it). Then every acknowledged call is checked against the rows
(acks.py), the lives' tickets are deleted and the column is put back with a plain ALTER
while nothing runs (widening a VARCHAR whose length bytes stay the same is in place), so each
run starts from the same rows and the repo's schema. At the end ``drift`` must be clean.

Each ALTER is proven copy-only first: the server must refuse it with
``ALGORITHM=INPLACE, LOCK=NONE`` (a refusal changes nothing). Runs only when named
(``--scenario online_alter``): it rewrites the two biggest tables four times.
"""

from __future__ import annotations

import re
import resource
import statistics
import sys
import time
from typing import Any

import pymysql

from ticketdb.bench import acks
from ticketdb.bench.background import Background
from ticketdb.bench.context import BenchContext
from ticketdb.bench.lives import remove_lives, writer_state
from ticketdb.bench.load import WorkerResult
from ticketdb.bench.metrics import longest_gap, percentile, rate
from ticketdb.bench.pressure import PressureSampler
from ticketdb.bench.registry import Scenario, register
from ticketdb.bench.serverio import row_lock_waits
from ticketdb.catalog import show_create
from ticketdb.db import quote_ident
from ticketdb.errors import TicketdbError

NAME = "online_alter"
#: table → (column, its copy-only new definition): both shrink a VARCHAR, which neither
#: MariaDB 10.11 nor MySQL 8 can do in place (NOTES "Online DDL facts")
ALTERS = {
    "service_tickets": ("title", "VARCHAR(190) NOT NULL"),
    "ticket_logs": ("note", "VARCHAR(400) NULL"),
}
WAYS = ("online", "direct")
CLIENTS = 4
DEFAULT_PHASE = 10.0
SERIES_BUCKET = 0.25  # seconds per point of the recorded ops/s timeline
REFUSED = {1845, 1846}  # the server refuses the requested ALGORITHM / LOCK


def _column(ctx: BenchContext, table: str, column: str) -> str:
    """The column's definition as the server shows it (what puts it back)."""
    ddl = show_create(ctx.conn, "TABLE", table) or ""
    m = re.search(rf"^\s*`{column}` (.+?),?$", ddl, re.M)
    if not m:
        raise TicketdbError(f"{NAME}: no column {table}.{column} to alter")
    return m.group(1)


def _copy_only(ctx: BenchContext, table: str, change: str) -> str:
    """The server's refusal of ``change`` without a copy; a server that accepts it would have
    just done it in place, so the column is put back and the scenario refused."""
    try:
        ctx.scalar(f"ALTER TABLE {quote_ident(table)} {change}, ALGORITHM=INPLACE, LOCK=NONE")
    except pymysql.err.MySQLError as exc:
        if exc.args and exc.args[0] in REFUSED:
            return str(exc.args[1])
        raise
    raise TicketdbError(f"{NAME}: `{table} {change}` runs in place on this server: not a "
                        "copy-only ALTER, nothing to measure")  # fmt: skip


def _prepare(ctx: BenchContext) -> None:
    st = ctx.state[NAME] = writer_state(ctx)
    st["columns"] = {t: _column(ctx, t, col) for t, (col, _) in ALTERS.items()}
    for table, (col, new) in ALTERS.items():
        size = int(re.search(r"\((\d+)\)", new).group(1))  # type: ignore[union-attr]
        longest = ctx.scalar(f"SELECT IFNULL(MAX(CHAR_LENGTH({col})), 0) FROM {table}")
        if int(longest) > size:
            raise TicketdbError(f"{NAME}: {table}.{col} holds values of {longest} characters: "
                                f"cannot shrink it to {size}")  # fmt: skip


def _cleanup(ctx: BenchContext) -> None:
    st = ctx.state.pop(NAME, {})
    with ctx.conn.cursor() as cur:  # the repo's columns back, whatever happened
        for table, (col, _) in ALTERS.items():
            if table in st.get("columns", {}):
                cur.execute(f"ALTER TABLE {table} MODIFY {quote_ident(col)} {st['columns'][table]}")
    remove_lives(ctx, st)


def _online(ctx: BenchContext, table: str, change: str) -> dict[str, Any]:
    """The one call into the online schema change; its result as recorded."""
    from ticketdb.migrate.online import run_online_alter

    assert ctx.dsn is not None
    result = run_online_alter(ctx.dsn, table, change, project=ctx.project,
                              say=lambda msg: ctx.log(f"{NAME}: {msg}"))  # fmt: skip
    return result.as_dict()


def _direct(ctx: BenchContext, table: str, change: str) -> None:
    with ctx.conn.cursor() as cur:
        cur.execute(f"ALTER TABLE {quote_ident(table)} {change}")


def _run(ctx: BenchContext, table: str, way: str, phase: float, seed: int) -> dict[str, Any]:
    st = ctx.state[NAME]
    col, new = ALTERS[table]
    change = f"MODIFY {quote_ident(col)} {new}"
    rows = int(ctx.scalar(f"SELECT COUNT(*) FROM {quote_ident(table)}"))
    assert ctx.dsn is not None
    online: dict[str, Any] | None = None
    error: str | None = None
    with Background(ctx.dsn, ctx.project.root, CLIENTS, customers=st["customers"],
                    agents=st["agents"], seed=seed) as bg:  # fmt: skip
        pressure = PressureSampler(ctx.dsn).start()
        begin = bg.start()
        time.sleep(phase)
        ctx.log(f"{NAME}: {table}, {way}: {change}")
        locks0 = row_lock_waits(ctx.dsn)
        a = time.monotonic()
        try:
            if way == "online":
                online = _online(ctx, table, change)
            else:
                _direct(ctx, table, change)
        except (TicketdbError, ImportError) as exc:  # the lives still stop and are checked
            error = f"{type(exc).__name__}: {exc}" if isinstance(exc, ImportError) else str(exc)
        b = time.monotonic()
        locks1 = row_lock_waits(ctx.dsn)
        time.sleep(phase)
        end = time.monotonic()
        results = bg.stop()
        pressure_series = pressure.stop()
    check = acks.check(ctx.conn, results)
    remove_lives(ctx, st)  # the next run starts from the same rows …
    with ctx.conn.cursor() as cur:  # … and the repo's column, with nothing running
        cur.execute(f"ALTER TABLE {quote_ident(table)} MODIFY {quote_ident(col)} "
                    f"{st['columns'][table]}")  # fmt: skip
    out = timeline(results, begin, a, b, end)
    # the sampler started just before the lives: its t_s counts from about ``begin``
    out["pressure"] = {**pressure_series, "alter_from_s": round(a - pressure.started, 1),
                       "alter_to_s": round(b - pressure.started, 1)}  # fmt: skip
    st.setdefault("during", {})[(table, way)] = overlapped(results, a, b)
    copied = (online or {}).get("rows_copied", rows) if way == "online" else rows
    copy_s = (online or {}).get("copy_seconds") if way == "online" else b - a
    out.update(
        rows=rows,
        rows_copied=copied,
        rows_per_s=round(copied / copy_s) if copied is not None and copy_s else None,
        checksum_ok=(online or {}).get("checksum_ok") if way == "online" else None,
        # server-wide InnoDB row lock waits over the ALTER: writers queued behind the copy's
        # chunks (or its triggers) show here, a plain ALTER's table lock does not
        row_lock_waits=locks1[0] - locks0[0],
        row_lock_time_ms=locks1[1] - locks0[1],
        lost_ops=check.lost,
        acks=check.as_dict(),
        errors=sum(len(r.unknown) for r in results),
        error_samples=[s for r in results for s in r.error_samples][:5],
    )
    if online is not None:
        out["online"] = online
    if error:  # the ALTER did not happen: no timing to report, only that nothing was lost
        keep = ("rows", "lost_ops", "acks", "errors", "error_samples")
        return {"error": error, **{k: out[k] for k in keep}}
    return out


def overlapped(results: list[WorkerResult], a: float, b: float) -> list[float]:
    """Latencies (ms) of the operations the window [a, b] overlapped: started before it ended,
    completed after it began (a call blocked by the whole ALTER counts, with its full wait)."""
    return [ms for r in results for t, ms in zip(r.done_at, r.latencies_ms, strict=True)
            if t >= a and t - ms / 1000 <= b]  # fmt: skip


def timeline(results: list[WorkerResult], begin: float, a: float, b: float,
             end: float) -> dict[str, Any]:  # fmt: skip
    """Throughput, latency and stall of one run from the workers' completion times: ``begin``
    the lives started, the ALTER ran from ``a`` to ``b``, the lives stopped at ``end``."""
    done = [t for r in results for t in r.done_at]
    during = overlapped(results, a, b)
    before, within, after = rate(done, begin, a), rate(done, a, b), rate(done, b, end)
    gap, at = longest_gap(done, begin, end)
    gap_during, _ = longest_gap(done, a, b)

    def r(v: float | None, n: int = 1) -> float | None:
        return None if v is None else round(v, n)

    return {
        "seconds": round(b - a, 3),
        "ops": len(done),
        "ops_per_s": {"before": r(before), "during": r(within), "after": r(after)},
        "during_ratio": r(within / before, 3) if within is not None and before else None,
        "p99_ms_during": r(percentile(during, 99), 2),
        "max_ms_during": r(max(during) if during else None, 2),
        "stall_s": round(gap, 3),
        "stall_at_s": round(at - a, 3),  # when it began, from the ALTER's start (< 0: before)
        "stall_during_s": round(gap_during, 3),
        "series": series(done, begin, a, end),
    }


def series(done: list[float], begin: float, a: float, end: float,
           bucket: float = SERIES_BUCKET) -> dict[str, Any]:  # fmt: skip
    """Operations completed per ``bucket`` seconds from ``begin`` to ``end``; ``start_s`` is
    ``begin`` relative to the ALTER's start (for the plot's time axis)."""
    counts = [0] * max(1, int((end - begin) / bucket) + 1)
    for t in done:
        if begin <= t <= end:
            counts[int((t - begin) / bucket)] += 1
    return {"bucket_s": bucket, "start_s": round(begin - a, 3), "ops": counts}


def _peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its reaped children (client processes,
    pt-online-schema-change); ru_maxrss is in KiB on Linux, bytes on macOS."""
    unit = 1 if sys.platform == "darwin" else 1024
    return {who: round(resource.getrusage(k).ru_maxrss * unit / 2**20, 1)
            for who, k in (("bench", resource.RUSAGE_SELF),
                           ("children", resource.RUSAGE_CHILDREN))}  # fmt: skip


def _measure(ctx: BenchContext) -> dict[str, Any]:
    from ticketdb.drift.run import check as drift_check

    assert ctx.dsn is not None, f"{NAME} needs the bench DSN"
    phase = float(ctx.options.get("duration") or DEFAULT_PHASE)
    entry: dict[str, Any] = {"clients": CLIENTS, "phase_s": phase}
    seed = 0
    for table, (col, new) in ALTERS.items():
        change = f"MODIFY {quote_ident(col)} {new}"
        per: dict[str, Any] = {"alter": f"ALTER TABLE {table} {change}",
                               "copy_only": _copy_only(ctx, table, change)}  # fmt: skip
        for way in WAYS:
            seed += 1
            per[way] = _run(ctx, table, way, phase, seed)
        entry[table] = per
    assert ctx.dsn is not None
    report = drift_check(ctx.dsn, ctx.project)
    entry["drift_clean"] = report.clean
    entry["drift_differences"] = [d.as_dict() for d in report.differences]
    entry["peak_rss_mb"] = _peak_rss_mb()
    # the headline latency: workflow operations while the online ALTERs ran
    lat = [ms for t in ALTERS for ms in ctx.state[NAME]["during"][(t, "online")]]
    return {
        "p50_ms": round(statistics.median(lat), 3) if lat else None,
        "p95_ms": round(percentile(lat, 95) or 0, 3) if lat else None,
        "runs": len(lat),
        **entry,
    }


register(Scenario(
    NAME,
    "copy-only ALTER of service_tickets and ticket_logs under 4 workflow clients: online "
    "(pt-online-schema-change) vs a plain ALTER; stall, throughput, lost calls, checksum",
    measure=_measure,
    prepare=_prepare,
    cleanup=_cleanup,
    on_request=True,
))  # fmt: skip
