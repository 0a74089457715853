"""What `migrate status`, `down`, `plan --down` and `baseline` print for people (JSON is printed by
cmd_migrate)."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.table import Table

from ticketdb.cli.common import console, err_console
from ticketdb.drift.baseline import BaselineResult
from ticketdb.migrate.rollback import DownPlan


def print_down_summary(preview: DownPlan) -> None:
    """What a rollback undoes and drops, on stderr (stdout stays for --json)."""
    say = err_console.print
    say(f"{preview.database}: will roll back {len(preview.migrations)} migration(s): "
        f"{', '.join(preview.ids)}", highlight=False)  # fmt: skip
    for d in preview.drops:
        mark = "[red]data loss[/] " if d.rows else ""
        say(f"  {mark}{d.describe()} ({d.migration})", highlight=False)
    for m in preview.migrations:
        for note in m["python"]:
            say(f"  {m['id']} runs a {note}: what it drops is not known in advance")
    if preview.objects:
        say(f"  {len(preview.objects)} repeatable object(s) dropped first; those that still "
            "compile are re-created after", highlight=False)  # fmt: skip


def print_plan_down(p: DownPlan) -> None:
    """`plan --down`: the rollback SQL and what it drops, on stdout."""
    if not p.migrations:
        console.print(f"-- {p.database}: nothing to roll back")
    for m in p.migrations:
        console.print(f"-- rollback of {m['id']} ({m['path']})", highlight=False)
        for note in m["python"]:
            console.print(f"-- runs a {note}", highlight=False)
        if m["sql"]:
            console.print(Syntax(m["sql"], "sql", theme="ansi_dark"))
    for d in p.drops:
        loss = "  -- needs --allow-data-loss" if d.rows else ""
        console.print(f"-- {d.describe()}{loss}", highlight=False)
    for name in p.objects:
        console.print(f"-- drop {name}, re-created after if it still compiles", highlight=False)


def print_baseline(res: BaselineResult, force: bool) -> None:
    """The differences on stdout (unified diffs), the verdict on stderr."""
    database = res.database
    for d in res.differences:
        console.print(f"{d.kind} {d.name}: {d.state}", highlight=False)
        console.print(Syntax(d.diff, "diff", theme="ansi_dark"))
    for note in res.notes:
        err_console.print(f"note: {note}", highlight=False)
    if res.differences and not force:
        err_console.print(
            f"{database}: the schema differs from migrations up to {res.to} in "
            f"{len(res.differences)} object(s); nothing was recorded (--force records anyway)",
            highlight=False,
        )
    else:
        state = "matches" if res.matched else "DIFFERS (recorded anyway: --force)"
        tracked = len(res.objects_tracked)
        err_console.print(
            f"{database}: schema {state}; recorded {len(res.recorded)} migration(s) as "
            f"applied up to {res.to}" + (f", tracked {tracked} object(s)" if tracked else ""),
            highlight=False,
        )


#: what a stopped online copy left in service, by the phase its journal row reached
_COPY_STATE = {
    "copying": "the original {t} is in service and unchanged",
    "verifying": "the original {t} is in service and unchanged",
    "swapping": "{t} refuses writes until then (stopped inside the swap's fence)",
    "swapped": "the altered {t} is in service, the retired copy is left to drop",
}


def print_status(st: dict[str, Any]) -> None:
    """Migrations applied/pending, checksums not recorded yet, interrupted runs, objects."""
    table = Table(title=f"migrations in {st['database']}")
    table.add_column("migration")
    table.add_column("state")
    table.add_column("applied at (UTC)")
    for row in st["migrations"]:
        state = "[green]applied[/]" if row["applied"] else "[yellow]pending[/]"
        table.add_row(row["id"], state, row["applied_at_utc"] or "")
    for mid in st["applied_unknown"]:
        table.add_row(mid, "[red]applied, file missing[/]", "")
    console.print(table)
    unrecorded = st["checksums"]["unrecorded"]
    if unrecorded:
        console.print(
            f"{len(unrecorded)} applied migration(s) have no recorded checksum yet (applied by an "
            "older ticketdb): the next `migrate up` or `down` records them",
            highlight=False,
        )
    if st["running"]:
        console.print(
            f"[yellow]a migrate is running now[/] ({st['running']}): what follows may be its "
            "work in progress",
            highlight=False,
        )
    for row in st["interrupted"]:
        verb = "apply" if row["direction"] == "apply" else "rollback"
        console.print(
            f"[red]interrupted[/] {verb} of {row['migration_id']} after {row['steps_done']} of "
            f"{row['steps_total']} step(s): run `ticketdb migrate repair` (or `--undo`)",
            highlight=False,
        )
    for row in st["online_copies"]:
        where = f" (step {row['step'] + 1} of {row['migration_id']})" if row["migration_id"] else ""
        console.print(
            f"[red]online copy[/] of {row['table']}{where} stopped while {row['phase']} (started "
            f"{row['started_at']} by pid {row['pid']} on {row['client']}): "
            f"{_COPY_STATE[row['phase']].format(t=row['table'])}; `ticketdb migrate repair` "
            "finishes or removes it",
            highlight=False,
        )
    if st["object_changes"]:
        objs = Table(title="repeatable objects to apply")
        for col in ("action", "kind", "name", "reason"):
            objs.add_column(col)
        for c in st["object_changes"]:
            objs.add_row(c["action"], c["kind"], c["name"], c["reason"])
        console.print(objs)
    else:
        console.print(f"{len(st['objects'])} repeatable object(s), all current")
