from __future__ import annotations

import re
from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.registry import Rule, register
from ticketdb.lint.rules.tdb033_broken_depends import migration_ids

_NUMBER = re.compile(r"^(\d+)_")


@register
class DuplicateMigrationNumber(Rule):
    """Two migrations share one number (two branches each added "the next" migration).

    Their order then depends on the rest of the name, and a server that applied one of them
    before the other arrived runs them in another order than a fresh one. Renumber the one that
    is not applied anywhere yet (``ticketdb migrate new`` picks the next free number).

    **Anti-pattern**

    .. code-block:: sql

        -- migrations/0009_agent_notes.sql and migrations/0009_ticket_tags.sql
        ALTER TABLE agents ADD COLUMN notes TEXT NULL;

    **Best practice**

    .. code-block:: sql

        -- migrations/0010_ticket_tags.sql
        -- depends: 0009_agent_notes
        CREATE TABLE ticket_tags (ticket_id BIGINT UNSIGNED NOT NULL, tag VARCHAR(40) NOT NULL,
                                  PRIMARY KEY (ticket_id, tag));
    """

    code = "TDB034"
    name = "duplicate-migration-number"
    severity = "error"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        src = ctx.file
        mine = _NUMBER.match(src.path.name)
        if src.role != "migration" or not mine:
            return
        me = src.path.name.rsplit(".", 1)[0]
        number = int(mine.group(1))
        others = sorted(
            i
            for i in migration_ids(ctx.siblings)
            if i != me and (m := _NUMBER.match(i)) and int(m.group(1)) == number
        )
        if others:
            yield 0, f"migration number {mine.group(1)} is also used by {', '.join(others)}"
