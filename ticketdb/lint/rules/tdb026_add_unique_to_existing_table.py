from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import alter_table, existing_in, index_target
from ticketdb.lint.registry import Rule, register


@register
class AddUniqueToExistingTable(Rule):
    """A UNIQUE key is added to an existing table.

    With duplicates already in the table the ALTER fails after scanning it all (or, with
    ``ALTER IGNORE`` on MariaDB, silently deletes the duplicate rows). Check for duplicates
    first, in the same release, and clean them on purpose.

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE customers ADD UNIQUE KEY uq_customers_email (email);

    **Best practice**

    .. code-block:: sql

        -- run first: SELECT email, COUNT(*) FROM customers GROUP BY email HAVING COUNT(*) > 1;
        ALTER TABLE customers ADD KEY idx_customers_email (email),
            ALGORITHM = INPLACE, LOCK = NONE;
    """

    code = "TDB026"
    name = "add-unique-to-existing-table"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        target = index_target(st)
        if target is not None and st.words[:2] == ["CREATE", "UNIQUE"]:
            if existing_in(ctx, target) is not None:
                yield st.offset, _message(target)
            return
        alter = alter_table(st)
        if alter is None or existing_in(ctx, alter.table) is None:
            return
        for a in alter.actions:
            ws = a.words
            if ws[:1] == ["ADD"] and "UNIQUE" in ws[:4]:
                yield a.offset, _message(alter.table)


def _message(table: str) -> str:
    return (
        f"UNIQUE key on existing table `{table}`: fails on existing duplicates "
        "(ALTER IGNORE deletes them); check for duplicates first"
    )
