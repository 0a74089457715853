"""Who may do what, and which sessions exist: privileges as information_schema shows them (roles
not included) and the process list (only the account's own sessions without PROCESS)."""

from __future__ import annotations

from typing import Any

from ticketdb.catalog.query import first, in_list, rows


def holds_global_privilege(conn: Any, grantee: str, privileges: tuple[str, ...]) -> bool:
    """``grantee`` (``'user'@'host'``) holds at least one of ``privileges`` on ``*.*``."""
    return bool(
        first(
            conn,
            "SELECT COUNT(*) FROM information_schema.user_privileges WHERE grantee = %s "
            f"AND privilege_type IN {in_list(privileges)}",
            (grantee, *privileges),
        )
    )


def privileges(conn: Any, grantee: str, database: str) -> set[str]:
    """What ``grantee`` (``'user'@'host'``) holds on ``*.*`` and on ``database`` (a
    schema-level grant's name may be a LIKE pattern such as ``ticketdb\\_%``)."""
    return {
        str(r[0])
        for r in rows(
            conn,
            "SELECT privilege_type FROM information_schema.user_privileges WHERE grantee=%s "
            "UNION SELECT privilege_type FROM information_schema.schema_privileges "
            "WHERE grantee=%s AND %s LIKE table_schema",
            (grantee, grantee, database),
        )
    }


def session_exists(conn: Any, session_id: int) -> bool:
    """The server has connection ``session_id`` (as far as this account may see)."""
    return bool(
        first(
            conn,
            "SELECT COUNT(*) FROM information_schema.processlist WHERE id = %s",
            (session_id,),
        )
    )


def session(conn: Any, session_id: int) -> tuple[str, str, int] | None:
    """``(user, host, seconds in its current state)`` of connection ``session_id``; None when
    it is gone (or hidden from this account)."""
    found = rows(
        conn,
        "SELECT user, host, time FROM information_schema.processlist WHERE id = %s",
        (session_id,),
    )
    return found[0] if found else None  # type: ignore[return-value]
