-- name: alerts_claimed_rows
-- Alert delivery, claim step: what the worker sends for each claimed alert, with the ticket's
-- current state (NULL when the ticket is gone).
-- param :ids TUPLE — the claimed alert ids (bound as a parenthesised list)
SELECT a.id, a.ticket_id, a.deadline, a.customer_id, a.priority, a.attempts,
       t.current_status, t.assigned_agent_id, t.title
FROM alert_outbox AS a
LEFT JOIN service_tickets AS t ON t.id = a.ticket_id
WHERE a.id IN :ids
ORDER BY a.next_attempt_at, a.id
