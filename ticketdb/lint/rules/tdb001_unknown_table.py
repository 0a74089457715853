from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import ProjectContext, StatementContext
from ticketdb.lint.helpers import problems
from ticketdb.lint.registry import Rule, register


@register
class UnknownTable(Rule):
    """A statement, routine bodies and trigger targets included, names a table that does not exist.

    The schema is what the versioned migrations build, in order, plus the CREATE statements of
    the linted files; a migration is checked against the schema as it is before it runs.

    **Anti-pattern**

    .. code-block:: sql

        INSERT INTO ticket_log (ticket_id, action_type) VALUES (1, 'reply');

    **Best practice**

    .. code-block:: sql

        INSERT INTO ticket_logs (ticket_id, action_type) VALUES (1, 'reply');
    """

    code = "TDB001"
    name = "unknown-table"
    severity = "error"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        r = st.routine
        if r is not None and r.kind == "TRIGGER" and r.table and ctx.schema.table(r.table) is None:
            tok = next((t for t in st.tokens if t.upper == "ON"), st.tokens[0])
            yield tok.offset, f"trigger {r.name} is on unknown table `{r.table}`"
        for p in problems(ctx):
            if p.kind == "table":
                yield p.offset, p.message

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        # FOREIGN KEY targets are checked on the final schema: a dump creates tables in any
        # order under FOREIGN_KEY_CHECKS=0
        for t in ctx.schema.tables.values():
            if t.temporary:
                continue
            for fk in t.fks:
                if fk.ref_db:
                    continue  # another database's table: not in this model
                if fk.ref_table and ctx.schema.table(fk.ref_table) is None:
                    yield (
                        fk.path or t.path,
                        fk.offset,
                        (f"FOREIGN KEY of `{t.name}` references unknown table `{fk.ref_table}`"),
                    )
