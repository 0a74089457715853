from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register


@register
class ImplicitSqlSecurity(Rule):
    """A procedure, function or view does not say ``SQL SECURITY``: the DEFINER default is implicit.

    With DEFINER an application role can hold only EXECUTE on a routine that writes tables it
    cannot touch itself; with INVOKER the caller's privileges apply. Either can be right; the
    reader should not have to remember the default.

    **Anti-pattern**

    .. code-block:: sql

        CREATE PROCEDURE ticket_close(IN p_ticket_id BIGINT UNSIGNED)
        UPDATE service_tickets SET current_status = 'closed' WHERE id = p_ticket_id;

    **Best practice**

    .. code-block:: sql

        CREATE PROCEDURE ticket_close(IN p_ticket_id BIGINT UNSIGNED)
        SQL SECURITY DEFINER
        UPDATE service_tickets SET current_status = 'closed' WHERE id = p_ticket_id;
    """

    code = "TDB020"
    name = "implicit-sql-security"
    severity = "info"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        h = st.header
        if h is None or h.kind not in ("PROCEDURE", "FUNCTION", "VIEW"):
            return
        body_at = st.routine.body_offset if st.routine is not None else None
        for i, t in enumerate(st.tokens[:-1]):
            if body_at is not None and t.offset >= body_at:
                break
            if h.kind == "VIEW" and t.upper == "AS":
                break
            if t.upper == "SQL" and st.tokens[i + 1].upper == "SECURITY":
                return
        yield st.offset + h.name_offset, f"{h.kind} {h.name} has no explicit SQL SECURITY"
