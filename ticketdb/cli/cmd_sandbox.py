"""``ticketdb sandbox``: the embedded throwaway server."""

from __future__ import annotations

from pathlib import Path

import click

from ticketdb.cli.common import err_console, folder_option, json_option, print_json, yes_option
from ticketdb.server.sandbox import DEFAULT_SANDBOX_DIR, ENV_SANDBOX_DIR, Sandbox, sandbox_dir

_dir_option = folder_option("Sandbox", DEFAULT_SANDBOX_DIR, ENV_SANDBOX_DIR)
_port_option = click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="TCP port on 127.0.0.1 (default: a free port, remembered across restarts).",
)


def _box(directory: Path | None, port: int | None = None) -> Sandbox:
    return Sandbox(directory or sandbox_dir(), port=port)


@click.group()
def command() -> None:
    """Run a throwaway MariaDB (or MySQL) server in a project-local folder.

    The server is started from the system's mariadbd/mysqld with event_scheduler=ON,
    local_infile=1 and a strict sql_mode. With no --dsn and no TICKETDB_DSN, every other
    command uses it.
    """


command.name = "sandbox"


@command.command()
@_dir_option
@_port_option
@click.option("--durable", is_flag=True,
              help="Production durability: binary log, sync_binlog=1, "
                   "innodb_flush_log_at_trx_commit=1 [default: flush=2, no binary log].")
def start(directory: Path | None, port: int | None, durable: bool) -> None:
    """Initialise (first time) and start the sandbox; print its DSN. Idempotent."""
    box = _box(directory, port)
    box.durable = durable
    was_running = box.is_running()
    dsn = box.start()
    err_console.print(
        f"sandbox {'already running' if was_running else 'started'} in {box.root} (port {dsn.port}"
        f"{', durable' if durable else ''})"
    )
    click.echo(dsn.url())


@command.command()
@_dir_option
def stop(directory: Path | None) -> None:
    """Shut the sandbox down cleanly (data is kept for the next start)."""
    box = _box(directory)
    stopped = box.stop()
    err_console.print("sandbox stopped" if stopped else "sandbox was not running")


@command.command()
@_dir_option
@json_option
def status(directory: Path | None, as_json: bool) -> None:
    """Say whether the sandbox runs, where, and on which port (exit 1 when it does not run)."""
    box = _box(directory)
    running = box.is_running()
    info = {
        "running": running,
        "dir": str(box.root),
        "port": box.resolved_port(),
        "pid": box.pid() if running else None,
        "durable": box.started_durable() if running else None,
        "dsn": box.dsn().url() if running else None,
    }
    if as_json:
        print_json(info)
    else:
        click.echo(
            f"running (pid {info['pid']}) {info['dsn']}" if running else f"not running ({box.root})"
        )
    if not running:
        raise SystemExit(1)


@command.command()
@_dir_option
def dsn(directory: Path | None) -> None:
    """Print the DSN of the running sandbox (for TICKETDB_DSN=$(ticketdb sandbox dsn))."""
    box = _box(directory)
    if not box.is_running():
        raise click.ClickException("sandbox is not running: run `ticketdb sandbox start`")
    click.echo(box.dsn().url())


@command.command()
@_dir_option
@yes_option
def destroy(directory: Path | None, yes: bool) -> None:
    """Stop the sandbox and delete its folder and all its data."""
    box = _box(directory)
    if not yes:
        click.confirm(f"delete {box.root} and all its data?", abort=True)
    box.destroy()
    err_console.print(f"removed {box.root}")
