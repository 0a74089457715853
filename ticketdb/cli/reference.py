"""Generate docs/cli.md from the click commands, so the reference can never drift from the code.

``make docs`` (or ``python -m ticketdb.cli.reference > docs/cli.md``); a test checks it is current.
"""

from __future__ import annotations

import click

from ticketdb.cli import cli


def _walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)  # the root group imports its commands only when asked
        for name in sorted(cmd.list_commands(ctx)):
            sub = cmd.get_command(ctx, name)
            if sub is not None:
                out.extend(_walk(sub, [*path, name]))
    return out


def render() -> str:
    lines = [
        "# ticketdb CLI reference",
        "",
        "Generated from the code by `make docs`; do not edit by hand.",
        "",
    ]
    for path, cmd in _walk(cli, ["ticketdb"]):
        name = " ".join(path)
        ctx = click.Context(
            cmd,
            info_name=name,
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],
        )
        lines += [f"## `{name}`", "", "```text", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
