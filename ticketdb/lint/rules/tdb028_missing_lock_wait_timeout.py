from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.online import ddl_targets, earlier, existing_in
from ticketdb.lint.registry import Rule, register


@register
class MissingLockWaitTimeout(Rule):
    """DDL on an existing table without ``SET SESSION lock_wait_timeout`` before it.

    An ALTER waits for the table's metadata lock behind any long transaction, and every query
    on the table queues behind the waiting ALTER: the table is unusable for up to
    ``lock_wait_timeout`` (default one year). Set a short timeout first and retry the migration.
    Reported once per migration, at the first such statement.

    **Anti-pattern**

    .. code-block:: sql

        ALTER TABLE service_tickets ADD KEY idx_closed (closed_at),
            ALGORITHM = INPLACE, LOCK = NONE;

    **Best practice**

    .. code-block:: sql

        SET SESSION lock_wait_timeout = 5;
        ALTER TABLE service_tickets ADD KEY idx_closed (closed_at),
            ALGORITHM = INPLACE, LOCK = NONE;
    """

    code = "TDB028"
    name = "missing-lock-wait-timeout"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        targets = [t for t in ddl_targets(st) if existing_in(ctx, t) is not None]
        if not targets:
            return
        for prev in earlier(ctx):
            if _sets_lock_wait_timeout(prev.tokens):
                return
            if any(existing_in(ctx, t) is not None for t in ddl_targets(prev)):
                return  # reported there already
        yield (
            st.offset,
            (
                f"DDL on existing table `{targets[0]}` without SET SESSION lock_wait_timeout "
                "first: "
                "a blocked ALTER stalls every query queued behind its metadata lock"
            ),
        )


def _sets_lock_wait_timeout(toks: list) -> bool:
    if not toks or toks[0].upper != "SET":
        return False
    return any("LOCK_WAIT_TIMEOUT" in t.upper for t in toks[1:6])
