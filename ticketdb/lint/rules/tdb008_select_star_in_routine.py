from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register


@register
class SelectStarInRoutine(Rule):
    """``SELECT *`` in a routine body: its result changes shape when a column is added.

    ``COUNT(*)`` and ``EXISTS (SELECT * …)`` are fine.

    **Anti-pattern**

    .. code-block:: sql

        CREATE PROCEDURE open_tickets()
        BEGIN
            SELECT * FROM service_tickets WHERE current_status = 'pending';
        END

    **Best practice**

    .. code-block:: sql

        CREATE PROCEDURE open_tickets()
        BEGIN
            SELECT id, title, priority FROM service_tickets WHERE current_status = 'pending';
        END
    """

    code = "TDB008"
    name = "select-star-in-routine"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        if st.routine is None:
            return
        for unit in st.units:
            if unit.tree is None:
                continue
            for select in unit.find_all(exp.Select):
                if select.find_ancestor(exp.Exists) is not None:
                    continue
                for e in select.expressions:
                    if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star):
                        yield (
                            unit.offset_of(select),
                            (
                                f"SELECT * in {st.routine.kind.lower()} {st.routine.name}: "
                                "list the columns"
                            ),
                        )
                        break
