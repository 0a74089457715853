"""``migrate plan --check-ddl``: its probes, and how it shows them."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from ticketdb.dsn import DSN
from ticketdb.migrate.ddlcheck import Probe, check_ddl, human_bytes
from ticketdb.migrate.online.route import annotate, probe_files
from ticketdb.project import Project


def ddl_checks(
    dsn: DSN, project: Project, migrations: list[dict[str, Any]], direction: str
) -> list[Probe]:
    """How the server would run each ALTER of ``migrations`` (their rollback files for
    "rollback"), with the path `migrate up`/`down` gives it."""
    with probe_files(((m["id"], m["path"]) for m in migrations), direction) as files:
        probes = check_ddl(dsn, files)
    annotate(dsn, project, probes)
    return probes


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
