"""``ticketdb doctor``: is this server fit for ticketdb?"""

from __future__ import annotations

import click
from rich.table import Table

from ticketdb.cli.common import Context, console, dsn_option, json_option, pass_ctx, print_json
from ticketdb.doctor import as_dicts, run_checks

_STYLE = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


@click.command("doctor")
@dsn_option
@json_option
@pass_ctx
def command(ctx: Context, as_json: bool) -> None:
    """Check server version, event_scheduler, strict sql_mode, local_infile and privileges.

    Exits 1 when any check fails: event_scheduler off (escalation and partition events would
    never run), a server sql_mode without STRICT_TRANS_TABLES, local_infile off, a missing
    privilege, a repeatable object (procedure, trigger, event) missing on the server, e.g.
    after a rollback it does not compile against. A database that does not exist yet is only a
    warning.
    """
    checks = run_checks(ctx.dsn())
    if as_json:
        print_json(as_dicts(checks))
    else:
        table = Table(title="ticketdb doctor")
        for col in ("check", "status", "detail"):
            table.add_column(col)
        for c in checks:
            table.add_row(c.name, _STYLE[c.status], c.detail)
        console.print(table)
    if any(c.status == "fail" for c in checks):
        raise SystemExit(1)
