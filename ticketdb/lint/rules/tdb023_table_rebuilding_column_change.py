from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import MIGRATE_UP_DOES, alter_table, existing_in
from ticketdb.lint.registry import Rule, register
from ticketdb.lint.tables import Column, column_from_def
from ticketdb.lint.typeinfo import rebuild_reason


@register
class TableRebuildingColumnChange(Rule):
    """A column change on an existing table rebuilds or copies the whole table.

    INT→BIGINT (any integer width or sign change), a charset or collation conversion, VARCHAR
    crossing the 255-byte length boundary (one → two length bytes; MySQL 8 copies, MariaDB 10.11
    extends it in place unless ROW_FORMAT=REDUNDANT), to or from BLOB/TEXT, and NULL→NOT NULL
    all rewrite every row: hours on a big table, with replicas lagging behind.
    ``ticketdb migrate plan --check-ddl`` shows what the live server will actually do and which
    path ``migrate up`` takes: on a table above ``[tool.ticketdb.migrate]``'s size threshold it
    runs the change online through pt-online-schema-change (copy, checksum, swap;
    docs/online-ddl.md), on a small one directly, and it refuses it before any change, without
    ``--allow-blocking``, when the copy is impossible (no primary/unique key, foreign keys).

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE ticket_logs MODIFY id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT;

    **Best practice**

    .. code-block:: sql

        -- widen VARCHAR within the same length-byte class: in place, no copy
        ALTER TABLE service_tickets MODIFY title VARCHAR(60) NOT NULL,
            ALGORITHM = INPLACE, LOCK = NONE;
    """

    code = "TDB023"
    name = "table-rebuilding-column-change"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        alter = alter_table(st)
        if alter is None:
            return
        table = existing_in(ctx, alter.table)
        if table is None:
            return
        for a in alter.actions:
            if a.has("CONVERT", "TO"):
                yield (
                    a.offset,
                    (
                        f"CONVERT TO CHARACTER SET rewrites every row of `{table.name}` "
                        f"(table copy); {MIGRATE_UP_DOES}"
                    ),
                )
        tree = st.tree
        if not isinstance(tree, exp.Alter):
            return
        unit = st.units[0] if st.units else None
        for action in tree.args.get("actions") or []:
            if not isinstance(action, exp.ModifyColumn):
                continue
            cd = action.this
            old_ref = action.args.get("rename_from")
            old_name = (old_ref.name if old_ref is not None else cd.name).lower()
            old = table.columns.get(old_name)
            if old is None:
                continue
            new = column_from_def(cd, 0)
            why = _why(old, new)
            if why:
                at = unit.offset_of(action) if unit is not None else st.offset
                yield at, f"{table.name}.{old.name}: {why} rebuilds the table; {MIGRATE_UP_DOES}"


def _why(old: Column, new: Column) -> str | None:
    if old.dtype is not None and new.dtype is not None:
        reason = rebuild_reason(old.dtype, new.dtype, old.charset, new.charset)
        if reason:
            return reason
    if new.charset and new.charset != (old.charset or new.charset):
        return f"CHARACTER SET {old.charset} -> {new.charset}"
    if new.not_null and not old.not_null:
        return "NULL -> NOT NULL"
    return None
