"""Helpers for the fault-injection tests: run the real CLI as a process, wait, kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ticketdb import PROJECT_ROOT


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDB_")}
    return {**base, "TICKETDB_SANDBOX_DIR": "/nonexistent/ticketdb-sandbox", **(extra or {})}


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real console entry point, in a subprocess (tracebacks and exit codes are visible)."""
    return subprocess.run(
        [sys.executable, "-m", "ticketdb", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=timeout,
        cwd=PROJECT_ROOT,
    )


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ticketdb", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(env),
        cwd=PROJECT_ROOT,
    )


def wait_for(
    cond: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(
                f"process ended (rc {proc.returncode}) before {what}: {err[-2000:]}"
            )
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kill(
    proc: subprocess.Popen[str], sig: int = signal.SIGKILL, timeout: float = 60
) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def clean(res: subprocess.CompletedProcess[str] | tuple[int, str, str]) -> str:
    """All the output, asserting there is no traceback in it."""
    text = (
        res.stdout + res.stderr if isinstance(res, subprocess.CompletedProcess) else res[1] + res[2]
    )
    assert "Traceback" not in text, text[-3000:]
    return text


def marker(tmp: Path, name: str) -> Path:
    p = tmp / name
    p.unlink(missing_ok=True)
    return p
