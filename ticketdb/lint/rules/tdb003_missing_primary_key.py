from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import ProjectContext
from ticketdb.lint.registry import Rule, register


@register
class MissingPrimaryKey(Rule):
    """A table has no PRIMARY KEY: InnoDB clusters it on a hidden row id; replication suffers.

    Checked on the final schema, so a key added by a later ALTER TABLE counts.

    **Anti-pattern**

    .. code-block:: sql

        CREATE TABLE agent_notes (agent_id BIGINT UNSIGNED NOT NULL, note TEXT);

    **Best practice**

    .. code-block:: sql

        CREATE TABLE agent_notes (
            id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            agent_id BIGINT UNSIGNED NOT NULL,
            note TEXT
        );
    """

    code = "TDB003"
    name = "missing-primary-key"
    severity = "warning"

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        for t in ctx.schema.tables.values():
            if t.view or t.temporary or t.opaque or t.primary is not None:
                continue
            yield t.path, t.offset, f"table `{t.name}` has no PRIMARY KEY"
