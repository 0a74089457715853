"""Where the project's SQL lives: migrations/, procedures/, triggers/, events/, queries/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ticketdb import PROJECT_ROOT
from ticketdb.errors import TicketdbError, UsageError

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


def read_sql_file(path: Path) -> str:
    """A project file as text; bytes that are not UTF-8 are one clear error naming the file
    (never a traceback, never silently replaced characters)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TicketdbError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save the file as UTF-8"
        ) from None


def check_migration_files(folder: Path) -> None:
    """yoyo reads migrations itself and would die on a bad byte with a traceback: check first."""
    for path in sorted(folder.iterdir()):
        if path.suffix in (".sql", ".py") and path.is_file():
            read_sql_file(path)
