from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import ProjectContext
from ticketdb.lint.registry import Rule, register


@register
class RedundantIndex(Rule):
    """A non-unique index is a left prefix of (or equal to) another index of the same table.

    Key prefix lengths count (``KEY a (body(200))`` is not served by ``KEY b (body(10), kind)``),
    and an index whose columns are exactly a FOREIGN KEY's is kept: the constraint needs it
    (InnoDB creates it under the constraint's name) and dropping it hands the constraint to
    whichever wider index happens to be left.

    **Anti-pattern**

    .. code-block:: sql

        CREATE TABLE service_tickets (
            id BIGINT UNSIGNED PRIMARY KEY, priority VARCHAR(10), deadline DATETIME,
            current_status VARCHAR(10),
            KEY idx_priority_deadline (priority, deadline),
            KEY idx_priority_deadline_status (priority, deadline, current_status)
        );

    **Best practice**

    .. code-block:: sql

        CREATE TABLE service_tickets (
            id BIGINT UNSIGNED PRIMARY KEY, priority VARCHAR(10), deadline DATETIME,
            current_status VARCHAR(10),
            KEY idx_priority_deadline_status (priority, deadline, current_status)
        );
    """

    code = "TDB013"
    name = "redundant-index"
    severity = "warning"

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        for t in ctx.schema.tables.values():
            if t.temporary:
                continue
            btree = [i for i in t.indexes if i.kind not in ("FULLTEXT", "SPATIAL") and i.columns]
            for idx in btree:
                if idx.unique:
                    continue
                if any(fk.columns == idx.columns for fk in t.fks):
                    continue
                for other in btree:
                    if other is idx or not other.covers(idx):
                        continue
                    if len(other.columns) == len(idx.columns) and not other.unique:
                        # two identical plain indexes: report only the later one
                        if btree.index(other) > btree.index(idx):
                            continue
                    name = "PRIMARY KEY" if other.kind == "PRIMARY" else f"`{other.name}`"
                    what = (
                        "duplicates" if len(other.columns) == len(idx.columns) else "is a prefix of"
                    )
                    yield (
                        idx.path or t.path,
                        idx.offset,
                        (
                            f"index `{idx.name}` ({', '.join(idx.columns)}) on `{t.name}` {what} "
                            f"{name} ({', '.join(other.columns)})"
                        ),
                    )
                    break
