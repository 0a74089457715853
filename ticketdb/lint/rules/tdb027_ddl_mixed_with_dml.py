from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.online import DDL_STARTS, DML_STARTS, TRANSACTION_WORDS
from ticketdb.lint.parse.model import ParsedStatement
from ticketdb.lint.parse.unit import ident
from ticketdb.lint.registry import Rule, register


@register
class DdlMixedWithDml(Rule):
    """A migration mixes DDL with DML (or COMMIT/START TRANSACTION).

    MySQL and MariaDB commit implicitly before and after every DDL statement, so such a
    migration is never one transaction: when a later statement fails, the earlier ones stay
    and the migration can neither be retried nor rolled back as a unit. Put data changes in
    their own migration. Filling a table the same migration creates is fine (its rollback
    drops the table and the rows with it).

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD COLUMN channel VARCHAR(20) NULL;
        UPDATE service_tickets SET channel = 'email' WHERE channel IS NULL;

    **Best practice**

    .. code-block:: sql

        CREATE TABLE channels (name VARCHAR(20) NOT NULL PRIMARY KEY);
        INSERT INTO channels (name) VALUES ('email'), ('phone');
    """

    code = "TDB027"
    name = "ddl-mixed-with-dml"
    severity = "warning"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        src = ctx.file
        if src.role != "migration":
            return
        created: set[str] = set()
        ddl: ParsedStatement | None = None
        for st in src.statements:
            first = st.words[0] if st.words else ""
            if first in DDL_STARTS:
                ddl = ddl or st
                if st.header is not None and st.header.kind == "TABLE":
                    created.add(st.header.name.lower())
        if ddl is None:
            return
        line, _ = src.position(ddl.offset)
        for st in src.statements:
            first = st.words[0] if st.words else ""
            if first in TRANSACTION_WORDS and not (first == "START" and "SLAVE" in st.words):
                yield (
                    st.offset,
                    (
                        f"{first} in a migration with DDL (line {line}): DDL commits implicitly, "
                        "so the migration is not one transaction"
                    ),
                )
            elif first in DML_STARTS:
                target = _dml_target(st)
                if target is not None and target.lower() in created:
                    continue
                yield (
                    st.offset,
                    (
                        f"{first} in a migration with DDL (line {line}): DDL commits implicitly, "
                        "so a failure leaves the migration half applied; "
                        "move the data change to its own"
                    ),
                )


def _dml_target(st: ParsedStatement) -> str | None:
    skip = {"INTO", "FROM", "IGNORE", "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "QUICK",
            "INSERT", "REPLACE", "UPDATE", "DELETE"}  # fmt: skip
    toks = st.tokens
    for k, t in enumerate(toks):
        if t.kind == "word" and t.upper in skip:
            continue
        if t.kind in ("word", "quoted"):
            if k + 2 < len(toks) and toks[k + 1].text == ".":
                return ident(toks[k + 2].text)
            return ident(t.text)
        return None
    return None
