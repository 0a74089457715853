from __future__ import annotations

from collections.abc import Iterator

from ticketdb.lint.context import StatementContext
from ticketdb.lint.registry import Rule, register


@register
class HardcodedDefiner(Rule):
    """A CREATE hard-codes ``DEFINER=user@host``: it breaks where that account does not exist.

    Leave DEFINER out (the deploying user becomes the definer) or write ``DEFINER=CURRENT_USER``,
    and choose ``SQL SECURITY`` on purpose.

    **Anti-pattern**

    .. code-block:: sql

        CREATE DEFINER=`root`@`localhost` PROCEDURE purge_logs() SQL SECURITY DEFINER
        BEGIN DELETE FROM ticket_logs WHERE action_time < NOW() - INTERVAL 2 YEAR; END

    **Best practice**

    .. code-block:: sql

        CREATE PROCEDURE purge_logs() SQL SECURITY DEFINER
        BEGIN DELETE FROM ticket_logs WHERE action_time < NOW() - INTERVAL 2 YEAR; END
    """

    code = "TDB009"
    name = "hardcoded-definer"
    severity = "warning"

    def check_statement(self, ctx: StatementContext) -> Iterator[tuple[int, str]]:
        st = ctx.statement
        if not st.words or st.words[0] not in ("CREATE", "ALTER"):
            return
        if "DEFINER" not in st.uppers:
            return
        toks = st.tokens
        for i, t in enumerate(toks[:-2]):
            if t.kind == "word" and t.upper == "DEFINER" and toks[i + 1].text == "=":
                value = toks[i + 2]
                if value.upper in ("CURRENT_USER",):
                    return
                end = i + 3
                while end < len(toks) and (toks[end].text == "@" or toks[end - 1].text == "@"):
                    end += 1
                user = "".join(x.text for x in toks[i + 2 : end])
                yield t.offset, f"hard-coded DEFINER={user}: omit it or use DEFINER=CURRENT_USER"
                return
