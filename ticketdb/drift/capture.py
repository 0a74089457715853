"""From drift to SQL and back: ``drift --sql`` (statements that bring the server to the repo)
and ``drift --write-migration NAME`` (a change made by hand on the server, captured as a new
migration plus its rollback, recorded as applied on that server, which already has it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ticketdb.drift import sql
from ticketdb.drift.model import Difference, DriftReport, Progress
from ticketdb.drift.run import compare_with_repo
from ticketdb.dsn import DSN
from ticketdb.errors import TicketdbError
from ticketdb.migrate import newfile, repeatable
from ticketdb.migrate.baseline import mark_applied
from ticketdb.project import Project

#: what a migration captures; procedures, functions, triggers and events live in their own
#: files (procedures/, triggers/, events/) and are re-created from them by `migrate up`
SCHEMA_KINDS = ("table", "view", "sequence")
LOCK_WAIT_TIMEOUT = 10


def repo_sql(
    dsn: DSN, project: Project, *, ignore: Sequence[str] = (), progress: Progress | None = None
) -> tuple[DriftReport, list[sql.Step]]:
    """The drift report and the steps that bring the live database to the repo's head
    (procedures, triggers, events from the repo's files)."""
    report, live, ref = compare_with_repo(dsn, project, ignore=ignore, progress=progress)
    files = {f"{o.kind.lower()}:{o.name}": o.create_sql for o in repeatable.load_objects(project)}
    return report, sql.plan(report.differences, live, ref, files=files)


def render_repo_sql(report: DriftReport, steps: Sequence[sql.Step], where: str) -> str:
    head = [f"-- ticketdb drift --sql: {where} to the repo's head ({report.head}); nothing was run"]
    if report.pending:
        head.append(f"-- {len(report.pending)} pending migration(s) ({', '.join(report.pending)}):"
                    " run `ticketdb migrate up` instead; the statements below include their "
                    "changes")  # fmt: skip
    if not steps:
        head.append("-- no statement needed")
    return "\n".join(head) + "\n" + sql.render(steps, comment_data_loss=True)


@dataclass
class Captured:
    report: DriftReport
    migration_id: str | None = None
    path: Path | None = None
    rollback: Path | None = None
    steps: list[sql.Step] = field(default_factory=list)
    not_captured: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "migration": self.migration_id,
            "path": str(self.path) if self.path else None,
            "rollback": str(self.rollback) if self.rollback else None,
            "recorded_on": self.report.database if self.migration_id else None,
            "statements": [s.as_dict() for s in self.steps],
            "not_captured": [d.as_dict() for d in self.not_captured],
        }


def _script(steps: Sequence[sql.Step], header: list[str]) -> str:
    lines = [*header]
    if any(s.alters_existing for s in steps):
        lines.append(f"SET SESSION lock_wait_timeout = {LOCK_WAIT_TIMEOUT};")
    lines.extend(f"{s.sql};" for s in steps)
    return "\n".join(lines) + "\n"


def write_migration(
    dsn: DSN,
    project: Project,
    name: str,
    *,
    ignore: Sequence[str] = (),
    progress: Progress | None = None,
) -> Captured:
    """Capture the tables, views and sequences that differ as migration ``NNNN_name`` (the
    server's state) and its rollback (the repo's), and record it applied on ``dsn``."""
    say = progress or (lambda _msg: None)
    newfile.check_name(name)
    report, live, ref = compare_with_repo(dsn, project, ignore=ignore, progress=progress)
    stale = [d.name for d in report.differences if d.kind == "migration"]
    if stale:
        raise TicketdbError(
            f"{dsn.database} is not at the repo's head (migrations {', '.join(stale)} pending or "
            "unknown to the repo): run `ticketdb migrate up` first, then capture what remains"
        )
    captured = [d for d in report.differences if d.kind in SCHEMA_KINDS]
    out = Captured(report, not_captured=[d for d in report.differences if d not in captured])
    if not captured:
        return out
    forward = sql.plan(captured, ref, live)
    backward = sql.plan(list(reversed(captured)), live, ref)
    new = newfile.new_migration(project, name)  # numbering, depends, exclusive create
    mid, path, rollback = new.id, new.path, new.rollback
    what = ", ".join(f"{d.kind} {d.name}" for d in captured)
    header = [
        *([f"-- depends: {new.depends}"] if new.depends else []),
        f"-- {mid}: captured by `ticketdb drift --write-migration` from {dsn.database} on "
        f"{dsn.address}",
        f"-- (changed there by hand: {what}); recorded as applied there. Review before merging.",
    ]
    try:
        path.write_text(_script(forward, header), encoding="utf-8")
        rollback.write_text(_script(backward, [f"-- undo of {path.name}"]), encoding="utf-8")
        mark_applied(dsn, project, [mid], how="captured", progress=say)
    except BaseException:
        # generated text only: nothing is lost, and nothing is left half-recorded
        path.unlink(missing_ok=True)
        rollback.unlink(missing_ok=True)
        raise
    out.migration_id, out.path, out.rollback, out.steps = mid, path, rollback, forward
    return out
