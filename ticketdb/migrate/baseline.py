"""Recording migrations as applied without running them: ``migrate baseline`` (a database made
before ticketdb, or from a dump) and ``drift --write-migration`` (a hotfix already on the server).

Each migration's yoyo record and its checksums commit in one transaction, under the migrate lock,
after a ``check`` run under that same lock (``baseline`` compares the live schema with a scratch
build there, so no other run can change it between the comparison and the record). What decides
*whether* to record (drift's comparison) lives in :mod:`ticketdb.drift.baseline`; this layer only
records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ticketdb.db import connection
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError, UsageError
from ticketdb.migrate import checksums, repeatable
from ticketdb.migrate import progress as journal
from ticketdb.migrate.runner import Progress, _locked, load_migrations
from ticketdb.project import Project


def mark_applied(
    dsn: DSN,
    project: Project,
    ids: Sequence[str],
    *,
    how: str = "baseline",
    check: Callable[[], Any] | None = None,
    lock_timeout: float = 120,
    progress: Progress | None = None,
) -> list[str]:
    """Record the migrations ``ids`` (exact ids, in any order) as applied, with their checksums,
    without running them; those applied already are skipped. ``check`` runs under the lock
    first and refuses by raising. Returns the ids recorded now, in apply order."""
    say = progress or (lambda _msg: None)
    migrations = load_migrations(project)
    known = {m.id for m in migrations}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UsageError(f"unknown migration id(s): {', '.join(unknown)}")
    wanted = set(ids)
    with _locked(dsn, lock_timeout, say) as (backend, _job):
        checksums.check(backend.connection, migrations, say)
        journal.refuse_if_interrupted(backend)
        if check is not None:
            check()
        applied = set(backend.get_applied_migration_hashes())
        backend.commit()
        todo = [m for m in migrations if m.id in wanted and m.hash not in applied]
        with backend.transaction():
            for m in todo:
                backend.mark_one(m, log=False)
                checksums.record_migration(backend.connection, m, how=how)
                backend.log_migration(m, "mark")
        for m in todo:
            say(f"recorded {m.id} as applied ({how}; not run)")
    return [m.id for m in todo]


def track_objects(dsn: DSN, project: Project, keys: set[tuple[str, str]]) -> list[str]:
    """Record the files' checksums for repeatable objects the server already has as the repo
    defines them (``keys``), so ``migrate up`` does not re-create them (on Galera a trigger
    swap needs writes stopped)."""
    objects = [o for o in repeatable.load_objects(project) if o.key in keys]
    if not objects:
        return []
    with connection(dsn) as conn:
        present = repeatable.server_objects(conn)
        repeatable.ensure_track_table(conn)
        done = []
        with conn.cursor() as cur:
            for o in objects:
                if o.key not in present:
                    continue
                cur.execute(
                    f"REPLACE INTO {repeatable.TRACK_TABLE} (kind, name, checksum, path) "
                    "VALUES (%s, %s, %s, %s)",
                    (o.kind, o.name, o.checksum, f"{o.path.parent.name}/{o.path.name}"),
                )
                done.append(f"{o.kind.lower()} {o.name}")
    return done


def refuse_applied_after(dsn: DSN, project: Project, upto: str) -> None:
    """A baseline to ``upto`` on a database where a later migration is applied makes no sense."""
    migrations = load_migrations(project)
    ids = [m.id for m in migrations]
    later = set(ids[ids.index(upto) + 1 :])
    with connection(dsn) as conn:
        applied = set(checksums.applied_at(conn))
    if later & applied:
        raise TicketdbError(
            f"migration(s) after {upto} are applied already ({', '.join(sorted(later & applied))})"
            ": a baseline only records what a database has from before ticketdb"
        )
