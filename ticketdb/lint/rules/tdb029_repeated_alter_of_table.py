from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import alter_table, earlier, existing_in, index_target
from ticketdb.lint.registry import Rule, register


@register
class RepeatedAlterOfTable(Rule):
    """One migration alters the same existing table more than once.

    Each ALTER (and CREATE/DROP INDEX) is its own metadata lock, and often its own rebuild of
    the whole table; one ALTER with several comma-separated actions does the work once.

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD COLUMN channel VARCHAR(20) NULL;
        ALTER TABLE service_tickets ADD KEY idx_channel (channel);

    **Best practice**

    .. code-block:: sql

        ALTER TABLE service_tickets
            ADD COLUMN channel VARCHAR(20) NULL,
            ADD KEY idx_channel (channel),
            ALGORITHM = INPLACE, LOCK = NONE;
    """

    code = "TDB029"
    name = "repeated-alter-of-table"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        table = _altered(st)
        if table is None or existing_in(ctx, table) is None:
            return
        for prev in earlier(ctx):
            if (_altered(prev) or "").lower() == table.lower():
                line, _ = ctx.file.position(prev.offset)
                yield (
                    st.offset,
                    (
                        f"`{table}` is altered again (first on line {line}): "
                        "merge the ALTERs into one"
                    ),
                )
                return


def _altered(st) -> str | None:  # type: ignore[no-untyped-def]
    alter = alter_table(st)
    return alter.table if alter is not None else index_target(st)
