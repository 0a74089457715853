"""What a scenario gets: a connection, the project's queries, and facts about the data set."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pymysql

from ticketdb.app.queries import Query, load_query
from ticketdb.db import Flavor
from ticketdb.dsn import DSN
from ticketdb.partitions import month_start
from ticketdb.project import Project


@dataclass
class BenchContext:
    conn: Any
    project: Project
    flavor: Flavor
    anchor: datetime  # the data set's "now": the newest ticket's created_at
    audit_ticket_id: int
    vip_customer_id: int
    state: dict[str, Any] = field(default_factory=dict)  # scenario scratch space
    dsn: DSN | None = None  # of the bench database, for scenarios that open more connections
    options: dict[str, Any] = field(default_factory=dict)  # e.g. clients, duration
    log: Callable[[str], None] = lambda _msg: None
    redis_url: str | None = None  # for the cache scenario; None = $TICKETDB_REDIS_URL or default

    def query(self, name: str) -> Query:
        return load_query(self.project, name)

    def month(self, shift: int = 0) -> date:
        """First day of the anchor's month shifted by ``shift`` months."""
        return month_start(self.anchor.date(), shift)

    def scalar(self, sql: str, args: Any = None) -> Any:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
        return row[0] if row else None

    def handler_reads(self) -> int:
        """Rows the storage engine handed to the server so far in this session (all
        Handler_read_* counters): the delta around one call is the rows it examined."""
        with self.conn.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Handler_read%'")
            return sum(int(v) for _, v in cur.fetchall())

    def explain(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        """Tabular EXPLAIN (with partitions) as dicts."""
        prefix = "EXPLAIN PARTITIONS " if self.flavor.is_mariadb else "EXPLAIN "
        with self.conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(prefix + sql, args)
            return [dict(r) for r in cur.fetchall()]


def plan_summary(plan: list[dict[str, Any]]) -> dict[str, Any]:
    """The two facts a reviewer looks for first: which index, how many rows estimated."""
    tables = [r for r in plan if r.get("table")]
    keys = [r.get("key") for r in tables]
    biggest = max(tables, key=lambda r: int(r.get("rows") or 0), default={})
    return {
        "index": biggest.get("key"),  # of the table read the most: the one that matters
        "indexes": keys,
        "access": [r.get("type") for r in plan if r.get("table")],
        "rows_estimate": sum(int(r.get("rows") or 0) for r in plan),
        "partitions": next((r.get("partitions") for r in plan if r.get("partitions")), None),
    }


def ignore_index(sql: str, table: str, index: str) -> str:
    """``FROM <table>`` → ``FROM <table> IGNORE INDEX (<index>)``: a baseline derived from the
    one copy of a query, not a second copy of it."""
    pattern = re.compile(rf"\bFROM\s+{re.escape(table)}\b(?!\s+AS\b)", re.I)
    out, n = pattern.subn(f"FROM {table} IGNORE INDEX ({index})", sql, count=1)
    if n != 1:
        raise ValueError(f"no `FROM {table}` to hint in the query")
    return out
