from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register


@register
class UpdateDeleteWithoutWhere(Rule):
    """UPDATE or DELETE without WHERE changes every row (rollback files are exempt).

    A ``LIMIT`` (batched ``DELETE … LIMIT n``, ``UPDATE … ORDER BY … LIMIT n``) or a join
    condition of a multi-table ``UPDATE … JOIN … ON … SET`` bounds the rows, so those are quiet;
    a LEFT JOIN does not.

    **Anti-pattern**

    .. code-block:: sql

        UPDATE service_tickets SET current_status = 'closed';

    **Best practice**

    .. code-block:: sql

        UPDATE service_tickets SET current_status = 'closed'
        WHERE current_status = 'resolved' AND updated_at < NOW() - INTERVAL 30 DAY;
    """

    code = "TDB007"
    name = "update-delete-without-where"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        if ctx.file.role == "rollback":
            return
        for unit in ctx.statement.units:
            tree = unit.tree
            if not isinstance(tree, exp.Update | exp.Delete) or _bounded(tree):
                continue
            if not tree.args.get("where"):
                verb = "UPDATE" if isinstance(tree, exp.Update) else "DELETE"
                target = tree.this.name if tree.this is not None else "?"
                yield unit.offset, f"{verb} of {target} without WHERE changes every row"


def _bounded(tree: exp.Update | exp.Delete) -> bool:
    """LIMIT, or an inner join condition (ON/USING) of a multi-table statement (an outer join
    keeps every row of its side)."""
    if tree.args.get("limit") is not None:
        return True
    joins = tree.this.args.get("joins") if isinstance(tree.this, exp.Table) else None
    return any(
        (j.args.get("on") is not None or j.args.get("using")) and not j.side for j in joins or []
    )
