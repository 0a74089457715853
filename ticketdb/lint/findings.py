"""A finding: where (path:line:col), which rule, how bad, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITIES = ("error", "warning", "info")
LEVELS = (*SEVERITIES, "off")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    code: str
    severity: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.severity} {self.message}"
