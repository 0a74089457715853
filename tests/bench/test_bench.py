"""`ticketdb bench` at small scale on a live server: the JSON shape, the plans (not timings),
the escalation reset, and the Markdown / PNG outputs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ticketdb.bench import Scenario, register, run_bench
from ticketdb.bench.context import ignore_index
from ticketdb.bench.output import markdown
from ticketdb.bench.registry import scenarios
from ticketdb.cli import cli
from ticketdb.db import connect
from ticketdb.partitions import list_partitions
from ticketdb.server.sandbox import free_port


@pytest.fixture(scope="module")
def bench_doc(request, server_dsn, project):
    """One 20k-ticket bench run shared by the assertions below (seeding included), with the
    session's own redis-server for the cache scenario (without redis-server installed, a closed
    port: the other scenarios' tests still run, test_json_shape skips with the reason)."""
    from ticketdb import migrate as mig
    from ticketdb.db import quote_ident

    try:
        redis_url = request.getfixturevalue("redis_url")
    except pytest.skip.Exception:
        redis_url = f"redis://127.0.0.1:{free_port()}/0"
    dsn = server_dsn.with_database("t_bench_module")
    mig.up(dsn, project)
    try:
        yield run_bench(dsn, project, tickets=20_000, repeat=3, redis_url=redis_url,
                        clients=[1], duration=1, sysbench_table_size=1000), dsn  # fmt: skip
    finally:
        with connect(server_dsn, database=False).cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(dsn.database)}")


def test_json_shape(bench_doc, redis_url):
    doc, _ = bench_doc
    assert {"machine", "server", "dataset", "scenarios", "targets"} <= set(doc)
    assert doc["machine"]["nproc"] >= 1 and doc["server"]["version"]
    assert doc["dataset"]["tickets"] == 20_000 and doc["dataset"]["logs"] > 60_000
    names = [s["name"] for s in doc["scenarios"]]
    assert set(names) >= {"seed_load", "timeout_warning", "escalation", "agent_monthly_stats_1m",
                          "agent_monthly_stats_12m", "audit_trail", "frequent_transfers",
                          "vip_open_tickets", "vip_open_tickets_cached"}  # fmt: skip
    for s in doc["scenarios"]:
        assert s["p50_ms"] > 0 and s["p95_ms"] >= s["p50_ms"], s["name"]
        assert "explain" in s
    by = {s["name"]: s for s in doc["scenarios"]}
    for name in ("timeout_warning", "escalation", "vip_open_tickets_cached"):
        s = by[name]
        runs = 5000 if name == "vip_open_tickets_cached" else 3  # a load test of its own
        assert s["baseline_p50_ms"] > 0 and s["runs"] == s["baseline_runs"] == runs, name
        # speed-up is baseline ÷ run (from unrounded p50s, hence the tolerance)
        assert s["speedup"] == pytest.approx(s["baseline_p50_ms"] / s["p50_ms"], rel=0.02, abs=0.06)
    assert 0 < by["vip_open_tickets_cached"]["metrics"]["hit_rate"] <= 1
    seed_load = by["seed_load"]
    assert seed_load["rows"] > 80_000
    assert seed_load["ratio_to_raw"] == pytest.approx(
        seed_load["p50_ms"] / seed_load["baseline_p50_ms"], rel=0.01
    )
    json.dumps(doc, default=str)  # serialisable
    assert {t["scenario"] for t in doc["targets"]} >= {"timeout_warning", "escalation",
                                                       "audit_trail", "seed_load"}  # fmt: skip
    for t in doc["targets"]:  # each target judged on the value measured, the right way round
        value = _measured(by, t)
        op, limit = t["target"].split()
        assert t["value"] == value and t["at_target_scale"] is False
        assert t["met"] is (value <= float(limit) if op == "<=" else value >= float(limit)), t


def _measured(by: dict, target: dict):
    """The value a target names: ``io.reduction_pct`` is nested, ``p99_ms@16`` is a level's."""
    entry, metric = by[target["scenario"]], target["metric"]
    if "@" in metric:
        metric, clients = metric.split("@")
        entry = next(lv for lv in entry["levels"] if lv["clients"] == int(clients))
    for part in metric.split("."):
        entry = entry[part]
    return entry


def test_without_redis_the_cache_scenario_is_reported_skipped(bench_doc, project):
    """The documented shape when no Redis answers: the scenario is listed with the reason, no
    timings, and the other scenarios and targets are unaffected."""
    _, dsn = bench_doc
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    doc = run_bench(dsn, project, reuse=True, repeat=1, redis_url=closed,
                    only=["vip_open_tickets_cached", "audit_trail"])  # fmt: skip
    by = {s["name"]: s for s in doc["scenarios"]}
    cached = by["vip_open_tickets_cached"]
    assert cached["p50_ms"] is None and cached["p95_ms"] is None and cached["runs"] == 0
    assert cached["explain"] is None and "speedup" not in cached
    assert cached["error"].startswith(f"vip_open_tickets_cached: redis at {closed} unreachable")
    assert by["audit_trail"]["p50_ms"] > 0
    assert "| vip_open_tickets_cached | skipped: vip_open_tickets_cached: redis at" in markdown(doc)


def test_plans(bench_doc):
    doc, _ = bench_doc
    by = {s["name"]: s["explain"] for s in doc["scenarios"]}
    warn = by["timeout_warning"]
    assert warn["index"] == "idx_priority_deadline_status" and warn["access"] == ["range"]
    assert warn["baseline"]["index"] != "idx_priority_deadline_status"
    assert warn["rows_examined"] < warn["baseline"]["rows_examined"]
    assert by["escalation"]["index"] == "idx_status_priority_created"
    assert by["agent_monthly_stats_12m"]["index"] == "idx_closed_agent_created"
    assert "Using index" in by["agent_monthly_stats_12m"]["plan"][0]["Extra"]
    # only the months of the ticket's life are opened, plus the table's first partition, which
    # RANGE on TO_DAYS() always adds (invalid dates become NULL and would live there)
    trail = by["audit_trail"]
    _, dsn = bench_doc
    conn = connect(dsn)
    try:
        first = list_partitions(conn, "ticket_logs")[0].name
        with conn.cursor() as cur:
            cur.execute("SELECT created_at, closed_at FROM service_tickets WHERE id = %s",
                        (doc["dataset"]["audit_ticket_id"],))  # fmt: skip
            created, closed = cur.fetchone()
    finally:
        conn.close()
    needed = {f"p{created:%Y%m}", f"p{closed:%Y%m}"}
    opened = set(trail["partitions"].split(","))
    assert opened - {first} <= needed and needed <= opened
    assert by["vip_open_tickets"]["index"] == "idx_customer_status"


def test_escalation_leaves_the_data_as_it_found_it(bench_doc):
    _, dsn = bench_doc
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM ticket_logs WHERE action_type = 'escalate' "
                        "AND note LIKE 'rule %'")  # fmt: skip
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT COUNT(*) FROM service_tickets WHERE current_status = 'pending' "
                        "AND priority = 'medium' AND assigned_agent_id IS NULL "
                        "AND created_at < NOW() - INTERVAL 24 HOUR")  # fmt: skip
            assert cur.fetchone()[0] > 0
    finally:
        conn.close()


def test_cli_writes_json_markdown_and_plot(migrated_dsn, tmp_path):
    out = {k: tmp_path / "out" / f"bench.{k}" for k in ("json", "md", "png")}  # dir created
    result = CliRunner().invoke(cli, [
        "bench", "--dsn", migrated_dsn.url(), "--database", migrated_dsn.database,
        "--tickets", "2000", "--repeat", "2", "--scenario", "timeout_warning",
        "--no-raw-baseline", "--json", str(out["json"]), "--markdown", str(out["md"]),
        "--plot", str(out["png"]),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(out["json"].read_text())
    assert [s["name"] for s in doc["scenarios"]] == ["seed_load", "timeout_warning"]
    assert "| timeout_warning |" in out["md"].read_text()
    assert out["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_registry_refuses_a_second_scenario_with_the_same_name():
    existing = next(iter(scenarios().values()))
    with pytest.raises(ValueError, match="already registered"):
        register(Scenario(existing.name, "copy", run=lambda ctx: None))


def test_baseline_hint_is_derived_from_the_one_query():
    sql = "SELECT id FROM service_tickets\nWHERE priority IN ('urgent')"
    assert ignore_index(sql, "service_tickets", "idx_x") == (
        "SELECT id FROM service_tickets IGNORE INDEX (idx_x)\nWHERE priority IN ('urgent')"
    )
    with pytest.raises(ValueError):
        ignore_index("SELECT 1", "service_tickets", "idx_x")


def test_reuse_with_nothing_left_to_escalate_skips_only_that_scenario(migrated_dsn, project):
    """The hourly event may have escalated a reused data set: report it, keep benchmarking."""
    from ticketdb.catalog import server_now
    from ticketdb.seed import SeedSpec, seed

    conn = connect(migrated_dsn)
    try:
        now = server_now(conn, to_minute=True)
        seed(migrated_dsn, project, SeedSpec(tickets=3000, months=2, now=now))
        with conn.cursor() as cur:
            cur.execute("CALL escalate_stale_tickets(@n)")
            cur.execute("SELECT @n")
            assert cur.fetchone()[0] > 0
    finally:
        conn.close()
    doc = run_bench(migrated_dsn, project, reuse=True, repeat=1,
                    only=["escalation", "timeout_warning"])  # fmt: skip
    by = {s["name"]: s for s in doc["scenarios"]}
    assert "no ticket matches" in by["escalation"]["error"] and by["escalation"]["p50_ms"] is None
    assert by["timeout_warning"]["p50_ms"] > 0 and "seed_load" not in by
    assert "skipped" in markdown(doc)
