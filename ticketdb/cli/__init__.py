"""The ``ticketdb`` command: a thin click layer over the library.

Sub-commands live in ``ticketdb/cli/cmd_*.py``; each module exposes ``command`` (a click
command or group named like the module) and is picked up here, so adding a command never edits
this file. Modules are imported only when their command runs (``ticketdb lint`` must not pay
for PyMySQL, redis, httpx, yoyo and rich at every start); ``--help`` imports them all to show
their short help. Known failures are caught at one boundary and printed as one line: exit 1
for a failed operation or check, 2 for bad usage.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import sys
from typing import Any

import click

from ticketdb import __version__
from ticketdb.cli.common import (
    Context,
    dsn_option,
    project_option,
    reset_teardown,
    teardown_skipped,
)
from ticketdb.errors import Terminated, TicketdbError

#: ``ticketdb.cli.cmd_<name>`` defines the command ``<name>``.
_PREFIX = "cmd_"


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


def _pymysql_errors(name: str) -> tuple[type[BaseException], ...]:
    """PyMySQL's exception class ``name``, if PyMySQL was imported at all: a command that never
    imported it cannot have raised one, and importing it only to compare costs every start."""
    pymysql = sys.modules.get("pymysql")
    return (getattr(pymysql.err, name),) if pymysql is not None else ()


def _closed_by_signal(exc: BaseException) -> bool:
    """PyMySQL's InterfaceError on a connection the signal closed mid-query: noise, not a
    failed clean-up."""
    return isinstance(exc, _pymysql_errors("InterfaceError"))


def _command_modules() -> list[str]:
    import ticketdb.cli as pkg

    return sorted(
        info.name for info in pkgutil.iter_modules(pkg.__path__) if info.name.startswith(_PREFIX)
    )


class _Root(click.Group):
    """Lists commands from the module names and imports only the one asked for (click's
    lazy-loading group pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *(m.removeprefix(_PREFIX) for m in _command_modules())})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and f"{_PREFIX}{cmd_name}" in _command_modules():
            module = importlib.import_module(f"ticketdb.cli.{_PREFIX}{cmd_name}")
            command: click.Command = module.command
            if command.name != cmd_name:  # a renamed command would be unreachable by its name
                raise RuntimeError(f"{module.__name__} defines {command.name!r}, not {cmd_name!r}")
            self.add_command(command)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        # evaluated only when something was raised, so PyMySQL is looked up lazily too
        except (TicketdbError, KeyboardInterrupt, *_pymysql_errors("MySQLError")) as exc:
            sig = _signal_behind(exc)
            if sig is not None:
                terminated = isinstance(sig, Terminated)
                what = "terminated (SIGTERM)" if terminated else "interrupted"
                if exc is sig or _closed_by_signal(exc):
                    msg = f"{what}: cleaned up" if terminated else what
                else:  # the clean-up itself failed: say so, never claim it finished
                    from ticketdb.db import sql_error

                    detail = exc if isinstance(exc, TicketdbError) else sql_error(exc)
                    msg = f"{what}, but the clean-up failed: {detail}"
                click.secho(msg, fg="red", err=True)
                ctx.exit(143 if terminated else 130)
            if isinstance(exc, TicketdbError):
                click.secho(f"error: {exc}", fg="red", err=True)
                ctx.exit(exc.exit_code)
            from ticketdb.db import sql_error

            click.secho(f"error: {sql_error(exc)}", fg="red", err=True)
            ctx.exit(1)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ticketdb")
@dsn_option
@project_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Schema-as-code for a MySQL/MariaDB customer-service ticket database.

    The database is chosen in this order: --dsn or --env NAME (a named environment of the
    project: [tool.ticketdb.environments.NAME] in pyproject.toml, or ticketdb.toml), the
    TICKETDB_DSN environment variable, TICKETDB_ENV, then the running sandbox (`ticketdb
    sandbox start`). SQL comes from the project folder (--project,
    TICKETDB_PROJECT, or the current directory when it has migrations/).
    """
    ctx.ensure_object(Context)


def load_all_commands() -> dict[str, click.Command]:
    """Every command, imported (for the generated reference and tests that walk them all)."""
    ctx = click.Context(cli)
    return {name: cmd for name in cli.list_commands(ctx) if (cmd := cli.get_command(ctx, name))}


def _on_sigterm(_signum: int, _frame: Any) -> None:
    # once: a second SIGTERM must not abort the clean-up the first one started (SIGKILL still
    # stops everything, and the next run repairs what it left)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    reset_teardown()
    try:
        cli.main(prog_name="ticketdb")
    except BrokenPipeError:  # `ticketdb … | head`
        sys.exit(0)
    except SystemExit as exc:
        if teardown_skipped():
            _exit_now(exc.code)
        raise


def _exit_now(code: object) -> None:
    """End the process as ``sys.exit(code)`` would, minus the teardown (see skip_teardown)."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or 0
    os._exit(code or 0)
