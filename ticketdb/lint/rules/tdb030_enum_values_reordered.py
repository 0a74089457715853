from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import existing_alter
from ticketdb.lint.registry import Rule, register
from ticketdb.lint.typeinfo import enum_values


@register
class EnumValuesReordered(Rule):
    """ENUM/SET values are inserted mid-list or reordered (appending at the end is fine).

    InnoDB stores an ENUM as the value's position: a new value anywhere but the end renumbers
    the others, which rebuilds the table and changes ``ORDER BY`` and numeric comparisons of
    stored rows. Removing a value is TDB012's (destructive) business.

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets
            MODIFY priority ENUM('urgent', 'critical', 'high', 'medium', 'low') NOT NULL;

    **Best practice**

    .. code-block:: sql

        ALTER TABLE service_tickets
            MODIFY priority ENUM('urgent', 'high', 'medium', 'low', 'critical') NOT NULL,
            ALGORITHM = INSTANT;
    """

    code = "TDB030"
    name = "enum-values-reordered"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        alter = existing_alter(ctx)
        if alter is None:
            return
        table = alter.table
        for action in alter.actions:
            if not isinstance(action, exp.ModifyColumn):
                continue
            old_ref = action.args.get("rename_from")
            old = table.columns.get(
                (old_ref.name if old_ref is not None else action.this.name).lower()
            )
            new_type = action.this.args.get("kind")
            if old is None or old.dtype is None or new_type is None:
                continue
            before, after = enum_values(old.dtype), enum_values(new_type)
            if before is None or after is None or not set(before) <= set(after):
                continue
            if after[: len(before)] != before:
                yield (
                    alter.offset_of(action),
                    (
                        f"{table.name}.{old.name}: values inserted mid-list or reordered "
                        f"({', '.join(before)} -> {', '.join(after)}); append new values at the end"
                    ),
                )
