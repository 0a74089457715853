"""The write-path bench on a live server: the CI smoke of `ticketdb bench`'s
workflow_throughput and escalation I/O (5k tickets, 2 s per level, 1 and 2 clients), the JSON
contract dashboards read, and the pieces it is built from (drivers, round-trip counter)."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from ticketdb.app.workflow import TransitionRejected
from ticketdb.bench.lives import (
    STEPS,
    Life,
    PlainDriver,
    ProcedureDriver,
    create_plain_copy,
    plan_life,
)
from ticketdb.bench.output import markdown
from ticketdb.bench.serverio import RoundTrips, measure
from ticketdb.cli import cli
from ticketdb.db import connect
from ticketdb.server.databases import scratch_database, scratch_databases

LEVEL_KEYS = {"clients", "ops_per_s", "p50_ms", "p95_ms", "p99_ms", "retries", "errors",
              "sysbench_tps", "plain_sql_ops_per_s"}  # fmt: skip
IO_KEYS = {"commits", "fsyncs", "round_trips", "rows_written"}


@pytest.fixture(scope="module")
def smoke(server_dsn, tmp_path_factory):
    """`ticketdb bench` through the CLI, small: what CI runs so the code path cannot rot."""
    dsn = server_dsn.with_database("t_bench_write_path")
    out = tmp_path_factory.mktemp("bench")
    files = {k: out / f"bench.{k}" for k in ("json", "md", "png")}
    result = CliRunner().invoke(cli, [
        "bench", "--dsn", server_dsn.url(), "--database", dsn.database, "--tickets", "5000",
        "--repeat", "2", "--scenario", "escalation", "--scenario", "workflow_throughput",
        "--clients", "1,2", "--duration", "2", "--sysbench-table-size", "1000",
        "--no-raw-baseline", "--json", str(files["json"]), "--markdown", str(files["md"]),
        "--plot", str(files["png"]),
    ])  # fmt: skip
    try:
        assert result.exit_code == 0, result.output
        yield json.loads(files["json"].read_text()), files, dsn
    finally:
        with connect(server_dsn, database=False).cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {dsn.database}")


def test_json_contract(smoke):
    doc, _, _ = smoke
    assert isinstance(doc["server"]["durable"], bool)
    assert doc["server"]["durable"] is False  # the test sandbox flushes at most once a second
    by = {s["name"]: s for s in doc["scenarios"]}
    wt = by["workflow_throughput"]
    assert [lv["clients"] for lv in wt["levels"]] == [1, 2] and wt["duration_s"] == 2
    for lv in wt["levels"]:
        assert LEVEL_KEYS <= set(lv), LEVEL_KEYS - set(lv)
        assert lv["ops_per_s"] > 0 and lv["sysbench_tps"] > 0 and lv["plain_sql_ops_per_s"] > 0
        assert 0 < lv["p50_ms"] <= lv["p95_ms"] <= lv["p99_ms"] <= lv["max_ms"]
        assert lv["errors"] == 0, lv["error_samples"]
        assert lv["retries"] == lv["deadlocks"] + lv["lock_wait_timeouts"]
        assert lv["row_lock_waits"] >= 0 and lv["row_lock_time_ms"] >= 0
        assert lv["ratio_to_sysbench"] == round(lv["ops_per_s"] / lv["sysbench_tps"], 3)
        assert lv["plain_sql_cost"] == round(lv["plain_sql_ops_per_s"] / lv["ops_per_s"], 3)
        # one CALL (or INSERT) per operation; plain SQL needs UPDATE + INSERT + COMMIT
        assert lv["round_trips_per_op"] == 1.0
        assert 2.0 < lv["plain_sql"]["round_trips_per_op"] <= 3.0
        assert lv["ops"] >= len(STEPS) and lv["lives"] >= 1
        # the test sandbox is a local process: its CPU time and the clients' are counted
        for cpu in (lv["cpu_ms_per_op"], lv["plain_sql"]["cpu_ms_per_op"],
                    lv["sysbench"]["cpu_ms_per_tx"]):  # fmt: skip
            assert cpu["client"] > 0 and cpu["server"] > 0, cpu
    io = by["escalation"]["io"]
    assert IO_KEYS <= set(io["run"]) and IO_KEYS <= set(io["baseline"])
    n = io["tickets"]
    assert n > 0 and io["run"]["round_trips"] == 2  # CALL + SELECT @n
    assert io["baseline"]["round_trips"] > n  # one INSERT per ticket + rules + candidates
    assert io["baseline"]["commits"] >= n  # one autocommit per INSERT
    assert io["run"]["rows_written"] > 0 and io["baseline"]["rows_written"] > 0
    ops = {k: io[k]["fsyncs"] + io[k]["round_trips"] for k in ("run", "baseline")}
    assert io["reduction_pct"] == round(100 * (1 - ops["run"] / ops["baseline"]), 2)
    metrics = {t["metric"] for t in doc["targets"] if t["scenario"] == "workflow_throughput"}
    assert metrics == {"ratio_to_sysbench@1", "ratio_to_sysbench@2", "plain_sql_cost@1",
                       "plain_sql_cost@2"}  # fmt: skip
    io_target = next(t for t in doc["targets"] if t["metric"] == "io.reduction_pct")
    assert io_target["at_target_profile"] is False


def test_outputs_show_each_level(smoke):
    doc, files, _ = smoke
    md = files["md"].read_text()
    assert md == markdown(doc)
    for lv in doc["scenarios"][-1]["levels"]:
        assert f"| {lv['clients']} | {lv['ops_per_s']:,.0f} |" in md
        assert f"| {lv['retries']} | {lv['row_lock_waits']:,} | {lv['errors']} |" in md
    assert "fsyncs + round trips" in md and "CPU ceiling on" in md
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scratch_databases_dropped_and_bench_tickets_removed(smoke, server_dsn):
    doc, _, dsn = smoke
    conn = connect(dsn)
    try:
        assert scratch_databases(conn, dsn.database, "plain") == []
        assert scratch_databases(conn, dsn.database, "sysbench") == []
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM service_tickets WHERE title LIKE 'bench ticket %'")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT COUNT(*) FROM service_tickets")
            assert cur.fetchone()[0] == doc["dataset"]["tickets"]
    finally:
        conn.close()


def _one_life(driver, life: Life) -> int:
    ticket_id = None
    for step in STEPS:
        ticket_id = driver.step(step, life, ticket_id)
    assert ticket_id is not None
    return ticket_id


def _state(conn, ticket_id):
    with conn.cursor() as cur:
        cur.execute("SELECT current_status, assigned_agent_id, priority, closed_at IS NOT NULL, "
                    "sla_started_at > created_at - INTERVAL 1 SECOND FROM service_tickets "
                    "WHERE id = %s", (ticket_id,))  # fmt: skip
        ticket = cur.fetchone()
        cur.execute("SELECT action_type, agent_id, to_agent_id, new_priority FROM ticket_logs "
                    "WHERE ticket_id = %s ORDER BY id", (ticket_id,))  # fmt: skip
        return ticket, cur.fetchall()


def test_plain_sql_writes_what_the_procedures_write(migrated_dsn, project):
    """The baseline does the same work: same final ticket, same log rows, same rejections."""
    life = Life(customer_id=7, title="t", priority="low", agent_id=3, to_agent_id=5,
                new_priority="urgent")  # fmt: skip
    conn = connect(migrated_dsn)
    with scratch_database(migrated_dsn, "plain") as plain_dsn:
        create_plain_copy(conn, migrated_dsn.database, plain_dsn.database)
        _compare_lives(conn, connect(plain_dsn), project, life)
    conn.close()


def _compare_lives(conn, plain_conn, project, life: Life) -> None:
    try:
        with plain_conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.triggers "
                        "WHERE trigger_schema = DATABASE()")  # fmt: skip
            assert cur.fetchone()[0] == 0
        proc_id = _one_life(ProcedureDriver(conn, project), life)
        plain = PlainDriver(plain_conn, project)
        plain_id = _one_life(plain, life)
        plain_conn.commit()
        assert _state(conn, proc_id) == _state(plain_conn, plain_id)
        ticket, logs = _state(plain_conn, plain_id)
        assert ticket[:4] == ("closed", 5, "urgent", 1)
        assert [r[0] for r in logs] == list(STEPS[1:])
        with pytest.raises(TransitionRejected):
            plain.step("resolve", life, plain_id)  # closed: nothing to resolve
        _, logs_after = _state(plain_conn, plain_id)
        assert logs_after == logs  # the rejected transaction left no log behind
    finally:
        plain_conn.close()


def test_plan_life_never_transfers_to_the_same_agent():
    rng = random.Random(3)
    lives = [plan_life(rng, customers=50, agents=2, n=n) for n in range(1, 301)]
    assert all(lf.agent_id != lf.to_agent_id for lf in lives)
    assert all(1 <= lf.customer_id <= 50 for lf in lives)
    changed = [lf for lf in lives if lf.new_priority]
    assert len(changed) == 100 and all(lf.new_priority != lf.priority for lf in changed)


def test_round_trips_counted_by_the_client_match_the_server(conn):
    def questions() -> int:
        with conn.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Questions'")
            return int(cur.fetchone()[1])

    before = questions()
    with RoundTrips(conn) as rt:
        with conn.cursor() as cur:
            for i in range(5):
                cur.execute("SELECT %s", (i,))
            conn.begin()
            cur.execute("SELECT 1")
            conn.commit()
    assert rt.count == 8
    assert questions() - before == rt.count + 1  # + the SHOW STATUS itself
    with conn.cursor() as cur:  # the counter is gone afterwards
        cur.execute("SELECT 1")
    assert rt.count == 8


def test_measure_counts_commits_and_rows(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE io_probe (id INT PRIMARY KEY)")
    with measure(conn) as box:
        with conn.cursor() as cur:
            for i in range(20):
                cur.execute("INSERT INTO io_probe VALUES (%s)", (i,))
    cost = box[0]
    assert cost.round_trips == 20
    assert cost.commits >= 20 and cost.rows_written >= 20


@pytest.mark.parametrize("value", ["abc", "0,4", ",", "1,-2"])
def test_bad_client_levels_are_a_usage_error(value):
    result = CliRunner().invoke(cli, ["bench", "--clients", value])
    assert result.exit_code == 2 and "client counts like 1,4,16" in result.output
    assert "Traceback" not in result.output


def test_escalation_pins_one_clock_for_all_its_runs(migrated_dsn, project):
    """A slow run must not let tickets cross a rule's cut-off between the procedure and the
    baseline: NOW() stands still in the bench session from prepare to cleanup, then moves."""
    import time

    from ticketdb.bench.registry import scenarios
    from ticketdb.bench.runner import _context
    from ticketdb.bench.scenarios import escalation  # noqa: F401 - registers it
    from ticketdb.catalog import server_now
    from ticketdb.seed import SeedSpec, seed

    conn = connect(migrated_dsn)
    try:
        seed(migrated_dsn, project, SeedSpec(tickets=2000, months=2, now=server_now(conn)))
        ctx = _context(conn, project)
        sc = scenarios()["escalation"]
        sc.prepare(ctx)
        try:
            pinned = server_now(conn)
            time.sleep(1.2)
            assert server_now(conn) == pinned
            assert sc.run(ctx) == ctx.state["candidates"]
        finally:
            sc.cleanup(ctx)
        time.sleep(1.2)
        assert server_now(conn) > pinned
    finally:
        conn.close()
