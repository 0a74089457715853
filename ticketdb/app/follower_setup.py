"""What a VIP follower (app/follower.py) checks before it follows: a bound and poll interval that
mean something (exit 2 otherwise), and the privileges it needs, probed with the statements it
runs (one line naming what is missing, instead of a failure at the first poll)."""

from __future__ import annotations

import math
from typing import Any

import pymysql

from ticketdb.catalog import show_create_row
from ticketdb.db import error_code
from ticketdb.errors import UsageError
from ticketdb.leases import SALT_TABLE
from ticketdb.locks import leases_available

_DENIED = (1142, 1143, 1044, 1227, 1370)  # access denied: table, column, db, privilege, routine
_NO_TABLE = 1146


def check_bound(bound_ms: float, interval_ms: float | None = None) -> float:
    """The poll interval for ``bound_ms``; UsageError (exit 2) for 0, negative, NaN, inf."""
    if not isinstance(bound_ms, (int, float)) or not math.isfinite(bound_ms) or bound_ms <= 0:
        raise UsageError(f"--bound-ms must be a finite number of milliseconds > 0, not {bound_ms}")
    interval = min(50.0, bound_ms / 5) if interval_ms is None else interval_ms
    if not math.isfinite(interval) or interval <= 0 or interval >= bound_ms:
        raise UsageError(f"--interval-ms must be > 0 and below the bound ({bound_ms:g} ms)")
    return float(interval)


def missing_privileges(conn: Any) -> list[str]:
    """What this account lacks to follow: probed with the statements the follower runs."""
    missing: list[str] = []
    for table in ("customers", "cache_customer_version", SALT_TABLE):  # salt: the lock's name
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT 1 FROM {table} LIMIT 0")
        except pymysql.err.MySQLError as exc:
            if table == SALT_TABLE and error_code(exc) == _NO_TABLE:
                continue  # not migrated by this version yet: the old lock names
            if error_code(exc) not in _DENIED:
                raise
            missing.append(f"SELECT on {table}")
    try:  # without TRIGGER on the table, information_schema.triggers shows nothing
        show_create_row(conn, "TRIGGER", "cache_tickets_after_update")
    except pymysql.err.MySQLError as exc:
        if error_code(exc) in _DENIED:
            missing.append("TRIGGER on service_tickets")
        elif error_code(exc) != 1360:  # no such trigger: the follower reports it blind
            raise
    if not leases_available(conn):
        missing.append("SELECT on ticketdb_leases and EXECUTE on lease_acquire, lease_release, "
                       "lease_owner (migration 0040)")  # fmt: skip
    return missing
