"""sysbench ``oltp_write_only`` against the same server: the ceiling of small write transactions.

Runs the Debian package's ``sysbench`` (scripts/system-deps.sh installs it) in a scratch
database of its own (the caller's ``ticketdb.server.databases.scratch_database``): prepared
once, run once per thread count. One
sysbench transaction = BEGIN, 2 UPDATEs, DELETE, INSERT, COMMIT on random rows of
``tables`` × ``table_size`` (the reference run uses 4 × 100,000).
"""

from __future__ import annotations

import dataclasses
import re
import resource
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from ticketdb.bench.load import cpu_per_op
from ticketdb.bench.serverio import process_cpu_seconds
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError

_TPS = re.compile(r"transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)")
_IGNORED = re.compile(r"ignored errors:\s+(\d+)")
_PCT = re.compile(r"(\d+)th percentile:\s+([\d.]+)")
_AVG = re.compile(r"avg:\s+([\d.]+)")


@dataclass(frozen=True)
class SysbenchResult:
    threads: int
    transactions: int
    tps: float
    p99_ms: float | None
    avg_ms: float | None
    ignored_errors: int
    cpu_ms_per_tx: dict[str, float | None] | None = None  # client (sysbench) and server

    def as_dict(self) -> dict[str, Any]:
        return {"threads": self.threads, "transactions": self.transactions,
                "tps": self.tps, "p99_ms": self.p99_ms, "avg_ms": self.avg_ms,
                "ignored_errors": self.ignored_errors,
                "cpu_ms_per_tx": self.cpu_ms_per_tx}  # fmt: skip


def parse_output(text: str, threads: int) -> SysbenchResult:
    """The numbers of one ``sysbench … run`` report (sysbench 1.0)."""
    m = _TPS.search(text)
    if not m:
        raise TicketdbError(f"sysbench: no transaction count in its output: {text[-300:]}")
    pct = _PCT.search(text)
    avg = _AVG.search(text)
    ign = _IGNORED.search(text)
    return SysbenchResult(
        threads=threads,
        transactions=int(m.group(1)),
        tps=float(m.group(2)),
        p99_ms=float(pct.group(2)) if pct and pct.group(1) == "99" else None,
        avg_ms=float(avg.group(1)) if avg else None,
        ignored_errors=int(ign.group(1)) if ign else 0,
    )


def binary() -> str:
    found = shutil.which("sysbench")
    if not found:
        raise TicketdbError("sysbench is not installed: run scripts/system-deps.sh "
                            "(apt-get install sysbench)")  # fmt: skip
    return found


class Sysbench:
    """sysbench on the (empty, scratch) database of ``dsn``: :meth:`prepare` once, then
    :meth:`run` per thread count."""

    def __init__(self, dsn: DSN, tables: int = 4, table_size: int = 100_000):
        self.dsn = dsn
        self.tables = tables
        self.table_size = table_size
        self.exe = binary()

    def _args(self, *extra: str) -> list[str]:
        d = self.dsn
        args = [self.exe, "oltp_write_only", "--db-driver=mysql", f"--mysql-user={d.user}",
                f"--mysql-password={d.password or ''}", f"--mysql-db={d.database}",
                f"--tables={self.tables}", f"--table-size={self.table_size}"]  # fmt: skip
        if d.unix_socket:
            args.append(f"--mysql-socket={d.unix_socket}")
        else:
            args += [f"--mysql-host={d.host}", f"--mysql-port={d.port}"]
        return [*args, *extra]

    def _call(self, *extra: str, timeout: float) -> str:
        proc = subprocess.run(self._args(*extra), capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise TicketdbError(f"sysbench {extra[-1]} failed: {' | '.join(tail)}")
        return proc.stdout

    def run(self, threads: int, seconds: float, server_pid: int | None = None) -> SysbenchResult:
        """One timed run; with ``server_pid``, CPU per transaction of sysbench and the server."""
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        server0 = process_cpu_seconds(server_pid) if server_pid else None
        out = self._call(f"--threads={threads}", f"--time={max(1, round(seconds))}",
                         "--percentile=99", "--report-interval=0", "run",
                         timeout=seconds + 120)  # fmt: skip
        server1 = process_cpu_seconds(server_pid) if server_pid else None
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = parse_output(out, threads)
        client_s = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
        server_s = None if server0 is None or server1 is None else server1 - server0
        return dataclasses.replace(
            result, cpu_ms_per_tx=cpu_per_op(client_s, server_s, result.transactions))

    def prepare(self) -> None:
        """Create and fill sysbench's tables."""
        self._call("--threads=2", "prepare", timeout=1800)
