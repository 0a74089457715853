"""``ticketdb lint``: offline checks of the project's SQL against its migrated schema."""

from __future__ import annotations

from pathlib import Path

import click

from ticketdb.cli.common import Context, pass_ctx, project_option, skip_teardown
from ticketdb.errors import UsageError
from ticketdb.lint import config, engine
from ticketdb.lint.discover import display_path
from ticketdb.lint.findings import LEVELS
from ticketdb.lint.output import FORMATS, render
from ticketdb.lint.registry import load_rules


def _rules_help() -> str:
    return ", ".join(f"{code} {cls.name}" for code, cls in load_rules().items())


def _parse_severity(values: tuple[str, ...]) -> dict[str, str]:
    raw: dict[str, object] = {}
    for v in values:
        code, sep, level = v.partition("=")
        if not sep:
            raise UsageError(f"--severity {v!r}: expected CODE=LEVEL (LEVEL: {', '.join(LEVELS)})")
        raw[code.strip()] = level.strip()
    return config.normalise_levels(raw, "--severity")


def list_rules(levels: dict[str, str]) -> str:
    lines = []
    for code, cls in load_rules().items():
        level = levels.get(code, cls.severity)
        lines.append(f"{code}  {cls.name:<34} {level:<8} {cls.description()}")
    return "\n".join(lines) + "\n"


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="text (path:line:col: CODE severity message), json, github (GitHub Actions "
    "annotations), or sarif (SARIF 2.1.0, paths relative to the project root).",
)  # fmt: skip
@click.option(
    "--diff", "diff_ref", metavar="GIT_REF",
    help="Lint only files changed since GIT_REF (plus untracked) and report destructive "
    "changes relative to the schema at GIT_REF.",
)  # fmt: skip
@click.option(
    "--severity", "severity", multiple=True, metavar="CODE=LEVEL",
    help=f"Override a rule's severity ({'|'.join(LEVELS)}); repeatable. Rules: {_rules_help()}.",
)  # fmt: skip
@click.option("--list-rules", is_flag=True, help="Print the rule registry and exit.")
@project_option
@pass_ctx
def command(
    ctx: Context,
    paths: tuple[Path, ...],
    fmt: str,
    diff_ref: str | None,
    severity: tuple[str, ...],
    list_rules: bool,
) -> None:
    """Lint migrations/, procedures/, triggers/, events/, queries/ (or PATHS) offline.

    The schema model is built from the versioned migrations in order, so any file can be linted
    alone against the project schema. Severities come from the rule registry, then
    [tool.ticketdb.lint] in the project's pyproject.toml, then --severity. Suppress one finding
    with `-- ticketdb: allow CODE reason` on its line or the line before.
    Exit 0 without error findings, 1 with any, 2 on bad usage.
    """
    skip_teardown()  # nothing here to close: the parsed trees need not be freed one by one
    project = ctx.project()
    levels = {**config.config_levels(project), **_parse_severity(severity)}
    if list_rules:
        click.echo(list_rules_text(levels), nl=False)
        return
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or directory")
    diff = None
    only = None
    if diff_ref:
        from ticketdb.lint.gitdiff import diff_info

        diff, only = diff_info(project.root, project.migrations, diff_ref, display_path)
    result = engine.lint(project, list(paths) or None, levels=levels, diff=diff, only=only)
    click.echo(render(result.findings, fmt, levels, project.root), nl=False)
    if fmt == "text":
        errors = result.errors
        others = len(result.findings) - errors
        click.echo(
            f"{len(result.files)} file(s) linted: {errors} error(s), {others} other finding(s)",
            err=True,
        )
    if result.errors:
        raise SystemExit(1)


list_rules_text = list_rules
