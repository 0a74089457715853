"""What a person sees in an 80-column terminal: every `ticketdb report` table and the bench
tables fit, and no value is split across lines (issue 20: `processin`/`g`)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console

from ticketdb import PROJECT_ROOT
from ticketdb.app import reports
from ticketdb.cli.cmd_bench import bench_tables
from ticketdb.cli.cmd_report import _cell, report_table
from ticketdb.db import connection
from ticketdb.project import Project


def _render(*renderables: Any) -> list[str]:
    console = Console(width=80, record=True, color_system=None, file=open("/dev/null", "w"))
    for r in renderables:
        console.print(r)
    return console.export_text().splitlines()


def _assert_whole(lines: list[str], values: list[str]) -> None:
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    text = "\n".join(lines)
    for value in values:
        assert value in text, f"{value!r} is split or cut:\n{text}"


def _assert_rows_whole(lines: list[str], rows: list[list[str]]) -> None:
    """Each row on one line, its values whole and in order (a table), or each value whole
    at the end of its own ``column: value`` line (the list layout)."""
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    for row in rows:
        shown = [v for v in row if v]
        on_one_line = any(
            all(v in line for v in shown)
            and [line.index(v) for v in shown] == sorted(line.index(v) for v in shown)
            for line in lines
        )
        as_list = all(any(line.endswith(f": {v}") for line in lines) for v in shown)
        assert on_one_line or as_list, f"{row} is split or cut:\n" + "\n".join(lines)


def _wide(column: str, sample: Any) -> Any:
    """A wide but realistic value for a report column (real rows of a fresh database are
    short: ids of one digit)."""
    if column.endswith("_id") or column in ("id", "ticket_seq", "transfers", "tickets_closed"):
        return 90000000 + sum(map(ord, column)) * 1000  # 8 digits, one number per column
    if isinstance(sample, datetime) or column in ("deadline", "action_time", "built_at"):
        return datetime(2026, 12, 5, 6, 33)
    if column == "current_status":
        return "processing"
    if column in ("priority", "new_priority"):
        return "medium"
    if column == "milestone":
        return "first reply"
    if column == "action_type":
        return "transfer"
    if column in ("minutes_left", "minutes_since_created"):
        return -43210
    if column == "avg_hours_to_close":
        return Decimal("12345.67")
    if column == "overdue":
        return 1
    return "billing" if not isinstance(sample, int | Decimal) else 12345


@pytest.mark.parametrize("name", ["overdue", "agents", "trail", "transfers", "urgent_today"])
def test_every_report_fits_80_columns_without_splitting_a_value(migrated_dsn, name):
    project = Project(PROJECT_ROOT)
    with connection(migrated_dsn) as conn:
        args = {"trail": (1,)}.get(name, ())
        report = getattr(reports, name)(conn, project, *args)  # real columns from the server
    assert report.columns
    row = tuple(_wide(c, None) for c in report.columns)
    report.rows = [row, row]
    lines = _render(report_table(report, Console(width=80)))
    _assert_rows_whole(lines, [[_cell(v) for v in row]])


def test_bench_tables_fit_80_columns_without_splitting_a_value():
    doc = json.loads((PROJECT_ROOT / "benchmarks" / "bench-1m.json").read_text())
    lines = _render(*bench_tables(doc, Console(width=80)))
    names = [s["name"] for s in doc["scenarios"]]
    indexes = [(s.get("explain") or {}).get("index") for s in doc["scenarios"]]
    assert "workflow_throughput_per_level" not in names
    _assert_whole(lines, [*names, *(i for i in indexes if i), "idx_priority_deadline_status"])
