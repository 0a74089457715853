from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import ProjectContext
from ticketdb.lint.registry import Rule, register


@register
class PartitionKeyNotInUnique(Rule):
    """A unique key or PRIMARY KEY of a partitioned table lacks a partitioning column (ERROR 1503).

    **Anti-pattern**

    .. code-block:: sql

        CREATE TABLE ticket_logs (
            id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, action_time DATETIME NOT NULL,
            PRIMARY KEY (id)
        ) PARTITION BY RANGE (TO_DAYS(action_time)) (PARTITION p VALUES LESS THAN MAXVALUE);

    **Best practice**

    .. code-block:: sql

        CREATE TABLE ticket_logs (
            id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, action_time DATETIME NOT NULL,
            PRIMARY KEY (id, action_time)
        ) PARTITION BY RANGE (TO_DAYS(action_time)) (PARTITION p VALUES LESS THAN MAXVALUE);
    """

    code = "TDB005"
    name = "partition-key-not-in-unique"
    severity = "error"

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        for t in ctx.schema.tables.values():
            part = t.partitioning
            if part is None or not part.columns or t.temporary:
                continue
            needed = [c.lower() for c in part.columns]
            for idx in t.indexes:
                if not idx.unique:
                    continue
                missing = [c for c in needed if c not in idx.columns]
                if missing:
                    what = "PRIMARY KEY" if idx.kind == "PRIMARY" else f"UNIQUE KEY `{idx.name}`"
                    # report at whichever came last: the key, or the ALTER that partitioned
                    at_alter = part.path and (part.path, part.offset) > (
                        idx.path or t.path,
                        idx.offset,
                    )
                    yield (
                        part.path if at_alter else idx.path or t.path,
                        part.offset if at_alter else idx.offset,
                        (
                            f"{what} of partitioned table `{t.name}` must include the partitioning "
                            f"column {', '.join(f'`{c}`' for c in missing)} (ERROR 1503)"
                        ),
                    )
