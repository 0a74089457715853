"""``ticketdb grants``: the least-privilege accounts (grants/*.sql) applied idempotently."""

from __future__ import annotations

import click

from ticketdb import grants as gr
from ticketdb.cli.common import (
    Context,
    console,
    dsn_option,
    err_console,
    json_option,
    non_empty,
    pass_ctx,
    print_json,
    project_option,
)

_host_option = click.option(
    "--host",
    default="%",
    callback=non_empty,
    show_default=True,
    help="Host part of the accounts ('%' = any, or e.g. 10.0.%.% / app-server.example).",
)
_user_option = click.option(
    "--user",
    "users",
    multiple=True,
    type=click.Choice(list(gr.USERS)),
    help="Only this account (repeatable; default: all three).",
)


@click.group()
def command() -> None:
    """Least-privilege accounts for the DSN's schema (docs/operations.md).

    ticketdb_migrator (DDL on the schema), ticketdb_app (EXECUTE on the workflow procedures and
    the DML it needs; no DDL, no DELETE), ticketdb_reporter (EXECUTE on report_run only: reads
    reports, locks nothing). Passwords come from TICKETDB_MIGRATOR_PASSWORD,
    TICKETDB_APP_PASSWORD, TICKETDB_REPORTER_PASSWORD.
    """


command.name = "grants"


@command.command()
@_host_option
@_user_option
@click.option(
    "--reset",
    is_flag=True,
    help="Revoke everything first, so privileges removed "
    "from a grant file are removed from the account too.",
)
@dsn_option
@project_option
@json_option
@pass_ctx
def apply(ctx: Context, host: str, users: tuple[str, ...], reset: bool, as_json: bool) -> None:
    """Create or update the accounts (CREATE USER IF NOT EXISTS, ALTER USER, GRANT).

    Run after `migrate up`: grants on tables or procedures that do not exist yet are skipped
    and listed. Re-running is safe; it also sets each password to the environment's value.
    """
    dsn = ctx.dsn()
    results = gr.apply(dsn, ctx.project().root, host=host, users=list(users) or None, reset=reset)
    if as_json:
        print_json([r.as_dict() for r in results])
        return
    for r in results:
        err_console.print(
            f"{r.user}@{r.host}: {r.statements} statement(s) on {dsn.database}", highlight=False
        )
        for s in r.skipped:
            err_console.print(f"  [yellow]skipped[/] grant on missing {s}", highlight=False)


@command.command()
@_host_option
@_user_option
@dsn_option
@project_option
@pass_ctx
def plan(ctx: Context, host: str, users: tuple[str, ...]) -> None:
    """Print the SQL `grants apply` would run (passwords shown as '***')."""
    console.print(
        gr.plan(ctx.project().root, ctx.dsn().database, host=host, users=list(users) or None),
        highlight=False,
        markup=False,
    )
