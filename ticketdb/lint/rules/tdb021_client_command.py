from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.registry import Rule, register


@register
class ClientCommand(Rule):
    """A mysql client command (``\\c``, ``\\W`` …) was skipped: it is not SQL.

    Scripts written for ``mysql < file`` may hold them; the server never sees them, so the
    linter reads around them (``\\G`` ends a statement, a byte-order mark and CRLF are
    whitespace, ``use db`` without a delimiter is ``USE db``) and says what it did not read.
    ``source file`` / ``\\. file`` are not skipped: the file is linted where it is sourced
    (``TDB032`` when it cannot be).

    **Anti-pattern**

    .. code-block:: sql

        SELECT COUNT(*) FROM service_tickets \\c
        use ticketdb

    **Best practice**

    .. code-block:: sql

        SELECT COUNT(*) FROM service_tickets;
        USE ticketdb;
    """

    code = "TDB021"
    name = "client-command"
    severity = "info"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        yield from ctx.file.notes
