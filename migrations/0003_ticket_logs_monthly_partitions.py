"""Split ticket_logs' catch-all into the previous, current and next month.

Partition boundaries depend on the day the migration runs, so this step is Python; the SQL it
runs is built by ticketdb.partitions (the same code `ticketdb partitions ensure` uses).
"""

from yoyo import step

from ticketdb.partitions import ensure_months, merge_all

__depends__ = {"0002_ticket_logs"}

steps = [
    step(
        lambda conn: ensure_months(conn, "ticket_logs", months_back=1, months_ahead=1),
        lambda conn: merge_all(conn, "ticket_logs"),
    )
]
