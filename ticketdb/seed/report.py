"""What a seed run reports: its phases (rows, seconds), the result the CLI prints as a table or
JSON, and the progress hooks the CLI implements (the library never imports rich)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ticketdb.seed.generate import GenStats, SeedSpec


@dataclass
class Phase:
    name: str
    rows: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.name,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows / self.seconds) if self.rows and self.seconds else None,
        }


@dataclass
class SeedResult:
    spec: SeedSpec
    stats: GenStats
    phases: list[Phase] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.stats.tickets + self.stats.logs

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.as_dict(),
            "checksum": self.stats.checksum,
            "tickets": self.stats.tickets,
            "logs": self.stats.logs,
            "status_mix": self.stats.by_status,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows / self.seconds) if self.seconds else None,
            "phases": [p.as_dict() for p in self.phases],
        }


class Reporter:
    """Progress hooks the CLI implements with rich; the library only calls them."""

    def start(self, phase: str, total: int | None = None) -> None: ...

    def advance(self, phase: str, done: int) -> None: ...

    def finish(self, phase: str) -> None: ...
