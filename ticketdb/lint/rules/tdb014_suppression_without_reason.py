from __future__ import annotations

from ticketdb.lint.registry import Rule, register


@register
class SuppressionWithoutReason(Rule):
    """An inline suppression gives no reason or names an unknown rule; it suppresses nothing.

    Reported by the engine while it reads suppressions.

    **Anti-pattern**

    .. code-block:: sql

        -- ticketdb: allow TDB012
        ALTER TABLE ticket_logs DROP COLUMN note;

    **Best practice**

    .. code-block:: sql

        -- ticketdb: allow TDB012 note moved to ticket_notes in 0009, verified empty on prod
        ALTER TABLE ticket_logs DROP COLUMN note;
    """

    code = "TDB014"
    name = "suppression-without-reason"
    severity = "warning"
