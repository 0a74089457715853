"""Will the seed's LOAD DATA fit in one Galera write set? Asked before anything is changed.

On Galera each LOAD DATA commits as ONE write set (1.5M log rows measured at 70 MB; MariaDB
10.11 no longer splits it), so ``wsrep_max_ws_rows`` (ERROR 1180 mid-load) or
``wsrep_max_ws_size`` can refuse it after minutes of work. The seed streams each table through
one LOAD DATA, so instead of failing late it names the limit and the numbers up front.
"""

from __future__ import annotations

from typing import Any

from ticketdb.errors import TicketdbError
from ticketdb.seed.generate import SeedSpec
from ticketdb.server import galera

#: bytes per row in a write set, measured on MariaDB 10.11 + galera 26.4 (logs 70 MB / 1.5M
#: rows ≈ 47 B), rounded up with headroom; tickets carry a title and more columns
WS_BYTES_PER_ROW = {"service_tickets": 120, "ticket_logs": 64}


def estimated_rows(spec: SeedSpec) -> dict[str, int]:
    return {
        "service_tickets": spec.tickets,
        "ticket_logs": int(spec.tickets * spec.logs_per_ticket * 1.1) + 1,
    }


def check_write_set_limits(conn: Any, spec: SeedSpec) -> None:
    """Raise (naming the limit, the table and the numbers) when a load would not fit."""
    if not galera.is_galera(conn):
        return
    with conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.wsrep_max_ws_rows, @@GLOBAL.wsrep_max_ws_size")
        max_rows, max_size = (int(x or 0) for x in cur.fetchone())
    problems = []
    for table, rows in estimated_rows(spec).items():
        if max_rows and rows > max_rows:
            problems.append(
                f"{table}: ~{rows:,} rows in one LOAD DATA > wsrep_max_ws_rows={max_rows:,}"
            )
        size = rows * WS_BYTES_PER_ROW[table]
        if max_size and size > max_size:
            problems.append(
                f"{table}: ~{size / 2**20:,.0f} MB write set > wsrep_max_ws_size="
                f"{max_size / 2**20:,.0f} MB"
            )
    if problems:
        raise TicketdbError(
            "the seed would exceed this Galera cluster's write-set limits (each table loads as "
            "one write set): " + "; ".join(problems) + ". Raise the limit (SET GLOBAL "
            "wsrep_max_ws_rows=0 / wsrep_max_ws_size=…) on every node for the load, or seed "
            "fewer --tickets; nothing was changed"
        )
