"""The ``ticketdb`` command: a thin click layer over the library.

Sub-commands live in ``ticketdb/cli/cmd_*.py``; each module exposes ``command`` (a click
command or group) and is picked up here, so adding a command never edits this file. Known
failures are caught at one boundary and printed as one line: exit 1 for a failed operation or
check, 2 for bad usage.
"""

from __future__ import annotations

import importlib
import pkgutil
import signal
import sys
from typing import Any

import click
import pymysql

from ticketdb import __version__
from ticketdb.cli.common import Context, dsn_option, project_option
from ticketdb.db import sql_error
from ticketdb.errors import Terminated, TicketdbError


def _signal_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """A signal that interrupted a query closes PyMySQL's connection; a ``finally`` that then
    uses it raises InterfaceError(0, '') on top. Report the signal, not that."""
    seen: BaseException | None = exc
    for _ in range(20):
        if seen is None:
            return None
        if isinstance(seen, KeyboardInterrupt):
            return seen
        seen = seen.__context__
    return None


class _Root(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (TicketdbError, pymysql.err.MySQLError, KeyboardInterrupt) as exc:
            sig = _signal_behind(exc)
            if isinstance(sig, Terminated):
                click.secho("terminated (SIGTERM): cleaned up", fg="red", err=True)
                ctx.exit(143)
            if sig is not None:
                click.secho("interrupted", fg="red", err=True)
                ctx.exit(130)
            if isinstance(exc, TicketdbError):
                click.secho(f"error: {exc}", fg="red", err=True)
                ctx.exit(exc.exit_code)
            click.secho(f"error: {sql_error(exc)}", fg="red", err=True)
            ctx.exit(1)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ticketdb")
@dsn_option
@project_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Schema-as-code for a MySQL/MariaDB customer-service ticket database.

    The database is chosen in this order: --dsn, the TICKETDB_DSN environment variable, then the
    running sandbox (`ticketdb sandbox start`). SQL comes from the project folder (--project,
    TICKETDB_PROJECT, or the current directory when it has migrations/).
    """
    ctx.ensure_object(Context)


def _load_commands() -> None:
    import ticketdb.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"ticketdb.cli.{info.name}")
            cli.add_command(module.command)


_load_commands()


def _on_sigterm(_signum: int, _frame: Any) -> None:
    # once: a second SIGTERM must not abort the clean-up the first one started (SIGKILL still
    # stops everything, and the next run repairs what it left)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cli.main(prog_name="ticketdb")
    except BrokenPipeError:  # `ticketdb … | head`
        sys.exit(0)
