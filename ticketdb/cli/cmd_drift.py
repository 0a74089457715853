"""``ticketdb drift``: does the live database still match what the repo defines?"""

from __future__ import annotations

import click
from rich.text import Text

from ticketdb import drift
from ticketdb.cli.common import (
    Context,
    console,
    dsn_option,
    err_console,
    json_option,
    pass_ctx,
    print_json,
    project_option,
)
from ticketdb.drift import capture
from ticketdb.errors import UsageError
from ticketdb.migrate import newfile

_STATE_STYLE = {
    "changed": "yellow",
    "missing": "red",
    "extra": "magenta",
    "pending": "cyan",
}


def _diff_text(diff: str) -> Text:
    """Colour a unified diff line by line (rich markup would misread SQL brackets)."""
    out = Text()
    for line in diff.split("\n"):
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        out.append("    " + line + "\n", style=style)
    return out


def _print_report(report: drift.DriftReport) -> None:
    for d in report.differences:
        head = Text()
        head.append(f"{d.state:<8}", style=f"bold {_STATE_STYLE.get(d.state, '')}")
        head.append(f" {d.kind} ", style="bold")
        head.append(d.name)
        console.print(head, soft_wrap=True)
        if d.kind == "migration":
            console.print(Text("    " + d.diff), soft_wrap=True)
        else:
            console.print(_diff_text(d.diff), end="", soft_wrap=True)
    for i in report.info:
        console.print(Text(f"info: {i.kind} {i.name}: {i.message}", style="dim"), soft_wrap=True)
    if report.clean:
        console.print(
            Text(
                f"no drift: {report.database} matches the repo "
                f"({report.compared} object(s) compared)",
                style="green",
            ),
            soft_wrap=True,
        )
    else:
        console.print(
            Text(
                f"drift: {len(report.differences)} difference(s) between {report.database} "
                f"and the repo's head ({report.head}); '-' lines are the repo, '+' the server",
                style="bold red",
            ),
            soft_wrap=True,
        )


@click.command("drift")
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="PATTERN",
    help="Leave objects whose name matches this glob out of the comparison (repeatable).",
)
@click.option(
    "--sql",
    "as_sql",
    is_flag=True,
    help="Print the statements that bring the server to the repo's schema; runs nothing.",
)
@click.option(
    "--write-migration",
    "migration_name",
    metavar="NAME",
    help="Capture the tables/views changed by hand on the server as migrations/NNNN_NAME.sql "
    "+ its rollback, recorded as applied on this server.",
)
@dsn_option
@project_option
@json_option
@pass_ctx
def command(
    ctx: Context,
    ignore: tuple[str, ...],
    as_sql: bool,
    migration_name: str | None,
    as_json: bool,
) -> None:
    """Compare the live database with what the repo's migrations and object files define.

    The repo is applied to a scratch database on the same server (created and dropped by this
    command, so the user needs CREATE and DROP), then tables, views, procedures, functions,
    triggers and events are compared by their normalised SHOW CREATE output. Monthly range
    partitions are reported, not compared. Pending migrations count as drift.

    --sql prints, instead of the diff, a script for the mysql/mariadb client that brings the
    server to the repo (indexes, columns, partitioning, table options; procedures, triggers
    and events from the repo's files); statements that would destroy data are written
    commented out. --write-migration NAME does the opposite: what was changed by hand on the
    server becomes the repo's next migration (and rollback), recorded as applied there.

    Exits 0 when the database matches, 1 when anything differs (after --write-migration:
    when something was left that a migration does not capture).
    """
    if as_sql and migration_name is not None:
        raise UsageError("use either --sql or --write-migration, not both")
    if migration_name is not None:
        newfile.check_name(migration_name)
        _write_migration(ctx, migration_name, ignore, as_json)
        return
    progress = None if as_json else err_console.print
    dsn = ctx.dsn()
    if as_sql:
        report, steps = capture.repo_sql(dsn, ctx.project(), ignore=ignore, progress=progress)
        if as_json:
            print_json({**report.as_dict(), "sql": [s.as_dict() for s in steps]})
        else:
            where = f"{dsn.database} on {dsn.address}"
            click.echo(capture.render_repo_sql(report, steps, where), nl=False)
    else:
        report = drift.check(dsn, ctx.project(), ignore=ignore, progress=progress)
        if as_json:
            print_json(report.as_dict())
        else:
            _print_report(report)
    if not report.clean:
        raise SystemExit(1)


def _write_migration(ctx: Context, name: str, ignore: tuple[str, ...], as_json: bool) -> None:
    progress = None if as_json else err_console.print
    got = capture.write_migration(ctx.dsn(), ctx.project(), name, ignore=ignore,
                                  progress=progress)  # fmt: skip
    if as_json:
        print_json(got.as_dict())
    else:
        if got.migration_id is None:
            console.print("nothing to capture: no table, view or sequence differs", style="green")
        else:
            console.print(f"wrote {got.path}\nwrote {got.rollback}", highlight=False)
            console.print(
                f"recorded {got.migration_id} as applied on {got.report.database} "
                "(it has the change already)", highlight=False,
            )  # fmt: skip
        for d in got.not_captured:
            console.print(
                Text(f"not captured: {d.state} {d.kind} {d.name} (edit its file in the repo, "
                     "or `ticketdb drift --sql` to restore the repo's)", style="yellow"),
                soft_wrap=True,
            )  # fmt: skip
    if got.not_captured:
        raise SystemExit(1)
