from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import ProjectContext
from ticketdb.lint.registry import Rule, register
from ticketdb.lint.typeinfo import narrowing


@register
class DestructiveSinceRef(Rule):
    """(--diff) Since the base ref, a table/column was dropped, a type narrowed or a value removed.

    Reported at the migration that made the change (or the first migration changed since the
    ref), so a reviewer sees what the branch destroys, whatever migration did it.

    **Anti-pattern**

    .. code-block:: sql

        -- new on this branch
        ALTER TABLE service_tickets
            MODIFY priority ENUM('urgent', 'high', 'low') NOT NULL;

    **Best practice**

    .. code-block:: sql

        -- keep the value until no row uses it, then remove it in a reviewed migration
        -- ticketdb: allow TDB016 no ticket has priority 'medium' since 2026-01 (checked)
        ALTER TABLE service_tickets
            MODIFY priority ENUM('urgent', 'high', 'low') NOT NULL;
    """

    code = "TDB016"
    name = "destructive-since-ref"
    severity = "warning"

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        diff = ctx.diff
        if diff is None:
            return
        now = ctx.schema
        fallback = next((p for p in diff.changed if p in ctx.files and "migrations" in p), None)

        def where(table: str, column: str = "") -> tuple[str, int] | None:
            loc = now.touched.get((table.lower(), column.lower()))
            if loc is None and column:
                loc = now.touched.get((table.lower(), ""))
            if loc is not None and loc[0] in ctx.files:
                return loc
            return (fallback, 0) if fallback else None

        for key, old in diff.ref_schema.tables.items():
            if old.temporary:
                continue
            new = now.tables.get(key)
            if new is None:
                loc = where(old.name)
                if loc:
                    yield loc[0], loc[1], f"table `{old.name}` existed at {diff.ref} and is dropped"
                continue
            for ckey, col in old.columns.items():
                ncol = new.columns.get(ckey)
                if ncol is None:
                    loc = where(old.name, col.name)
                    if loc:
                        yield (
                            loc[0],
                            loc[1],
                            (
                                f"column `{old.name}.{col.name}` existed at {diff.ref} "
                                "and is dropped"
                            ),
                        )
                elif col.dtype is not None and ncol.dtype is not None:
                    why = narrowing(col.dtype, ncol.dtype)
                    if why:
                        loc = where(old.name, col.name)
                        if loc:
                            yield loc[0], loc[1], f"`{old.name}.{col.name}` since {diff.ref}: {why}"
