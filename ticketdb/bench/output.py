"""Render a bench document as Markdown (for a review) and as a PNG (scenario vs baseline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ms(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def markdown(doc: dict[str, Any]) -> str:
    m, s, d = doc["machine"], doc["server"], doc["dataset"]
    lines = [
        f"**Machine** {m['nproc']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, load average "
        f"{' / '.join(map(str, m['load_average']))} at start · **Server** {s['version']} "
        f"(buffer pool {s['innodb_buffer_pool_mb']} MB"
        + (f", Galera node of {s['cluster_size']}" if s.get("galera") else "")
        + f") · **Data** {d['tickets']:,} tickets, "
        f"{d['logs']:,} logs, anchor {d['anchor']}",
        "",
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
    lines += ["", *notes, "", "| target | value | met |", "|---|---:|---|"]
    for t in doc.get("targets", []):
        met = {True: "met", False: "**missed**", None: "not measured"}[t["met"]]
        if not t["at_target_scale"] and t["met"] is not None:
            met += " (below 1M tickets: not the target scale)"
        lines.append(f"| {t['scenario']} {t['metric']} {t['target']} | {t['value']} | {met} |")
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], path: Path) -> None:
    """Horizontal bars, log scale: each scenario's p50 next to its baseline's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["scenarios"] if r.get("p50_ms")]
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(rows) + 1.5))
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
    ax.set_title(f"ticketdb bench: {ds['tickets']:,} tickets, {doc['server']['version']}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _speed_label(p50: float, baseline: float) -> str:
    """ "12× faster", or "1.6× slower" when the scenario lost to its baseline."""
    if p50 <= baseline:
        return f"{baseline / p50:.1f}× faster"
    return f"{p50 / baseline:.1f}× slower"
