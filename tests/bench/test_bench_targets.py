"""The bench's arithmetic, without a server: percentiles, speed-up = baseline ÷ run, and targets
compared the right way round (each test fails if a comparison or a ratio were inverted)."""

from __future__ import annotations

import types

import pytest

from ticketdb.bench.registry import Scenario
from ticketdb.bench.runner import TARGETS, Timing, _run_scenario, check_targets

# -- percentiles ---------------------------------------------------------------------------------


def test_p50_is_the_median() -> None:
    assert Timing([5.0, 1.0, 3.0]).p50 == 3.0
    assert Timing([4.0, 1.0, 3.0, 2.0]).p50 == 2.5
    assert Timing([7.0]).p50 == 7.0


@pytest.mark.parametrize(
    "n,rank",
    [(1, 1), (2, 2), (3, 3), (10, 10), (19, 19), (20, 19), (21, 20), (40, 38), (100, 95)],
)
def test_p95_is_the_nearest_rank(n: int, rank: int) -> None:
    """Nearest-rank p95: the ceil(0.95·n)-th smallest sample. With the default --repeat 20 that
    is the 19th, not the slowest run."""
    samples = [float(v) for v in range(n, 0, -1)]  # unsorted on purpose: n, n-1, …, 1
    assert Timing(samples).p95 == float(rank)


def test_p95_ignores_one_outlier_in_twenty_but_not_two() -> None:
    one = [1.0] * 19 + [100.0]
    two = [1.0] * 18 + [100.0, 100.0]
    assert Timing(one).p95 == 1.0 and Timing(one).p50 == 1.0
    assert Timing(two).p95 == 100.0
    assert Timing(one).p95 <= max(one) and Timing(two).p95 >= Timing(two).p50


# -- speed-up -------------------------------------------------------------------------------------


class FakeClock:
    """perf_counter that only moves when a scenario step says so: exact, load-independent times."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    import ticketdb.bench.runner as runner

    c = FakeClock()
    monkeypatch.setattr(runner, "time", types.SimpleNamespace(perf_counter=c.perf_counter))
    return c


def _scenario(clock: FakeClock, run_ms: list[float], base_ms: list[float]) -> Scenario:
    runs, bases = iter(run_ms), iter(base_ms)
    return Scenario(
        "arith",
        "fake clock",
        run=lambda ctx: clock.advance(next(runs)),
        baseline=lambda ctx: clock.advance(next(bases)),
        baseline_label="slow path",
        warmup=1,
    )


def test_speedup_is_baseline_over_run(clock: FakeClock) -> None:
    # warm-up first (not timed), then 5 timed calls each
    sc = _scenario(clock, [50.0, 2.0, 2.0, 3.0, 2.0, 9.0], [50.0, 30.0, 31.0, 30.0, 29.0, 30.0])
    out = _run_scenario(types.SimpleNamespace(state={}), sc, repeat=5, budget_s=60)
    assert out["runs"] == 5 and out["baseline_runs"] == 5
    assert out["p50_ms"] == pytest.approx(2.0) and out["p95_ms"] == pytest.approx(9.0)
    assert out["baseline_p50_ms"] == pytest.approx(30.0)
    assert out["speedup"] == 15.0  # 30 / 2, not 2 / 30


def test_a_slower_path_is_a_speedup_below_one(clock: FakeClock) -> None:
    sc = _scenario(clock, [0.0, 8.0, 8.0, 8.0], [0.0, 4.0, 4.0, 4.0])
    out = _run_scenario(types.SimpleNamespace(state={}), sc, repeat=3, budget_s=60)
    assert out["speedup"] == 0.5  # 4 / 8


# -- targets --------------------------------------------------------------------------------------


def _results(**values: dict[str, float]) -> list[dict]:
    return [{"name": name, **metrics} for name, metrics in values.items()]


def _target(checked: list[dict], scenario: str, metric: str) -> dict:
    (t,) = [t for t in checked if t["scenario"] == scenario and t["metric"] == metric]
    return t


def test_at_least_target_met_and_missed() -> None:
    """timeout_warning speedup >= 50: 60× meets it, 40× misses it, exactly 50× meets it."""
    assert ("timeout_warning", "speedup", ">=", 50.0) in TARGETS
    for value, met in ((60.0, True), (40.0, False), (50.0, True), (0.5, False)):
        checked = check_targets(_results(timeout_warning={"speedup": value}), 1_000_000)
        t = _target(checked, "timeout_warning", "speedup")
        assert (t["met"], t["value"], t["target"]) == (met, value, ">= 50"), value


def test_at_most_target_met_and_missed() -> None:
    """audit_trail p50 <= 1 ms: 0.4 ms meets it, 3 ms misses it, exactly 1 ms meets it."""
    assert ("audit_trail", "p50_ms", "<=", 1.0) in TARGETS
    for value, met in ((0.4, True), (3.0, False), (1.0, True), (1000.0, False)):
        checked = check_targets(_results(audit_trail={"p50_ms": value}), 1_000_000)
        t = _target(checked, "audit_trail", "p50_ms")
        assert (t["met"], t["value"], t["target"]) == (met, value, "<= 1"), value


@pytest.mark.parametrize("name,metric,op,limit", TARGETS)
def test_every_target_compares_its_own_way(name: str, metric: str, op: str, limit: float) -> None:
    spread = abs(limit) or 1.0  # a limit of 0 (e.g. db_queries_per_hit <= 0): 0 meets, 1 misses
    better, worse = (limit - spread / 2, limit + spread) if op == "<=" else (
        limit + spread, limit - spread / 2)
    if op == "<=" and limit == 0:
        better = 0.0
    for value, met in ((better, True), (worse, False)):
        t = _target(check_targets(_results(**{name: {metric: value}}), 10), name, metric)
        assert t["met"] is met, (name, metric, op, value)


def test_missing_or_skipped_measurement_is_neither_met_nor_missed() -> None:
    skipped = {"p50_ms": None, "error": "no Redis"}
    checked = check_targets(_results(audit_trail=skipped), 1_000_000)
    assert _target(checked, "audit_trail", "p50_ms")["met"] is None
    assert _target(checked, "seed_load", "seconds") == {
        "scenario": "seed_load", "metric": "seconds", "target": "<= 60", "value": None,
        "met": None, "at_target_scale": True,
    }  # fmt: skip
    assert len(checked) == len(TARGETS)


def test_target_scale_is_reported() -> None:
    assert all(t["at_target_scale"] for t in check_targets([], 1_000_000))
    assert not any(t["at_target_scale"] for t in check_targets([], 999_999))
