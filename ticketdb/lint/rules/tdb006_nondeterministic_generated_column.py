from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register

NONDETERMINISTIC = {
    "NOW", "SYSDATE", "CURDATE", "CURTIME", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
    "CURRENTDATE", "CURRENTTIME", "CURRENTTIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP",
    "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP", "UNIX_TIMESTAMP", "RAND", "UUID", "UUID_SHORT",
    "USER", "CURRENT_USER", "CURRENTUSER", "SESSION_USER", "SYSTEM_USER", "CONNECTION_ID",
    "LAST_INSERT_ID", "FOUND_ROWS", "ROW_COUNT", "DATABASE", "SCHEMA", "VERSION", "GET_LOCK",
    "SLEEP", "BENCHMARK", "NEXTVAL", "LASTVAL", "RANDOM_BYTES", "LOAD_FILE",
}  # fmt: skip


#: functions MySQL also accepts without parentheses; any other bare name is a column
NILADIC = {
    "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP",
    "CURRENT_USER", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP",
}  # fmt: skip


def _name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).upper()
    if isinstance(node, exp.Func):
        return node.sql_name().upper()
    if isinstance(node, exp.Column) and not node.table or isinstance(node, exp.Var):
        quoted = isinstance(node, exp.Column) and node.this.args.get("quoted")
        name = node.name.upper()
        return name if name in NILADIC and not quoted else ""
    return ""


@register
class NondeterministicGeneratedColumn(Rule):
    """A generated column uses a non-deterministic function (NOW(), RAND(), UUID(), USER() …).

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets
            ADD COLUMN age_hours INT
                GENERATED ALWAYS AS (TIMESTAMPDIFF(HOUR, created_at, NOW())) VIRTUAL;

    **Best practice**

    .. code-block:: sql

        -- compute time-relative values in the query, not in the table
        SELECT id, TIMESTAMPDIFF(HOUR, created_at, NOW()) AS age_hours FROM service_tickets;
    """

    code = "TDB006"
    name = "nondeterministic-generated-column"
    severity = "error"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        for unit in ctx.statement.units:
            if unit.tree is None:
                continue
            for cc in unit.find_all(exp.ComputedColumnConstraint):
                coldef = cc.find_ancestor(exp.ColumnDef)
                col = coldef.name if coldef is not None else "?"
                for node in cc.this.walk():
                    name = _name(node)
                    if name in NONDETERMINISTIC:
                        shown = node.sql("mysql") if len(node.sql("mysql")) < 40 else name
                        at = unit.offset_of(node)
                        if at == unit.offset and coldef is not None:
                            at = unit.offset_of(coldef)  # CURRENT_DATE etc. carry no position
                        yield (
                            at,
                            (f"generated column `{col}` uses non-deterministic {shown}"),
                        )
                        break
