from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.registry import Rule, register


@register
class MissingRollback(Rule):
    """A versioned migration has no rollback (.sql without .rollback.sql, or a step without undo).

    **Anti-pattern**

    .. code-block:: sql

        -- migrations/0008_agents.sql, and no migrations/0008_agents.rollback.sql
        CREATE TABLE agents (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(100) NOT NULL);

    **Best practice**

    .. code-block:: sql

        -- migrations/0008_agents.rollback.sql: one undo per apply statement, in reverse order
        DROP TABLE agents;
    """

    code = "TDB011"
    name = "missing-rollback"
    severity = "error"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        src = ctx.file
        if src.role != "migration":
            return
        if src.path.suffix == ".sql":
            rollback = src.path.name[: -len(".sql")] + ".rollback.sql"
            if rollback not in ctx.siblings:
                yield 0, f"migration has no rollback file {rollback}"
        elif src.path.suffix == ".py":
            for offset, has_rollback in src.py_steps:
                if not has_rollback:
                    yield offset, "step() has no rollback (pass the undo as its second argument)"
