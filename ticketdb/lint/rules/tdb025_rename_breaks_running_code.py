from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import alter_table, existing_in
from ticketdb.lint.registry import Rule, register


@register
class RenameBreaksRunningCode(Rule):
    """A migration renames an existing table or column: the running application still uses the
    old name.

    Between the migration and the deploy of the new code every query with the old name fails.
    Reported on every run, not only with ``--diff``. Expand and contract instead: add the new
    name (a view, a copied column kept in sync), move the readers, drop the old name later.

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets RENAME COLUMN title TO subject;

    **Best practice**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD COLUMN subject VARCHAR(200) NULL,
            ALGORITHM = INSTANT;
    """

    code = "TDB025"
    name = "rename-breaks-running-code"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        for old, new in st.renames:
            if existing_in(ctx, old) is not None:
                yield st.offset, f"RENAME TABLE {old} TO {new}: running code still uses `{old}`"
        alter = alter_table(st)
        if alter is None or existing_in(ctx, alter.table) is None:
            return
        tree = st.tree
        unit = st.units[0] if st.units else None
        for a in alter.actions:
            ws = a.words
            if ws[:1] == ["RENAME"] and ws[1:2] not in (["COLUMN"], ["INDEX"], ["KEY"]):
                yield a.offset, f"RENAME of table `{alter.table}`: running code still uses it"
        if not isinstance(tree, exp.Alter):
            return
        for action in tree.args.get("actions") or []:
            old_name = new_name = None
            if isinstance(action, exp.RenameColumn):
                old_name, new_name = action.this.name, action.args["to"].name
            elif isinstance(action, exp.ModifyColumn) and action.args.get("rename_from"):
                old_name, new_name = action.args["rename_from"].name, action.this.name
            if old_name and new_name and old_name.lower() != new_name.lower():
                at = unit.offset_of(action) if unit is not None else st.offset
                yield (
                    at,
                    (
                        f"column {alter.table}.{old_name} renamed to {new_name}: "
                        "running code still uses the old name"
                    ),
                )
