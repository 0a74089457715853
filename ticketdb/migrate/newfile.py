"""``migrate new NAME``: the next ``NNNN_name.sql`` and its ``.rollback.sql``, never copied by hand.

The number is one more than the highest in migrations/ (zero-padded like the others), the
``-- depends:`` header names the migration that is the head now, so yoyo keeps the order even when
two branches add migrations; the files are created exclusively (an existing file is never
overwritten).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ticketdb.errors import UsageError
from ticketdb.project import Project

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBERED = re.compile(r"^(\d+)_(\w+?)(\.rollback)?\.(sql|py)$")
MAX_NAME = 64

_TEMPLATE = """\
{depends}-- {name}: what changes and why, for whoever reads this file in a year.
-- One change per migration; `ticketdb migrate plan --check-ddl` shows how the server runs it
-- (write online-safe ALTERs: `ticketdb lint` says which ones block).

"""
_ROLLBACK = """\
-- Undo of {file}: one undo statement per statement there, in reverse order.
-- `ticketdb migrate plan --down` prints it; `migrate down` asks before dropping data.

"""


@dataclass(frozen=True)
class NewMigration:
    id: str
    path: Path
    rollback: Path
    depends: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "path": str(self.path),
            "rollback": str(self.rollback),
            "depends": self.depends,
        }


def _existing(folder: Path) -> list[tuple[int, str, str]]:
    """(number, name, id) of every migration (not rollback) file, by number then id."""
    out = []
    for p in folder.iterdir():
        m = _NUMBERED.match(p.name)
        if m and not m.group(3) and p.is_file():
            out.append((int(m.group(1)), m.group(2), p.name.rsplit(".", 1)[0]))
    return sorted(out)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise UsageError(
            f"migration name {name!r} is not an identifier: use letters, digits and _ "
            f"(not starting with a digit, at most {MAX_NAME} characters), e.g. add_agent_notes"
        )
    return name


def new_migration(project: Project, name: str) -> NewMigration:
    """Write the next migration and its rollback; a name already used is refused."""
    name = check_name(name)
    folder = project.migrations
    if not folder.is_dir():
        raise UsageError(f"no migrations folder at {folder}")
    existing = _existing(folder)
    same = [mid for _n, nm, mid in existing if nm.lower() == name.lower()]
    if same:
        raise UsageError(f"a migration named {name} exists already: {', '.join(same)}")
    width = max((len(mid.split("_", 1)[0]) for _n, _nm, mid in existing), default=4)
    number = (existing[-1][0] + 1) if existing else 1
    mid = f"{number:0{width}d}_{name}"
    depends = existing[-1][2] if existing else None
    path = folder / f"{mid}.sql"
    rollback = folder / f"{mid}.rollback.sql"
    header = f"-- depends: {depends}\n" if depends else ""
    for p in (path, rollback):
        if p.exists():
            raise UsageError(f"{p} exists already; nothing written")
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(_TEMPLATE.format(depends=header, name=mid))
        with rollback.open("x", encoding="utf-8") as f:
            f.write(_ROLLBACK.format(file=path.name))
    except FileExistsError as exc:  # created meanwhile by someone else
        raise UsageError(f"{exc.filename} exists already; nothing overwritten") from None
    return NewMigration(mid, path, rollback, depends)
