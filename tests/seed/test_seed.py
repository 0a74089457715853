"""`ticketdb seed` against a live server: determinism, consistency with the workflow triggers,
schema restored (triggers, indexes, partitions; drift clean), and no hang when a side fails."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from click.testing import CliRunner

from ticketdb import drift
from ticketdb import migrate as mig
from ticketdb.catalog import server_now
from ticketdb.cli import cli
from ticketdb.db import connect
from ticketdb.errors import SqlError, TicketdbError, UsageError
from ticketdb.migrate.repeatable import load_objects
from ticketdb.partitions import list_partitions, month_start
from ticketdb.seed import SeedSpec, seed
from ticketdb.seed import load as seed_load
from ticketdb.seed.generate import ESCALATES_TO, LOG_COLUMNS, TICKET_COLUMNS
from ticketdb.seed.load import Target, stream_load
from ticketdb.seed.runner import show_create

TICKET_DIGEST = (
    "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', id, customer_id, title, priority, "
    "current_status, IFNULL(assigned_agent_id, '-'), created_at, updated_at, "
    "IFNULL(closed_at, '-'), sla_started_at))) FROM service_tickets"
)
LOG_DIGEST = (
    "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('|', id, ticket_id, IFNULL(agent_id, '-'), "
    "action_type, action_time, IFNULL(to_agent_id, '-'), IFNULL(new_priority, '-')))) "
    "FROM ticket_logs"
)


def _rows(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


@pytest.fixture
def anchor(conn) -> datetime:
    return server_now(conn, to_minute=True)


def test_same_seed_same_rows_other_seed_other_rows(migrated_dsn, project, conn, anchor):
    spec = SeedSpec(tickets=2000, months=3, seed=7, now=anchor)
    first = seed(migrated_dsn, project, spec)
    digest = (_rows(conn, TICKET_DIGEST), _rows(conn, LOG_DIGEST))
    again = seed(migrated_dsn, project, spec, replace=True)
    assert again.stats.checksum == first.stats.checksum
    assert (_rows(conn, TICKET_DIGEST), _rows(conn, LOG_DIGEST)) == digest
    other = seed(migrated_dsn, project, SeedSpec(tickets=2000, months=3, seed=8, now=anchor),
                 replace=True)  # fmt: skip
    assert other.stats.checksum != first.stats.checksum
    assert _rows(conn, TICKET_DIGEST) != digest[0]
    assert first.stats.tickets == 2000 and digest[0][0][0] == 2000
    assert digest[1][0][0] == first.stats.logs > 2000 * 3


def test_refuses_to_overwrite_without_replace(migrated_dsn, project, anchor):
    spec = SeedSpec(tickets=50, months=1, now=anchor)
    seed(migrated_dsn, project, spec)
    with pytest.raises(UsageError, match="--replace"):
        seed(migrated_dsn, project, spec)


def test_schema_is_back_and_drift_clean(migrated_dsn, project, conn, anchor):
    before = {t: show_create(conn, t) for t in ("service_tickets", "ticket_logs")}
    seed(migrated_dsn, project, SeedSpec(tickets=3000, months=4, now=anchor))
    # every trigger of triggers/ exists again, indexes are identical (partitions aside)
    triggers = {r[0] for r in _rows(conn, "SELECT trigger_name FROM information_schema.triggers "
                                          "WHERE trigger_schema = DATABASE()")}  # fmt: skip
    assert triggers == {o.name for o in load_objects(project) if o.kind == "TRIGGER"}
    for table, text in before.items():
        assert show_create(conn, table).split("PARTITION BY")[0] == text.split("PARTITION BY")[0]
    report = drift.check(migrated_dsn, project)
    assert report.clean, report.as_dict()


def test_history_is_consistent_and_uses_every_month(migrated_dsn, project, conn, anchor):
    spec = SeedSpec(tickets=3000, months=4, now=anchor)
    result = seed(migrated_dsn, project, spec)
    assert result.stats.by_status["closed"] > result.stats.by_status["pending"] > 0
    # no orphan logs, every log between its ticket's creation and the anchor
    assert _rows(conn, "SELECT COUNT(*) FROM ticket_logs l LEFT JOIN service_tickets t "
                       "ON t.id = l.ticket_id WHERE t.id IS NULL")[0][0] == 0  # fmt: skip
    assert _rows(conn, "SELECT COUNT(*) FROM ticket_logs l JOIN service_tickets t "
                       "ON t.id = l.ticket_id WHERE l.action_time < t.created_at "
                       "OR l.action_time > %s", (anchor,))[0][0] == 0  # fmt: skip
    # a closed ticket has assign ... close, in that order, and close is its last log
    bad = _rows(conn, """
        SELECT t.id FROM service_tickets t
        JOIN ticket_logs a ON a.ticket_id = t.id AND a.action_type = 'assign'
        JOIN ticket_logs c ON c.ticket_id = t.id AND c.action_type = 'close'
        WHERE t.current_status = 'closed'
        GROUP BY t.id
        HAVING MIN(a.action_time) > MIN(c.action_time)
            OR MAX(c.action_time) <> (SELECT MAX(action_time) FROM ticket_logs
                                      WHERE ticket_id = t.id)""")  # fmt: skip
    assert bad == ()
    closed_without_close = _rows(conn, """
        SELECT COUNT(*) FROM service_tickets t WHERE current_status = 'closed'
        AND NOT EXISTS (SELECT 1 FROM ticket_logs WHERE ticket_id = t.id
                        AND action_type = 'close' AND action_time = t.closed_at)""")  # fmt: skip
    assert closed_without_close[0][0] == 0
    # every month partition from the first seeded month to the anchor's month holds logs
    first = month_start(spec.start.date())
    used = {p.name for p in list_partitions(conn, "ticket_logs") if p.rows}
    counts = dict(_rows(conn, "SELECT DATE_FORMAT(action_time, 'p%Y%m'), COUNT(*) "
                              "FROM ticket_logs GROUP BY 1"))  # fmt: skip
    months = []
    m = first
    while m <= anchor.date():
        months.append(f"p{m:%Y%m}")
        m = month_start(m, 1)
    assert all(counts.get(name, 0) > 0 for name in months), counts
    assert set(months) <= {p.name for p in list_partitions(conn, "ticket_logs")}
    assert used  # information_schema agrees that partitions have rows
    # VIP tiers were refreshed: the generator's VIP customers (ids 1..n_vip) are 'vip'
    vip = {r[0] for r in _rows(conn, "SELECT id FROM customers WHERE vip_tier = 'vip'")}
    assert vip and vip <= set(range(1, spec.n_vip + 1))


def test_replaying_the_logs_through_the_real_triggers_gives_the_same_tickets(
    migrated_dsn, project, conn, anchor, server_dsn
):
    """The seeded final state must be what the workflow triggers would have produced."""
    spec = SeedSpec(tickets=600, months=2, now=anchor, seed=3)
    seed(migrated_dsn, project, spec)
    tickets = _rows(conn, f"SELECT {', '.join(TICKET_COLUMNS)} FROM service_tickets ORDER BY id")
    logs = _rows(conn, f"SELECT {', '.join(LOG_COLUMNS)} FROM ticket_logs "
                       "ORDER BY action_time, id")  # fmt: skip
    assert {r[3] for r in logs} >= {"assign", "reply", "transfer", "resolve", "close"}
    # a second database: tickets as they were created, then every log inserted live
    replay = migrated_dsn.with_database(migrated_dsn.database + "_r")
    mig.up(replay, project)
    rconn = connect(replay)
    try:
        escalated_from = {v: k for k, v in ESCALATES_TO.items()}
        first_priority = {}
        for log in logs:
            if log[3] == "escalate":
                first_priority.setdefault(log[1], escalated_from[log[7]])
        with rconn.cursor() as cur:
            cur.executemany(
                "INSERT INTO service_tickets (id, customer_id, title, priority, created_at, "
                "updated_at, sla_started_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(t[0], t[1], t[2], first_priority.get(t[0], t[3]), t[6], t[6], t[6])
                 for t in tickets],
            )  # fmt: skip
            cur.executemany(
                f"INSERT INTO ticket_logs ({', '.join(LOG_COLUMNS)}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                logs,
            )
        replayed = _rows(
            rconn,
            "SELECT id, priority, current_status, assigned_agent_id, "
            "closed_at, sla_started_at FROM service_tickets ORDER BY id",
        )
        # fmt: skip
        expected = tuple((t[0], t[3], t[4], t[5], t[8], t[9]) for t in tickets)
        assert replayed == expected
    finally:
        rconn.close()
        with connect(server_dsn, database=False).cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{replay.database}`")


def test_cli_json_summary(migrated_dsn):
    result = CliRunner().invoke(
        cli,
        ["seed", "--dsn", migrated_dsn.url(),
         "--tickets", "500", "--months", "2", "--seed", "5", "--now", "2026-01-15 10:00:00",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tickets"] == 500 and data["logs"] > 1500
    assert data["spec"]["now"] == "2026-01-15 10:00:00" and len(data["checksum"]) == 32
    phases = {p["phase"]: p for p in data["phases"]}
    assert {
        "prepare",
        "load",
        "load service_tickets",
        "indexes service_tickets",
        "derived",
        "load ticket_logs",
        "indexes ticket_logs",
        "triggers",
        "analyze",
    } <= set(phases)
    assert phases["load"]["rows"] == data["tickets"] + data["logs"]
    assert phases["load"]["rows_per_s"] > 0


def _boom(*_args, **_kwargs):
    raise RuntimeError("generator exploded")


def test_generator_failure_surfaces_instead_of_hanging(migrated_dsn, project, conn, anchor,
                                                       monkeypatch):  # fmt: skip
    monkeypatch.setattr(seed_load, "generate", _boom)  # inherited by the forked child
    before = {t: show_create(conn, t) for t in ("service_tickets", "ticket_logs")}
    t0 = time.monotonic()
    with pytest.raises(TicketdbError, match="generator exploded"):
        seed(migrated_dsn, project, SeedSpec(tickets=100, months=1, now=anchor))
    assert time.monotonic() - t0 < 30
    # the schema was put back even so: indexes and triggers
    for table, text in before.items():
        assert show_create(conn, table).split("PARTITION BY")[0] == text.split("PARTITION BY")[0]
    n = _rows(conn, "SELECT COUNT(*) FROM information_schema.triggers "
                    "WHERE trigger_schema = DATABASE()")[0][0]  # fmt: skip
    assert n == sum(1 for o in load_objects(project) if o.kind == "TRIGGER")


def test_server_refusing_the_load_surfaces_instead_of_hanging(migrated_dsn, anchor):
    """The server rejects the LOAD DATA before the client opens the FIFO: the writer must not
    stay blocked in open()."""
    targets = (Target("service_tickets", TICKET_COLUMNS), Target("no_such_table", LOG_COLUMNS))
    t0 = time.monotonic()
    with pytest.raises(SqlError, match="no_such_table"):
        stream_load(migrated_dsn, SeedSpec(tickets=20000, months=1, now=anchor), targets,
                    timeout=60)  # fmt: skip
    assert time.monotonic() - t0 < 30


def test_failure_while_preparing_still_restores_triggers(migrated_dsn, project, conn, anchor,
                                                         monkeypatch):  # fmt: skip
    import ticketdb.seed.runner as runner

    monkeypatch.setattr(runner, "ensure_months", _boom)  # after the triggers were dropped
    with pytest.raises(RuntimeError, match="generator exploded"):
        seed(migrated_dsn, project, SeedSpec(tickets=100, months=1, now=anchor))
    n = _rows(conn, "SELECT COUNT(*) FROM information_schema.triggers "
                    "WHERE trigger_schema = DATABASE()")[0][0]  # fmt: skip
    assert n == sum(1 for o in load_objects(project) if o.kind == "TRIGGER")


def test_clean_up_after_a_query_cut_off_mid_packet_uses_a_new_connection(
    migrated_dsn, project, conn, anchor, monkeypatch
):
    """A signal that lands while PyMySQL writes a packet leaves the connection open with part
    of a query sent: the clean-up must not ping or query on it (the server would read the ping
    as the rest of the packet, and a reply would belong to another query). Here the cut is
    made by hand: a packet header announcing 100 bytes, 6 of them sent, then the failure."""
    import ticketdb.seed.runner as runner

    real_ensure = runner.ensure_months

    def cut_off(c, *args, **kwargs):
        real_ensure(c, *args, **kwargs)
        c._sock.sendall(b"\x64\x00\x00\x00\x03SELEC")  # COM_QUERY, 5 of its 99 bytes
        raise KeyboardInterrupt  # what the SIGTERM handler raises (Terminated)

    monkeypatch.setattr(runner, "ensure_months", cut_off)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        seed(migrated_dsn, project, SeedSpec(tickets=100, months=1, now=anchor))
    assert time.monotonic() - t0 < 30  # not a ping waiting out the read timeout
    n = _rows(conn, "SELECT COUNT(*) FROM information_schema.triggers "
                    "WHERE trigger_schema = DATABASE()")[0][0]  # fmt: skip
    assert n == sum(1 for o in load_objects(project) if o.kind == "TRIGGER")


def test_the_tickets_the_generator_counts_as_due_are_the_warning_query_rows(
    migrated_dsn, project, conn
):
    """`due_within_1h` (the share made to sit near its deadline) is exactly what the
    supervisor's timeout warning lists at the anchor."""
    from ticketdb.app import reports

    spec = SeedSpec(tickets=3000, months=1, seed=1, now=datetime(2026, 11, 20, 12, 0))
    result = seed(migrated_dsn, project, spec)
    due = reports.overdue(conn, project, as_of=spec.now, window_minutes=60).rows
    assert len(due) == result.stats.by_status["due_within_1h"] > 0
