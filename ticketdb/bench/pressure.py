"""Server and machine pressure sampled once a second beside a measured run.

An online ALTER's throughput can collapse for reasons the ops/s series alone cannot tell apart:
the buffer pool no longer holds the working set (disk reads), the redo log is full and
foreground writes wait for the page cleaner (checkpoint age), or another process on the
machine takes the CPU or the disk (load average, iowait). Recording these beside the series
lets a reader of the JSON see which one it was instead of guessing.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from ticketdb.bench.serverio import status_values
from ticketdb.db import connect
from ticketdb.dsn import DSN

#: SHOW GLOBAL STATUS names (case-insensitive): counters become per-second deltas, gauges as read
COUNTERS = ("Innodb_buffer_pool_reads", "Innodb_data_written")
GAUGES = ("Innodb_checkpoint_age", "Innodb_buffer_pool_pages_dirty", "Threads_running")
INTERVAL_S = 1.0
_NAMES = (*COUNTERS, *GAUGES)


def _cpu_ticks() -> tuple[int, int]:
    """(iowait, total) jiffies of the whole machine from /proc/stat; (0, 0) where unreadable."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return 0, 0
    values = [int(x) for x in fields]
    return (values[4] if len(values) > 4 else 0), sum(values)


class PressureSampler:
    """A thread with its own connection; ``stop()`` returns the series (lists, one point per
    second). Sampling errors end the series early instead of failing the measured run."""

    def __init__(self, dsn: DSN, interval: float = INTERVAL_S) -> None:
        self.dsn, self.interval = dsn, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pressure", daemon=True)
        self.series: dict[str, list[Any]] = {"t_s": [], "loadavg_1m": [], "iowait_pct": []}
        for name in (*COUNTERS, *GAUGES):
            self.series[name.lower()] = []
        self.error: str | None = None
        self.started = 0.0

    def start(self) -> PressureSampler:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            conn = connect(self.dsn, database=False, read_timeout=10)
        except Exception as exc:  # noqa: BLE001 - recorded, the run goes on without it
            self.error = str(exc)
            return
        try:
            prev = status_values(conn, _NAMES)
            prev_cpu = _cpu_ticks()
            while not self._stop.wait(self.interval):
                now = status_values(conn, _NAMES)
                cpu = _cpu_ticks()
                s = self.series
                s["t_s"].append(round(time.monotonic() - self.started, 1))
                s["loadavg_1m"].append(round(os.getloadavg()[0], 2))
                total = cpu[1] - prev_cpu[1]
                s["iowait_pct"].append(round(100 * (cpu[0] - prev_cpu[0]) / total, 1)
                                       if total else None)  # fmt: skip
                for name in COUNTERS:
                    s[name.lower()].append(now[name] - prev.get(name, 0) if name in now else None)
                for name in GAUGES:
                    s[name.lower()].append(now.get(name))
                prev, prev_cpu = now, cpu
        except Exception as exc:  # noqa: BLE001 - a lost sampler must not fail the bench
            self.error = str(exc)
        finally:
            conn.close()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(15)
        out: dict[str, Any] = {"interval_s": self.interval, **self.series}
        if self._thread.is_alive():
            out["error"] = "the sampler did not stop within 15 s"
        elif self.error:
            out["error"] = self.error
        return out
