"""Checksums of applied migrations: an applied migration edited afterwards is refused, not run past.

yoyo identifies a migration by its id (the file name) only, so an edit to an applied file goes
unnoticed: servers that applied it keep the old schema while new ones get the new one (Flyway
``validate`` and Atlas' ``atlas.sum`` refuse that). Here the SHA-256 of each migration file and
of its rollback file (line endings normalised, nothing else) is written to
``ticketdb_migration_checksum`` in the same transaction as yoyo's record (``progress._finish``),
and ``migrate up/down/plan/status`` compare them with the files before doing anything: a
changed, deleted or renamed applied migration stops the command with each file, when it was
applied, the recorded and the current checksum.

A database migrated before checksums were kept gets them recorded once, by the first run that holds
the migrate lock (``up``/``down``/``repair``), with one line saying so; ``status`` and ``plan`` stay
read-only and only say that they are not recorded yet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yoyo.migrations import Migration, get_migration_hash

from ticketdb import catalog
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.project import Project

CHECKSUM_TABLE = "ticketdb_migration_checksum"
#: yoyo's record of applied migrations (also in progress.MIGRATION_TABLE)
_YOYO = "_yoyo_migration"
#: a recorded checksum meaning "the file's deletion was accepted" (``repair --accept-checksums``)
DELETED = ""
ACCEPT_HINT = (
    "restore the file(s) as they were applied, or, when the change is intended (the servers "
    "already have the schema it describes), run `ticketdb migrate repair --accept-checksums [ID…]`"
)

Say = Callable[[str], None]

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {CHECKSUM_TABLE} ("
    " migration_id VARCHAR(255) NOT NULL,"
    " path VARCHAR(255) NOT NULL,"
    " checksum CHAR(64) NOT NULL,"
    " rollback_path VARCHAR(255) NULL,"
    " rollback_checksum CHAR(64) NULL,"
    " how VARCHAR(16) NOT NULL,"
    " recorded_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (migration_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
)


def text_checksum(data: bytes) -> str:
    """SHA-256 of the bytes with CRLF and CR turned into LF: a checkout with other line endings
    is the same migration; any other byte is not."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


def rollback_file(path: Path) -> Path | None:
    """``NNNN_x.rollback.sql`` next to ``NNNN_x.sql`` (a Python migration has none)."""
    if path.suffix != ".sql":
        return None
    rb = path.with_name(path.name[: -len(".sql")] + ".rollback.sql")
    return rb if rb.is_file() else None


@dataclass(frozen=True)
class FileSums:
    """The current checksums of one migration's files."""

    migration_id: str
    path: Path
    checksum: str
    rollback_path: Path | None
    rollback_checksum: str | None


def current(path: Path, migration_id: str | None = None) -> FileSums:
    path = Path(path)
    rb = rollback_file(path)
    return FileSums(
        migration_id or path.stem,
        path,
        text_checksum(path.read_bytes()),
        rb,
        text_checksum(rb.read_bytes()) if rb else None,
    )


def migration_path(project: Project, migration_id: str) -> Path:
    for suffix in (".sql", ".py"):
        path = project.migrations / f"{migration_id}{suffix}"
        if path.is_file():
            return path
    raise UsageError(f"no file for migration {migration_id} in {project.migrations}")


def ensure_table(conn: Any) -> None:
    """DDL (commits on its own): called under the migrate lock, before any transaction."""
    with conn.cursor() as cur:
        cur.execute(_CREATE)


def _write(conn: Any, sums: FileSums, how: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            f"REPLACE INTO {CHECKSUM_TABLE} (migration_id, path, checksum, rollback_path,"
            " rollback_checksum, how) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                sums.migration_id,
                sums.path.name,
                sums.checksum,
                sums.rollback_path.name if sums.rollback_path else None,
                sums.rollback_checksum,
                how,
            ),
        )


def record_migration(conn: Any, m: Migration, how: str = "applied") -> None:
    """Record ``m``'s current checksums; no commit: the caller's transaction (yoyo's record)."""
    _write(conn, current(Path(m.path), m.id), how)


def record_applied(conn: Any, migration_id: str, project: Project, how: str = "applied") -> None:
    """Record the checksums of ``project``'s migration ``migration_id`` as applied now.

    Stable API for code that marks a migration applied itself (``drift --write-migration``,
    ``migrate baseline``): call it in the same transaction as yoyo's record, on the same
    PyMySQL connection (``backend.connection``), after :func:`ensure_table`. No commit here.
    """
    _write(conn, current(migration_path(project, migration_id), migration_id), how)


def forget(conn: Any, migration_id: str) -> None:
    """A rolled-back migration has no checksum to keep (it runs again as it is then)."""
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM {CHECKSUM_TABLE} WHERE migration_id = %s", (migration_id,))


@dataclass(frozen=True)
class Recorded:
    migration_id: str
    path: str
    checksum: str
    rollback_path: str | None
    rollback_checksum: str | None


def recorded(conn: Any) -> dict[str, Recorded]:
    if not catalog.table_exists(conn, CHECKSUM_TABLE):
        return {}
    rows = catalog.rows(
        conn,
        f"SELECT migration_id, path, checksum, rollback_path, rollback_checksum "
        f"FROM {CHECKSUM_TABLE}",
    )
    return {r[0]: Recorded(*r) for r in rows}


def applied_at(conn: Any) -> dict[str, str]:
    """yoyo's applied migrations: id → when (UTC)."""
    if not catalog.table_exists(conn, _YOYO):
        return {}
    return {mid: str(at) for mid, at in catalog.rows(
        conn, f"SELECT migration_id, applied_at_utc FROM {_YOYO}")}  # fmt: skip


def _short(checksum: str | None) -> str:
    return checksum[:16] if checksum else "none"


@dataclass(frozen=True)
class Mismatch:
    """One file of an applied migration that is not as it was applied."""

    migration_id: str
    file: str
    applied_at: str
    recorded: str | None  # None: no such file when applied (a rollback file added later)
    current: str | None  # None: the file is gone
    renamed_to: str | None = None

    def describe(self) -> str:
        if self.renamed_to:
            now = f"renamed to {self.renamed_to} (same content; yoyo would apply it again)"
        elif self.current is None:
            now = "file deleted"
        else:
            now = f"now sha256 {_short(self.current)}"
        was = f"sha256 {_short(self.recorded)}" if self.recorded else "no such file"
        return f"{self.file}: applied {self.applied_at} UTC, recorded {was}, {now}"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Verification:
    mismatches: list[Mismatch]
    unrecorded: list[str]  # applied migrations without a recorded checksum (older ticketdb)
    verified: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "unrecorded": self.unrecorded,
            "mismatches": [m.as_dict() for m in self.mismatches],
        }


def verify(conn: Any, migrations: Sequence[Migration]) -> Verification:
    """Compare every applied migration's recorded checksums with its files (read-only)."""
    applied = applied_at(conn)
    rec = recorded(conn)
    by_id = {m.id: m for m in migrations}
    sums = {m.id: current(Path(m.path), m.id) for m in migrations}
    pending_by_sum = {s.checksum: mid for mid, s in sums.items() if mid not in applied}
    out: list[Mismatch] = []
    unrecorded: list[str] = []
    verified = 0
    for mid, when in sorted(applied.items()):
        r = rec.get(mid)
        if r is None:
            if mid in by_id:
                unrecorded.append(mid)
            continue
        if mid not in by_id:
            if r.checksum == DELETED:
                continue  # its deletion was accepted
            renamed = pending_by_sum.get(r.checksum)
            out.append(Mismatch(mid, r.path, when, r.checksum, None, renamed))
            continue
        now = sums[mid]
        ok = True
        if now.checksum != r.checksum:
            out.append(Mismatch(mid, now.path.name, when, r.checksum, now.checksum))
            ok = False
        if now.rollback_checksum != r.rollback_checksum:
            name = now.rollback_path.name if now.rollback_path else r.rollback_path or "?"
            out.append(Mismatch(mid, name, when, r.rollback_checksum, now.rollback_checksum))
            ok = False
        verified += ok
    return Verification(out, unrecorded, verified)


def refuse(found: Verification) -> None:
    if found.mismatches:
        lines = "\n".join(f"  {m.describe()}" for m in found.mismatches)
        raise TicketdbError(
            f"{len(found.mismatches)} file(s) of applied migrations differ from what was "
            f"applied; nothing was done:\n{lines}\n{ACCEPT_HINT}"
        )


def check(conn: Any, migrations: Sequence[Migration], say: Say) -> Verification:
    """Under the migrate lock, before anything runs: refuse on a mismatch; record the checksums
    of migrations applied before they were kept, once, saying so. Commits what it records."""
    ensure_table(conn)
    found = verify(conn, migrations)
    refuse(found)
    if found.unrecorded:
        by_id = {m.id: m for m in migrations}
        conn.begin()
        for mid in found.unrecorded:
            record_migration(conn, by_id[mid], how="first-seen")
        say(
            f"recorded the checksums of {len(found.unrecorded)} migration(s) applied before "
            "checksums were kept (once; later edits to them will be refused)"
        )
    conn.commit()  # also ends the read snapshot, so yoyo's next reads see the present
    return found


def accept(conn: Any, migrations: Sequence[Migration], ids: Iterable[str], say: Say) -> list[str]:
    """``repair --accept-checksums [ID…]``: record the files as they are now (all mismatches, or
    those of ``ids``); a rename moves yoyo's record to the new id. Commits. Returns what it did."""
    ensure_table(conn)
    wanted = set(ids)
    found = verify(conn, migrations)
    by_id = {m.id: m for m in migrations}
    known = {m.migration_id for m in found.mismatches}
    unknown = sorted(wanted - known)
    if unknown:
        raise UsageError(
            f"no checksum mismatch for {', '.join(unknown)} "
            f"(mismatched: {', '.join(sorted(known)) or 'none'})"
        )
    done: list[str] = []
    conn.begin()
    for mm in found.mismatches:
        if wanted and mm.migration_id not in wanted:
            continue
        if mm.migration_id in by_id:
            record_migration(conn, by_id[mm.migration_id], how="accepted")
            what = f"{mm.file}: accepted sha256 {_short(mm.current)} (was {_short(mm.recorded)})"
        elif mm.renamed_to:
            new = by_id[mm.renamed_to]
            with conn.cursor() as cur:
                cur.execute(
                    f"UPDATE {_YOYO} SET migration_id = %s, migration_hash = %s "
                    "WHERE migration_id = %s",
                    (new.id, get_migration_hash(new.id), mm.migration_id),
                )
            forget(conn, mm.migration_id)
            record_migration(conn, new, how="accepted")
            what = f"{mm.file}: accepted the rename to {mm.renamed_to} (recorded as applied)"
        else:
            with conn.cursor() as cur:
                cur.execute(
                    f"UPDATE {CHECKSUM_TABLE} SET checksum = %s, how = 'accepted' "
                    "WHERE migration_id = %s",
                    (DELETED, mm.migration_id),
                )
            what = f"{mm.file}: accepted its deletion (stays recorded as applied)"
        if what not in done:
            done.append(what)
            say(what)
    conn.commit()
    return done
