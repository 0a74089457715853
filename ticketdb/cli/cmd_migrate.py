"""``ticketdb migrate``: versioned migrations, then repeatable objects."""

from __future__ import annotations

import sys

import click
from rich.syntax import Syntax

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
from ticketdb.cli.migrate_view import (
    print_baseline,
    print_down_summary,
    print_plan_down,
    print_status,
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
@click.option(
    "--allow-blocking",
    is_flag=True,
    help="Run ALTERs the server can only do blocking (a table copy, LOCK=SHARED) directly, "
    "even on big tables. Without it they run as an online copy (pt-online-schema-change, "
    "checksum, swap: docs/online-ddl.md), or are refused before anything changes when that "
    "is not possible.",
)
@_lock_option
@dsn_option
@project_option
@json_option
@pass_ctx
def up(
    ctx: Context,
    to: str | None,
    writes_stopped: bool,
    allow_blocking: bool,
    lock_timeout: float,
    as_json: bool,
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
        allow_blocking=allow_blocking,
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
@click.option(
    "--yes", is_flag=True, help="Do not ask for confirmation (needed without a terminal)."
)
@click.option(
    "--allow-data-loss",
    is_flag=True,
    help="Also when a table or column to drop holds rows (refused otherwise).",
)
@click.option(
    "--allow-blocking",
    is_flag=True,
    help="Run rollback ALTERs the server can only do blocking directly, even on big tables "
    "(as `migrate up --allow-blocking`). Without it they run as an online copy, or are "
    "refused before anything changes when that is not possible.",
)
@_lock_option
@dsn_option
@project_option
@json_option
@pass_ctx
def down(
    ctx: Context,
    to: str | None,
    all_: bool,
    yes: bool,
    allow_data_loss: bool,
    allow_blocking: bool,
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Roll back the last migration (or to --to ID, or --all), after saying what it undoes.

    It first prints the migrations it will undo and the tables and columns their rollbacks drop,
    with the rows they hold now (`migrate plan --down` also shows the SQL). On a terminal it
    asks for confirmation; without one it needs --yes. Dropping a table or column that holds
    rows also needs --allow-data-loss. Answering no changes nothing (exit 1).

    Repeatable objects are dropped before the rollback; every one that still compiles against
    the rolled-back schema is re-created right after it. The others are listed: `ticketdb
    doctor` fails while they are missing, and `migrate up` to head brings them back.
    """
    dsn = ctx.dsn()
    project = ctx.project()
    say = err_console.print
    preview = mig.plan_down(dsn, project, to=to, all_=all_)
    if not preview.migrations:
        if as_json:
            print_json(mig.MigrateResult().__dict__)
        else:
            say(f"{dsn.database}: nothing to roll back")
        return
    print_down_summary(preview)
    if preview.data_loss and not allow_data_loss:
        from ticketdb.migrate.rollback import refuse_data_loss

        refuse_data_loss(preview)
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(
                "`migrate down` asks for confirmation and there is no terminal: "
                "pass --yes to roll back without asking"
            )
        if not click.confirm(f"roll back {len(preview.migrations)} migration(s)?", err=True):
            say("nothing was changed")
            raise SystemExit(1)
    result = mig.down(
        dsn,
        project,
        to=to,
        all_=all_,
        allow_data_loss=allow_data_loss,
        allow_blocking=allow_blocking,
        expect=preview.ids,
        lock_timeout=lock_timeout,
        progress=None if as_json else say,
    )
    if as_json:
        print_json(result.__dict__)


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
    print_status(st)


@command.command()
@click.option(
    "--to",
    "to",
    metavar="ID",
    callback=_migration_id,
    help="Plan only up to this migration (with --down: roll back every migration after it).",
)
@click.option(
    "--down",
    "down_",
    is_flag=True,
    help="Print the rollback SQL `migrate down` would run (the last migration, --to ID or "
    "--all) and the tables/columns it drops with their rows, without running it.",
)
@click.option("--all", "all_", is_flag=True, help="With --down: roll back every migration.")
@click.option(
    "--check-ddl", is_flag=True,
    help="Run each pending ALTER/CREATE INDEX of an existing table against an empty copy in a "
    "scratch database (ALGORITHM=INSTANT, then INPLACE, then COPY) and show the algorithm and "
    "lock the server accepts, with the live table's rows and size, and the path `migrate up` "
    "takes (INSTANT, INPLACE LOCK=NONE, online copy, small direct, refused). With --down: "
    "the rollback ALTERs `migrate down` would run, the same way. Exit 1 if one fails.",
)  # fmt: skip
@dsn_option
@project_option
@json_option
@pass_ctx
def plan(
    ctx: Context, to: str | None, down_: bool, all_: bool, check_ddl: bool, as_json: bool
) -> None:
    """Print what `migrate up` (or with --down, `migrate down`) would run, without running it."""
    if all_ and not down_:
        raise click.UsageError("--all goes with --down")
    if check_ddl:  # (imported here: the probes read SQL the way lint does, a slow import)
        from ticketdb.cli.ddlcheck_view import ddl_checks, ddl_table
    if down_:
        down = mig.plan_down(ctx.dsn(), ctx.project(), to=to, all_=all_)
        probes = ddl_checks(ctx.dsn(), ctx.project(), down.migrations, "rollback") \
            if check_ddl else []  # fmt: skip
        if as_json:
            checks = {"ddl_checks": [x.as_dict() for x in probes]} if check_ddl else {}
            print_json({**down.as_dict(), **checks})
        else:
            print_plan_down(down)
            if check_ddl:
                console.print(ddl_table(probes))
        if any(x.note.startswith("fails on the server") for x in probes):
            raise SystemExit(1)
        return
    p = mig.plan(ctx.dsn(), ctx.project(), to=to)
    probes = []
    if check_ddl:
        probes = ddl_checks(ctx.dsn(), ctx.project(), p["migrations"], "apply")
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
        console.print(ddl_table(probes))
    if failed:
        raise SystemExit(1)


@command.command()
@click.option(
    "--undo",
    is_flag=True,
    help="Revert the steps that took effect instead of finishing the migration.",
)
@click.option(
    "--accept-checksums",
    is_flag=True,
    help="Record the current checksums of applied migrations whose files changed (all of them, "
    "or the IDs given), instead of repairing an interrupted run; a renamed file takes over "
    "its old name's record, a deleted one stays recorded as applied.",
)
@click.argument("ids", nargs=-1, metavar="[ID]...")
@_lock_option
@dsn_option
@project_option
@json_option
@pass_ctx
def repair(
    ctx: Context,
    undo: bool,
    accept_checksums: bool,
    ids: tuple[str, ...],
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Recover a migration whose run was killed between its steps and its record.

    Every migration run is journaled step by step in ticketdb_migration_progress. After a kill
    (or a server crash) `migrate up`/`down` stop and point here. By default the interrupted
    migration is finished: the remaining steps run, the first of them tolerating "already
    exists" errors (its DDL may have committed just before the kill), and it is recorded as
    applied. With --undo the steps that took effect are reverted with the migration's own
    rollback steps, newest first, and it stays pending. Nothing to repair: exit 0.

    With --accept-checksums [ID]... it records instead the current checksums of applied
    migrations edited, renamed or deleted since they were applied (which `up`, `down`, `plan`
    and `status` refuse), and says what it accepted.
    """
    if ids and not accept_checksums:
        raise click.UsageError("migration IDs are only taken with --accept-checksums")
    if undo and accept_checksums:
        raise click.UsageError("use either --undo or --accept-checksums, not both")
    dsn = ctx.dsn()
    done = mig.repair(
        dsn,
        ctx.project(),
        undo=undo,
        accept_checksums=list(ids) if accept_checksums else None,
        lock_timeout=lock_timeout,
        progress=None if as_json else err_console.print,
    )
    if as_json:
        print_json({"database": dsn.database, "repaired": done})
    elif not done:
        what = "no changed migration file" if accept_checksums else "no interrupted migration"
        err_console.print(f"{dsn.database}: {what}")


@command.command("baseline")
@click.option(
    "--to",
    "to",
    metavar="ID",
    required=True,
    callback=_migration_id,
    help="The last migration the database already has (id or unique prefix).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Record the migrations even when the schema differs (the differences are printed).",
)
@_lock_option
@dsn_option
@project_option
@json_option
@pass_ctx
def baseline(ctx: Context, to: str, force: bool, lock_timeout: float, as_json: bool) -> None:
    """Adopt a database that already has the schema: record migrations up to ID as applied.

    The migrations up to ID are applied to a scratch database on the same server and compared
    with the live one by drift's comparison (tables, views, sequences). Only when they match are
    they recorded as applied, with their checksums, without running them; otherwise the
    differences are printed and nothing changes (exit 1). --force records anyway and prints the
    differences. Procedures, triggers and events are not migrations: `migrate up` to head
    creates them from their files (those that already match are tracked as current).
    """
    from ticketdb.drift.baseline import baseline as run_baseline

    dsn = ctx.dsn()
    res = run_baseline(
        dsn,
        ctx.project(),
        to=to,
        force=force,
        lock_timeout=lock_timeout,
        progress=None if as_json else err_console.print,
    )
    if as_json:
        print_json(res.as_dict())
    else:
        print_baseline(res, force)
    if res.differences and not force:
        raise SystemExit(1)


@command.command("new")
@click.argument("name")
@project_option
@json_option
@pass_ctx
def new(ctx: Context, name: str, as_json: bool) -> None:
    """Write the next migration NNNN_NAME.sql and its NNNN_NAME.rollback.sql.

    The number follows the highest one in migrations/, the `-- depends:` header names the
    current last migration, and both files get a short template to fill in. A NAME already used
    by a migration, or one that is not an identifier (letters, digits, _), is refused (exit 2).
    Nothing is applied: edit the files, `ticketdb lint`, then `ticketdb migrate plan`/`up`.
    """
    from ticketdb.migrate.newfile import new_migration

    made = new_migration(ctx.project(), name)
    if as_json:
        print_json(made.as_dict())
        return
    console.print(str(made.path), highlight=False)
    console.print(str(made.rollback), highlight=False)
    after = f" (depends on {made.depends})" if made.depends else ""
    err_console.print(f"new migration {made.id}{after}: fill in both files", highlight=False)


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
