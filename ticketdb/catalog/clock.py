"""The server's clock: "now" for reports and seeds, and month boundaries, are the database's,
not the client's."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ticketdb.catalog.query import first


def server_now(conn: Any, *, to_minute: bool = False) -> datetime:
    """The server's NOW(); ``to_minute`` drops seconds (a seed's anchor, so the same seed gives
    the same rows)."""
    now: datetime = first(conn, "SELECT NOW()")
    return now.replace(second=0, microsecond=0) if to_minute else now


def server_today(conn: Any) -> date:
    """Month boundaries follow the server's calendar, not the client's."""
    return first(conn, "SELECT CURRENT_DATE()")
