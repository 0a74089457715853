"""The bench's arithmetic in one place, so each number is computed one way (and unit-tested):
percentiles and the ratios it reports."""

from __future__ import annotations

import itertools
import math


def speedup(baseline: float | None, run: float | None) -> float | None:
    """Times faster than the baseline: baseline time ÷ run time (> 1 = the run is faster)."""
    return round(baseline / run, 1) if baseline and run else None


def ratio_to_sysbench(ops_per_s: float | None, sysbench_tps: float | None) -> float | None:
    """Our ticket operations/s as a share of sysbench's write transactions/s (goal ≥ 0.9)."""
    return round(ops_per_s / sysbench_tps, 3) if ops_per_s is not None and sysbench_tps else None


def plain_sql_cost(ops_per_s: float | None, plain_ops_per_s: float | None) -> float | None:
    """What procedures + triggers cost: plain-SQL ops/s ÷ our ops/s (1.3 = plain SQL does 30 %
    more operations per second; goal ≤ 1.3; < 1 = the procedures are faster)."""
    return round(plain_ops_per_s / ops_per_s, 3) if ops_per_s and plain_ops_per_s else None


def percentile(samples: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100] of unsorted samples: the smallest sample with at
    least p % of the samples at or below it. None when there are no samples."""
    if not samples:
        return None
    s = sorted(samples)
    rank = math.ceil(p * len(s) / 100 - 1e-9)  # -1e-9: 95 * 20 / 100 may land a hair above 19
    return s[min(len(s), max(1, rank)) - 1]


def longest_gap(done_at: list[float], start: float, end: float) -> tuple[float, float]:
    """The longest time in [start, end] with no operation completing (the stall) and when it
    began: gaps between consecutive completions, and from ``start`` to the first one and the
    last one to ``end`` (writers blocked until the end of the window stalled that long too)."""
    times = sorted(t for t in done_at if start <= t <= end)
    edges = [start, *times, end]
    gap, at = 0.0, start
    for a, b in itertools.pairwise(edges):
        if b - a > gap:
            gap, at = b - a, a
    return gap, at


def rate(done_at: list[float], start: float, end: float) -> float | None:
    """Operations completed per second in [start, end) (None for an empty window)."""
    if end <= start:
        return None
    return sum(1 for t in done_at if start <= t < end) / (end - start)
