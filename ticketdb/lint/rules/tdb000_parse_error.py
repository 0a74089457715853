from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.registry import Rule, register


@register
class ParseError(Rule):
    """A statement cannot be split or parsed, so nothing in it can be checked.

    **Anti-pattern**

    .. code-block:: sql

        SELEC id FROM service_tickets;
        CREATE TABLE t (id INT;

    **Best practice**

    .. code-block:: sql

        SELECT id FROM service_tickets;
        CREATE TABLE t (id INT PRIMARY KEY);
    """

    code = "TDB000"
    name = "parse-error"
    severity = "error"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        yield from ctx.file.errors
        for st in ctx.file.statements:
            yield from st.errors
