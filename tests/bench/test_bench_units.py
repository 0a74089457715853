"""Pure unit tests of the bench's arithmetic: every ratio divides the right way round, every
target compares in the right direction, percentiles are nearest-rank, sysbench's report parses.
No server needed."""

from __future__ import annotations

import pytest

from ticketdb.bench.load import LevelResult
from ticketdb.bench.metrics import percentile, plain_sql_cost, ratio_to_sysbench, speedup
from ticketdb.bench.runner import Timing, check_targets
from ticketdb.bench.serverio import IoCost, delta, reduction_pct
from ticketdb.bench.sysbench import parse_output

SYSBENCH_RUN = """sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

SQL statistics:
    queries performed:
        read:                            0
        write:                           17320
        other:                           8747
        total:                           26067
    transactions:                        4261   (4250.47 per sec.)
    queries:                             26067  (26002.55 per sec.)
    ignored errors:                      225    (224.44 per sec.)
    reconnects:                          0      (0.00 per sec.)

Latency (ms):
         min:                                    0.07
         avg:                                    0.47
         max:                                    9.33
         99th percentile:                        2.11
         sum:                                 1995.78
"""


def test_speedup_is_baseline_over_run():
    assert speedup(baseline=2334.0, run=643.0) == 3.6
    assert speedup(baseline=0.191, run=0.297) == 0.6  # slower than its baseline: below 1
    assert speedup(None, 1.0) is None and speedup(1.0, 0.0) is None


def test_ratio_to_sysbench_is_ours_over_sysbench():
    assert ratio_to_sysbench(ops_per_s=900.0, sysbench_tps=1000.0) == 0.9
    assert ratio_to_sysbench(2339.0, 1626.0) == 1.438  # more ops than sysbench tx: above 1
    assert ratio_to_sysbench(100.0, None) is None and ratio_to_sysbench(100.0, 0.0) is None


def test_plain_sql_cost_is_plain_over_ours():
    assert plain_sql_cost(ops_per_s=1000.0, plain_ops_per_s=1300.0) == 1.3
    assert plain_sql_cost(1000.0, 800.0) == 0.8  # procedures faster than plain SQL: below 1
    assert plain_sql_cost(0.0, 800.0) is None


def test_io_reduction_counts_fsyncs_plus_round_trips():
    run = IoCost(commits=8, fsyncs=8, log_writes=8, log_bytes=1, rows_written=1, round_trips=2)
    base = IoCost(commits=7000, fsyncs=7000, log_writes=1, log_bytes=1, rows_written=1,
                  round_trips=7004)  # fmt: skip
    assert reduction_pct(run, base) == round(100 * (1 - 10 / 14004), 2)
    assert reduction_pct(base, run) < 0  # more I/O than the baseline: a negative reduction
    zero = IoCost(0, 0, 0, 0, 0, 0)
    assert reduction_pct(run, zero) is None


def test_io_delta_adds_binlog_fsyncs_only_when_synced():
    before = dict.fromkeys(("Handler_commit", "Innodb_data_fsyncs", "Innodb_log_writes",
                            "Innodb_os_log_written", "Handler_write", "Handler_update",
                            "Handler_delete", "Binlog_group_commits", "Binlog_commits"),
                           10)  # fmt: skip
    after = {k: v + 5 for k, v in before.items()}
    after["Handler_commit"] += 5  # binlog on: each commit counted by the binlog and by InnoDB
    synced = delta(before, after, 3, binlog_fsyncs=True, log_bin=True)
    assert synced.fsyncs == 10 and synced.commits == 5
    plain = delta(before, after, 3, binlog_fsyncs=False)
    assert plain.fsyncs == 5 and plain.rows_written == 15 and plain.round_trips == 3
    assert plain.commits == 10 and plain.log_bytes == 5  # no binlog: Handler_commit as is


def test_percentile_is_nearest_rank():
    samples = [float(x) for x in range(100, 0, -1)]  # 1..100, unsorted
    assert percentile(samples, 50) == 50 and percentile(samples, 99) == 99
    assert percentile(samples, 100) == 100 and percentile([7.0], 99) == 7.0
    assert percentile([], 99) is None
    assert Timing([float(x) for x in range(1, 21)]).p95 == 19  # nearest rank of 20 samples
    assert Timing([3.0, 1.0, 2.0]).p50 == 2.0


def test_level_summary():
    lv = LevelResult(clients=4, ops=1000, seconds=2.0, lives=140,
                     latencies_ms=[1.0] * 989 + [20.0] * 11, retries={1213: 2, 1205: 1},
                     errors=0, error_samples=[], round_trips=1000).as_dict()  # fmt: skip
    assert lv["ops_per_s"] == 500.0 and lv["p50_ms"] == 1.0 and lv["p99_ms"] == 20.0
    assert (lv["retries"], lv["deadlocks"], lv["lock_wait_timeouts"]) == (3, 2, 1)
    assert lv["round_trips_per_op"] == 1.0


def _by_metric(targets):
    return {(t["scenario"], t["metric"]): t for t in targets}


def test_targets_compare_in_the_right_direction():
    results = [
        {"name": "timeout_warning", "p50_ms": 2.5, "speedup": 50.0},
        {"name": "escalation", "speedup": 3.6, "io": {"reduction_pct": 99.9}},
        {"name": "workflow_throughput", "levels": [
            {"clients": 1, "ratio_to_sysbench": 0.91, "plain_sql_cost": 1.31, "p99_ms": 40.0},
            {"clients": 16, "ratio_to_sysbench": 0.89, "plain_sql_cost": 1.3, "p99_ms": 15.0},
        ]},
    ]  # fmt: skip
    t = _by_metric(check_targets(results, 1_000_000, durable=True))
    assert t["timeout_warning", "p50_ms"]["met"] is False  # 2.5 > 2: an upper bound missed
    assert t["timeout_warning", "speedup"]["met"] is True  # 50 >= 50: a lower bound met
    assert t["escalation", "speedup"]["met"] is False
    assert t["escalation", "io.reduction_pct"]["met"] is True
    assert t["escalation", "io.reduction_pct"]["value"] == 99.9  # dotted path read
    assert t["workflow_throughput", "ratio_to_sysbench@1"]["met"] is True
    assert t["workflow_throughput", "ratio_to_sysbench@16"]["met"] is False
    assert t["workflow_throughput", "plain_sql_cost@1"]["met"] is False
    assert t["workflow_throughput", "plain_sql_cost@16"]["met"] is True
    assert t["workflow_throughput", "p99_ms@16"]["met"] is True  # 15 <= 15
    assert ("workflow_throughput", "p99_ms@1") not in t  # the p99 goal is for 16 clients only
    assert t["audit_trail", "p50_ms"]["met"] is None  # not measured, not "missed"
    assert all(x["at_target_scale"] for x in t.values())


def test_durable_only_target_flags_the_profile():
    results = [{"name": "escalation", "io": {"reduction_pct": 95.0}}]
    fast = _by_metric(check_targets(results, 5000, durable=False))
    assert fast["escalation", "io.reduction_pct"]["at_target_profile"] is False
    assert fast["escalation", "io.reduction_pct"]["at_target_scale"] is False
    assert "at_target_profile" not in fast["timeout_warning", "p50_ms"]  # any profile
    durable = _by_metric(check_targets(results, 5000, durable=True))
    assert durable["escalation", "io.reduction_pct"]["at_target_profile"] is True


def test_sysbench_report_parses():
    r = parse_output(SYSBENCH_RUN, threads=2)
    assert (r.threads, r.transactions, r.tps) == (2, 4261, 4250.47)
    assert (r.p99_ms, r.avg_ms, r.ignored_errors) == (2.11, 0.47, 225)


def test_sysbench_report_without_transactions_is_an_error():
    from ticketdb.errors import TicketdbError

    with pytest.raises(TicketdbError, match="no transaction count"):
        parse_output("FATAL: unable to connect", threads=1)


_LEVEL = """
import signal
import sys
# as in a terminal: a test run started in the background (`make test &`, nohup) ignores SIGINT,
# this process inherited that, Python then never raises KeyboardInterrupt and the level ran on
signal.signal(signal.SIGINT, signal.default_int_handler)
from ticketdb import PROJECT_ROOT
from ticketdb.bench.load import run_level
from ticketdb.dsn import DSN
print("go", flush=True)
try:
    run_level(DSN.parse(sys.argv[1]), PROJECT_ROOT, "procedures", 4, 120.0,
              customers=50, agents=5)
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)
"""


@pytest.mark.parametrize("delay", [1.0, 6.0])
def test_ctrl_c_during_a_level_prints_no_worker_tracebacks(migrated_dsn, delay):
    """Ctrl-C reaches the whole process group: the workers ignore it and the parent stops
    them, so one line is printed, not one traceback per worker."""
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", _LEVEL, migrated_dsn.url()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "go"
        time.sleep(delay)  # workers being spawned, importing, or running lives
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted", err
    deadline = time.monotonic() + 15  # terminated workers (and multiprocessing's tracker) go
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("processes of the interrupted level are still running")


def test_background_close_does_not_hang_on_a_worker_killed_in_its_wait(migrated_dsn):
    """A worker SIGKILLed while it waits for the start signal never acknowledges a wake-up:
    ``Event.set()`` would then block the parent for ever. close() must reap everything in a
    bounded time instead (it runs in a thread here so a hang fails the test, not the run)."""
    import os
    import signal
    import threading

    from ticketdb import PROJECT_ROOT
    from ticketdb.bench.background import Background
    from ticketdb.bench.load import _collect

    bg = Background(migrated_dsn, PROJECT_ROOT, 2, customers=50, agents=5, name="t")
    for p in bg._procs:
        p.start()
    _collect(bg._procs, bg._messages, "ready", 120, "t")  # both now sleep in start.wait()
    os.kill(bg._procs[0].pid, signal.SIGKILL)
    bg._procs[0].join(10)
    assert not bg._procs[0].is_alive()
    closer = threading.Thread(target=bg.close, daemon=True)
    closer.start()
    closer.join(60)
    assert not closer.is_alive(), "Background.close() hung on a dead waiter"
    assert all(not p.is_alive() for p in bg._procs)
