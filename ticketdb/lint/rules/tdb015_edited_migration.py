from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ticketdb.lint.context import FileContext, ProjectContext
from ticketdb.lint.registry import Rule, register
from ticketdb.sqlscript import SplitError, tokenize


@register
class EditedMigration(Rule):
    """(--diff) A migration that existed at the base ref was edited: applied servers never see it.

    **Anti-pattern**

    .. code-block:: sql

        -- editing migrations/0002_ticket_logs.sql after it shipped
        CREATE TABLE ticket_logs (..., note VARCHAR(1000) NULL, ...);

    **Best practice**

    .. code-block:: sql

        -- a new migration, migrations/0008_longer_log_note.sql
        ALTER TABLE ticket_logs MODIFY note VARCHAR(1000) NULL;
    """

    code = "TDB015"
    name = "edited-migration"
    severity = "error"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        diff = ctx.diff
        src = ctx.file
        if diff is None or src.role not in ("migration", "rollback"):
            return
        if src.display not in diff.base_texts:
            return
        old = diff.base_texts[src.display]
        if old is None or old == src.text:
            return
        if src.path.suffix == ".sql" and (sql := _sql_only(old)) is not None:
            if sql == _sql_only(src.text):
                return  # only comments changed (a reason, a suppression): the same SQL runs
        old_lines, new_lines = old.splitlines(), src.text.splitlines()
        line = next(
            (i + 1 for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)) if a != b),
            min(len(old_lines), len(new_lines)) + 1,
        )
        what = "rollback of an applied migration" if src.role == "rollback" else "applied migration"
        yield (
            src.offset_at(line),
            (f"{what} edited since {diff.ref}: write a new migration instead"),
        )

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        diff = ctx.diff
        if diff is None:
            return
        for path, old in diff.base_texts.items():
            if old is not None and path not in ctx.files and not Path(path).exists():
                yield (
                    path,
                    0,
                    f"migration deleted since {diff.ref}: servers that applied it keep it",
                )


def _sql_only(text: str) -> str | None:
    """The statements' tokens without comments and layout (None when it cannot be lexed)."""
    try:
        toks = tokenize(text, directives=True)
    except SplitError:
        return None
    return " ".join(t.text for t in toks if t.kind not in ("ws", "comment"))
