from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import (
    MIGRATE_UP_DOES,
    Action,
    alter_table,
    existing_in,
    index_target,
    stated_algorithm_lock,
)
from ticketdb.lint.registry import Rule, register


@register
class AlterNotOnline(Rule):
    """An ALTER of an existing table that cannot run online, or that does not say how it must run.

    On MariaDB 10.11 and MySQL 8 a primary key change, an engine change, (re)partitioning,
    adding a STORED generated or an AUTO_INCREMENT column, CONVERT TO CHARACTER SET and moving
    a column with FIRST/AFTER in MODIFY/CHANGE need a table copy that blocks writes
    (no ``ALGORITHM=INSTANT|INPLACE, LOCK=NONE``). ``migrate up`` runs such an ALTER online
    through pt-online-schema-change when the table is above ``[tool.ticketdb.migrate]``'s size
    threshold (copy, checksum, swap with the table's triggers moved inside one fence:
    docs/online-ddl.md), directly when it is small, and refuses it before any change, without
    ``--allow-blocking``, when the copy is impossible (no primary/unique key, referenced by
    foreign keys, pt-online-schema-change missing). A partitioning change is not copied: it runs
    directly. Any other ALTER (and CREATE/DROP INDEX) of an existing table should state
    ``ALGORITHM=`` and ``LOCK=``: the server then refuses a plan that would copy or lock, instead
    of silently choosing it (``migrate up`` adds them itself when they are missing).

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD KEY idx_closed (closed_at);

    **Best practice**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD KEY idx_closed (closed_at),
            ALGORITHM = INPLACE, LOCK = NONE;
    """

    code = "TDB024"
    name = "alter-not-online"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        alter = alter_table(st)
        table = alter.table if alter is not None else index_target(st)
        if table is None or existing_in(ctx, table) is None:
            return
        if alter is not None:
            reasons = [r for a in alter.actions if (r := _copy_reason(a))]
            if reasons:
                yield (
                    st.offset,
                    (
                        f"ALTER of `{table}` copies the table and blocks writes "
                        f"(no INSTANT/INPLACE with LOCK=NONE): {'; '.join(reasons)}; "
                        f"{MIGRATE_UP_DOES}"
                    ),
                )
                return
            if not alter.actions:
                return
        algorithm, lock = stated_algorithm_lock(st)
        missing = [w for w, v in (("ALGORITHM=", algorithm), ("LOCK=", lock)) if v is None]
        if missing:
            yield (
                st.offset,
                (
                    f"DDL on existing table `{table}` states no {' or '.join(missing)}: say "
                    "ALGORITHM=INSTANT|INPLACE, LOCK=NONE so the server refuses to copy or lock"
                ),
            )


def _copy_reason(a: Action) -> str | None:
    ws = a.words
    if a.has("PRIMARY", "KEY") and ws[:1] in (["ADD"], ["DROP"]):
        return f"{ws[0]} PRIMARY KEY"
    if ws[:1] == ["ENGINE"]:
        return "ENGINE change"
    if a.has("PARTITION", "BY") or ws[:2] == ["REMOVE", "PARTITIONING"]:
        return "partitioning change"
    if a.has("CONVERT", "TO"):
        return "CONVERT TO CHARACTER SET"
    if ws[:1] == ["ADD"] and "PRIMARY" not in ws and "KEY" not in ws[:3] and "INDEX" not in ws[:3]:
        if "STORED" in ws or "PERSISTENT" in ws:
            return "ADD of a STORED generated column"
        if "AUTO_INCREMENT" in ws:
            return "ADD of an AUTO_INCREMENT column"
    if ws[:1] in (["MODIFY"], ["CHANGE"]) and ("FIRST" in ws or "AFTER" in ws):
        return f"{ws[0]} … {'FIRST' if 'FIRST' in ws else 'AFTER'} reorders columns"
    return None
