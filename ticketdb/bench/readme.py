"""benchmarks/README.md, generated from the recorded bench JSON files and a prose template.

``benchmarks/README.template.md`` holds the analysis; every measured number in it is a
placeholder filled from the JSON of a profile (``fast``: benchmarks/bench-1m.json, ``durable``:
benchmarks/bench-1m-durable.json; ``online`` / ``online-durable``: online-alter-1m(-durable).json,
the ``online_alter`` scenario recorded on its own; each optional until recorded):

* ``{{table:NAME}}`` / ``{{table:NAME durable}}`` — a generated table: machine, results,
  targets, seed_phases, levels and cpu (workflow_throughput), io (escalation), online_alter
  and online_alter_targets;
* ``{{fast:PATH}}`` / ``{{fast:PATH|SPEC}}`` — one value; PATH starts with ``machine``,
  ``server``, ``dataset`` or a scenario name, then keys (a workflow level by its client count,
  a seed phase by its name: ``workflow_throughput.levels.16.p99_ms``,
  ``seed_load.phases.load ticket_logs.seconds``); ``A / B``, ``A * B``, ``A - B`` of two paths
  or numbers; SPEC is a Python format spec (``,.0f``, ``.2f``). A value not recorded renders "—".

Numbers typed into the template prose are refused (:func:`bare_numbers`) unless they are targets
(written after ``≤`` / ``≥``) or sit between ``<!-- hand -->`` and ``<!-- /hand -->``, which
mark measurements taken by hand and say so. ``make bench-readme`` regenerates the file; a test
fails when README.md is not exactly what the template and the JSON give.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from ticketdb.bench import output

PROFILES = {"fast": "bench-1m.json", "durable": "bench-1m-durable.json",
            # the online_alter scenario, recorded on its own (`--scenario online_alter`)
            "online": "online-alter-1m.json", "online-durable": "online-alter-1m-durable.json",
            # the VIP cache with its follower, recorded on its own since the follower landed
            "vip": "vip-1m.json", "vip-durable": "vip-1m-durable.json"}
MISSING = "—"
_PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*\}\}")
_OPERATOR = re.compile(r"\s+([/*-])\s+")
_HAND = re.compile(r"<!-- hand -->.*?<!-- /hand -->", re.S)
_FENCE = re.compile(r"```.*?```", re.S)
_MEASURE = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s?(ms|µs|s|×|%|GB|MB|tx/s|ops/s)(?!\w)")
_TARGET_SIGN = re.compile(r"[≤≥<>±]=?\s*$")


def load(directory: Path) -> dict[str, dict[str, Any] | None]:
    """The recorded documents by profile (None where that profile has no JSON yet)."""
    docs: dict[str, dict[str, Any] | None] = {}
    for name, file in PROFILES.items():
        path = directory / file
        docs[name] = json.loads(path.read_text()) if path.is_file() else None
        doc = docs[name]
        if doc is not None and bool(doc["server"].get("durable")) != name.endswith("durable"):
            actual = "durable" if doc["server"].get("durable") else "non-durable"
            raise ValueError(f"{path}: recorded on a {actual} server, but the file is for the "
                             f"{name} recording")  # fmt: skip
    return docs


def _step(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and key in (str(item.get("name")), str(item.get("phase")),
                                                  str(item.get("clients"))):  # fmt: skip
                return item
    return None


def lookup(doc: dict[str, Any] | None, path: str) -> Any:
    if doc is None:
        return None
    head, _, rest = path.partition(".")
    value: Any = doc.get(head) if head in ("machine", "server", "dataset") else _step(
        doc.get("scenarios", []), head)  # fmt: skip
    for key in rest.split(".") if rest else ():
        value = _step(value, key)
    return value


def _operand(doc: dict[str, Any] | None, text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return lookup(doc, text)


def value(doc: dict[str, Any] | None, expr: str) -> Any:
    parts = _OPERATOR.split(expr.strip())
    if len(parts) == 1:
        return lookup(doc, parts[0])
    a, op, b = (_operand(doc, parts[0]), parts[1], _operand(doc, parts[2]))
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return None
    if op == "/":
        return a / b if b else None
    return a * b if op == "*" else a - b


def _format(v: Any, spec: str) -> str:
    if v is None:
        return MISSING
    if isinstance(v, list):
        return " / ".join(_format(x, spec) for x in v)
    if spec:
        return format(v, spec)
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def table(name: str, doc: dict[str, Any] | None) -> str:
    if doc is None:
        return "_Not recorded yet: see the reference command above._"
    if name == "machine":
        m, s = doc["machine"], doc["server"]
        rows = [
            ("CPU", f"{m['nproc']} vCPU, {m['cpu']}"),
            ("RAM", f"{m['ram_gb']} GB"),
            ("OS / Python", f"{m['platform']}, Python {m['python']}"),
            ("Load average at start", " / ".join(str(x) for x in m["load_average"])),
            ("Load average at the end", " / ".join(str(x) for x in m.get("load_average_end")
                                                   or ["not recorded"])),  # fmt: skip
            ("Server", f"{s['version']}, buffer pool {s['innodb_buffer_pool_mb']} MB, redo log "
                       f"{s['innodb_log_file_mb']} MB"),  # fmt: skip
            ("Profile", output.profile(s)),
            ("Data", f"{doc['dataset']['tickets']:,} tickets, {doc['dataset']['logs']:,} logs, "
                     f"anchor {doc['dataset']['anchor']}"),  # fmt: skip
        ]
        seed = (doc["dataset"].get("seed") or {})
        if seed.get("checksum"):
            rows.append(("Seed checksum", f"`{seed['checksum']}` (seed {seed['spec']['seed']})"))
        return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
    if name == "seed_phases":
        seed = lookup(doc, "seed_load")
        if not seed:
            return "_No seed in this run (--reuse)._"
        lines = ["| phase | rows | seconds |", "|---|---:|---:|"]
        for p in seed["phases"]:
            lines.append(f"| {p['phase']} | {p['rows']:,} | {p['seconds']:.2f} |")
        raw = seed.get("raw")
        if raw:
            for t, secs in raw["load_seconds"].items():
                lines.append(f"| raw reference: load {t} | {raw['rows'][t]:,} | {secs:.2f} |")
        return "\n".join(lines)
    rows = {
        "results": output.scenario_table,
        "targets": output.targets_table,
        "levels": output.levels_table,
        "cpu": output.cpu_table,
        "io": output.io_table,
        "online_alter": output.alter_table,
        "online_alter_targets": lambda d: output.targets_table(d, "online_alter"),
    }[name](doc)
    return "\n".join(rows) if rows else "_Not in this recording: see the reference command above._"


GENERATED_NOTICE = ("<!-- Generated by `make bench-readme` from README.template.md and the "
                    "bench-1m*.json files: edit the template, not this file. -->")  # fmt: skip


def render(template: str, docs: dict[str, dict[str, Any] | None]) -> str:
    """The README: the template's leading comment (for its editors) becomes a do-not-edit
    notice, every placeholder its value or table."""
    if template.startswith("<!--"):
        template = GENERATED_NOTICE + template[template.index("-->") + 3:]
    def sub(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("table:"):
            name, _, prof = body[len("table:"):].partition(" ")
            return table(name.strip(), docs[prof.strip() or "fast"])
        prof, _, rest = body.partition(":")
        expr, _, spec = rest.partition("|")
        if prof not in docs:
            raise ValueError(f"unknown profile {prof!r} in {{{{{body}}}}}")
        return _format(value(docs[prof], expr), spec.strip())

    return _PLACEHOLDER.sub(sub, template)


def bare_numbers(template: str) -> list[str]:
    """Measured-looking numbers typed into the prose instead of taken from the JSON."""
    text = _FENCE.sub("", _HAND.sub("", template))
    text = _PLACEHOLDER.sub("{}", text)
    found = []
    for m in _MEASURE.finditer(text):
        if not _TARGET_SIGN.search(text[max(0, m.start() - 3):m.start()]):
            found.append(m.group(0))
    return found


def main(argv: list[str] | None = None) -> int:
    """``python -m ticketdb.bench.readme [DIR]``: rewrite DIR/README.md (default benchmarks/)."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0] if args else "benchmarks")
    template = (directory / "README.template.md").read_text()
    bare = bare_numbers(template)
    if bare:
        print(f"README.template.md: numbers not from the JSON: {', '.join(bare)}", file=sys.stderr)
        return 1
    (directory / "README.md").write_text(render(template, load(directory)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
