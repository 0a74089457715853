"""``run_online_alter``: copy with pt-online-schema-change, verify, swap (stub, being filled)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ticketdb.dsn import DSN
from ticketdb.project import Project


@dataclass
class OnlineResult:
    """What one online copy did, for ``migrate up``'s output and the bench JSON."""

    table: str
    alter: str
    rows_copied: int = 0
    copy_seconds: float = 0.0
    checksum_seconds: float = 0.0
    swap_seconds: float = 0.0
    total_seconds: float = 0.0
    chunks: int = 0
    checksum_ok: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_online_alter(
    dsn: DSN,
    table: str,
    alter: str,
    *,
    project: Project,
    say: Callable[[str], None] = lambda _msg: None,
    max_threads_running: int = 25,
    chunk_time: float = 0.5,
) -> OnlineResult:
    """Run ``ALTER TABLE <table> <alter>`` as an online copy (not implemented yet)."""
    raise NotImplementedError("online copy: being implemented on branch h-osc")
