from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.registry import Rule, register

#: yoyo's directive lines: leading ``-- depends: a b`` comments (before the first statement)
_DIRECTIVE = re.compile(r"^[ \t]*--[ \t]*depends[ \t]*:[ \t]*(.*)$", re.M)
_COMMENT_OR_EMPTY = re.compile(r"^(\s*|\s*--.*)$")
_NUMBER = re.compile(r"^(\d+)_")


def sql_depends(text: str) -> list[tuple[int, str]]:
    """(offset, id) of each id named in the leading ``-- depends:`` lines, as yoyo reads them."""
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        m = _DIRECTIVE.match(line.rstrip("\r\n"))
        if m:
            start = pos + m.start(1)
            for w in re.finditer(r"\S+", m.group(1)):
                out.append((start + w.start(), w.group(0)))
        elif not _COMMENT_OR_EMPTY.match(line.rstrip("\r\n")):
            break
        pos += len(line)
    return out


def py_depends(text: str) -> list[tuple[int, str]]:
    """``__depends__ = {"a", "b"}`` (or a list, tuple or one string) of a Python migration."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out = []
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        if not any(isinstance(t, ast.Name) and t.id == "__depends__" for t in node.targets):
            continue
        values = (
            node.value.elts
            if isinstance(node.value, ast.Set | ast.List | ast.Tuple)
            else [node.value]
        )
        for v in values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                out.append((starts[v.lineno - 1] + v.col_offset, v.value))
    return out


def migration_ids(names: set[str]) -> set[str]:
    """Ids of the migration files among ``names`` (rollback files are not migrations)."""
    return {
        n.rsplit(".", 1)[0]
        for n in names
        if n.endswith((".sql", ".py")) and not n.endswith(".rollback.sql") and n[:1] != "_"
    }


@register
class BrokenDepends(Rule):
    """A ``-- depends:`` names a migration that does not exist, or one numbered after this one.

    yoyo refuses to load any migration when one names an unknown dependency ("Could not resolve
    dependencies"), so every ``migrate`` command stops; a dependency on a later number runs the
    migrations out of their number order. ``ticketdb migrate new`` writes the right header.

    **Anti-pattern**

    .. code-block:: sql

        -- migrations/0009_agent_notes.sql (the file is 0008_agents.sql)
        -- depends: 0008_agent
        ALTER TABLE agents ADD COLUMN notes TEXT NULL;

    **Best practice**

    .. code-block:: sql

        -- depends: 0008_agents
        ALTER TABLE agents ADD COLUMN notes TEXT NULL;
    """

    code = "TDB033"
    name = "broken-depends"
    severity = "error"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        src = ctx.file
        if src.role != "migration":
            return
        deps = sql_depends(src.text) if src.path.suffix == ".sql" else py_depends(src.text)
        ids = migration_ids(ctx.siblings | {src.path.name})
        mine = _NUMBER.match(src.path.name)
        for offset, dep in deps:
            if dep not in ids:
                close = sorted(i for i in ids if i.split("_", 1)[0] == dep.split("_", 1)[0])
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                yield offset, f"depends on {dep}, which is not a migration in this folder{hint}"
                continue
            theirs = _NUMBER.match(dep)
            if mine and theirs and int(theirs.group(1)) >= int(mine.group(1)):
                yield offset, f"depends on {dep}, numbered after (or as) this migration"
