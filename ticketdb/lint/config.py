"""Rule severities from the project's pyproject.toml (``[tool.ticketdb.lint]``) and from the
command line, checked against the rule registry before anything is linted."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the same parser, published as tomli before 3.11
    import tomli as tomllib

from ticketdb.errors import UsageError
from ticketdb.lint.findings import LEVELS
from ticketdb.lint.registry import load_rules
from ticketdb.project import Project


def config_levels(project: Project) -> dict[str, str]:
    """``[tool.ticketdb.lint]`` of the project's pyproject.toml: code (or rule name) -> level."""
    pyproject = project.root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{pyproject}: {exc}") from None
    section = data.get("tool", {}).get("ticketdb", {}).get("lint", {})
    return normalise_levels(
        {k: v for k, v in section.items() if not isinstance(v, dict)},
        f"{pyproject} [tool.ticketdb.lint]",
    )


def normalise_levels(levels: dict[str, object], where: str) -> dict[str, str]:
    rules = load_rules()
    by_name = {r.name: code for code, r in rules.items()}
    out: dict[str, str] = {}
    for key, value in levels.items():
        code = key.upper() if key.upper() in rules else by_name.get(key)
        if code is None:
            raise UsageError(f"{where}: unknown rule {key!r} (see `ticketdb lint --list-rules`)")
        if not isinstance(value, str) or value.lower() not in LEVELS:
            raise UsageError(f"{where}: {key} = {value!r}: expected one of {', '.join(LEVELS)}")
        out[code] = value.lower()
    return out
