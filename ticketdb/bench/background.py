"""Ticket lives running in the background while the bench does something else (an ALTER).

The same client processes as ``workflow_throughput`` (load.py: spawn, one connection each, all
released by one start signal), but they run until told to stop, and each keeps the completion
time of every operation and every acknowledged call: the stall timeline and the lost-call check
(acks.py) are computed from them afterwards, never from samples.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

from ticketdb.bench.load import WorkerResult, WorkerSpec, _collect, _worker
from ticketdb.dsn import DSN

#: The longest a background run may last (a bound on every wait, not a duration to aim for).
MAX_SECONDS = 3 * 3600.0
#: A call blocked longer than this fails (and is counted) instead of hanging its worker.
READ_TIMEOUT = 900.0


class Background:
    """``clients`` processes running ticket lives from :meth:`start` to :meth:`stop`."""

    def __init__(self, dsn: DSN, project_root: Path, clients: int, *, customers: int,
                 agents: int, seed: int = 1, name: str = "online_alter") -> None:  # fmt: skip
        self.name = name
        ctx = mp.get_context("spawn")  # no fork of a parent that may hold threads or connections
        self._start, self._stop = ctx.Event(), ctx.Event()
        self._messages = ctx.Queue()
        self._procs = [
            ctx.Process(
                target=_worker,
                args=(i, WorkerSpec(dsn, project_root, "procedures", MAX_SECONDS, seed * 1000 + i,
                                    customers, agents, record=True, read_timeout=READ_TIMEOUT),
                      self._start, self._messages, self._stop),  # fmt: skip
                daemon=True,
            )
            for i in range(clients)
        ]
        self.started_at: float | None = None
        self._closed = False

    def start(self) -> float:
        """Start the processes, wait until each is connected, release them together; returns
        the monotonic time of the release."""
        for p in self._procs:
            p.start()
        _collect(self._procs, self._messages, "ready", 300, self.name)
        self.started_at = time.monotonic()
        self._start.set()
        return self.started_at

    def stop(self) -> list[WorkerResult]:
        """Ask every worker to finish its current call and report; their results."""
        self._stop.set()
        try:
            outs = _collect(self._procs, self._messages, "result", READ_TIMEOUT + 60, self.name)
        finally:
            self.close()
        return [outs[i] for i in sorted(outs)]

    def close(self) -> None:
        """Release and reap every process (also after an error: none is left behind).

        The events are set only while every started worker is alive: ``Event.set()`` waits for
        each process sleeping in ``Event.wait()`` to acknowledge, and one that died there (a
        kill, or the terminate below on an earlier call) never does, so the parent would hang
        for ever (seen in load.py on Ctrl-C). Dead workers are reaped without waking anyone."""
        if self._closed:
            return
        self._closed = True
        healthy = all(p.is_alive() for p in self._procs if p.pid is not None)
        if healthy:
            self._start.set()
            self._stop.set()
        for p in self._procs:
            if p.pid is None:
                continue
            p.join(timeout=30 if healthy else 0)
            if p.is_alive():
                p.terminate()
                p.join(timeout=10)
        alive = [p.pid for p in self._procs if p.pid is not None and p.is_alive()]
        assert not alive, f"{self.name}: client processes {alive} did not end"

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
