"""Server checks that catch the silent failures: events that never run, ENUMs that become ''.

Each of them fails (exit 1), not warns: with the scheduler off no escalation or partition
maintenance ever runs, a non-strict server default lets other clients store '' for a bad ENUM,
and without local_infile `seed`/`bench` cannot load. Only a database not created yet warns.
"""

from __future__ import annotations

from dataclasses import asdict

from ticketdb.catalog import database_exists, privileges, show_create, table_exists
from ticketdb.db import connect, flavor, scalar
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.server.checks import Check

#: What `migrate up`, the seed and the maintenance events need on the target schema.
REQUIRED_PRIVILEGES = (
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
    "CREATE ROUTINE", "ALTER ROUTINE", "EXECUTE", "TRIGGER", "EVENT", "LOCK TABLES",
)  # fmt: skip


def run_checks(dsn: DSN) -> list[Check]:
    checks: list[Check] = []
    try:
        conn = connect(dsn, database=False)
    except TicketdbError as exc:
        return [Check("connection", "fail", str(exc))]
    try:
        checks.append(Check("connection", "ok", f"{dsn.user}@{dsn.address}"))
        fl = flavor(conn)
        supported = (fl.is_mariadb and fl.version >= (10, 11, 0)) or (
            not fl.is_mariadb and fl.version >= (8, 0, 0)
        )
        checks.append(
            Check(
                "server",
                "ok" if supported else "fail",
                f"{fl} ({fl.raw})" + ("" if supported else ": need MariaDB 10.11+ or MySQL 8.0+"),
            )
        )
        if fl.is_mariadb:
            from ticketdb.server import galera, galera_checks

            if galera.is_galera(conn):
                node = galera_checks.node_checks(conn)
                checks.extend(node)
                if any(c.status == "fail" for c in node):
                    return checks  # every further query would fail with ERROR 1047
                exists = database_exists(conn, dsn.database)
                checks.extend(
                    galera_checks.cluster_checks(conn, dsn, dsn.database if exists else None)
                )
        with conn.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.event_scheduler, @@GLOBAL.sql_mode, @@GLOBAL.local_infile")
            scheduler, global_mode, local_infile = cur.fetchone()
            cur.execute("SELECT @@SESSION.sql_mode")
            (session_mode,) = cur.fetchone()
        on = str(scheduler).upper() in ("ON", "1")
        checks.append(
            Check(
                "event_scheduler",
                "ok" if on else "fail",
                "ON"
                if on
                else f"{scheduler}: escalation, partition and urgent-list events "
                "will never run (SET GLOBAL event_scheduler=ON)",
            )
        )
        strict = "STRICT_TRANS_TABLES" in session_mode or "STRICT_ALL_TABLES" in session_mode
        checks.append(
            Check("sql_mode (ticketdb sessions)", "ok" if strict else "fail", session_mode)
        )
        gstrict = "STRICT_TRANS_TABLES" in global_mode or "STRICT_ALL_TABLES" in global_mode
        checks.append(
            Check(
                "sql_mode (server default)",
                "ok" if gstrict else "fail",
                global_mode
                if gstrict
                else f"{global_mode or '(empty)'}: other clients may store invalid ENUM values "
                "as '' (add STRICT_TRANS_TABLES to the server's sql_mode)",
            )
        )
        li = str(local_infile).upper() in ("1", "ON")
        checks.append(
            Check(
                "local_infile",
                "ok" if li else "fail",
                "ON"
                if li
                else "OFF: `ticketdb seed` needs LOAD DATA LOCAL INFILE "
                "(SET GLOBAL local_infile=1)",
            )
        )
        mode = int(scalar(conn, "SELECT @@GLOBAL.innodb_autoinc_lock_mode"))
        checks.append(
            Check("innodb_autoinc_lock_mode", "ok" if mode == 2 else "warn",
                  "2 (interleaved)" if mode == 2 else
                  f"{mode}: an online copy's INSERT … SELECT chunks hold the table's AUTO-INC "
                  "lock and stall writers (docs/online-ddl.md); use 2 (needs binlog_format=ROW, "
                  "required on Galera)")
        )  # fmt: skip
        checks.append(_privileges(conn, dsn.database))
        exists = database_exists(conn, dsn.database)
        checks.append(
            Check(
                "database",
                "ok" if exists else "warn",
                dsn.database
                if exists
                else f"{dsn.database} does not exist yet (`ticketdb migrate up` creates it)",
            )
        )
        if exists:
            checks.extend(_interrupted_work(dsn))
            checks.extend(_ticket_invariants(dsn))
    finally:
        conn.close()
    return checks


def _privileges(conn, database: str) -> Check:  # type: ignore[no-untyped-def]
    with conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER()")
        (current,) = cur.fetchone()
    user, _, host = current.rpartition("@")
    have = privileges(conn, f"'{user}'@'{host}'", database)
    missing = [p for p in REQUIRED_PRIVILEGES if p not in have]
    if not missing:
        return Check("privileges", "ok", f"{current} has all {len(REQUIRED_PRIVILEGES)} needed")
    return Check(
        "privileges",
        "fail",
        f"{current} lacks {', '.join(missing)} on {database} (privileges granted through roles "
        "are not visible here)",
    )


def _interrupted_work(dsn: DSN) -> list[Check]:
    """What a killed migrate or seed left for the next run, with the command that recovers."""
    from ticketdb.locks import live_holder
    from ticketdb.migrate.ledger import pending
    from ticketdb.migrate.progress import PROGRESS_TABLE, read_interrupted
    from ticketdb.migrate.recreate import missing_on_server

    out: list[Check] = []
    conn = connect(dsn)
    try:
        if table_exists(conn, PROGRESS_TABLE):
            for row in read_interrupted(conn):
                out.append(Check("migrations", "fail",
                                 f"{row.describe()}: run `ticketdb migrate repair`"))  # fmt: skip
        left = pending(conn)
        taken_apart = {(k, n) for k, _t, n in left}  # a seed's: reported below
        gone = [k for k in missing_on_server(conn) if k not in taken_apart]
        if gone:
            names = ", ".join(f"{k.lower()} {n}" for k, n in gone[:8])
            out.append(Check("repeatable objects", "fail", f"{len(gone)} missing on the server "
                             f"({names}{'…' if len(gone) > 8 else ''}), e.g. after a rollback "
                             "they do not compile against: run `ticketdb migrate up`"))  # fmt: skip
        # a seed running on this server (GET_LOCK) or on another Galera node (its lease)
        running = live_holder(conn, "seed", dsn.database)
        if running is not None:
            out.append(Check("seed", "ok", f"a seed is running: {running}"))
        elif left:
            names = ", ".join(f"{k.lower()} {t}.{n}" for k, t, n in left[:5])
            out.append(Check("seed", "fail", f"an interrupted seed left {len(left)} object(s) "
                             f"to restore ({names}…): run `ticketdb migrate up`"))  # fmt: skip
    finally:
        conn.close()
    return out


#: tickets that left 'pending' were moved by a log row (assign, close, …): none may lack logs,
#: and no log may point at a missing ticket (no FOREIGN KEY: partitioned). A seed cut off
#: between its two loads, or a hand-made TRUNCATE, breaks this; LIMIT keeps a bad case short.
_TICKETS_WITHOUT_LOGS = (
    "SELECT COUNT(*) FROM (SELECT t.id FROM service_tickets AS t "
    "WHERE t.current_status <> 'pending' AND NOT EXISTS "
    "(SELECT 1 FROM ticket_logs AS l WHERE l.ticket_id = t.id) LIMIT 1000) AS x"
)
_LOGS_WITHOUT_TICKETS = (
    "SELECT COUNT(*) FROM (SELECT l.id FROM ticket_logs AS l WHERE NOT EXISTS "
    "(SELECT 1 FROM service_tickets AS t WHERE t.id = l.ticket_id) LIMIT 1000) AS x"
)


def _ticket_invariants(dsn: DSN) -> list[Check]:
    """Tickets and their logs agree (what a failed seed or a hand-made TRUNCATE can break)."""
    from ticketdb.db import scalar
    from ticketdb.migrate.ledger import secondary_keys

    conn = connect(dsn)
    try:
        if not (table_exists(conn, "service_tickets") and table_exists(conn, "ticket_logs")):
            return []
        keys = {name for name, _ in secondary_keys(show_create(conn, "TABLE", "ticket_logs") or "")}
        if "idx_ticket_time" not in keys:  # without it each ticket would scan every log
            return [Check("tickets and logs", "warn", "not checked: ticket_logs lacks "
                          "idx_ticket_time (run `ticketdb migrate up`)")]  # fmt: skip
        lonely = int(scalar(conn, _TICKETS_WITHOUT_LOGS))
        orphans = int(scalar(conn, _LOGS_WITHOUT_TICKETS))
    finally:
        conn.close()
    if not lonely and not orphans:
        return [Check("tickets and logs", "ok", "every moved ticket has logs, every log a ticket")]
    more = lambda n: f"{n}+" if n >= 1000 else str(n)  # noqa: E731
    return [Check("tickets and logs", "fail",
                  f"{more(lonely)} ticket(s) past 'pending' without any log, {more(orphans)} "
                  "log(s) of missing tickets (an interrupted seed? run `ticketdb seed --replace` "
                  "again)")]  # fmt: skip


def as_dicts(checks: list[Check]) -> list[dict[str, str]]:
    return [asdict(c) for c in checks]
