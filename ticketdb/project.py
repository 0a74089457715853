"""Where the project's SQL lives: migrations/, procedures/, triggers/, events/, queries/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ticketdb import PROJECT_ROOT
from ticketdb.errors import UsageError

ENV_PROJECT = "TICKETDB_PROJECT"
#: Repeatable object folders in apply order: routines first (triggers and events call them).
REPEATABLE_DIRS = ("procedures", "triggers", "events")


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    @property
    def queries(self) -> Path:
        return self.root / "queries"

    def repeatable_dirs(self) -> list[Path]:
        return [self.root / d for d in REPEATABLE_DIRS]

    @classmethod
    def locate(cls, path: str | os.PathLike[str] | None = None) -> Project:
        """``--project`` beats ``TICKETDB_PROJECT`` beats the cwd (if it has migrations/)
        beats the checkout this package was installed from."""
        chosen = path or os.environ.get(ENV_PROJECT)
        if chosen:
            root = Path(chosen)
            if not (root / "migrations").is_dir():
                raise UsageError(f"{root} has no migrations/ folder")
            return cls(root.resolve())
        cwd = Path.cwd()
        if (cwd / "migrations").is_dir():
            return cls(cwd.resolve())
        return cls(PROJECT_ROOT)
