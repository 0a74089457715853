from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import existing_in
from ticketdb.lint.registry import Rule, register


@register
class AddNotNullWithoutDefault(Rule):
    """``ADD COLUMN … NOT NULL`` without a DEFAULT on an existing table.

    Existing rows get the type's implicit value ('' or 0, which the code never wrote), and every
    INSERT of the running application that does not name the new column fails in strict mode
    until the new code is deployed. Give it a DEFAULT (or add it NULL, backfill, then tighten).

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD COLUMN channel VARCHAR(20) NOT NULL,
            ALGORITHM = INSTANT;

    **Best practice**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD COLUMN channel VARCHAR(20) NOT NULL DEFAULT 'email',
            ALGORITHM = INSTANT;
    """

    code = "TDB022"
    name = "add-not-null-without-default"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        tree = st.tree
        if not isinstance(tree, exp.Alter) or not isinstance(tree.this, exp.Table):
            return
        if existing_in(ctx, tree.this.name) is None:
            return
        unit = st.units[0] if st.units else None
        for a in tree.args.get("actions") or []:
            if not isinstance(a, exp.ColumnDef):
                continue
            kinds = [type(c.kind) for c in a.constraints]
            not_null = any(
                isinstance(c.kind, exp.NotNullColumnConstraint)
                and not c.kind.args.get("allow_null")
                for c in a.constraints
            )
            exempt = {
                exp.DefaultColumnConstraint,
                exp.AutoIncrementColumnConstraint,
                exp.ComputedColumnConstraint,
            }
            if not_null and not exempt.intersection(kinds):
                at = unit.offset_of(a) if unit is not None else st.offset
                yield (
                    at,
                    (
                        f"ADD COLUMN {tree.this.name}.{a.name} NOT NULL without DEFAULT: existing "
                        "rows get an implicit value and INSERTs of running code that omit it fail"
                    ),
                )
