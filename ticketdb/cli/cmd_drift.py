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
@dsn_option
@project_option
@json_option
@pass_ctx
def command(ctx: Context, ignore: tuple[str, ...], as_json: bool) -> None:
    """Compare the live database with what the repo's migrations and object files define.

    The repo is applied to a scratch database on the same server (created and dropped by this
    command, so the user needs CREATE and DROP), then tables, views, procedures, functions,
    triggers and events are compared by their normalised SHOW CREATE output. Monthly range
    partitions are reported, not compared. Pending migrations count as drift.

    Exits 0 when the database matches, 1 when anything differs.
    """
    report = drift.check(
        ctx.dsn(),
        ctx.project(),
        ignore=ignore,
        progress=None if as_json else err_console.print,
    )
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if not report.clean:
        raise SystemExit(1)
