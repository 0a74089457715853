"""Polling for something a server does on its own time (an event firing, a node syncing)."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Whether ``check()`` turns true within ``timeout`` seconds (polled every ``interval``).

    Returns the outcome instead of raising, so that the test can clean up (disable an event)
    before it asserts, with its own message. ``faultkit.wait_for`` is the raising variant that
    also watches a CLI process.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False
