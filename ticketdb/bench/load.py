"""Run ticket lives from C client processes for a fixed time and summarise one level.

Processes, not threads: on a 2-core machine a threaded Python client would hit the GIL long
before the server saturates. Each worker opens its own connection, waits on a barrier so all
start together, then runs lives (lives.py) until the deadline, timing every operation
(wall-clock around the call, retries included). The parent merges the samples:
``ops_per_s`` = operations completed / (last worker's end - first worker's start).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import signal
import statistics
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ticketdb.bench.metrics import percentile
from ticketdb.bench.serverio import process_cpu_seconds, row_lock_waits
from ticketdb.db import DEFAULT_READ_TIMEOUT
from ticketdb.dsn import DSN

#: Error samples kept per level (the count is always complete).
MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True)
class WorkerSpec:
    dsn: DSN
    project_root: Path
    driver: str  # a key of lives.DRIVERS
    duration: float
    seed: int
    customers: int
    agents: int
    #: keep each operation's completion time and each acknowledged call (ticket id, step), for
    #: a stall timeline and an after-the-fact check that nothing acknowledged was lost
    record: bool = False
    read_timeout: float = DEFAULT_READ_TIMEOUT  # an ALTER's whole copy for online_alter


@dataclass
class WorkerResult:
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    lives: int = 0
    round_trips: int = 0
    cpu_s: float = 0.0  # this client process's CPU time over the run
    retries: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    fatal: str | None = None  # the worker could not run at all (connect failed, …)
    done_at: list[float] = field(default_factory=list)  # time.monotonic() per operation (record)
    acked: list[tuple[int, str]] = field(default_factory=list)  # (ticket id, step) (record)
    unknown: list[tuple[int | None, str]] = field(default_factory=list)  # failed calls (record)


def _worker(index: int, spec: WorkerSpec, start: Any, messages: Any, stop: Any = None) -> None:
    """Connect, report ready, wait for the common start, run lives until the duration is over
    (or ``stop``, an Event, is set), report the result."""
    out = WorkerResult()
    try:
        from ticketdb.bench.lives import DRIVERS, STEPS, plan_life
        from ticketdb.bench.serverio import RoundTrips
        from ticketdb.db import connect
        from ticketdb.errors import TicketdbError
        from ticketdb.project import Project

        conn = connect(spec.dsn, read_timeout=spec.read_timeout)
        driver = DRIVERS[spec.driver](conn, Project(spec.project_root))
        rng = random.Random(spec.seed)
        messages.put((index, None))
        if not start.wait(timeout=300):
            raise TimeoutError("the parent never gave the start signal")
        with RoundTrips(conn) as rt:
            cpu0 = time.process_time()
            out.started = time.monotonic()
            deadline = out.started + spec.duration
            n = 0

            def over() -> bool:
                return time.monotonic() >= deadline or (stop is not None and stop.is_set())

            while not over():
                n += 1
                life = plan_life(rng, spec.customers, spec.agents, n)
                ticket_id: int | None = None
                for step in STEPS:
                    if over():
                        break
                    t0 = time.perf_counter()
                    try:
                        ticket_id = driver.step(step, life, ticket_id)
                    except TicketdbError as exc:  # rejected, retries exhausted, server error
                        out.errors += 1
                        if spec.record:
                            out.unknown.append((ticket_id, step))
                        if len(out.error_samples) < MAX_ERROR_SAMPLES:
                            out.error_samples.append(f"{step}: {exc}")
                        if not conn.open:
                            conn.ping(reconnect=True)
                        break  # abandon this life, start the next one
                    out.latencies_ms.append((time.perf_counter() - t0) * 1000)
                    if spec.record:
                        assert ticket_id is not None
                        out.done_at.append(time.monotonic())
                        out.acked.append((ticket_id, step))
                else:
                    out.lives += 1
            out.ended = time.monotonic()
            out.cpu_s = time.process_time() - cpu0
            out.round_trips = rt.count
        out.retries = dict(driver.stats.retries)
        conn.close()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, never lost
        out.fatal = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    messages.put((index, out))


@dataclass
class LevelResult:
    clients: int
    ops: int
    seconds: float
    lives: int
    latencies_ms: list[float]
    retries: dict[int, int]
    errors: int
    error_samples: list[str]
    round_trips: int
    client_cpu_s: float = 0.0
    server_cpu_s: float | None = None  # None: the server is not a local process we can see
    row_lock_waits: int = 0
    row_lock_time_ms: int = 0

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        lat = self.latencies_ms

        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {
            "clients": self.clients,
            "ops": self.ops,
            "seconds": round(self.seconds, 3),
            "ops_per_s": round(self.ops_per_s, 1),
            "lives": self.lives,
            "p50_ms": r(statistics.median(lat) if lat else None),
            "p95_ms": r(percentile(lat, 95)),
            "p99_ms": r(percentile(lat, 99)),
            "max_ms": r(max(lat) if lat else None),
            "retries": sum(self.retries.values()),
            "deadlocks": self.retries.get(1213, 0),
            "lock_wait_timeouts": self.retries.get(1205, 0),
            "row_lock_waits": self.row_lock_waits,  # server-wide Innodb_row_lock_* deltas
            "row_lock_time_ms": self.row_lock_time_ms,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "round_trips_per_op": round(self.round_trips / self.ops, 2) if self.ops else None,
            # CPU per operation: on a machine whose cores the clients share with the server,
            # ops/s cannot exceed (cores × 1000) ÷ (client + server CPU ms per op)
            "cpu_ms_per_op": cpu_per_op(self.client_cpu_s, self.server_cpu_s, self.ops),
        }


def _collect(procs: list[Any], messages: Any, want: str, timeout: float,
             name: str = "workflow_throughput") -> dict[int, Any]:  # fmt: skip
    """One message per worker (``want`` = "ready": None, "result": a WorkerResult); a worker
    that died without sending it, or the timeout, is an error rather than a hang."""
    from ticketdb.errors import TicketdbError

    got: dict[int, Any] = {}
    deadline = time.monotonic() + timeout
    while len(got) < len(procs):
        try:
            index, payload = messages.get(timeout=0.5)
        except queue.Empty:
            dead = [i for i, p in enumerate(procs) if i not in got and not p.is_alive()]
            if dead:
                raise TicketdbError(f"{name}: client process {dead[0]} exited "
                                    f"(code {procs[dead[0]].exitcode}) before it was {want}"
                                    ) from None  # fmt: skip
            if time.monotonic() > deadline:
                raise TicketdbError(f"{name}: clients not {want} after "
                                    f"{timeout:.0f} s") from None  # fmt: skip
            continue
        if isinstance(payload, WorkerResult) and payload.fatal:
            raise TicketdbError(f"{name}: a client failed: {payload.fatal}")
        if (payload is None) == (want == "ready"):
            got[index] = payload
    return got


def _start_ignoring_sigint(procs: list[Any]) -> None:
    """Start the workers with SIGINT blocked: Ctrl-C reaches the whole process group, and each
    worker printed its own KeyboardInterrupt traceback (16 at 16 clients). A spawned child
    inherits the signal mask from its first instruction (imports included), so in a worker
    SIGINT stays pending for ever; the parent unblocks it after the starts (a Ctrl-C meanwhile
    is delivered then, not lost), handles it alone and terminates the workers."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        for p in procs:
            p.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def cpu_per_op(client_s: float | None, server_s: float | None, ops: int) -> dict[str, Any]:
    def ms(v: float | None) -> float | None:
        return round(v * 1000 / ops, 3) if v is not None and ops else None

    return {"client": ms(client_s), "server": ms(server_s)}


def run_level(dsn: DSN, project_root: Path, driver: str, clients: int, duration: float, *,
              customers: int, agents: int, seed: int = 1,
              server_pid: int | None = None) -> LevelResult:  # fmt: skip
    """``clients`` processes running lives through ``driver`` for ``duration`` seconds
    (``server_pid``: a local server process whose CPU time to count over the run)."""
    ctx = mp.get_context("spawn")  # no fork of a parent that may hold threads or connections
    start = ctx.Event()
    messages = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(i, WorkerSpec(dsn, project_root, driver, duration, seed * 1000 + i, customers,
                                agents), start, messages),  # fmt: skip
            daemon=True,
        )
        for i in range(clients)
    ]
    try:
        _start_ignoring_sigint(procs)  # inside: a Ctrl-C delivered as it unblocks stops them too
        _collect(procs, messages, "ready", 300)
        locks0 = row_lock_waits(dsn)
        server_cpu0 = process_cpu_seconds(server_pid) if server_pid else None
        start.set()
        outs: list[WorkerResult] = list(_collect(procs, messages, "result", duration + 300)
                                        .values())  # fmt: skip
        server_cpu1 = process_cpu_seconds(server_pid) if server_pid else None
        locks1 = row_lock_waits(dsn)
    except BaseException:  # Ctrl-C, SIGTERM, a failure: the parent stops its workers now
        for p in procs:
            if p.pid is not None:  # started
                p.terminate()
        raise
    finally:
        # no start.set() here: a worker terminated while waiting on the event leaves its
        # Condition's sleeper count behind, and set() then waits for it to wake — for ever
        for p in procs:
            if p.pid is None:
                continue
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    retries: dict[int, int] = {}
    for o in outs:
        for code, n in o.retries.items():
            retries[code] = retries.get(code, 0) + n
    latencies = [x for o in outs for x in o.latencies_ms]
    return LevelResult(
        clients=clients,
        ops=len(latencies),
        seconds=max(o.ended for o in outs) - min(o.started for o in outs),
        lives=sum(o.lives for o in outs),
        latencies_ms=latencies,
        retries=retries,
        errors=sum(o.errors for o in outs),
        error_samples=[s for o in outs for s in o.error_samples][:MAX_ERROR_SAMPLES],
        round_trips=sum(o.round_trips for o in outs),
        client_cpu_s=sum(o.cpu_s for o in outs),
        row_lock_waits=locks1[0] - locks0[0],
        row_lock_time_ms=locks1[1] - locks0[1],
        server_cpu_s=None if server_cpu0 is None or server_cpu1 is None
        else server_cpu1 - server_cpu0,  # fmt: skip
    )
