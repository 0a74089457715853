"""The durable server profile (`ticketdb sandbox start --durable`): what the server reports,
what the bench records, and escalation's I/O where every commit waits for a flush."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ticketdb import migrate as mig
from ticketdb.bench import run_bench
from ticketdb.bench.runner import server_info
from ticketdb.cli import cli
from ticketdb.db import connect
from ticketdb.errors import UsageError
from ticketdb.server.sandbox import Sandbox


@pytest.fixture(scope="module")
def durable_box(tmp_path_factory):
    box = Sandbox(tmp_path_factory.mktemp("durable"), durable=True)
    dsn = box.start()
    try:
        yield box, dsn
    finally:
        box.stop()


def test_durable_profile_is_what_the_server_reports(durable_box):
    box, dsn = durable_box
    conn = connect(dsn, database=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@log_bin, @@sync_binlog, @@innodb_flush_log_at_trx_commit")
            assert tuple(int(v) for v in cur.fetchone()) == (1, 1, 1)
        info = server_info(conn)
    finally:
        conn.close()
    assert info["durable"] is True and info["log_bin"] is True and info["sync_binlog"] == 1


def test_a_running_sandbox_is_not_silently_reported_as_the_other_profile(durable_box):
    box, _ = durable_box
    with pytest.raises(UsageError, match="durable profile"):
        Sandbox(box.root).start()  # fast requested, durable running
    assert Sandbox(box.root, durable=True).start().port == box.resolved_port()  # idempotent


def test_fast_profile_is_not_durable(server_dsn):
    conn = connect(server_dsn, database=False)
    try:
        info = server_info(conn)
    finally:
        conn.close()
    assert info["durable"] is False and info["innodb_flush_log_at_trx_commit"] == 2


def test_escalation_io_on_the_durable_profile(durable_box, project):
    """Row by row, every ticket is a commit that waits for its fsyncs; the procedure commits
    once per chunk: the seed's "≥ 90 % fewer I/O operations" holds where it matters."""
    from ticketdb.catalog import server_now
    from ticketdb.seed import SeedSpec, seed

    _, server = durable_box
    dsn = server.with_database("t_durable_bench")
    mig.up(dsn, project)
    conn = connect(dsn)
    try:
        seed(dsn, project, SeedSpec(tickets=3000, months=2, now=server_now(conn)))
    finally:
        conn.close()
    doc = run_bench(dsn, project, reuse=True, repeat=1, only=["escalation"])
    assert doc["server"]["durable"] is True
    esc = next(s for s in doc["scenarios"] if s["name"] == "escalation")
    io = esc["io"]
    n = io["tickets"]
    assert n > 0
    assert io["baseline"]["fsyncs"] >= n  # at least one flush per autocommitted ticket
    # one commit per autocommitted INSERT (the binlog's share of Handler_commit taken off)
    assert n <= io["baseline"]["commits"] < n + 20
    assert io["run"]["fsyncs"] < io["baseline"]["fsyncs"] / 10
    assert io["reduction_pct"] >= 90
    target = next(t for t in doc["targets"] if t["metric"] == "io.reduction_pct")
    assert target["at_target_profile"] is True and target["met"] is True


def test_cli_start_durable_and_status(tmp_path):
    root = tmp_path / "box"
    runner = CliRunner()
    try:
        started = runner.invoke(cli, ["sandbox", "start", "--durable", "--dir", str(root)])
        assert started.exit_code == 0, started.output
        status = runner.invoke(cli, ["sandbox", "status", "--json", "--dir", str(root)])
        assert status.exit_code == 0 and '"durable": true' in status.output
        again = runner.invoke(cli, ["sandbox", "start", "--dir", str(root)])
        assert again.exit_code == 2 and "durable profile" in again.output
    finally:
        runner.invoke(cli, ["sandbox", "stop", "--dir", str(root)])
