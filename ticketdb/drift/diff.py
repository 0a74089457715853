"""Comparing two snapshots: missing, extra and changed objects with a unified diff, plus notes."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from datetime import date

from ticketdb.drift.model import Definition, Difference, Info, order
from ticketdb.partitions import month_start, to_days

#: Tables named like this that the repo does not define are the tool's own (not compared).
TOOL_PREFIX = "ticketdb_"


def unified(kind: str, name: str, repo: str | None, live: str | None) -> str:
    """``--- repo`` (what a fresh migrate creates) vs ``+++ live`` (what the server has)."""
    a = repo.split("\n") if repo is not None else []
    b = live.split("\n") if live is not None else []
    lines = list(
        difflib.unified_diff(a, b, f"repo/{kind} {name}", f"live/{kind} {name}", lineterm="", n=3)
    )
    if not lines:  # equal text, different signature (sql_mode, quoting): say so
        return f"--- repo/{kind} {name}\n+++ live/{kind} {name}\n(differs only in quoting/case)"
    return "\n".join(lines)


def compare(
    live: dict[tuple[str, str], Definition],
    ref: dict[tuple[str, str], Definition],
    *,
    ignore: Sequence[str] = (),
) -> tuple[list[Difference], list[Info]]:
    """Per object: missing (repo only), extra (live only) or changed, with a unified diff."""
    diffs: list[Difference] = []
    info: list[Info] = []
    for key in sorted(set(live) | set(ref)):
        kind, name = key
        if any(fnmatch.fnmatchcase(name, p) for p in ignore):
            info.append(Info(kind, name, "ignored (--ignore)"))
            continue
        lv, rf = live.get(key), ref.get(key)
        if rf is None and lv is not None:
            if kind == "table" and name.startswith(TOOL_PREFIX):
                info.append(Info(kind, name, "tool table, not compared"))
                continue
            diffs.append(Difference(kind, name, "extra", unified(kind, name, None, lv.text)))
        elif lv is None and rf is not None:
            diffs.append(Difference(kind, name, "missing", unified(kind, name, rf.text, None)))
        elif lv is not None and rf is not None:
            if lv.signature != rf.signature:
                a, b = rf.text, lv.text
                if lv.sql_mode != rf.sql_mode:
                    a, b = f"-- sql_mode: {rf.sql_mode}\n{a}", f"-- sql_mode: {lv.sql_mode}\n{b}"
                diffs.append(Difference(kind, name, "changed", unified(kind, name, a, b)))
            if lv.partitions or rf.partitions:
                info.append(Info(kind, name, _partition_note(lv, rf)))
    return sorted(diffs, key=order), info


def _span(parts: Sequence[tuple[str, str]]) -> str:
    if not parts:
        return "none"
    if len(parts) == 1:
        return parts[0][0]
    return f"{parts[0][0]}…{parts[-1][0]}"


def _partition_note(live: Definition, ref: Definition) -> str:
    return (
        f"{len(live.partitions)} range partition(s) on the server ({_span(live.partitions)}), "
        f"{len(ref.partitions)} in a fresh migrate ({_span(ref.partitions)}); they roll with "
        "maintenance and are not compared"
    )


def coverage_warnings(live: dict[tuple[str, str], Definition], today: date) -> list[Info]:
    """TO_DAYS month partitions ending before next month: new rows would go to the catch-all."""
    out = []
    for d in live.values():
        if not (d.partition_expr or "").lower().startswith("to_days("):
            continue
        try:
            top = max((int(desc) for _n, desc in d.partitions), default=0)
        except ValueError:
            continue
        if top < to_days(month_start(today, 1)):
            out.append(Info(d.kind, d.name, "no month partition for the current month yet "
                            "(run `ticketdb partitions ensure`)"))  # fmt: skip
        elif top < to_days(month_start(today, 2)):
            out.append(Info(d.kind, d.name, "no month partition for next month yet "
                            "(run `ticketdb partitions ensure`)"))  # fmt: skip
    return out
