"""``ticketdb migrate``: versioned migrations, then repeatable objects."""

from __future__ import annotations

import click
from rich.syntax import Syntax
from rich.table import Table

from ticketdb import migrate as mig
from ticketdb.cli.common import (
    Context,
    console,
    dsn_option,
    err_console,
    json_option,
    pass_ctx,
    print_json,
    project_option,
    seconds,
)


def _migration_id(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """`--to "$UNSET"` must not mean "all migrations" (up) or "drop everything" (down)."""
    if value is not None and not value.strip():
        raise click.BadParameter("needs a migration id (or unique prefix), got an empty value")
    return value


_lock_option = click.option(
    "--lock-timeout",
    type=seconds(zero=True),
    default=120,
    show_default=True,
    help="Seconds to wait for another live migrate run (a killed run's lock is freed at once).",
)


@click.group()
def command() -> None:
    """Apply, roll back and inspect schema migrations.

    Versioned migrations (migrations/*.sql with a .rollback.sql, or *.py) run in order under a
    database lock, so concurrent runs apply each one exactly once. Once every migration is
    applied, the repeatable objects in procedures/, triggers/ and events/ are (re)created when
    their file changed or the object is missing, and dropped when their file is gone.
    """


command.name = "migrate"


@command.command()
@click.option(
    "--to",
    "to",
    metavar="ID",
    callback=_migration_id,
    help="Stop after this migration (id or unique prefix).",
)
@click.option(
    "--writes-stopped",
    is_flag=True,
    help="Galera: writes to the tables whose triggers change are stopped on every node, so "
    "existing triggers may be re-created (refused otherwise: DROP and CREATE replicate "
    "separately). On one server triggers are swapped under LOCK TABLES without it.",
)
@_lock_option
@dsn_option
@project_option
@json_option
@pass_ctx
def up(
    ctx: Context, to: str | None, writes_stopped: bool, lock_timeout: float, as_json: bool
) -> None:
    """Create the database if needed and apply pending migrations and objects."""
    dsn = ctx.dsn()
    result = mig.up(
        dsn,
        ctx.project(),
        to=to,
        lock_timeout=lock_timeout,
        progress=None if as_json else err_console.print,
        writes_stopped=writes_stopped,
    )
    if as_json:
        print_json(result.__dict__)
        return
    if not result.applied and not result.objects:
        err_console.print(f"{dsn.database}: up to date")
    else:
        err_console.print(
            f"{dsn.database}: {len(result.applied)} migration(s), "
            f"{len(result.objects)} object change(s)"
        )


@command.command()
@click.option(
    "--to",
    "to",
    metavar="ID",
    callback=_migration_id,
    help="Roll back every migration after this one.",
)
@click.option("--all", "all_", is_flag=True, help="Roll back every migration.")
@_lock_option
@dsn_option
@project_option
@json_option
@pass_ctx
def down(ctx: Context, to: str | None, all_: bool, lock_timeout: float, as_json: bool) -> None:
    """Roll back the last migration (or to --to ID, or --all).

    Repeatable objects are dropped first: they are defined against the latest schema and come
    back with the next `migrate up`.
    """
    dsn = ctx.dsn()
    result = mig.down(
        dsn,
        ctx.project(),
        to=to,
        all_=all_,
        lock_timeout=lock_timeout,
        progress=None if as_json else err_console.print,
    )
    if as_json:
        print_json(result.__dict__)
    elif not result.rolled_back:
        err_console.print(f"{dsn.database}: nothing to roll back")


@command.command()
@dsn_option
@project_option
@json_option
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """List migrations (applied or pending) and repeatable objects that would change."""
    st = mig.status(ctx.dsn(), ctx.project())
    if as_json:
        print_json(st)
        return
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
    for row in st["interrupted"]:
        verb = "apply" if row["direction"] == "apply" else "rollback"
        console.print(
            f"[red]interrupted[/] {verb} of {row['migration_id']} after {row['steps_done']} of "
            f"{row['steps_total']} step(s): run `ticketdb migrate repair` (or `--undo`)",
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


@command.command()
@click.option(
    "--to", "to", metavar="ID", callback=_migration_id, help="Plan only up to this migration."
)
@click.option(
    "--check-ddl", is_flag=True,
    help="Run each pending ALTER/CREATE INDEX of an existing table against an empty copy in a "
    "scratch database (ALGORITHM=INSTANT, then INPLACE, then COPY) and show the algorithm and "
    "lock the server accepts, with the live table's rows and size. Exit 1 if one fails.",
)  # fmt: skip
@dsn_option
@project_option
@json_option
@pass_ctx
def plan(ctx: Context, to: str | None, check_ddl: bool, as_json: bool) -> None:
    """Print what `migrate up` would run, without running it."""
    p = mig.plan(ctx.dsn(), ctx.project(), to=to)
    probes = []
    if check_ddl:
        from ticketdb.migrate.ddlcheck import check_ddl as run_check

        probes = run_check(ctx.dsn(), p["migrations"])
        p["ddl_checks"] = [x.as_dict() for x in probes]
    failed = any(x.note.startswith("fails on the server") for x in probes)
    if as_json:
        print_json(p)
        if failed:
            raise SystemExit(1)
        return
    if p["create_database"]:
        console.print(f"-- would create database {p['database']}")
    if not p["migrations"] and not p["object_changes"]:
        console.print(f"-- {p['database']}: nothing to do")
    for m in p["migrations"]:
        console.print(f"-- migration {m['id']} ({m['path']})")
        lexer = "python" if m["path"].endswith(".py") else "sql"
        console.print(Syntax(m["sql"].rstrip(), lexer, theme="ansi_dark"))
    for c in p["object_changes"]:
        console.print(f"-- {c['action']} {c['kind'].lower()} {c['name']} ({c['reason']})")
    if check_ddl:
        from ticketdb.cli.ddlcheck_view import ddl_table

        console.print(ddl_table(probes))
    if failed:
        raise SystemExit(1)


@command.command()
@click.option(
    "--undo",
    is_flag=True,
    help="Revert the steps that took effect instead of finishing the migration.",
)
@_lock_option
@dsn_option
@project_option
@json_option
@pass_ctx
def repair(ctx: Context, undo: bool, lock_timeout: float, as_json: bool) -> None:
    """Recover a migration whose run was killed between its steps and its record.

    Every migration run is journaled step by step in ticketdb_migration_progress. After a kill
    (or a server crash) `migrate up`/`down` stop and point here. By default the interrupted
    migration is finished: the remaining steps run, the first of them tolerating "already
    exists" errors (its DDL may have committed just before the kill), and it is recorded as
    applied. With --undo the steps that took effect are reverted with the migration's own
    rollback steps, newest first, and it stays pending. Nothing to repair: exit 0.
    """
    dsn = ctx.dsn()
    done = mig.repair(
        dsn,
        ctx.project(),
        undo=undo,
        lock_timeout=lock_timeout,
        progress=None if as_json else err_console.print,
    )
    if as_json:
        print_json({"database": dsn.database, "repaired": done})
    elif not done:
        err_console.print(f"{dsn.database}: no interrupted migration")


@command.command("break-lock")
@dsn_option
@pass_ctx
def break_lock(ctx: Context) -> None:
    """Remove a migration lock row left by a killed `migrate` run.

    On one server `migrate` removes such a row itself (its owner's connection is gone); on a
    Galera cluster it cannot tell a dead owner on another node from a live one, so it waits.
    """
    mig.break_lock(ctx.dsn())
    err_console.print("migration lock removed")
