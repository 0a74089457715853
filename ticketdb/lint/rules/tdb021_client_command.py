from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.registry import Rule, register


@register
class ClientCommand(Rule):
    """A mysql client command (``source``, ``\\.``, ``\\c`` …) was skipped: it is not SQL.

    Scripts written for ``mysql < file`` may hold them; the server never sees them, so the
    linter reads around them (``\\G`` ends a statement, a byte-order mark and CRLF are
    whitespace) and says what it did not read. A sourced file is not followed: lint it too,
    or inline it.

    **Anti-pattern**

    .. code-block:: sql

        source upgrade_part2.sql
        SELECT COUNT(*) FROM service_tickets\\G

    **Best practice**

    .. code-block:: sql

        -- lint every file the script sources, or run them one by one
        SELECT COUNT(*) FROM service_tickets;
    """

    code = "TDB021"
    name = "client-command"
    severity = "info"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        yield from ctx.file.notes
