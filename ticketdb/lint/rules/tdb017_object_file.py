from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import FileContext
from ticketdb.lint.parse.words import ROUTINE_KINDS
from ticketdb.lint.registry import Rule, register

_DIR_KINDS = {
    "procedures": {"PROCEDURE", "FUNCTION"},
    "triggers": {"TRIGGER"},
    "events": {"EVENT"},
}


@register
class ObjectFile(Rule):
    """An object file must hold one CREATE of its folder's kind, named like the file.

    ``migrate up`` refuses such a file; the linter says so before the deploy does.

    **Anti-pattern**

    .. code-block:: sql

        -- triggers/logs_trigger.sql
        CREATE TRIGGER ticket_logs_bi BEFORE INSERT ON ticket_logs
        FOR EACH ROW SET NEW.note = TRIM(NEW.note);
        CREATE TRIGGER ticket_logs_bu BEFORE UPDATE ON ticket_logs
        FOR EACH ROW SET NEW.note = TRIM(NEW.note);

    **Best practice**

    .. code-block:: sql

        -- triggers/ticket_logs_bi.sql
        CREATE TRIGGER ticket_logs_bi BEFORE INSERT ON ticket_logs
        FOR EACH ROW SET NEW.note = TRIM(NEW.note);
    """

    code = "TDB017"
    name = "object-file"
    severity = "error"

    def check_file(self, ctx: FileContext) -> Iterator[tuple[int, str]]:
        src = ctx.file
        allowed = _DIR_KINDS.get(src.path.parent.name)
        if src.role != "object" or allowed is None or src.errors:
            return
        creates = [
            s
            for s in src.statements
            if s.header and s.header.kind in ROUTINE_KINDS | {"VIEW", "TABLE"}
        ]
        if len(creates) != 1:
            yield (
                (creates[1].offset if len(creates) > 1 else 0),
                (
                    f"expected exactly one CREATE {' or '.join(sorted(allowed))} in this file, "
                    f"found {len(creates)}"
                ),
            )
            return
        st = creates[0]
        h = st.header
        assert h is not None
        if h.kind not in allowed:
            yield st.offset, f"a {h.kind} does not belong in {src.path.parent.name}/"
        elif h.name != src.path.stem:
            yield (
                st.offset + h.name_offset,
                (f"file defines {h.kind} {h.name}; the file must be named {h.name}.sql"),
            )
        for other in src.statements:
            if other is st:
                continue
            if other.words[:1] != ["DROP"] or h.kind not in other.words[:3]:
                yield (
                    other.offset,
                    "only the CREATE (and a DROP … IF EXISTS of it) may be in an object file",
                )
