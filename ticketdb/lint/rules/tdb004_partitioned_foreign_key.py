from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import ProjectContext
from ticketdb.lint.registry import Rule, register


@register
class PartitionedForeignKey(Rule):
    """A partitioned table has a FOREIGN KEY or is referenced by one (InnoDB ERROR 1506).

    Enforce the relation with triggers instead (see triggers/ticket_logs_before_insert.sql).

    **Anti-pattern**

    .. code-block:: sql

        CREATE TABLE ticket_logs (
            id BIGINT UNSIGNED NOT NULL, ticket_id BIGINT UNSIGNED NOT NULL,
            action_time DATETIME NOT NULL,
            PRIMARY KEY (id, action_time),
            FOREIGN KEY (ticket_id) REFERENCES service_tickets (id)
        ) PARTITION BY RANGE (TO_DAYS(action_time)) (PARTITION p VALUES LESS THAN MAXVALUE);

    **Best practice**

    .. code-block:: sql

        CREATE TABLE ticket_logs (
            id BIGINT UNSIGNED NOT NULL, ticket_id BIGINT UNSIGNED NOT NULL,
            action_time DATETIME NOT NULL,
            PRIMARY KEY (id, action_time),
            KEY idx_ticket (ticket_id)
        ) PARTITION BY RANGE (TO_DAYS(action_time)) (PARTITION p VALUES LESS THAN MAXVALUE);
        -- plus a BEFORE INSERT trigger that rejects a log whose ticket does not exist
    """

    code = "TDB004"
    name = "partitioned-foreign-key"
    severity = "error"

    def check_project(self, ctx: ProjectContext) -> Iterator[tuple[str, int, str]]:
        tables = ctx.schema.tables
        for t in tables.values():
            if t.temporary:
                continue
            for fk in t.fks:
                part = t.partitioning
                if part is not None:
                    fk_at = (fk.path or t.path, fk.offset)
                    at_alter = part.path and (part.path, part.offset) > fk_at
                    yield (
                        part.path if at_alter else fk.path or t.path,
                        part.offset if at_alter else fk.offset,
                        (
                            f"partitioned table `{t.name}` cannot have a FOREIGN KEY "
                            f"(to `{fk.ref_table}`): InnoDB ERROR 1506"
                        ),
                    )
                ref = None if fk.ref_db else tables.get(fk.ref_table.lower())
                if ref is not None and ref.partitioning is not None:
                    yield (
                        fk.path or t.path,
                        fk.offset,
                        (
                            f"FOREIGN KEY of `{t.name}` references partitioned table `{ref.name}`: "
                            "InnoDB ERROR 1506"
                        ),
                    )
