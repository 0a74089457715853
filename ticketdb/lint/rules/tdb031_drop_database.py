from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register


@register
class DropDatabase(Rule):
    """DROP DATABASE or DROP SCHEMA in a migration.

    It deletes every table, routine and event of the database, the migration history
    included; no rollback can bring them back. Nothing a versioned migration should do.

    **Anti-pattern**

    .. code-block:: sql

        DROP DATABASE IF EXISTS ticketdb_staging;

    **Best practice**

    .. code-block:: sql

        -- drop scratch databases with the tool that made them (ticketdb sandbox destroy)
        DROP TABLE IF EXISTS scratch_import;
    """

    code = "TDB031"
    name = "drop-database"
    severity = "error"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        if ctx.file.role != "migration":
            return
        if st.words[:2] in (["DROP", "DATABASE"], ["DROP", "SCHEMA"]):
            yield st.offset, f"{st.words[0]} {st.words[1]} in a migration deletes everything in it"
