"""``migrate baseline --to ID``: adopt a database that already has the schema, after proving it.

Flyway's baseline trusts blindly. Here the repo's migrations up to ``ID`` are applied for real to
a scratch database on the same server (as ``drift`` does for the head), both sides are read and
compared by drift's own snapshot and comparison, and the migrations are recorded as applied (with
their checksums, under the migrate lock that also covers the comparison) only when every table,
view and sequence matches. Otherwise the differences are returned and nothing is recorded;
``force`` records anyway and returns them.

Procedures, triggers and events are not migrations: ``migrate up`` to head (re)creates them from
their files. Their differences are reported as notes, never block; those that match the repo are
tracked as current so ``up`` leaves them alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ticketdb import catalog
from ticketdb import migrate as mig
from ticketdb.db import connection
from ticketdb.drift.diff import compare
from ticketdb.drift.model import Difference, Progress
from ticketdb.drift.normalise import starts_at_fixed_time
from ticketdb.drift.read import snapshot
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate import repeatable
from ticketdb.migrate.baseline import mark_applied, refuse_applied_after, track_objects
from ticketdb.migrate.progress import PROGRESS_TABLE
from ticketdb.migrate.runner import load_migrations, resolve_id
from ticketdb.project import Project
from ticketdb.server import databases

SCRATCH_PURPOSE = "baseline"
#: compared strictly: what migrations make
SCHEMA_KINDS = ("table", "view", "sequence")
#: the tool's own tables, made by any locked run (the live side may not have them yet)
_RUN_TABLES = frozenset({PROGRESS_TABLE})


@dataclass
class BaselineResult:
    database: str
    to: str
    matched: bool
    recorded: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    objects_tracked: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "to": self.to,
            "matched": self.matched,
            "recorded": self.recorded,
            "differences": [d.as_dict() for d in self.differences],
            "notes": self.notes,
            "objects_tracked": self.objects_tracked,
        }


def compare_up_to(
    dsn: DSN, project: Project, to: str, progress: Progress | None = None
) -> tuple[list[Difference], list[Difference]]:
    """(schema differences, object differences) between the live database and the repo's
    migrations up to ``to`` built in a scratch database."""
    say = progress or (lambda _msg: None)
    fixed = frozenset(
        o.name
        for o in repeatable.load_objects(project)
        if o.kind == "EVENT" and starts_at_fixed_time(o.create_sql)
    )
    databases.drop_stale_scratch_databases(dsn, dsn.database, SCRATCH_PURPOSE)
    with databases.scratch_database(dsn, SCRATCH_PURPOSE, charset_of=dsn.database) as ref_dsn:
        say(f"building the reference: migrate up --to {to} into {ref_dsn.database}")
        mig.up(ref_dsn, project, to=to)
        with connection(ref_dsn) as rconn:
            ref = snapshot(rconn, ref_dsn.database, unquoted_db=True, fixed_start_events=fixed)
    with connection(dsn) as conn:
        live = snapshot(conn, dsn.database, fixed_start_events=fixed)
    for key in list(live) + list(ref):
        if key[0] == "table" and key[1] in _RUN_TABLES:
            live.pop(key, None)
            ref.pop(key, None)
    diffs, _info = compare(live, ref)
    schema = [d for d in diffs if d.kind in SCHEMA_KINDS]
    return schema, [d for d in diffs if d.kind not in SCHEMA_KINDS]


def baseline(
    dsn: DSN,
    project: Project,
    *,
    to: str,
    force: bool = False,
    lock_timeout: float = 120,
    progress: Progress | None = None,
) -> BaselineResult:
    """Record the migrations up to ``to`` as applied when the live schema is what they make."""
    say = progress or (lambda _msg: None)
    migrations = load_migrations(project)
    target = resolve_id(migrations, to)
    with connection(dsn, database=False) as c:
        if not catalog.database_exists(c, dsn.database):
            raise TicketdbError(
                f"database {dsn.database!r} does not exist on {dsn.address}: nothing to baseline"
            )
    refuse_applied_after(dsn, project, target.id)
    ids = [m.id for m in migrations]
    upto = ids[: ids.index(target.id) + 1]
    result = BaselineResult(dsn.database, target.id, matched=False)
    object_diffs: list[Difference] = []

    def check() -> None:
        schema, objects = compare_up_to(dsn, project, target.id, say)
        result.differences = schema
        result.matched = not schema
        object_diffs.extend(objects)
        for d in objects:
            result.notes.append(f"{d.kind} {d.name}: {d.state} (`migrate up` to head re-creates "
                                "repeatable objects from their files)")  # fmt: skip
        if schema and not force:
            raise _Refused()

    try:
        result.recorded = mark_applied(
            dsn, project, upto, how="baseline", check=check, lock_timeout=lock_timeout,
            progress=say,
        )  # fmt: skip
    except _Refused:
        return result
    if target.id == ids[-1]:
        differing = {(d.kind.upper(), d.name) for d in object_diffs}
        keys = {o.key for o in repeatable.load_objects(project)} - differing
        result.objects_tracked = track_objects(dsn, project, keys)
    return result


class _Refused(Exception):
    """The comparison found differences and ``force`` was not given: record nothing."""
