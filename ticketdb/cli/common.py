"""Options and helpers every sub-command shares (``--dsn``, ``--project``, ``--json`` output)."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ticketdb.dsn import DSN
from ticketdb.project import ENV_NAME, Project

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

#: set by a command whose process holds nothing that needs tearing down (see skip_teardown)
_skip_teardown = False


def skip_teardown() -> None:
    """Let this process end without the interpreter's teardown once the command returns.

    ``lint`` keeps hundreds of thousands of parsed nodes alive (sqlglot trees are cyclic: every
    node points at its parent), and freeing them at exit took a quarter of a routine-heavy run.
    Only for commands that hold no server, lock, temporary directory or thread; output is
    flushed first, and the exit code is kept."""
    global _skip_teardown
    _skip_teardown = True


def teardown_skipped() -> bool:
    return _skip_teardown


def reset_teardown() -> None:
    """At the start of ``main``: a flag left by an earlier in-process invocation (tests run
    commands through CliRunner) must not end a later one's process."""
    global _skip_teardown
    _skip_teardown = False


#: Line width when the output is not a terminal and COLUMNS is not set: rich would assume 80
#: columns and fold table cells ("process|ing", a date over two lines) in pipes, files and CI logs.
PIPE_WIDTH = 1000


def _make_console(stderr: bool) -> Console:
    """Terminal: its width. Pipe or file: one table row per line (rows are grepped, not read)."""
    from rich.console import Console, ConsoleDimensions

    class _Console(Console):
        @property
        def size(self) -> ConsoleDimensions:
            size = super().size
            if not self.is_terminal and not os.environ.get("COLUMNS"):
                return ConsoleDimensions(PIPE_WIDTH, size.height)
            return size

        @size.setter
        def size(self, new_size: tuple[int, int]) -> None:
            Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    return _Console(stderr=stderr)


def __getattr__(name: str) -> Any:
    """``console`` and ``err_console`` are made on first use: importing rich costs every
    command's start-up, and ``lint`` never prints a table.

    Human output (tables, progress) goes to ``err_console`` (stderr) when stdout is reserved for
    data (JSON, DSN)."""
    if name in ("console", "err_console"):
        made = globals()[name] = _make_console(stderr=name == "err_console")
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Context:
    dsn_text: str | None = None
    project_path: str | None = None
    env_name: str | None = None

    def dsn(self, database: str | None = None) -> DSN:
        """A multi-host DSN (h1:p1,h2:p2,…) is narrowed to its first ready+Primary+Synced node."""
        from ticketdb.server import failover  # PyMySQL: only for the commands that connect
        from ticketdb.server.sandbox import resolve_dsn

        root = self.project().root if self.env_name or os.environ.get(ENV_NAME) else None
        return failover.pick(
            resolve_dsn(self.dsn_text, database, env=self.env_name, project_root=root)
        )

    def project(self) -> Project:
        return Project.locate(self.project_path)


def _ctx_obj(ctx: click.Context) -> Context:
    return ctx.ensure_object(Context)


def non_empty(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Option callback: `--opt "$UNSET"` is bad usage, never "the default"."""
    if value is not None and not value.strip():
        raise click.BadParameter("empty value")
    return value


def _set_dsn(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # `--dsn "$UNSET"` must not silently fall back to TICKETDB_DSN or the sandbox
    if value is not None:
        if not value.strip():
            raise click.BadParameter("empty value (expected mysql://user:pass@host:port/db)")
        _ctx_obj(ctx).dsn_text = value


def _set_env(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        if not value.strip():
            raise click.BadParameter("empty value (expected an environment name)")
        _ctx_obj(ctx).env_name = value


def _set_project(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        if not value.strip():
            raise click.BadParameter("empty value (expected a folder with migrations/)")
        _ctx_obj(ctx).project_path = value


def dsn_option(f: F) -> F:
    """``--dsn`` and ``--env``, accepted both before and after the sub-command name."""
    f = click.option(
        "--env",
        metavar="NAME",
        expose_value=False,
        callback=_set_env,
        help="A named environment of the project ([tool.ticketdb.environments.NAME] in "
        "pyproject.toml or ticketdb.toml; default: $TICKETDB_ENV when TICKETDB_DSN is unset).",
    )(f)
    return click.option(
        "--dsn",
        metavar="URL",
        expose_value=False,
        callback=_set_dsn,
        help="mysql://user:pass@host:port/db (default: --env, $TICKETDB_DSN, $TICKETDB_ENV, "
        "then the running sandbox).",
    )(f)


def project_option(f: F) -> F:
    return click.option(
        "--project",
        metavar="DIR",
        expose_value=False,
        callback=_set_project,
        type=click.Path(file_okay=False),
        help="Folder with migrations/, procedures/, triggers/, events/ (default: current dir).",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def folder_option(what: str, default: Path, env: str) -> Callable[[F], F]:
    """``--dir`` of the commands that run servers in a folder of their own (sandbox, cluster):
    one definition, so the option and its help read the same wherever it means the same."""
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"{what} folder (default: {default}/ or ${env}).",
    )


#: ``--yes`` of the commands that delete a folder with all its data after asking.
yes_option = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")


pass_ctx = click.make_pass_decorator(Context, ensure=True)


# -- option types: hostile values are usage errors (exit 2) before anything touches data -------
class FiniteFloat(click.FloatRange):
    """A real number in a range: ``nan`` passes every comparison (so FloatRange lets it
    through) and ``inf`` is no duration; both are refused with the range in the message."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("empty value", param, ctx)
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number ({self._describe_range()})", param, ctx)
        return rv


def seconds(low: float = 0, high: float = 86_400, *, zero: bool = False) -> FiniteFloat:
    """A duration in seconds: finite, above ``low`` (or equal, with ``zero``), at most ``high``."""
    return FiniteFloat(low, high, min_open=not zero)


def count(low: int, high: int) -> click.IntRange:
    """A whole number with both bounds: a huge value is a typo, never a request."""
    return click.IntRange(low, high)


#: Dates any option accepts: the partition scheme names months pYYYYMM and the tables hold
#: DATETIMEs of today's tickets; 1000-01-01 or 9999-12-31 are typos, not history.
EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(2099, 12, 31, 23, 59, 59)


class BoundedDateTime(click.DateTime):
    """click.DateTime limited to EARLIEST..LATEST."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("empty value", param, ctx)
        rv = super().convert(value, param, ctx)
        if not EARLIEST <= rv <= LATEST:
            self.fail(f"{value} is outside {EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}", param, ctx)
        return rv


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
