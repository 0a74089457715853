from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import ProjectContext, StatementContext
from ticketdb.lint.helpers import problems
from ticketdb.lint.registry import Rule, register


@register
class UnknownColumn(Rule):
    """A column reference does not resolve (unknown column, or a NEW./OLD. column of no table).

    Checked in every statement, inside procedure, function, trigger and event bodies too.
    Routine parameters, DECLAREd variables, ``@user`` variables and select-list aliases are
    not columns.

    **Anti-pattern**

    .. code-block:: sql

        CREATE TRIGGER t_bi BEFORE INSERT ON ticket_logs FOR EACH ROW
        BEGIN
            UPDATE service_tickets SET curent_status = 'processing' WHERE id = NEW.ticket_id;
        END

    **Best practice**

    .. code-block:: sql

        CREATE TRIGGER t_bi BEFORE INSERT ON ticket_logs FOR EACH ROW
        BEGIN
            UPDATE service_tickets SET current_status = 'processing' WHERE id = NEW.ticket_id;
        END
    """

    code = "TDB002"
    name = "unknown-column"
    severity = "error"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        for p in problems(ctx):
            if p.kind == "column":
                yield p.offset, p.message

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        for t in ctx.schema.tables.values():
            if t.temporary:
                continue
            for fk in t.fks:
                if fk.ref_db:
                    continue  # another database's table: not in this model
                ref = ctx.schema.table(fk.ref_table) if fk.ref_table else None
                if ref is None or ref.opaque:
                    continue
                missing = [c for c in fk.ref_columns if c not in ref.columns]
                if missing:
                    yield (
                        fk.path or t.path,
                        fk.offset,
                        (
                            f"FOREIGN KEY of `{t.name}` references unknown column(s) "
                            f"{', '.join(f'`{c}`' for c in missing)} of `{ref.name}`"
                        ),
                    )
