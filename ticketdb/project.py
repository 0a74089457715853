"""Where the project's SQL lives (migrations/, procedures/, triggers/, events/, queries/), and
its named environments (pyproject.toml / ticketdb.toml)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ticketdb import PROJECT_ROOT
from ticketdb.errors import TicketdbError, UsageError

ENV_PROJECT = "TICKETDB_PROJECT"
#: Repeatable object folders in apply order: routines first (triggers and events call them).
REPEATABLE_DIRS = ("procedures", "triggers", "events")


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    @property
    def queries(self) -> Path:
        return self.root / "queries"

    def repeatable_dirs(self) -> list[Path]:
        return [self.root / d for d in REPEATABLE_DIRS]

    @classmethod
    def locate(cls, path: str | os.PathLike[str] | None = None) -> Project:
        """``--project`` beats ``TICKETDB_PROJECT`` beats the cwd (if it has migrations/)
        beats the checkout this package was installed from."""
        chosen = path or os.environ.get(ENV_PROJECT)
        if chosen:
            root = Path(chosen)
            if not (root / "migrations").is_dir():
                raise UsageError(f"{root} has no migrations/ folder")
            return cls(root.resolve())
        cwd = Path.cwd()
        if (cwd / "migrations").is_dir():
            return cls(cwd.resolve())
        return cls(PROJECT_ROOT)


def read_sql_file(path: Path) -> str:
    """A project file as text; bytes that are not UTF-8 are one clear error naming the file
    (never a traceback, never silently replaced characters)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TicketdbError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save the file as UTF-8"
        ) from None


def check_migration_files(folder: Path) -> None:
    """yoyo reads migrations itself and would die on a bad byte with a traceback: check first."""
    for path in sorted(folder.iterdir()):
        if path.suffix in (".sql", ".py") and path.is_file():
            read_sql_file(path)


# -- named environments -----------------------------------------------------------------------
ENV_NAME = "TICKETDB_ENV"
CONFIG_FILE = "ticketdb.toml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_KEYS = frozenset({"dsn"})


@dataclass(frozen=True)
class Environment:
    """``[tool.ticketdb.environments.<name>]`` (pyproject.toml) or ``[environments.<name>]``
    (ticketdb.toml): a DSN template whose ``${VAR}`` parts come from the process environment,
    so a secret stays in the CI's secret store and never in a file."""

    name: str
    template: str  # as written: safe to print (it names variables, holds no secret)
    source: str  # "pyproject.toml [tool.ticketdb.environments.prod]" …

    def expand(self, environ: Mapping[str, str] | None = None) -> str:
        """The DSN text with every ``${VAR}`` replaced; an unset or empty one is a usage
        error naming it (never a partial DSN). A variable in the credentials part is
        percent-encoded, so a password holding ``%``, ``@`` or ``:`` arrives unchanged."""
        env = os.environ if environ is None else environ
        missing = [v for v in _VAR.findall(self.template) if not env.get(v)]
        if missing:
            names = ", ".join(dict.fromkeys(missing))
            raise UsageError(
                f"environment {self.name!r} ({self.source}): variable(s) {names} not set "
                "(or empty); export them, e.g. from the CI's secrets"
            )
        scheme, sep, rest = self.template.partition("://")
        cut = rest.rfind("@") if sep else -1
        if cut < 0:
            return _VAR.sub(lambda m: env[m.group(1)], self.template)
        creds = _VAR.sub(lambda m: quote(env[m.group(1)], safe=""), rest[:cut])
        tail = _VAR.sub(lambda m: env[m.group(1)], rest[cut:])
        return f"{scheme}{sep}{creds}{tail}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from None


def environments(root: Path) -> dict[str, Environment]:
    """Every named environment of the project folder (both files; a name defined in both is
    an error rather than a silent choice)."""
    found: dict[str, Environment] = {}
    tables: list[tuple[str, Any]] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        section = _read_toml(pyproject).get("tool", {}).get("ticketdb", {})
        tables.append(("pyproject.toml [tool.ticketdb.environments", section.get("environments")))
    config = root / CONFIG_FILE
    if config.is_file():
        tables.append((f"{CONFIG_FILE} [environments", _read_toml(config).get("environments")))
    for where, table in tables:
        if table is None:
            continue
        if not isinstance(table, dict):
            raise UsageError(f"{where}]: expected a table of environments")
        for name, body in table.items():
            source = f"{where}.{name}]"
            if not isinstance(body, dict) or not isinstance(body.get("dsn"), str):
                raise UsageError(f'{source}: expected dsn = "mysql://user:${{VAR}}@host:port/db"')
            unknown = sorted(set(body) - _ENV_KEYS)
            if unknown:
                raise UsageError(f"{source}: unknown key(s) {', '.join(unknown)} (known: dsn)")
            if name in found:
                raise UsageError(f"environment {name!r} is defined twice: {found[name].source} "
                                 f"and {source}")  # fmt: skip
            found[name] = Environment(name, body["dsn"], source)
    return found


def environment(root: Path, name: str) -> Environment:
    """One environment by name; an unknown one is a usage error listing the known ones."""
    known = environments(root)
    if name not in known:
        listed = ", ".join(sorted(known)) or (
            f"none: define [tool.ticketdb.environments.{name}] in pyproject.toml "
            f"or [environments.{name}] in {CONFIG_FILE}"
        )
        raise UsageError(f"unknown environment {name!r} in {root} (known: {listed})")
    return known[name]
