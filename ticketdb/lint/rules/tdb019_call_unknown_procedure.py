from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.parse.unit import ident
from ticketdb.lint.registry import Rule, register


@register
class CallUnknownProcedure(Rule):
    """CALL names a procedure that no project file defines, or passes the wrong number of arguments.

    The server only notices when the CALL runs (ERROR 1305 / 1318), which for an event or a
    trigger is in production. Schema-qualified calls (``CALL sys.…``) are not checked. A
    top-level CALL after a ``DROP PROCEDURE`` of the same name earlier in the file (and no
    CREATE since) is reported too.

    **Anti-pattern**

    .. code-block:: sql

        CREATE EVENT alert_enqueue_event ON SCHEDULE EVERY 1 MINUTE
        DO CALL alert_enque();

    **Best practice**

    .. code-block:: sql

        CREATE EVENT alert_enqueue_event ON SCHEDULE EVERY 1 MINUTE
        DO CALL alert_enqueue(60);
    """

    code = "TDB019"
    name = "call-unknown-procedure"
    severity = "error"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        if "CALL" not in ctx.statement.uppers:
            return
        toks = ctx.statement.tokens
        routines = ctx.schema.routines
        for i, t in enumerate(toks):
            if t.kind != "word" or t.upper != "CALL" or i + 1 >= len(toks):
                continue
            name_tok = toks[i + 1]
            if name_tok.kind not in ("word", "quoted"):
                continue
            if i + 2 < len(toks) and toks[i + 2].text == ".":
                continue  # another schema's procedure
            name = ident(name_tok.text)
            dropped = ctx.schema.dropped_routines.get(name.lower())
            if ctx.statement.routine is None and dropped and dropped[0] == ctx.file.display:
                line, _ = ctx.file.position(dropped[1])
                yield name_tok.offset, f"CALL of procedure `{name}` dropped on line {line}"
                continue
            # one this run has made so far, else the run's last definition (in a later file, or
            # later in this one)
            known = routines.get(name.lower())
            if known is None and ctx.whole_run is not None:
                known = ctx.whole_run.routines.get(name.lower())
            if known is None or known[0] != "PROCEDURE":
                yield name_tok.offset, f"CALL of unknown procedure `{name}`"
                continue
            args = _arg_count(toks, i + 2)
            if args != known[1]:
                yield (
                    name_tok.offset,
                    (f"CALL {name} passes {args} argument(s); the procedure takes {known[1]}"),
                )


def _arg_count(toks: list, i: int) -> int:
    if i >= len(toks) or toks[i].text != "(":
        return 0
    depth, count, empty = 0, 1, True
    for t in toks[i:]:
        if t.text == "(":
            depth += 1
            if depth == 1:
                continue
        elif t.text == ")":
            depth -= 1
            if depth == 0:
                break
        elif t.text == "," and depth == 1:
            count += 1
        empty = False
    return 0 if empty else count
