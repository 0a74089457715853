"""Render a bench document as Markdown (for a review) and as a PNG (scenario vs baseline, and
throughput per concurrency level). The table functions are shared with benchmarks/README.md's
generator (readme.py), so a number is formatted one way everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ms(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _num(v: float | int | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, int) or float(v).is_integer() and abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def profile(server: dict[str, Any]) -> str:
    """'durable' or 'fast' and what that means, from the server's own variables."""
    if server.get("durable"):
        return "durable (binary log, sync_binlog=1, innodb_flush_log_at_trx_commit=1)"
    return (f"fast (innodb_flush_log_at_trx_commit={server['innodb_flush_log_at_trx_commit']}, "
            f"{'binary log' if server.get('log_bin') else 'no binary log'})")  # fmt: skip


def summary_line(doc: dict[str, Any]) -> str:
    m, s, d = doc["machine"], doc["server"], doc["dataset"]
    return (
        f"**Machine** {m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, load average "
        f"{' / '.join(map(str, m['load_average']))} at start"
        + (f", {' / '.join(map(str, m['load_average_end']))} at the end"
           if m.get("load_average_end") else "")  # fmt: skip
        + f" · **Server** {s['version']} "
        f"(buffer pool {s['innodb_buffer_pool_mb']} MB"
        + (f", Galera node of {s['cluster_size']}" if s.get("galera") else "")
        + f"), {profile(s)} · **Data** "
        f"{d['tickets']:,} tickets, {d['logs']:,} logs, anchor {d['anchor']}"
    )


def scenario_table(doc: dict[str, Any]) -> list[str]:
    lines = [
        "| scenario | p50 ms | p95 ms | baseline p50 ms | speed-up | index | rows examined |"
        " runs |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in doc["scenarios"]:
        if r.get("error"):
            lines.append(f"| {r['name']} | skipped: {r['error']} |  |  |  |  |  |  |")
            continue
        ex = r.get("explain") or {}
        speedup = "" if r.get("speedup") is None else f"{r['speedup']}×"
        lines.append(
            f"| {r['name']} | {_ms(r['p50_ms'])} | {_ms(r['p95_ms'])} | "
            f"{_ms(r.get('baseline_p50_ms'))} | "
            f"{speedup} | "
            f"{ex.get('index') or ''} | {ex.get('rows_examined', '') or ''} | {r['runs']} |"
        )
    return lines


def _scenario(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((r for r in doc["scenarios"] if r["name"] == name and not r.get("error")), None)


def levels_table(doc: dict[str, Any]) -> list[str]:
    """workflow_throughput per concurrency level: ours vs sysbench vs plain SQL."""
    wt = _scenario(doc, "workflow_throughput")
    if not wt:
        return []
    lines = [
        "| clients | ops/s | p50 ms | p95 ms | p99 ms | retries | row lock waits | errors | "
        "sysbench tx/s | ÷ sysbench | plain SQL ops/s | plain SQL ÷ ours |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lv in wt["levels"]:
        lines.append(
            f"| {lv['clients']} | {_num(lv['ops_per_s'], 0)} | {_num(lv['p50_ms'], 2)} | "
            f"{_num(lv['p95_ms'], 2)} | {_num(lv['p99_ms'], 2)} | {lv['retries']} | "
            f"{_num(lv.get('row_lock_waits'), 0)} | {lv['errors']} | "
            f"{_num(lv['sysbench_tps'], 0)} | "
            f"{_num(lv['ratio_to_sysbench'], 2)} | {_num(lv['plain_sql_ops_per_s'], 0)} | "
            f"{_num(lv['plain_sql_cost'], 2)} |"
        )
    return lines


def cpu_table(doc: dict[str, Any]) -> list[str]:
    """CPU milliseconds per operation (client process + server), per contender and level: on
    cores shared by clients and server, throughput cannot exceed cores × 1000 ÷ their sum."""
    wt = _scenario(doc, "workflow_throughput")
    if not wt or not any(lv.get("cpu_ms_per_op") for lv in wt["levels"]):
        return []
    nproc = doc["machine"]["nproc"]
    lines = [
        "| clients | procedures: client + server CPU ms/op | plain SQL | sysbench (per tx) | "
        f"CPU ceiling on {nproc} cores: procedures / plain SQL / sysbench per s |",
        "|---:|---:|---:|---:|---:|",
    ]

    def cell(c: dict[str, Any] | None) -> tuple[str, float | None]:
        if not c or c.get("client") is None or c.get("server") is None:
            return "—", None
        total = c["client"] + c["server"]
        return f"{c['client']:.3f} + {c['server']:.3f}", total

    for lv in wt["levels"]:
        cells = [cell(lv.get("cpu_ms_per_op")), cell((lv.get("plain_sql") or {}).get(
            "cpu_ms_per_op")), cell((lv.get("sysbench") or {}).get("cpu_ms_per_tx"))]  # fmt: skip
        ceilings = " / ".join(_num(nproc * 1000 / t, 0) if t else "—" for _, t in cells)
        lines.append(f"| {lv['clients']} | {cells[0][0]} | {cells[1][0]} | {cells[2][0]} | "
                     f"{ceilings} |")  # fmt: skip
    return lines


def io_table(doc: dict[str, Any]) -> list[str]:
    """escalation's I/O: the procedure against the row-by-row baseline."""
    esc = _scenario(doc, "escalation")
    io = (esc or {}).get("io")
    if not io:
        return []
    lines = [
        f"| escalating {io['tickets']:,} tickets | commits | fsyncs | client round trips | "
        "fsyncs + round trips | rows written | wall ms (p50) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key, ms in (("procedure", "run", esc["p50_ms"]),
                           ("row by row", "baseline", esc.get("baseline_p50_ms"))):  # fmt: skip
        c = io[key]
        lines.append(f"| {label} | {c['commits']:,} | {c['fsyncs']:,} | {c['round_trips']:,} | "
                     f"{c['fsyncs'] + c['round_trips']:,} | {c['rows_written']:,} | "
                     f"{_ms(ms)} |")  # fmt: skip
    lines.append(f"| **reduction** |  |  |  | **{_num(io['reduction_pct'], 1)} %** |  | "
                 f"{esc.get('speedup')}× faster |")  # fmt: skip
    return lines


def vip_table(doc: dict[str, Any]) -> list[str]:
    """vip_open_tickets_cached per customer size: Redis alone vs the database."""
    vip = _scenario(doc, "vip_open_tickets_cached")
    if not vip or not vip.get("buckets"):
        return []
    lines = ["| open tickets | customers | cached p50 / p95 ms | database p50 / p95 ms | "
             "cached ÷ database | server CPU µs/read cached / database |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for b in vip["buckets"]:
        if not b.get("customers"):
            continue
        cpu = b.get("server_cpu_us_per_read") or {}
        lines.append(
            f"| {b['bucket']} ({', '.join(str(n) for n in b['open_tickets'])}) | "
            f"{b['customers']} | {_num(b['cached_p50_ms'], 3)} / {_num(b['cached_p95_ms'], 3)} | "
            f"{_num(b['db_p50_ms'], 3)} / {_num(b['db_p95_ms'], 3)} | {b['p50_ratio']} | "
            f"{_num(cpu.get('cached'))} / {_num(cpu.get('db'))} |")  # fmt: skip
    return lines


ALTER_HEADERS = ["table", "way", "ALTER s", "rows/s", "ops/s before", "during", "after",
                 "during ÷ before", "p99 ms during", "longest stall s", "lost calls",
                 "failed calls", "checksum"]


def alter_rows(doc: dict[str, Any]) -> list[list[str]]:
    """online_alter: per table, the online copy next to the plain ALTER of the same run (one
    row per way, cells in ALTER_HEADERS order; the markdown and the terminal table share them)."""
    oa = _scenario(doc, "online_alter")
    rows: list[list[str]] = []
    for table in ("service_tickets", "ticket_logs"):
        for way in ("online", "direct"):
            r = ((oa or {}).get(table) or {}).get(way)
            if r is None:
                continue
            label = "online copy" if way == "online" else "plain ALTER"
            if r.get("error"):
                rows.append([table, label, f"failed: {r['error']}", *[""] * 7,
                             str(r.get("lost_ops", "")), str(r.get("errors", "")), ""])  # fmt: skip
                continue
            ops = r["ops_per_s"]
            check = {True: "equal", False: "**differs**", None: "—"}[r.get("checksum_ok")]
            rows.append([
                table, label, _num(r["seconds"], 2), _num(r["rows_per_s"], 0),
                _num(ops["before"], 0), _num(ops["during"], 0), _num(ops["after"], 0),
                _num(r["during_ratio"], 2), _num(r["p99_ms_during"], 1),
                _num(r["stall_s"], 3), str(r["lost_ops"]), str(r["errors"]), check,
            ])  # fmt: skip
    return rows


def alter_table(doc: dict[str, Any]) -> list[str]:
    """online_alter as markdown (see :func:`alter_rows`)."""
    rows = alter_rows(doc)
    if not rows:
        return []
    lines = ["| " + " | ".join(ALTER_HEADERS) + " |",
             "|---|---|" + "---:|" * (len(ALTER_HEADERS) - 3) + "---|"]  # fmt: skip
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def targets_table(doc: dict[str, Any], scenario: str | None = None) -> list[str]:
    """Every target of the run (or only ``scenario``'s) with its value and verdict."""
    lines = ["| target | value | met |", "|---|---:|---|"]
    for t in doc.get("targets", []):
        if scenario is not None and t["scenario"] != scenario:
            continue
        met = {True: "met", False: "**missed**", None: "not measured"}[t["met"]]
        if not t["at_target_scale"] and t["met"] is not None:
            met += " (below 1M tickets: not the target scale)"
        if not t.get("at_target_profile", True) and t["met"] is not None:
            met += " (not the durable profile the target is for)"
        if t.get("error"):
            met += f": {t['error']}"
        lines.append(f"| {t['scenario']} {t['metric']} {t['target']} | {t['value']} | {met} |")
    return lines


def markdown(doc: dict[str, Any]) -> str:
    lines = [summary_line(doc), "", *scenario_table(doc)]
    notes = [f"- **{r['name']}** baseline: {r['baseline']}" for r in doc["scenarios"]
             if r.get("baseline")]  # fmt: skip
    notes += [
        f"- **{r['name']}**: "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in r["metrics"].items())
        for r in doc["scenarios"]
        if r.get("metrics")
    ]
    seed = next((r for r in doc["scenarios"] if r["name"] == "seed_load"), None)
    if seed:
        notes.append(
            f"- **seed_load**: {seed['rows']:,} rows in {seed['seconds']:.1f} s "
            f"({seed['rows_per_s']:,} rows/s)"
            + (
                f", {seed['ratio_to_raw']}× the raw LOAD DATA ({seed['baseline_p50_ms'] / 1000:.1f}"
                " s)"
                if seed.get("ratio_to_raw")
                else ""
            )  # fmt: skip
        )
    lines += ["", *notes]
    for title, table in (("workflow_throughput: throughput per concurrency level", levels_table),
                         ("workflow_throughput: CPU per operation", cpu_table),
                         ("escalation: I/O per run", io_table),
                         ("vip_open_tickets_cached: per customer size", vip_table),
                         ("online_alter: copy-only ALTER under 4 workflow clients",
                          alter_table)):  # fmt: skip
        rows = table(doc)
        if rows:
            lines += ["", f"**{title}**", "", *rows]
    lines += ["", *targets_table(doc)]
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path: Path) -> None:
    """Horizontal bars, log scale: each scenario's p50 next to its baseline's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["scenarios"] if r.get("p50_ms") and not r.get("levels")]
    wt = _scenario(doc, "workflow_throughput")
    oa = _scenario(doc, "online_alter")
    height = 0.6 * len(rows) + 1.5
    extra: list[tuple[float, Any]] = []  # (height, draw(ax)) of each panel below the bars
    if wt:
        extra.append((4, lambda a: _levels_plot(a, doc, wt)))
    for table in ("service_tickets", "ticket_logs") if oa else ():
        if any("series" in ((oa or {}).get(table) or {}).get(w, {}) for w in ("online", "direct")):
            extra.append((3, lambda a, t=table: _alter_plot(a, oa, t)))
    ratios = [height] + [h for h, _ in extra]
    fig, axes = plt.subplots(len(ratios), 1, figsize=(9, sum(ratios)), squeeze=False,
                             gridspec_kw={"height_ratios": ratios})  # fmt: skip
    ax = axes[0][0]
    for (_, draw), row in zip(extra, axes[1:], strict=True):
        draw(row[0])
    y = range(len(rows))
    ax.barh([i + 0.2 for i in y], [r["p50_ms"] for r in rows], height=0.4, label="p50")
    ax.barh([i - 0.2 for i in y], [r.get("baseline_p50_ms") or 0 for r in rows], height=0.4,
            label="baseline p50")  # fmt: skip
    for i, r in enumerate(rows):
        label = (_speed_label(r["p50_ms"], r["baseline_p50_ms"]) if r.get("speedup")
                 else f"{r['ratio_to_raw']}× raw" if r.get("ratio_to_raw") else None)  # fmt: skip
        if label:
            ax.annotate(label, (max(r["p50_ms"], r["baseline_p50_ms"]), i),
                        xytext=(4, -4), textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set_yticks(list(y), [r["name"] for r in rows])
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log scale)", labelpad=2)
    ax.invert_yaxis()
    ds = doc["dataset"]
    ax.set_title(f"ticketdb bench: {ds['tickets']:,} tickets, {doc['server']['version']}, "
                 f"{'durable' if doc['server'].get('durable') else 'fast'} profile")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16 if extra else -0.1), ncol=2,
              frameon=False)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _levels_plot(ax: Any, doc: dict[str, Any], wt: dict[str, Any]) -> None:
    """Throughput against client count: ours, sysbench, plain SQL (one point per level)."""
    levels = wt["levels"]
    x = [lv["clients"] for lv in levels]
    for key, label, style in (("ops_per_s", "ticket operations (procedures)", "o-"),
                              ("sysbench_tps", "sysbench oltp_write_only tx", "s--"),
                              ("plain_sql_ops_per_s", "ticket operations (plain SQL)", "^:")):
        ax.plot(x, [lv.get(key) or 0 for lv in levels], style, label=label)  # fmt: skip
    for lv in levels:
        if lv.get("ratio_to_sysbench") is not None:
            ax.annotate(f"{lv['ratio_to_sysbench']:.2f}× sysbench",
                        (lv["clients"], lv["ops_per_s"]), xytext=(4, -12),
                        textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks(x, [str(c) for c in x])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("per second")
    ax.set_ylim(bottom=0)
    ax.set_title(f"workflow_throughput, {wt['duration_s']:g} s per level")
    ax.legend(fontsize=8, frameon=False)


def _alter_plot(ax: Any, oa: dict[str, Any], table: str) -> None:
    """Workflow ops/s against time from the ALTER's start, online and plain, ALTERs shaded."""
    for way, label, color in (("online", "online copy", "tab:blue"),
                              ("direct", "plain ALTER", "tab:red")):  # fmt: skip
        r = (oa.get(table) or {}).get(way) or {}
        sr = r.get("series")
        if not sr:
            continue
        step = sr["bucket_s"]
        x = [sr["start_s"] + (i + 0.5) * step for i in range(len(sr["ops"]))]
        ax.plot(x, [n / step for n in sr["ops"]], color=color, linewidth=0.8,
                label=f"{label}: longest stall {r['stall_s']:.2f} s")  # fmt: skip
        ax.axvspan(0, r["seconds"], color=color, alpha=0.08)
    ax.set_xlabel("seconds from the ALTER's start (shaded: the ALTER)")
    ax.set_ylabel("ops/s")
    ax.set_ylim(bottom=0)
    ax.set_title(f"online_alter: workflow during the ALTER of {table}")
    ax.legend(fontsize=8, frameon=False)


def _speed_label(p50: float, baseline: float) -> str:
    """ "12× faster", or "1.6× slower" when the scenario lost to its baseline."""
    if p50 <= baseline:
        return f"{baseline / p50:.1f}× faster"
    return f"{p50 / baseline:.1f}× slower"
