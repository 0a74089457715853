"""A drift run: the repo applied to a scratch reference database, both sides read, compared."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ticketdb import catalog
from ticketdb import migrate as mig
from ticketdb.db import connection
from ticketdb.drift.diff import compare, coverage_warnings
from ticketdb.drift.model import Definition, Difference, DriftReport, Info, Progress, order
from ticketdb.drift.normalise import starts_at_fixed_time
from ticketdb.drift.read import snapshot
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate import repeatable
from ticketdb.project import Project
from ticketdb.server import databases

#: Scratch reference databases are ``<database>__drift_<8 hex>`` (databases.scratch_name).
SCRATCH_PURPOSE = "drift"


@contextmanager
def reference_database(
    dsn: DSN,
    project: Project,
    *,
    progress: Progress | None = None,
    problems: list[str] | None = None,
) -> Iterator[DSN]:
    """A scratch database on the same server with the repo applied; dropped on the way out.

    A failed drop never hides the real error; it is said and appended to ``problems``.
    """
    say = progress or (lambda _msg: None)

    def dropped_badly(msg: str) -> None:
        say(msg)
        if problems is not None:
            problems.append(msg)

    with databases.scratch_database(
        dsn, SCRATCH_PURPOSE, charset_of=dsn.database, on_drop_error=dropped_badly
    ) as ref:
        say(f"building the reference: migrate up into scratch database {ref.database}")
        mig.up(ref, project)
        yield ref


def stale_scratch_databases(conn: Any, database: str) -> list[str]:
    """Scratch databases of earlier drift runs that were killed before they could drop them."""
    return databases.scratch_databases(conn, database, SCRATCH_PURPOSE)


Snapshot = dict[tuple[str, str], Definition]


def check(
    dsn: DSN,
    project: Project,
    *,
    ignore: Sequence[str] = (),
    progress: Progress | None = None,
) -> DriftReport:
    """Compare ``dsn``'s database with the repo's head; pending migrations count as drift."""
    return compare_with_repo(dsn, project, ignore=ignore, progress=progress)[0]


def compare_with_repo(
    dsn: DSN,
    project: Project,
    *,
    ignore: Sequence[str] = (),
    progress: Progress | None = None,
) -> tuple[DriftReport, Snapshot, Snapshot]:
    """:func:`check`, plus both snapshots (live, reference) for ``--sql`` and capture."""
    st = mig.status(dsn, project)
    if not st["database_exists"]:
        raise TicketdbError(
            f"database {dsn.database!r} does not exist on {dsn.address}: "
            "nothing to compare (run `ticketdb migrate up` to create it)"
        )
    ids = [r["id"] for r in st["migrations"]]
    applied = [r["id"] for r in st["migrations"] if r["applied"]]
    report = DriftReport(
        database=dsn.database,
        head=ids[-1] if ids else None,
        live_version=applied[-1] if applied else None,
        pending=list(st["pending"]),
    )
    for mid in st["pending"]:
        report.differences.append(Difference(
            "migration", mid, "pending", "not applied on the server (`ticketdb migrate up`)",
        ))  # fmt: skip
    if report.pending:
        report.info.append(Info(
            "database", dsn.database,
            f"{len(report.pending)} pending migration(s): drift is relative to the repo's head "
            f"({report.head}); `ticketdb migrate status` shows the pending ones",
        ))  # fmt: skip
    for mid in st["applied_unknown"]:
        report.differences.append(Difference(
            "migration", mid, "extra",
            f"migration {mid} is applied on the server but has no file in the repo",
        ))  # fmt: skip
    fixed = frozenset(
        o.name
        for o in repeatable.load_objects(project)
        if o.kind == "EVENT" and starts_at_fixed_time(o.create_sql)
    )
    problems: list[str] = []
    for name in databases.drop_stale_scratch_databases(dsn, dsn.database, SCRATCH_PURPOSE):
        report.info.append(Info("database", name, "dropped: scratch database left by a drift "
                                "run that was killed"))  # fmt: skip
        if progress:
            progress(f"dropped {name}, left by a drift run that was killed")
    with reference_database(dsn, project, progress=progress, problems=problems) as ref_dsn:
        with connection(ref_dsn) as rconn:
            ref = snapshot(rconn, ref_dsn.database, unquoted_db=True, fixed_start_events=fixed)
    with connection(dsn) as conn:
        live = snapshot(conn, dsn.database, fixed_start_events=fixed)
        today = catalog.server_today(conn)
        stale = stale_scratch_databases(conn, dsn.database)
    diffs, info = compare(live, ref, ignore=ignore)
    report.differences.extend(diffs)
    report.info.extend(info)
    report.info.extend(coverage_warnings(live, today))
    report.info.extend(Info("database", dsn.database, p) for p in problems)
    report.info.extend(
        Info("database", name, "scratch database of a drift run in progress (or, on Galera, "
             "of one that was killed: drop it when no drift is running)")
        for name in stale
    )  # fmt: skip
    report.info.sort(key=order)  # stable: the pending note stays first among database notes
    report.compared = len(set(live) | set(ref))
    version = (
        f"at migration {report.live_version}" if report.live_version else "no migration applied"
    )
    state = "the repo's head" if not report.pending else f"{len(report.pending)} pending"
    report.info.insert(0, Info("database", dsn.database, f"{version} ({state})"))
    return report, live, ref
