"""How ``migrate plan --check-ddl`` shows its probes (presentation only)."""

from __future__ import annotations

from rich.table import Table

from ticketdb.migrate.ddlcheck import Probe, human_bytes


def ddl_table(probes: list[Probe]) -> Table | str:
    if not probes:
        return "-- no pending ALTER of an existing table"
    t = Table(title="DDL on existing tables, as the server would run it")
    for col in ("migration", "line", "table", "rows", "size", "algorithm", "lock", "path", "note"):
        t.add_column(col)
    for p in probes:
        t.add_row(
            p.migration, str(p.line), p.table,
            "-" if p.rows is None else f"{p.rows:,}", human_bytes(p.bytes),
            p.algorithm or "-", p.lock or "-", p.path or "-", p.note,
        )  # fmt: skip
    return t
