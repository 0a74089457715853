-- name: escalate_stale
-- Run the escalation rules now (what the event does on its schedule); the count of escalated
-- tickets is left in @ticketdb_escalated. Called by Workflow.escalate_stale and timed by the
-- escalation scenario of `ticketdb bench`.
CALL escalate_stale_tickets(@ticketdb_escalated)
