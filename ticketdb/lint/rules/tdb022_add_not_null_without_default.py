from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import existing_alter
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
        alter = existing_alter(ctx)
        if alter is None:
            return
        table = alter.tree.this.name  # as the ALTER spells it
        for a in alter.actions:
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
                yield (
                    alter.offset_of(a),
                    (
                        f"ADD COLUMN {table}.{a.name} NOT NULL without DEFAULT: existing "
                        "rows get an implicit value and INSERTs of running code that omit it fail"
                    ),
                )
