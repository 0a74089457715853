"""What drift reads and reports: one object's definition, a difference, a note, the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[str], None]
KIND_ORDER = (
    "migration", "table", "view", "sequence", "procedure", "function", "trigger", "event", "report"
)  # fmt: skip


@dataclass(frozen=True)
class Definition:
    """One object as read from the server: display text for diffs, signature for equality."""

    kind: str
    name: str
    text: str
    signature: tuple[Any, ...]
    partitions: tuple[tuple[str, str], ...] = ()  # (name, description) of RANGE partitions
    partition_expr: str | None = None  # RANGE partitioning only
    sql_mode: str | None = None  # routines, triggers, events: the mode they run with
    raw: str | None = None  # tables: SHOW CREATE TABLE as printed (minus db qualifiers);
    # report statements: the REPLACE that writes the row

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass(frozen=True)
class Difference:
    kind: str
    name: str
    state: str  # missing (repo only) | extra (server only) | changed | pending (migrations)
    diff: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "state": self.state, "diff": self.diff}


@dataclass(frozen=True)
class Info:
    kind: str
    name: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "message": self.message}


@dataclass
class DriftReport:
    database: str
    head: str | None
    live_version: str | None
    pending: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    info: list[Info] = field(default_factory=list)
    compared: int = 0

    @property
    def clean(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "clean": self.clean,
            "head": self.head,
            "live_version": self.live_version,
            "pending_migrations": self.pending,
            "compared": self.compared,
            "differences": [d.as_dict() for d in self.differences],
            "info": [i.as_dict() for i in self.info],
        }


def order(item: Difference | Info) -> tuple[int, str]:
    """Report order: by kind (tables before routines …), then name."""
    kind = item.kind
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), item.name)
