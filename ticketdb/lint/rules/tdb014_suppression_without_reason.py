from __future__ import annotations

from ticketdb.lint.registry import Rule, register


@register
class SuppressionWithoutReason(Rule):
    """An inline suppression gives no reason, names an unknown rule, or matches no finding.

    A suppression without a reason suppresses nothing. One that no longer matches a finding
    is stale and should go. Reported by the engine while it applies suppressions.

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
